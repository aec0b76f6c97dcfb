//! Connections as libpq users expect them: a URL or `key=value` string, or
//! the `PG*` environment variables, and `sslmode` from `disable` to
//! `verify-full`.

use crate::error::{exit, CliError};
use postgres::config::SslMode;
use postgres::{Client, Config};

/// Where NOTICEs go (the progress display).
pub type NoticeSink = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// How to reach one database.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the user gave (a URL or conninfo), or "" for the environment.
    pub spec: String,
}

impl Target {
    pub fn new(spec: impl Into<String>) -> Self {
        Target { spec: spec.into() }
    }

    /// A short name for reports: the database (and host) without secrets.
    pub fn label(&self) -> String {
        match parse(&self.spec) {
            Ok((config, _)) => {
                let db = config
                    .get_dbname()
                    .map(str::to_owned)
                    .unwrap_or_else(|| env("PGDATABASE").unwrap_or_default());
                let host = config
                    .get_hosts()
                    .first()
                    .map(|h| match h {
                        postgres::config::Host::Tcp(t) => t.clone(),
                        postgres::config::Host::Unix(p) => p.display().to_string(),
                    })
                    .unwrap_or_default();
                if host.is_empty() || host.starts_with('/') {
                    db
                } else {
                    format!("{db}@{host}")
                }
            }
            Err(_) => "(invalid)".into(),
        }
    }

    pub fn connect(&self) -> Result<Client, CliError> {
        self.connect_with_notices(None)
    }

    /// Connect, handing every NOTICE the server sends to `notices`.
    pub fn connect_with_notices(&self, notices: Option<NoticeSink>) -> Result<Client, CliError> {
        let (mut config, sslmode) = parse(&self.spec)?;
        if let Some(sink) = notices {
            config.notice_callback(move |n| sink(n.message()));
        }
        let result = match sslmode.as_str() {
            "disable" => config.connect(postgres::NoTls),
            mode => {
                let mut builder = native_tls::TlsConnector::builder();
                // require/prefer: encrypt, trust any certificate (as libpq
                // does); verify-ca: check the chain, not the host name
                builder.danger_accept_invalid_certs(matches!(mode, "require" | "prefer" | "allow"));
                builder.danger_accept_invalid_hostnames(mode != "verify-full");
                let connector = builder
                    .build()
                    .map_err(|e| CliError::new(exit::CONNECT, "cannot set up TLS").detail(e))?;
                config.connect(postgres_native_tls::MakeTlsConnector::new(connector))
            }
        };
        result.map_err(|e| {
            CliError::new(exit::CONNECT, format!("cannot connect to {}", self.label()))
                .detail(e.as_db_error().map(|d| d.message().to_owned()).unwrap_or_else(|| e.to_string()))
                .hint("Pass --database URL, or set PGHOST, PGPORT, PGUSER, PGDATABASE (and PGPASSWORD or ~/.pgpass).")
        })
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The driver's config plus the sslmode, which it only partly knows.
fn parse(spec: &str) -> Result<(Config, String), CliError> {
    // sslmode values the driver does not parse (verify-ca, verify-full):
    // take it out and apply it here
    let mut sslmode = env("PGSSLMODE").unwrap_or_else(|| "prefer".into());
    let mut cleaned = String::new();
    // every part but sslmode=..., which is noted
    let mut keep = |kv: &str| match kv.split_once('=') {
        Some(("sslmode", v)) => {
            sslmode = v.to_owned();
            false
        }
        _ => true,
    };
    if spec.contains("://") {
        let (base, query) = spec.split_once('?').unwrap_or((spec, ""));
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .filter(|kv| keep(kv))
            .collect();
        cleaned.push_str(base);
        if !kept.is_empty() {
            cleaned.push('?');
            cleaned.push_str(&kept.join("&"));
        }
    } else {
        let kept: Vec<&str> = spec.split_whitespace().filter(|kv| keep(kv)).collect();
        cleaned = kept.join(" ");
    }
    if !matches!(
        sslmode.as_str(),
        "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full"
    ) {
        return Err(CliError::usage(format!("invalid sslmode {sslmode:?}"))
            .hint("Use disable, allow, prefer, require, verify-ca or verify-full."));
    }
    let mut config: Config = if cleaned.trim().is_empty() {
        Config::new()
    } else {
        cleaned.parse().map_err(|e| {
            CliError::usage("invalid connection string")
                .detail(e)
                .hint("Use postgres://user@host:5432/db or 'host=... dbname=...'.")
        })?
    };
    // what the string leaves out comes from the environment, as with libpq
    if config.get_hosts().is_empty() {
        let host = env("PGHOST").unwrap_or_else(|| "/var/run/postgresql".into());
        for h in host.split(',') {
            config.host(h);
        }
    }
    if config.get_ports().is_empty() {
        if let Some(p) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(p);
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            config.dbname(&db);
        }
    }
    if config.get_password().is_none() {
        if let Some(pw) = env("PGPASSWORD") {
            config.password(pw);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name("confiture");
    }
    config.ssl_mode(match sslmode.as_str() {
        "disable" => SslMode::Disable,
        "allow" | "prefer" => SslMode::Prefer,
        _ => SslMode::Require,
    });
    Ok((config, sslmode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_taken_out_of_urls_and_conninfo() {
        let (_, mode) =
            parse("postgres://u@h:5432/db?sslmode=verify-full&application_name=x").unwrap();
        assert_eq!(mode, "verify-full");
        let (c, mode) = parse("host=h dbname=d sslmode=disable").unwrap();
        assert_eq!(mode, "disable");
        assert_eq!(c.get_dbname(), Some("d"));
        assert!(parse("host=h sslmode=bogus").is_err());
    }

    #[test]
    fn labels_hide_passwords() {
        assert_eq!(
            Target::new("postgres://u:secret@db.example:5432/app").label(),
            "app@db.example"
        );
    }
}
