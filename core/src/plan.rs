//! Which migrations a run applies, and which a rollback undoes.
//!
//! The ledger is read in version order (by [`crate::version::sort_key`]);
//! these functions decide from that list alone, so every refusal happens
//! before anything changes.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    /// The confiture client is applying it outside a transaction.
    Running,
    Applied,
    Failed,
    Baselined,
}

impl State {
    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "pending" => State::Pending,
            "running" => State::Running,
            "applied" => State::Applied,
            "failed" => State::Failed,
            "baselined" => State::Baselined,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Running => "running",
            State::Applied => "applied",
            State::Failed => "failed",
            State::Baselined => "baselined",
        }
    }
    /// Its effects are in the database (run by us or adopted by `baseline`).
    pub fn is_in_effect(self) -> bool {
        matches!(self, State::Applied | State::Baselined)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ledger row, as far as planning needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: String,
    pub state: State,
    pub has_down: bool,
}

/// Why a plan cannot be made. Each maps to one SQLSTATE in `src/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The target version is not registered.
    UnknownVersion(String),
    /// `steps` is zero or negative.
    BadSteps(i64),
    /// More steps than migrations in effect.
    TooManySteps { steps: i64, in_effect: usize },
    /// The rollback target is not applied (nothing after it can be undone to reach it).
    NotInEffect { version: String, state: State },
    /// These migrations would have to be undone but have no down SQL.
    MissingDown(Vec<String>),
}

/// Indexes (into `entries`, in order) of the migrations `migrate` applies:
/// every pending or failed one up to and including `target`.
pub fn to_apply(entries: &[Entry], target: Option<&str>) -> Result<Vec<usize>, PlanError> {
    let last = match target {
        None => entries.len(),
        Some(t) => position(entries, t)? + 1,
    };
    Ok((0..last)
        .filter(|&i| matches!(entries[i].state, State::Pending | State::Failed))
        .collect())
}

/// Pending migrations ordered before one already in effect: they were
/// added out of order (e.g. from a merged branch) and will still be applied.
pub fn out_of_order(entries: &[Entry], planned: &[usize]) -> Vec<String> {
    let Some(last_in_effect) = entries.iter().rposition(|e| e.state.is_in_effect()) else {
        return Vec::new();
    };
    planned
        .iter()
        .filter(|&&i| i < last_in_effect)
        .map(|&i| entries[i].version.clone())
        .collect()
}

/// Indexes of the migrations to undo, newest first: the last `steps` in effect.
pub fn rollback_steps(entries: &[Entry], steps: i64) -> Result<Vec<usize>, PlanError> {
    if steps < 1 {
        return Err(PlanError::BadSteps(steps));
    }
    let in_effect = in_effect_newest_first(entries);
    if steps as u64 > in_effect.len() as u64 {
        return Err(PlanError::TooManySteps {
            steps,
            in_effect: in_effect.len(),
        });
    }
    check_down(
        entries,
        in_effect.into_iter().take(steps as usize).collect(),
    )
}

/// Indexes of the migrations to undo, newest first, so that `version` is
/// the newest migration left in effect.
pub fn rollback_to(entries: &[Entry], version: &str) -> Result<Vec<usize>, PlanError> {
    let target = position(entries, version)?;
    if !entries[target].state.is_in_effect() {
        return Err(PlanError::NotInEffect {
            version: version.into(),
            state: entries[target].state,
        });
    }
    let undo = in_effect_newest_first(entries)
        .into_iter()
        .filter(|&i| i > target)
        .collect();
    check_down(entries, undo)
}

/// Indexes of the migrations `baseline(through)` marks as baselined.
pub fn to_baseline(entries: &[Entry], through: &str) -> Result<Vec<usize>, PlanError> {
    let last = position(entries, through)?;
    Ok((0..=last)
        .filter(|&i| matches!(entries[i].state, State::Pending | State::Failed))
        .collect())
}

fn position(entries: &[Entry], version: &str) -> Result<usize, PlanError> {
    entries
        .iter()
        .position(|e| e.version == version)
        .ok_or_else(|| PlanError::UnknownVersion(version.into()))
}

fn in_effect_newest_first(entries: &[Entry]) -> Vec<usize> {
    (0..entries.len())
        .rev()
        .filter(|&i| entries[i].state.is_in_effect())
        .collect()
}

fn check_down(entries: &[Entry], undo: Vec<usize>) -> Result<Vec<usize>, PlanError> {
    let missing: Vec<String> = undo
        .iter()
        .filter(|&&i| !entries[i].has_down)
        .map(|&i| entries[i].version.clone())
        .collect();
    if missing.is_empty() {
        Ok(undo)
    } else {
        Err(PlanError::MissingDown(missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: &str, s: State, down: bool) -> Entry {
        Entry {
            version: v.into(),
            state: s,
            has_down: down,
        }
    }

    fn ledger() -> Vec<Entry> {
        vec![
            e("1", State::Baselined, false),
            e("2", State::Applied, true),
            e("3", State::Applied, true),
            e("4", State::Failed, true),
            e("5", State::Pending, true),
        ]
    }

    #[test]
    fn applies_failed_and_pending_up_to_target() {
        assert_eq!(to_apply(&ledger(), None).unwrap(), vec![3, 4]);
        assert_eq!(to_apply(&ledger(), Some("4")).unwrap(), vec![3]);
        assert_eq!(to_apply(&ledger(), Some("2")).unwrap(), Vec::<usize>::new());
        assert_eq!(
            to_apply(&ledger(), Some("9")),
            Err(PlanError::UnknownVersion("9".into()))
        );
    }

    #[test]
    fn finds_out_of_order_pending() {
        let mut l = ledger();
        l[1].state = State::Pending;
        let planned = to_apply(&l, None).unwrap();
        assert_eq!(out_of_order(&l, &planned), vec!["2".to_string()]);
    }

    #[test]
    fn rollback_by_steps_is_newest_first_and_bounded() {
        assert_eq!(rollback_steps(&ledger(), 1).unwrap(), vec![2]);
        assert_eq!(rollback_steps(&ledger(), 2).unwrap(), vec![2, 1]);
        assert_eq!(
            rollback_steps(&ledger(), 3),
            Err(PlanError::MissingDown(vec!["1".into()]))
        );
        assert_eq!(
            rollback_steps(&ledger(), 4),
            Err(PlanError::TooManySteps {
                steps: 4,
                in_effect: 3
            })
        );
        assert_eq!(rollback_steps(&ledger(), 0), Err(PlanError::BadSteps(0)));
    }

    #[test]
    fn rollback_to_keeps_the_target() {
        assert_eq!(rollback_to(&ledger(), "2").unwrap(), vec![2]);
        assert_eq!(rollback_to(&ledger(), "3").unwrap(), Vec::<usize>::new());
        assert!(matches!(
            rollback_to(&ledger(), "5"),
            Err(PlanError::NotInEffect { .. })
        ));
        assert_eq!(rollback_to(&ledger(), "1").unwrap(), vec![2, 1]);
    }

    #[test]
    fn baseline_takes_everything_not_in_effect_through_version() {
        assert_eq!(to_baseline(&ledger(), "4").unwrap(), vec![3]);
        assert_eq!(to_baseline(&ledger(), "5").unwrap(), vec![3, 4]);
        assert!(to_baseline(&ledger(), "x").is_err());
    }
}
