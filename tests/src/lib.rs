//! Shared plumbing for the end-to-end tests: connections to the throwaway
//! cluster started by `scripts/test.sh` (CONFITURE_PGHOST / _PGPORT), fresh
//! databases with the extension installed, and the shared corpus.

use postgres::{Client, NoTls};
use std::path::PathBuf;

/// Connect to `db` on the test cluster as `postgres`.
pub fn connect(db: &str) -> Client {
    let host = std::env::var("CONFITURE_PGHOST").expect("CONFITURE_PGHOST (run through make test)");
    let port = std::env::var("CONFITURE_PGPORT").unwrap_or_else(|_| "5432".into());
    Client::connect(
        &format!("host={host} port={port} user=postgres dbname={db}"),
        NoTls,
    )
    .unwrap_or_else(|e| panic!("cannot connect to {db} on {host}:{port}: {e}"))
}

/// Drop and recreate database `db`, with `CREATE EXTENSION confiture`.
pub fn fresh_db(db: &str) -> Client {
    let mut admin = connect("postgres");
    // two round trips: a multi-statement string runs in one transaction block
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let mut c = connect(db);
    c.batch_execute("SET client_min_messages = warning; CREATE EXTENSION confiture")
        .unwrap();
    c
}

/// The shared corpus directory (`../shared/corpus`).
pub fn corpus_dir() -> PathBuf {
    std::env::var("CONFITURE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

/// One migration of a corpus: `<dir>/<version>/{up,down}.sql`.
pub struct CorpusMigration {
    pub version: String,
    pub up: String,
    pub down: Option<String>,
}

/// The migrations of a corpus project (e.g. "lemmy"), in directory order.
pub fn corpus_migrations(project: &str) -> Vec<CorpusMigration> {
    let root = corpus_dir().join(project);
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| CorpusMigration {
            version: d.file_name().unwrap().to_string_lossy().into_owned(),
            up: std::fs::read_to_string(d.join("up.sql")).unwrap(),
            down: std::fs::read_to_string(d.join("down.sql"))
                .ok()
                .filter(|s| !s.trim().is_empty()),
        })
        .collect()
}

/// Register every migration of a corpus project, in one transaction.
pub fn register_corpus(client: &mut Client, project: &str) -> usize {
    let migrations = corpus_migrations(project);
    let mut tx = client.transaction().unwrap();
    tx.batch_execute("SET LOCAL client_min_messages = error")
        .unwrap();
    for m in &migrations {
        let name = m
            .version
            .split_once('_')
            .map_or(m.version.as_str(), |(_, n)| n);
        // a dozen lemmy files use syntax newer than PostgreSQL 15
        tx.execute(
            "SELECT confiture.register($1, $2, $3, $4, allow_syntax_errors => true)",
            &[&m.version, &name, &m.up, &m.down],
        )
        .unwrap_or_else(|e| panic!("register {}: {e}", m.version));
    }
    tx.commit().unwrap();
    migrations.len()
}

/// The built `confiture` binary: `CONFITURE_BIN`, else the newer of
/// target/release/confiture and target/debug/confiture.
pub fn confiture_bin() -> PathBuf {
    if let Ok(p) = std::env::var("CONFITURE_BIN") {
        return PathBuf::from(p);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace.join("target"));
    ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join("confiture"))
        .filter_map(|p| std::fs::metadata(&p).and_then(|m| m.modified()).ok().map(|t| (t, p)))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("no confiture binary under {}: run `cargo build -p confiture-cli` or set CONFITURE_BIN", target.display()))
}
