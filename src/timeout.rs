//! Arming the backend's statement timer from inside a function.
//!
//! `SET LOCAL statement_timeout` has no effect on work done inside the
//! current top-level statement (the timer is armed once per statement), so
//! hooks and migrations with a timeout arm `STATEMENT_TIMEOUT` themselves and
//! restore the caller's timer afterwards. utils/timeout.h is not in pgrx's
//! bindings; these are the few declarations we need (PostgreSQL 15 ABI).

use pgrx::pg_sys;

/// `TimeoutId::STATEMENT_TIMEOUT` in PostgreSQL 15's utils/timeout.h.
const STATEMENT_TIMEOUT: i32 = 3;

extern "C-unwind" {
    fn enable_timeout_after(id: i32, delay_ms: i32);
    fn enable_timeout_at(id: i32, fin_time: pg_sys::TimestampTz);
    fn disable_timeout(id: i32, keep_indicator: bool);
    fn get_timeout_active(id: i32) -> bool;
    fn get_timeout_finish_time(id: i32) -> pg_sys::TimestampTz;
}

/// A statement timer armed for one piece of work; restores the caller's
/// timer (if any) when dropped, including during unwinding.
pub struct Timer {
    outer_finish: Option<pg_sys::TimestampTz>,
    /// Our deadline, when ours is the one armed (not an earlier outer one).
    deadline: Option<pg_sys::TimestampTz>,
}

impl Timer {
    /// Arm a timer of `ms` milliseconds (none when `ms <= 0`). An outer
    /// statement_timeout that ends sooner stays in charge.
    pub fn arm(ms: i64) -> Timer {
        unsafe {
            let outer_finish = if get_timeout_active(STATEMENT_TIMEOUT) {
                Some(get_timeout_finish_time(STATEMENT_TIMEOUT))
            } else {
                None
            };
            let mut deadline = None;
            if ms > 0 {
                let ms = ms.min(i32::MAX as i64);
                let ours = pg_sys::GetCurrentTimestamp() + ms * 1000;
                match outer_finish {
                    Some(outer) if outer <= ours => {}
                    _ => {
                        enable_timeout_after(STATEMENT_TIMEOUT, ms as i32);
                        deadline = Some(ours);
                    }
                }
            }
            Timer {
                outer_finish,
                deadline,
            }
        }
    }

    /// Was a query-cancel error caused by this timer (and not by the user
    /// or by an outer statement_timeout)? The server resets the timeout
    /// indicator when it raises the error, so we compare with our deadline.
    pub fn expired(&self) -> bool {
        match self.deadline {
            Some(d) => unsafe { pg_sys::GetCurrentTimestamp() >= d },
            None => false,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        unsafe {
            disable_timeout(STATEMENT_TIMEOUT, true);
            if let Some(fin) = self.outer_finish {
                enable_timeout_at(STATEMENT_TIMEOUT, fin);
            }
        }
    }
}
