//! The repository's migration folder, in the layouts teams already have:
//!
//! * `<version>_<name>.up.sql` with `<version>_<name>.down.sql`;
//! * Flyway: `V<version>__<name>.sql` with `U<version>__<name>.sql`
//!   (`V1_2__x` is version `1.2`);
//! * one folder per migration: `<version>_<name>/up.sql` and `down.sql`
//!   (diesel, sqlx).
//!
//! The layout is detected; a folder that mixes layouts, repeats a version,
//! has a down file without an up file, or a file that cannot be read is an
//! error before anything is sent to the database.

use crate::error::{exit, CliError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    UpDownFiles,
    Flyway,
    Folders,
}

impl Layout {
    pub fn describe(self) -> &'static str {
        match self {
            Layout::UpDownFiles => "<version>_<name>.up.sql / .down.sql",
            Layout::Flyway => "Flyway V<version>__<name>.sql / U<version>__<name>.sql",
            Layout::Folders => "<version>_<name>/up.sql and down.sql",
        }
    }
}

/// One migration read from the folder.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    pub version: String,
    pub name: String,
    pub up: String,
    pub down: Option<String>,
    pub up_path: PathBuf,
}

#[derive(Debug)]
pub struct Folder {
    pub layout: Layout,
    pub migrations: Vec<MigrationFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    Up,
    Down,
}

/// What one directory entry is in each layout.
fn classify(path: &Path) -> Option<(Layout, String, String, Half)> {
    let file = path.file_name()?.to_str()?;
    if path.is_dir() {
        let (version, name) = split_version(file, "_")?;
        return Some((Layout::Folders, version, name, Half::Up));
    }
    if let Some(stem) = file.strip_suffix(".up.sql") {
        let (v, n) = split_version(stem, "_")?;
        return Some((Layout::UpDownFiles, v, n, Half::Up));
    }
    if let Some(stem) = file.strip_suffix(".down.sql") {
        let (v, n) = split_version(stem, "_")?;
        return Some((Layout::UpDownFiles, v, n, Half::Down));
    }
    let stem = file.strip_suffix(".sql")?;
    let (prefix, half) = match stem.chars().next()? {
        'V' => (&stem[1..], Half::Up),
        'U' => (&stem[1..], Half::Down),
        _ => return None,
    };
    let (v, n) = prefix.split_once("__")?;
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
    {
        return None;
    }
    Some((
        Layout::Flyway,
        v.replace('_', "."),
        n.replace('_', " "),
        half,
    ))
}

fn split_version(s: &str, sep: &str) -> Option<(String, String)> {
    let (v, n) = s.split_once(sep).unwrap_or((s, ""));
    let ok = !v.is_empty()
        && v.chars().next()?.is_ascii_digit()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    ok.then(|| {
        (
            v.to_owned(),
            if n.is_empty() {
                v.to_owned()
            } else {
                n.replace('_', " ")
            },
        )
    })
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| {
        CliError::new(exit::UNREADABLE, format!("cannot read {}", path.display()))
            .detail(e)
            .hint("Nothing was applied. Check the file's permissions and that it is UTF-8 text.")
    })
}

fn malformed(dir: &Path, message: String, detail: String) -> CliError {
    CliError::new(exit::UNREADABLE, format!("{}: {message}", dir.display()))
        .detail(detail)
        .hint("Nothing was applied. Fix the folder and run again.")
}

/// Read and check the whole folder.
pub fn read_folder(dir: &Path) -> Result<Folder, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CliError::new(
            exit::UNREADABLE,
            format!("cannot read migration folder {}", dir.display()),
        )
        .detail(e)
        .hint("Pass --dir with the folder that holds the migrations (default db/migrations).")
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut layouts: BTreeMap<&'static str, (Layout, PathBuf)> = BTreeMap::new();
    // version -> (name, up path, down path)
    let mut found: BTreeMap<String, (String, Option<PathBuf>, Option<PathBuf>)> = BTreeMap::new();
    for path in &paths {
        let Some((layout, version, name, half)) = classify(path) else {
            let is_sql = path.extension().is_some_and(|e| e == "sql");
            if is_sql {
                return Err(malformed(
                    dir,
                    format!("{} matches no migration layout", path.file_name().unwrap_or_default().to_string_lossy()),
                    "Known layouts: <version>_<name>.up.sql, V<version>__<name>.sql, <version>_<name>/up.sql.".into(),
                ));
            }
            continue; // README.md, .keep ...
        };
        layouts
            .entry(layout.describe())
            .or_insert((layout, path.clone()));
        let (up_path, down_path) = match layout {
            Layout::Folders => {
                let up = path.join("up.sql");
                if !up.is_file() {
                    return Err(malformed(
                        dir,
                        format!("{} has no up.sql", path.display()),
                        "Each migration folder holds up.sql (and down.sql).".into(),
                    ));
                }
                let down = path.join("down.sql");
                (Some(up), down.is_file().then_some(down))
            }
            _ => match half {
                Half::Up => (Some(path.clone()), None),
                Half::Down => (None, Some(path.clone())),
            },
        };
        let entry = found
            .entry(version.clone())
            .or_insert((name.clone(), None, None));
        if let Some(up) = up_path {
            if let Some(other) = &entry.1 {
                return Err(malformed(
                    dir,
                    format!("version {version} is used twice"),
                    format!("{} and {}", other.display(), up.display()),
                ));
            }
            entry.0 = name;
            entry.1 = Some(up);
        }
        if let Some(down) = down_path {
            if let Some(other) = &entry.2 {
                return Err(malformed(
                    dir,
                    format!("version {version} has two down files"),
                    format!("{} and {}", other.display(), down.display()),
                ));
            }
            entry.2 = Some(down);
        }
    }
    if layouts.len() > 1 {
        let list: Vec<String> = layouts
            .values()
            .map(|(l, p)| format!("{} (e.g. {})", l.describe(), p.display()))
            .collect();
        return Err(malformed(
            dir,
            "mixes migration layouts".into(),
            list.join("; "),
        ));
    }
    let layout = layouts
        .values()
        .next()
        .map(|(l, _)| *l)
        .unwrap_or(Layout::Folders);
    let mut migrations = Vec::with_capacity(found.len());
    for (version, (name, up, down)) in found {
        let Some(up_path) = up else {
            return Err(malformed(
                dir,
                format!("version {version} has a down file but no up file"),
                format!(
                    "{}",
                    down.map(|d| d.display().to_string()).unwrap_or_default()
                ),
            ));
        };
        let up = read(&up_path)?;
        let down = match down {
            Some(p) => Some(read(&p)?).filter(|s| !s.trim().is_empty()),
            None => None,
        };
        migrations.push(MigrationFile {
            version,
            name,
            up,
            down,
            up_path,
        });
    }
    Ok(Folder { layout, migrations })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = d.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    #[test]
    fn the_three_layouts_are_recognised() {
        let a = dir(&[
            ("1_create.up.sql", "CREATE TABLE a ();"),
            ("1_create.down.sql", "DROP TABLE a;"),
            ("README.md", "x"),
        ]);
        let f = read_folder(a.path()).unwrap();
        assert_eq!(
            (f.layout, f.migrations.len(), f.migrations[0].name.as_str()),
            (Layout::UpDownFiles, 1, "create")
        );
        let b = dir(&[
            ("V1_1__add_users.sql", "CREATE TABLE u ();"),
            ("U1_1__add_users.sql", "DROP TABLE u;"),
        ]);
        let f = read_folder(b.path()).unwrap();
        assert_eq!(
            (
                f.layout,
                f.migrations[0].version.as_str(),
                f.migrations[0].down.is_some()
            ),
            (Layout::Flyway, "1.1", true)
        );
        let c = dir(&[
            ("2024-01-01-000000_init/up.sql", "SELECT 1;"),
            ("2024-01-01-000000_init/down.sql", ""),
        ]);
        let f = read_folder(c.path()).unwrap();
        assert_eq!(
            (
                f.layout,
                f.migrations[0].version.as_str(),
                f.migrations[0].down.clone()
            ),
            (Layout::Folders, "2024-01-01-000000", None)
        );
    }

    #[test]
    fn malformed_folders_are_refused() {
        let dup = dir(&[("1_a.up.sql", "x"), ("1_b.up.sql", "y")]);
        assert!(read_folder(dup.path())
            .unwrap_err()
            .message
            .contains("used twice"));
        let orphan = dir(&[("2_a.down.sql", "x")]);
        assert!(read_folder(orphan.path())
            .unwrap_err()
            .message
            .contains("no up file"));
        let mixed = dir(&[("1_a.up.sql", "x"), ("V2__b.sql", "y")]);
        assert!(read_folder(mixed.path())
            .unwrap_err()
            .message
            .contains("mixes"));
        let stray = dir(&[("1_a.up.sql", "x"), ("notes.sql", "y")]);
        assert!(read_folder(stray.path())
            .unwrap_err()
            .message
            .contains("matches no migration layout"));
        let bad = dir(&[("1_a.up.sql", "x")]);
        std::fs::write(bad.path().join("1_a.up.sql"), [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_folder(bad.path()).unwrap_err().exit_code,
            exit::UNREADABLE
        );
    }
}
