//! Dates: shift by up to n days (deterministic per value and salt).

use super::Prf;

/// A shift of 0 days changes nothing; more than a century is a mistake.
pub fn check_days(days: i64) -> Result<(), String> {
    if !(1..=36_500).contains(&days) {
        return Err(format!(
            "days must be between 1 and 36500, not {days}: a shift of 0 days leaves every date unchanged"
        ));
    }
    Ok(())
}

/// Days to shift, in `-days..=days`, never 0 when days > 0.
pub fn shift_days(prf: &Prf, value: &[u8], days: i64) -> i64 {
    if days <= 0 {
        return 0;
    }
    let span = 2 * days as u64;
    let r = prf.below("date_shift", value, span) as i64; // 0..2d-1
    if r < days {
        r - days
    } else {
        r - days + 1
    } // -d..-1, 1..d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_stay_in_range_and_move() {
        let p = Prf::new("s");
        for i in 0..1000u32 {
            let d = shift_days(&p, &i.to_le_bytes(), 30);
            assert!((-30..=30).contains(&d) && d != 0);
        }
        assert_eq!(shift_days(&p, b"x", 0), 0);
    }
}
