//! Production estimates from a dry run: scale what a statement took on a
//! smaller copy by how the work grows with table size, and say what its
//! locks block and for how long.

/// How a statement's work grows with the size of the tables it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    /// Catalog-only (add a nullable column, rename, drop column): size does not matter.
    Constant,
    /// Touches every row once (rewrite, full scan to validate, update, backfill).
    Linear,
    /// Sorts (index builds): n log n.
    Sort,
}

impl Growth {
    pub fn as_str(self) -> &'static str {
        match self {
            Growth::Constant => "constant",
            Growth::Linear => "linear",
            Growth::Sort => "n log n",
        }
    }
}

/// What a dry run observed of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub duration_ms: f64,
    pub growth: Growth,
    /// Rows of the largest table involved, in the dry-run database.
    pub rows_here: Option<f64>,
    /// Rows of that table in production, when known.
    pub rows_production: Option<f64>,
    /// The cost model's production / here ratio for this work, when it has
    /// one (index builds grow as n log n and slow down when their sort
    /// outgrows maintenance_work_mem; rewrites rebuild every index).
    pub model_factor: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub duration_ms: f64,
    pub factor: f64,
    pub confidence: &'static str,
}

/// Catalog work every DDL statement pays regardless of size (measured to
/// be well under a millisecond on PostgreSQL 15); not scaled.
const FIXED_MS: f64 = 0.5;

pub fn estimate(o: &Observed) -> Estimate {
    let (factor, confidence) = match (o.growth, o.rows_here, o.rows_production) {
        (Growth::Constant, ..) => (1.0, "high"),
        (_, Some(here), Some(prod)) if here > 0.0 && prod >= 0.0 => {
            let f = match (o.growth, o.model_factor) {
                (_, Some(m)) if m.is_finite() && m > 0.0 => m,
                (Growth::Linear, _) => prod / here,
                // n log n comparisons, but I/O dominates: calibrated against
                // real index builds (210k vs 2.1M rows) with half the log term
                _ => prod / here * ((prod.max(2.0)).log2() / (here.max(2.0)).log2()).sqrt(),
            };
            // a short measurement is mostly noise; scaling amplifies it
            let conf = if o.duration_ms >= 20.0 {
                "high"
            } else if o.duration_ms >= 2.0 {
                "medium"
            } else {
                "low"
            };
            (f, conf)
        }
        _ => (1.0, "low"),
    };
    let variable = (o.duration_ms - FIXED_MS).max(0.0);
    let fixed = o.duration_ms.min(FIXED_MS);
    Estimate {
        duration_ms: fixed + variable * factor,
        factor,
        confidence,
    }
}

/// Table lock modes by strength (PostgreSQL 15, "Table-Level Locks").
pub const LOCK_MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// What other sessions a lock mode blocks: plain reads (SELECT takes
/// AccessShare), writes (INSERT/UPDATE/DELETE take RowExclusive), or neither.
pub fn blocks(mode: &str) -> &'static str {
    match mode {
        "AccessExclusiveLock" => "reads and writes",
        "ExclusiveLock" | "ShareRowExclusiveLock" | "ShareLock" => "writes",
        _ => "nothing",
    }
}

/// The strongest of some lock modes.
pub fn strongest<'a>(modes: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    modes
        .into_iter()
        .max_by_key(|m| LOCK_MODES.iter().position(|x| x == m).unwrap_or(0))
}

/// How long each statement's locks block others: locks are held until the
/// migration commits, so a statement blocks for its own estimate plus every
/// later statement's. Returns one value per statement (0 when it blocks nothing).
pub fn blocking_ms(estimates_ms: &[f64], blocking: &[bool]) -> Vec<f64> {
    let mut out = vec![0.0; estimates_ms.len()];
    let mut tail = 0.0;
    for i in (0..estimates_ms.len()).rev() {
        tail += estimates_ms[i];
        if blocking[i] {
            out[i] = tail;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The cost model: what a statement's work costs on this server, from the
// table's statistics and the rates `confiture.calibrate()` measured (or
// defaults when it never ran). `assess` uses it alone; the dry run uses the
// ratio model(production) / model(here) to scale what it measured.
// ---------------------------------------------------------------------------

/// The rates estimates rest on, in microseconds per row unless said
/// otherwise, measured at `calibration_rows` rows of `calibration_row_bytes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    /// Sequential scan (count of a column), per row and per page.
    pub seq_scan_row_us: f64,
    pub seq_scan_page_us: f64,
    /// INSERT ... SELECT: a tuple write with its WAL.
    pub insert_row_us: f64,
    /// A table rewrite (ALTER ... TYPE) with no index to rebuild.
    pub rewrite_row_us: f64,
    /// SET NOT NULL's scan.
    pub not_null_scan_row_us: f64,
    /// VALIDATE CONSTRAINT of a CHECK.
    pub check_validate_row_us: f64,
    /// VALIDATE CONSTRAINT of a FOREIGN KEY.
    pub fk_check_row_us: f64,
    /// CREATE INDEX on a text key with the sort in memory (scan included).
    pub index_build_text_row_us: f64,
    /// CREATE UNIQUE INDEX on a bigint key (scan included).
    pub index_build_int_row_us: f64,
    /// How the per-row cost of an index build grows: per-row cost is
    /// proportional to (log2 n)^growth (1 = n log n).
    pub index_build_growth: f64,
    /// What every index build costs before its first row (worker start, setup).
    pub index_build_startup_ms: f64,
    /// How much slower an index build is when its sort spills to disk
    /// (maintenance_work_mem too small), as a ratio.
    pub index_build_spill_factor: f64,
    /// ORDER BY of a text column, per row.
    pub sort_row_us: f64,
    /// UPDATE of every row (a new tuple version and its index entries).
    pub update_row_us: f64,
    pub calibration_rows: f64,
    pub calibration_row_bytes: f64,
    /// Where the rates come from: "calibrated <when>" or "default rates".
    pub source: String,
    pub calibrated: bool,
}

impl Default for Rates {
    /// The constants used before calibration existed (PostgreSQL 15, data in memory).
    fn default() -> Self {
        Rates {
            seq_scan_row_us: 0.12,
            seq_scan_page_us: 6.0,
            insert_row_us: 1.5,
            rewrite_row_us: 1.0,
            not_null_scan_row_us: 0.12,
            check_validate_row_us: 0.12,
            fk_check_row_us: 0.12,
            index_build_text_row_us: 0.6,
            index_build_int_row_us: 0.6,
            index_build_growth: 1.0,
            index_build_startup_ms: 0.0,
            index_build_spill_factor: 1.3,
            sort_row_us: 0.5,
            update_row_us: 10.0,
            calibration_rows: 210_000.0,
            calibration_row_bytes: 110.0,
            source: "default rates".into(),
            calibrated: false,
        }
    }
}

/// How much slower an UPDATE or DELETE is on rows the current transaction
/// wrote (each needs a combo command id) than on committed rows, measured on
/// PostgreSQL 15: the calibration's scratch rows are such rows, and so are a
/// table's after a rewrite earlier in the same transaction (several
/// migrations applied by one `migrate()`).
pub const OWN_TRANSACTION_WRITE_FACTOR: f64 = 1.8;

/// The rate names `confiture.calibrate()` stores, with their units.
pub const RATE_UNITS: [(&str, &str); 16] = [
    ("index_build_startup_ms", "ms"),
    ("seq_scan_row_us", "us/row"),
    ("seq_scan_page_us", "us/page"),
    ("insert_row_us", "us/row"),
    ("rewrite_row_us", "us/row"),
    ("not_null_scan_row_us", "us/row"),
    ("check_validate_row_us", "us/row"),
    ("fk_check_row_us", "us/row"),
    ("index_build_text_row_us", "us/row"),
    ("index_build_int_row_us", "us/row"),
    ("index_build_growth", "exponent of log2(rows)"),
    ("index_build_spill_factor", "ratio"),
    ("sort_row_us", "us/row"),
    ("update_row_us", "us/row"),
    ("calibration_rows", "rows"),
    ("calibration_row_bytes", "bytes/row"),
];

impl Rates {
    /// Set a rate by its stored name; unknown names and nonsense values are ignored.
    pub fn set(&mut self, name: &str, value: f64) {
        if !(value.is_finite() && value > 0.0) {
            return;
        }
        let slot = match name {
            "seq_scan_row_us" => &mut self.seq_scan_row_us,
            "seq_scan_page_us" => &mut self.seq_scan_page_us,
            "insert_row_us" => &mut self.insert_row_us,
            "rewrite_row_us" => &mut self.rewrite_row_us,
            "not_null_scan_row_us" => &mut self.not_null_scan_row_us,
            "check_validate_row_us" => &mut self.check_validate_row_us,
            "fk_check_row_us" => &mut self.fk_check_row_us,
            "index_build_text_row_us" => &mut self.index_build_text_row_us,
            "index_build_int_row_us" => &mut self.index_build_int_row_us,
            "index_build_growth" => &mut self.index_build_growth,
            "index_build_startup_ms" => &mut self.index_build_startup_ms,
            "index_build_spill_factor" => &mut self.index_build_spill_factor,
            "sort_row_us" => &mut self.sort_row_us,
            "update_row_us" => &mut self.update_row_us,
            "calibration_rows" => &mut self.calibration_rows,
            "calibration_row_bytes" => &mut self.calibration_row_bytes,
            _ => return,
        };
        *slot = value;
    }
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "seq_scan_row_us" => self.seq_scan_row_us,
            "seq_scan_page_us" => self.seq_scan_page_us,
            "insert_row_us" => self.insert_row_us,
            "rewrite_row_us" => self.rewrite_row_us,
            "not_null_scan_row_us" => self.not_null_scan_row_us,
            "check_validate_row_us" => self.check_validate_row_us,
            "fk_check_row_us" => self.fk_check_row_us,
            "index_build_text_row_us" => self.index_build_text_row_us,
            "index_build_int_row_us" => self.index_build_int_row_us,
            "index_build_growth" => self.index_build_growth,
            "index_build_startup_ms" => self.index_build_startup_ms,
            "index_build_spill_factor" => self.index_build_spill_factor,
            "sort_row_us" => self.sort_row_us,
            "update_row_us" => self.update_row_us,
            "calibration_rows" => self.calibration_rows,
            "calibration_row_bytes" => self.calibration_row_bytes,
            _ => return None,
        })
    }
}

/// The growth exponent from two index builds of `n1` and `n2` rows that
/// took `t1` and `t2`: per-row cost ∝ (log2 n)^g. Clamped to [0, 4].
pub fn fit_growth(n1: f64, t1: f64, n2: f64, t2: f64) -> f64 {
    if !(n1 > 1.0 && n2 > n1 && t1 > 0.0 && t2 > 0.0) {
        return 1.0;
    }
    let per_row = (t2 / n2) / (t1 / n1);
    let logs = n2.log2() / n1.log2();
    (per_row.ln() / logs.ln()).clamp(0.0, 4.0)
}

/// From index builds of `n1` and `n2` rows taking `t1` and `t2` ms, fit
/// t = startup + c * n log2 n: returns (startup ms, c * log2 n2 in us per
/// row, the per-row cost at n2 without the startup).
pub fn fit_index_build(n1: f64, t1: f64, n2: f64, t2: f64) -> (f64, f64) {
    if !(n1 > 1.0 && n2 > n1 && t1 > 0.0 && t2 > t1) {
        return (0.0, t2.max(0.0) * 1000.0 / n2.max(1.0));
    }
    let c = (t2 - t1) / (n2 * n2.log2() - n1 * n1.log2());
    let startup = (t1 - c * n1 * n1.log2()).clamp(0.0, t1);
    (startup, (t2 - startup) * 1000.0 / n2)
}

/// One index of a table, as the model needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexStats {
    pub name: String,
    /// Average bytes of the key (pg_stats.avg_width, else the type's length).
    pub key_bytes: f64,
    /// Sorting it compares text (collation-aware, slower than integers).
    pub text_key: bool,
}

/// What the model knows of a table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableStats {
    pub name: String,
    /// pg_class.reltuples (or a count when never analyzed).
    pub rows: f64,
    /// pg_class.relpages.
    pub pages: f64,
    /// Pages of its TOAST table.
    pub toast_pages: f64,
    /// Fill factor in percent (100 unless set).
    pub fillfactor: f64,
    pub indexes: Vec<IndexStats>,
    /// Its rows were written by the current transaction (created or
    /// rewritten in it): updating them costs OWN_TRANSACTION_WRITE_FACTOR more.
    pub own_transaction: bool,
}

impl TableStats {
    /// The same table with `rows` rows (pages and TOAST grow in proportion).
    pub fn scaled_to(&self, rows: f64) -> TableStats {
        let f = if self.rows > 0.0 {
            rows / self.rows
        } else {
            1.0
        };
        TableStats {
            rows,
            pages: self.pages * f,
            toast_pages: self.toast_pages * f,
            ..self.clone()
        }
    }
    /// Bytes of heap a row takes (what fill factor leaves free excluded).
    fn row_bytes(&self, r: &Rates) -> f64 {
        if self.rows >= 1.0 && self.pages >= 1.0 {
            let ff = if self.fillfactor > 0.0 {
                self.fillfactor
            } else {
                100.0
            };
            (self.pages * 8192.0 * ff / 100.0 / self.rows).max(16.0)
        } else {
            r.calibration_row_bytes
        }
    }
}

/// The kind of work a statement does to a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// Catalog only.
    Nothing,
    /// Rewrites every row (volatile default, type change, SET LOGGED ...)
    /// and rebuilds every index.
    Rewrite,
    /// Builds one index.
    IndexBuild { key_bytes: f64, text_key: bool },
    /// SET NOT NULL's full scan.
    NotNullScan,
    /// VALIDATE or ADD of a CHECK: a full scan evaluating it.
    CheckScan,
    /// VALIDATE or ADD of a FOREIGN KEY: a full scan with a lookup per row.
    ForeignKeyScan,
    /// UPDATE of `rows` rows (None: every row).
    Update { rows: Option<f64> },
    /// DELETE of `rows` rows (None: every row).
    Delete { rows: Option<f64> },
}

/// Bytes a sort tuple of an index build takes in memory beyond its key
/// (SortTuple, IndexTuple header, palloc overhead).
const SORT_TUPLE_OVERHEAD: f64 = 48.0;

/// Does building this index sort more than maintenance_work_mem holds?
pub fn index_sort_spills(rows: f64, key_bytes: f64, mwm_kb: f64) -> bool {
    rows * (key_bytes + SORT_TUPLE_OVERHEAD) > mwm_kb * 1024.0
}

/// The model's answer: milliseconds, and which inputs it used.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cost {
    pub ms: f64,
    pub inputs: Vec<String>,
}

impl Cost {
    fn used(&mut self, what: impl Into<String>) {
        let w = what.into();
        if !self.inputs.contains(&w) {
            self.inputs.push(w);
        }
    }
}

/// Width factor: how much a per-row rate measured on rows of
/// `calibration_row_bytes` changes for rows of this table's width; `alpha`
/// is the share of the cost that grows with bytes (the rest is per row).
fn width_factor(t: &TableStats, r: &Rates, alpha: f64) -> f64 {
    let ratio = (t.row_bytes(r) / r.calibration_row_bytes).clamp(0.05, 100.0);
    (1.0 - alpha) + alpha * ratio
}

fn index_ms(
    rows: f64,
    key_bytes: f64,
    text_key: bool,
    r: &Rates,
    mwm_kb: f64,
    c: &mut Cost,
) -> f64 {
    if rows < 1.0 {
        return 0.0;
    }
    let base = if text_key {
        r.index_build_text_row_us
    } else {
        r.index_build_int_row_us
    };
    let logs = rows.max(2.0).log2() / r.calibration_rows.max(2.0).log2();
    let mut per_row = base * logs.powf(r.index_build_growth);
    if index_sort_spills(rows, key_bytes, mwm_kb) {
        per_row *= r.index_build_spill_factor;
        c.used("maintenance_work_mem (the sort spills to disk)");
    } else {
        c.used("maintenance_work_mem (the sort fits in memory)");
    }
    r.index_build_startup_ms + rows * per_row / 1000.0
}

/// What `work` costs on table `t` with these rates and maintenance_work_mem (kB).
pub fn cost(work: &Work, t: &TableStats, r: &Rates, mwm_kb: f64) -> Cost {
    let mut c = Cost::default();
    if matches!(work, Work::Nothing) {
        return c;
    }
    c.used(r.source.clone());
    c.used("reltuples");
    if t.pages >= 1.0 {
        c.used("relpages");
    }
    if t.fillfactor > 0.0 && t.fillfactor < 100.0 {
        c.used(format!("fillfactor {}", t.fillfactor));
    }
    let n = t.rows.max(0.0);
    let us = |rate: f64, alpha: f64| n * rate * width_factor(t, r, alpha);
    let scan_extra = |t: &TableStats| r.seq_scan_row_us * (width_factor(t, r, 1.0) - 1.0);
    c.ms = match work {
        Work::Nothing => 0.0,
        Work::Rewrite => {
            let mut ms = us(r.rewrite_row_us, 0.7) / 1000.0;
            if t.toast_pages >= 1.0 {
                // TOAST pages are copied like heap pages
                let per_page = r.rewrite_row_us * 8192.0 / r.calibration_row_bytes;
                ms += t.toast_pages * per_page / 1000.0;
                c.used("TOAST size");
            }
            for i in &t.indexes {
                ms += index_ms(n, i.key_bytes, i.text_key, r, mwm_kb, &mut c);
            }
            if !t.indexes.is_empty() {
                c.used(format!("{} existing index(es) rebuilt", t.indexes.len()));
            }
            ms
        }
        Work::IndexBuild {
            key_bytes,
            text_key,
        } => {
            index_ms(n, *key_bytes, *text_key, r, mwm_kb, &mut c)
                + n * scan_extra(t).max(0.0) / 1000.0
        }
        Work::NotNullScan => us(r.not_null_scan_row_us, 0.5) / 1000.0,
        Work::CheckScan => us(r.check_validate_row_us, 0.5) / 1000.0,
        Work::ForeignKeyScan => us(r.fk_check_row_us, 0.3) / 1000.0,
        Work::Update { rows } | Work::Delete { rows } => {
            let touched = rows.unwrap_or(n).clamp(0.0, n.max(rows.unwrap_or(0.0)));
            if rows.is_some() {
                c.used("planner row estimate of the WHERE clause");
            }
            let per = if matches!(work, Work::Delete { .. }) {
                r.update_row_us * 0.5
            } else {
                r.update_row_us
            };
            // the calibration table had one index (its primary key); each
            // further index takes an entry per new row version
            let extra = t.indexes.len().saturating_sub(1) as f64 * 0.25;
            if !t.indexes.is_empty() {
                c.used(format!("{} existing index(es)", t.indexes.len()));
            }
            let own = if t.own_transaction {
                c.used("rows written earlier in this transaction");
                OWN_TRANSACTION_WRITE_FACTOR
            } else {
                1.0
            };
            touched * per * width_factor(t, r, 0.6) * (1.0 + extra) * own / 1000.0
        }
    };
    c
}

/// How much longer `work` takes on the table scaled to `rows_production`
/// than on it as it is here; None when the model has nothing to say.
pub fn model_factor(
    work: &Work,
    here: &TableStats,
    rows_production: f64,
    r: &Rates,
    mwm_kb: f64,
) -> Option<(f64, Vec<String>)> {
    let small = cost(work, here, r, mwm_kb);
    if small.ms <= 0.0 || here.rows < 1.0 {
        return None;
    }
    let big = cost(work, &here.scaled_to(rows_production), r, mwm_kb);
    let mut inputs = small.inputs;
    for i in big.inputs {
        if !inputs.contains(&i) {
            inputs.push(i);
        }
    }
    Some((big.ms / small.ms, inputs))
}

/// The columns of `CREATE [UNIQUE] INDEX ... ON table [USING m] (a, b)`:
/// plain column names; an expression gives None for its slot.
pub fn index_columns(sql: &str) -> Vec<Option<String>> {
    let lower = sql.to_ascii_lowercase();
    let Some(on) = find_word(&lower, "on") else {
        return Vec::new();
    };
    let Some(open) = lower[on..].find('(').map(|p| p + on) else {
        return Vec::new();
    };
    let mut depth = 0;
    let mut parts = Vec::new();
    let mut cur = String::new();
    for ch in sql[open..].chars() {
        match ch {
            '(' => {
                depth += 1;
                if depth > 1 {
                    cur.push(ch);
                }
            }
            ')' => {
                depth -= 1;
                if depth == 0 {
                    parts.push(std::mem::take(&mut cur));
                    break;
                }
                cur.push(ch);
            }
            ',' if depth == 1 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    parts
        .into_iter()
        .map(|p| {
            let p = p.trim();
            let first = p.split_whitespace().next().unwrap_or("");
            let name = first.trim_matches('"');
            let simple = !name.is_empty()
                && name.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !first.contains('(');
            simple.then(|| {
                if first.starts_with('"') {
                    name.to_owned()
                } else {
                    name.to_lowercase()
                }
            })
        })
        .collect()
}

fn find_word(s: &str, word: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(p) = s[from..].find(word) {
        let at = from + p;
        let before = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let end = at + word.len();
        let after = end >= s.len() || !(bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_');
        if before && after {
            return Some(end);
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(ms: f64, g: Growth, here: Option<f64>, prod: Option<f64>) -> Observed {
        Observed {
            duration_ms: ms,
            growth: g,
            rows_here: here,
            rows_production: prod,
            model_factor: None,
        }
    }

    #[test]
    fn linear_work_scales_with_rows() {
        let e = estimate(&obs(
            100.5,
            Growth::Linear,
            Some(210_000.0),
            Some(2_100_000.0),
        ));
        assert!((e.duration_ms - 1000.5).abs() < 1e-6, "{e:?}");
        assert_eq!(e.confidence, "high");
    }

    #[test]
    fn sorts_scale_a_bit_more_than_linearly() {
        let e = estimate(&obs(
            100.5,
            Growth::Sort,
            Some(210_000.0),
            Some(2_100_000.0),
        ));
        assert!(e.factor > 10.0 && e.factor < 11.5, "{e:?}");
    }

    #[test]
    fn catalog_only_does_not_scale_and_unknown_sizes_are_low_confidence() {
        assert_eq!(
            estimate(&obs(3.0, Growth::Constant, Some(1.0), Some(1e9))).duration_ms,
            3.0
        );
        let e = estimate(&obs(50.0, Growth::Linear, None, None));
        assert_eq!((e.duration_ms, e.confidence), (50.0, "low"));
        assert_eq!(
            estimate(&obs(1.0, Growth::Linear, Some(10.0), Some(100.0))).confidence,
            "low"
        );
    }

    #[test]
    fn locks_and_blocking() {
        assert_eq!(blocks("AccessExclusiveLock"), "reads and writes");
        assert_eq!(blocks("ShareLock"), "writes");
        assert_eq!(blocks("ShareUpdateExclusiveLock"), "nothing");
        assert_eq!(
            strongest(["RowExclusiveLock", "AccessExclusiveLock", "ShareLock"]),
            Some("AccessExclusiveLock")
        );
        assert_eq!(
            blocking_ms(&[1.0, 10.0, 100.0], &[false, true, false]),
            vec![0.0, 110.0, 0.0]
        );
    }

    fn customers(rows: f64) -> TableStats {
        TableStats {
            name: "customers".into(),
            rows,
            pages: rows / 70.0,
            toast_pages: 0.0,
            fillfactor: 100.0,
            indexes: vec![IndexStats {
                name: "customers_pkey".into(),
                key_bytes: 8.0,
                text_key: false,
            }],
            own_transaction: false,
        }
    }

    #[test]
    fn more_maintenance_work_mem_never_makes_an_index_build_slower() {
        let r = Rates::default();
        let t = customers(2_100_000.0);
        let w = Work::IndexBuild {
            key_bytes: 24.0,
            text_key: true,
        };
        let small = cost(&w, &t, &r, 1024.0);
        let big = cost(&w, &t, &r, 1024.0 * 1024.0);
        assert!(small.ms > big.ms, "{small:?} vs {big:?}");
        assert!(small.inputs.iter().any(|i| i.contains("spills")));
        assert!(big.inputs.iter().any(|i| i.contains("fits")));
        let mut prev = f64::MAX;
        for mwm in [64.0, 1024.0, 65536.0, 262144.0, 4194304.0] {
            let ms = cost(&w, &t, &r, mwm).ms;
            assert!(ms <= prev);
            prev = ms;
        }
    }

    #[test]
    fn rewrites_rebuild_every_index_and_copy_toast() {
        let r = Rates::default();
        let mut t = customers(1_000_000.0);
        let plain = cost(&Work::Rewrite, &t, &r, 65536.0).ms;
        t.indexes.push(IndexStats {
            name: "e".into(),
            key_bytes: 24.0,
            text_key: true,
        });
        let two = cost(&Work::Rewrite, &t, &r, 65536.0);
        assert!(two.ms > plain);
        t.toast_pages = 10_000.0;
        let toasted = cost(&Work::Rewrite, &t, &r, 65536.0);
        assert!(toasted.ms > two.ms && toasted.inputs.iter().any(|i| i == "TOAST size"));
    }

    #[test]
    fn wider_rows_and_lower_fillfactor_cost_more() {
        let r = Rates::default();
        let t = customers(1_000_000.0);
        let mut wide = t.clone();
        wide.pages *= 3.0;
        assert!(
            cost(&Work::NotNullScan, &wide, &r, 65536.0).ms
                > cost(&Work::NotNullScan, &t, &r, 65536.0).ms
        );
        let mut sparse = wide.clone();
        sparse.fillfactor = 50.0;
        let c = cost(&Work::Rewrite, &sparse, &r, 65536.0);
        assert!(c.inputs.iter().any(|i| i.starts_with("fillfactor")));
    }

    #[test]
    fn growth_fit_and_model_factor() {
        // per-row cost proportional to log2 n: exponent 1
        let t = |n: f64| n * n.log2();
        assert!((fit_growth(25_000.0, t(25_000.0), 100_000.0, t(100_000.0)) - 1.0).abs() < 1e-9);
        assert_eq!(fit_growth(0.0, 1.0, 1.0, 1.0), 1.0);
        let r = Rates::default();
        let (f, _) = model_factor(
            &Work::NotNullScan,
            &customers(210_000.0),
            2_100_000.0,
            &r,
            65536.0,
        )
        .unwrap();
        assert!((f - 10.0).abs() < 1e-9);
        let w = Work::IndexBuild {
            key_bytes: 24.0,
            text_key: true,
        };
        let (f, inputs) =
            model_factor(&w, &customers(210_000.0), 2_100_000.0, &r, 65536.0).unwrap();
        // 210k rows sort in 64MB, 2.1M do not: more than linear, and it says why
        assert!(f > 11.0, "{f}");
        assert!(inputs.iter().any(|i| i.contains("spills")));
        assert!(model_factor(&Work::Nothing, &customers(1.0), 10.0, &r, 1.0).is_none());
    }

    #[test]
    fn index_builds_fit_a_startup_and_n_log_n() {
        let t = |n: f64| 15.0 + 0.00004 * n * n.log2();
        let (startup, per_row) = fit_index_build(25_000.0, t(25_000.0), 100_000.0, t(100_000.0));
        assert!((startup - 15.0).abs() < 1e-6, "{startup}");
        assert!(
            (per_row - 0.04 * 100_000f64.log2()).abs() < 1e-6,
            "{per_row}"
        );
        assert_eq!(fit_index_build(1.0, 0.0, 10.0, 5.0), (0.0, 500.0));
    }

    #[test]
    fn rates_by_name() {
        let mut r = Rates::default();
        for (name, _) in RATE_UNITS {
            assert!(r.get(name).is_some(), "{name}");
            r.set(name, 7.0);
            assert_eq!(r.get(name), Some(7.0));
        }
        r.set("update_row_us", -1.0);
        assert_eq!(r.update_row_us, 7.0);
    }

    #[test]
    fn index_columns_from_sql() {
        assert_eq!(
            index_columns("CREATE INDEX customers_email_idx ON customers (email);"),
            vec![Some("email".to_string())]
        );
        assert_eq!(
            index_columns(
                "create unique index on public.t using btree (\"Id\", lower(email), b DESC)"
            ),
            vec![Some("Id".to_string()), None, Some("b".to_string())]
        );
        assert!(index_columns("CREATE INDEX x").is_empty());
    }
}
