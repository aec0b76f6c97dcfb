//! The files a run lints: named files, directories searched for `*.sql`,
//! glob patterns, `-` for standard input. Files found in a directory or by
//! a glob can be excluded by the configuration; a file named on the command
//! line is always linted.

use crate::config::LintConfig;
use crate::error::CliError;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Directories deeper than this below a named one are not searched.
const MAX_DIRECTORY_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

/// The inputs named by `paths` (none: the current directory), in order.
/// A named path that does not exist stays an input, so it is reported as
/// unreadable with the others; a glob that matches nothing is a usage error.
pub fn collect(paths: &[String], config: &LintConfig) -> Result<Vec<Input>, CliError> {
    let default = [".".to_owned()];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut out = Vec::new();
    let mut dirs_seen = HashSet::new();
    for p in paths {
        if p == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(p);
        if path.is_dir() {
            walk(&path, config, 0, &mut dirs_seen, &mut out);
        } else if !path.exists() && p.contains(['*', '?', '[']) {
            let matches = glob::glob(p)
                .map_err(|e| CliError::usage(format!("\"{p}\" is not a glob pattern")).detail(e))?;
            let before = out.len();
            for m in matches.flatten() {
                if m.is_dir() {
                    walk(&m, config, 0, &mut dirs_seen, &mut out);
                } else if !config.is_excluded(&m) {
                    out.push(Input::File(m));
                }
            }
            if out.len() == before {
                return Err(CliError::usage(format!("no file matches {p}")));
            }
        } else {
            out.push(Input::File(path));
        }
    }
    Ok(out)
}

fn is_sql(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("sql"))
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// The `*.sql` files under `dir`, sorted by name; symbolic links are
/// followed, each directory searched once (no loops).
fn walk(
    dir: &Path,
    config: &LintConfig,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<Input>,
) {
    if depth > MAX_DIRECTORY_DEPTH {
        return;
    }
    let Ok(canonical) = std::fs::canonicalize(dir) else {
        return;
    };
    if !seen.insert(canonical) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        // unreadable directory: report it like a file
        out.push(Input::File(dir.to_path_buf()));
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| !is_hidden(p))
        .collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, config, depth + 1, seen, out);
        } else if is_sql(&p) && !config.is_excluded(&p) {
            out.push(Input::File(p));
        }
    }
}
