//! Progress of a run: a bar for the run (migration n of N, name, elapsed)
//! from the extension's `confiture progress:` NOTICEs, and for a long
//! client-run statement a bar of its own, read from
//! `pg_stat_progress_create_index` (or `_vacuum`, `_cluster`) on a second
//! connection. A bar only on a terminal; plain lines otherwise; nothing
//! with `--format json` or several databases (their summary says it all).

use super::apply::Applied;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use postgres::Client;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bar,
    Lines,
    Quiet,
}

pub struct Progress {
    mode: Mode,
    multi: MultiProgress,
    run: ProgressBar,
    color: bool,
}

impl Progress {
    pub fn new(mode: Mode, total: usize, color: bool) -> Progress {
        let multi = MultiProgress::with_draw_target(if mode == Mode::Bar {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let run = multi.add(ProgressBar::new(total as u64));
        let template = if color {
            "{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {wide_msg}"
        } else {
            "[{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}"
        };
        run.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        run.enable_steady_tick(Duration::from_millis(200));
        Progress {
            mode,
            multi,
            run,
            color,
        }
    }

    /// A `confiture progress: n/total version state ms` NOTICE.
    pub fn notice(&self, text: &str) {
        let Some(rest) = text.strip_prefix("confiture progress: ") else {
            return;
        };
        let mut parts = rest.split_whitespace();
        let (_, version, state) = (
            parts.next(),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        self.run.inc(1);
        self.run.set_message(format!("{version} {state}"));
    }

    pub fn note(&self, text: &str) {
        match self.mode {
            Mode::Quiet => {}
            _ => self.println(&format!("note: {text}")),
        }
    }

    fn println(&self, line: &str) {
        if self.mode == Mode::Bar {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    /// A migration ended (applied by the server in the last call, or by the client).
    pub fn finished(&self, a: &Applied) {
        if a.mode == "client" {
            self.run.inc(1);
        }
        if self.mode == Mode::Quiet {
            return;
        }
        let state = if self.color {
            match a.state.as_str() {
                "applied" => "\x1b[32mapplied\x1b[0m".to_owned(),
                "failed" => "\x1b[31;1mfailed\x1b[0m".to_owned(),
                s => s.to_owned(),
            }
        } else {
            a.state.clone()
        };
        let mut line = format!(
            "{state:>8} {} {} ({:.0} ms{})",
            a.version,
            a.name,
            a.duration_ms,
            if a.mode == "client" {
                ", outside a transaction"
            } else {
                ""
            }
        );
        if a.state == "failed" {
            let at = match (&a.file, a.failed_line) {
                (Some(f), Some(l)) => format!("\n         at {f}:{l}"),
                (Some(f), None) => format!("\n         in {f}"),
                _ => String::new(),
            };
            line.push_str(&format!(
                "{at}{}\n         {}{}",
                a.failed_statement
                    .map(|s| format!(" (statement {s})"))
                    .unwrap_or_default(),
                a.sqlstate
                    .as_deref()
                    .map(|s| format!("[{s}] "))
                    .unwrap_or_default(),
                a.message.as_deref().unwrap_or("")
            ));
        }
        if self.mode == Mode::Lines || a.state != "applied" || a.mode == "client" {
            self.println(&line);
        }
    }

    /// The client runs statement `n` of a client-run migration.
    pub fn statement(&self, version: &str, name: &str, n: i32, total: usize, sql: &str) {
        let first = sql.lines().next().unwrap_or("").trim();
        let short: String = first.chars().take(60).collect();
        self.run
            .set_message(format!("{version} {name}: statement {n}/{total}: {short}"));
        if self.mode == Mode::Lines {
            eprintln!("  running {version} statement {n}/{total}: {short}");
        }
    }

    /// Run `work` (one statement on the main connection) while a second
    /// connection reports the server's progress view for backend `pid`.
    pub fn watched<T>(
        &self,
        watcher: Option<&mut Client>,
        pid: i32,
        sql: &str,
        work: impl FnOnce() -> T,
    ) -> T {
        let Some(pc) = watcher.filter(|_| self.mode != Mode::Quiet) else {
            return work();
        };
        let view = progress_view(sql);
        let Some(view) = view else { return work() };
        let bar = self.multi.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {msg} {bar:25} {pos}/{len} blocks")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let stop = AtomicBool::new(false);
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(Some(r)) = pc.query_opt(view, &[&pid]) {
                        let phase: String = r.get(0);
                        let done: i64 = r.get(1);
                        let total: i64 = r.get(2);
                        bar.set_length(total.max(0) as u64);
                        bar.set_position(done.max(0) as u64);
                        bar.set_message(phase.clone());
                        if self.mode == Mode::Lines {
                            eprintln!("    {phase}: {done}/{total} blocks");
                        }
                    }
                    std::thread::sleep(Duration::from_millis(if self.mode == Mode::Lines {
                        1000
                    } else {
                        200
                    }));
                }
            });
            let r = work();
            stop.store(true, Ordering::Relaxed);
            r
        });
        bar.finish_and_clear();
        result
    }

    pub fn finish(&self) {
        self.run.finish_and_clear();
    }
}

/// The `pg_stat_progress_*` query for a statement: (phase, blocks done,
/// blocks total) of backend $1.
fn progress_view(sql: &str) -> Option<&'static str> {
    let upper = sql
        .trim_start()
        .get(..40.min(sql.trim_start().len()))
        .unwrap_or("")
        .to_ascii_uppercase();
    if upper.starts_with("CREATE INDEX")
        || upper.starts_with("CREATE UNIQUE INDEX")
        || upper.starts_with("REINDEX")
    {
        Some("SELECT phase, coalesce(blocks_done, 0), coalesce(blocks_total, 0) FROM pg_catalog.pg_stat_progress_create_index WHERE pid = $1")
    } else if upper.starts_with("VACUUM") {
        Some("SELECT phase, coalesce(heap_blks_scanned, 0), coalesce(heap_blks_total, 0) FROM pg_catalog.pg_stat_progress_vacuum WHERE pid = $1")
    } else if upper.starts_with("CLUSTER") || upper.starts_with("VACUUM FULL") {
        Some("SELECT phase, coalesce(heap_blks_scanned, 0), coalesce(heap_blks_total, 0) FROM pg_catalog.pg_stat_progress_cluster WHERE pid = $1")
    } else {
        None
    }
}
