//! `confiture.toml`: found by walking up from the working directory (or
//! named with `--config`). Its `[lint]` section uses the names of the
//! server's configuration tables (`confiture.lint_rules`,
//! `confiture.lint_exemptions`), so a project can keep one policy:
//!
//! ```toml
//! [lint]
//! disabled = ["prefer-text"]            # lint_rules.enabled = false
//! exclude = ["legacy/**", "*.down.sql"] # files not linted (relative to this file)
//! pg_version = 15                       # the server the migrations are for
//! transactional = true                  # migrations run in one transaction
//!
//! [lint.severity]                       # lint_rules.severity
//! drop-column = "error"
//!
//! [lint.variables]                      # psql variables, as with -v
//! schema = "app"
//!
//! [[lint.exemptions]]                   # lint_exemptions
//! rule = "drop-column"                  # every rule when left out
//! object_pattern = "legacy_%"           # SQL LIKE on the finding's object
//! reason = "being retired"
//! ```
//!
//! Naming rules and required columns (`lint_naming`,
//! `lint_required_columns`) belong to the catalog rules, which need a live
//! schema: they have no offline counterpart.

use crate::error::CliError;
use crate::lint::rules;
use confiture_core::lint::{Config as RuleConfig, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "confiture.toml";
/// The parser's version, and the default target.
pub const PARSER_PG_VERSION: u32 = 18;
pub const PG_VERSIONS: std::ops::RangeInclusive<u32> = 14..=18;

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub lint: LintSection,
}

/// `[lint]`, as written (scalars and arrays before tables, for printing).
#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    #[serde(default)]
    pub disabled: Vec<String>,
    /// Rules that are off by default, switched on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enabled: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pg_version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactional: Option<bool>,
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub exemptions: Vec<Exemption>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub object_pattern: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Settings given on the command line, which win over the file's.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub pg_version: Option<u32>,
    pub transactional: Option<bool>,
    pub exclude: Vec<String>,
    pub variables: Vec<(String, String)>,
}

/// The configuration a run uses.
#[derive(Debug, Clone)]
pub struct LintConfig {
    /// The file it came from (None: built-in defaults).
    pub file: Option<PathBuf>,
    /// Exclude patterns are relative to this directory.
    pub base_dir: PathBuf,
    pub rules: RuleConfig,
    pub exclude: Vec<glob::Pattern>,
    pub pg_version: u32,
    pub transactional: bool,
    pub variables: BTreeMap<String, String>,
    /// The effective settings, as a `[lint]` section.
    pub effective: LintSection,
}

/// The nearest `confiture.toml` in `start` or one of its parents.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Read the configuration: `explicit` if given, else the nearest
/// `confiture.toml` above `cwd`, else the defaults; then apply `overrides`.
pub fn load(
    explicit: Option<&Path>,
    cwd: &Path,
    overrides: &Overrides,
) -> Result<LintConfig, CliError> {
    let file = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => discover(cwd),
    };
    let parsed = match &file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(format!("cannot read the configuration {}", path.display()))
                    .detail(e)
            })?;
            toml::from_str::<ConfigFile>(&text).map_err(|e| {
                CliError::usage(format!("{} is not a valid configuration", path.display()))
                    .detail(e)
                    .hint("see `confiture lint --help` for the [lint] settings")
            })?
        }
        None => ConfigFile::default(),
    };
    let base_dir = file
        .as_ref()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| cwd.to_path_buf());
    resolve(parsed.lint, file, base_dir, overrides)
}

fn resolve(
    section: LintSection,
    file: Option<PathBuf>,
    base_dir: PathBuf,
    overrides: &Overrides,
) -> Result<LintConfig, CliError> {
    let origin = file.as_ref().map_or_else(
        || "the command line".to_owned(),
        |p| p.display().to_string(),
    );
    let bad = |what: String| CliError::usage(format!("{origin}: {what}"));
    let check_rule = |id: &str, place: &str| -> Result<(), CliError> {
        if id == rules::SYNTAX_ERROR.id {
            return Err(bad(format!("rule {id} in {place} cannot be configured"))
                .detail("SQL that does not parse is always reported, as in the server"));
        }
        if !rules::is_known(id) {
            return Err(bad(format!("unknown rule \"{id}\" in {place}"))
                .hint("`confiture lint --list-rules` lists the rules"));
        }
        Ok(())
    };

    let mut rule_config = RuleConfig::default();
    for id in &section.disabled {
        check_rule(id, "[lint] disabled")?;
        rule_config.disabled.insert(id.clone());
    }
    for id in &section.enabled {
        check_rule(id, "[lint] enabled")?;
        rule_config.enabled.insert(id.clone());
    }
    for (id, severity) in &section.severity {
        check_rule(id, "[lint.severity]")?;
        let s = Severity::parse(severity).ok_or_else(|| {
            bad(format!(
                "severity \"{severity}\" of {id} is not info, warning or error"
            ))
        })?;
        rule_config.severities.push((id.clone(), s));
    }
    for e in &section.exemptions {
        if let Some(id) = &e.rule {
            check_rule(id, "[[lint.exemptions]]")?;
        }
        rule_config.exemptions.push((
            e.rule.clone().unwrap_or_else(|| "*".into()),
            e.object_pattern.clone(),
        ));
    }

    let pg_version = overrides
        .pg_version
        .or(section.pg_version)
        .unwrap_or(PARSER_PG_VERSION);
    if !PG_VERSIONS.contains(&pg_version) {
        return Err(bad(format!(
            "pg_version {pg_version} is not one of 14 to 18"
        )));
    }
    let transactional = overrides
        .transactional
        .or(section.transactional)
        .unwrap_or(true);

    let mut exclude_text: Vec<String> = section.exclude.clone();
    exclude_text.extend(overrides.exclude.iter().cloned());
    let exclude = exclude_text
        .iter()
        .map(|g| {
            glob::Pattern::new(g)
                .map_err(|e| bad(format!("exclude pattern \"{g}\" is not a glob")).detail(e))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut variables = section.variables.clone();
    variables.extend(overrides.variables.iter().cloned());

    let effective = LintSection {
        enabled: rule_config.enabled.iter().cloned().collect(),
        disabled: rule_config
            .disabled
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        exclude: exclude_text,
        pg_version: Some(pg_version),
        transactional: Some(transactional),
        severity: section.severity.clone(),
        variables: variables.clone(),
        exemptions: section.exemptions.clone(),
    };
    Ok(LintConfig {
        file,
        base_dir,
        rules: rule_config,
        exclude,
        pg_version,
        transactional,
        variables,
        effective,
    })
}

impl LintConfig {
    /// Whether `path` (a file found in a directory or by a glob) is excluded:
    /// a pattern matches its path relative to the configuration's directory,
    /// and a pattern without `/` also matches its file name.
    pub fn is_excluded(&self, path: &Path) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(path)
        };
        let relative = absolute.strip_prefix(&self.base_dir).unwrap_or(&absolute);
        let relative = relative.to_string_lossy().replace('\\', "/");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        self.exclude.iter().any(|p| {
            p.matches_with(&relative, options)
                || (!p.as_str().contains('/') && p.matches_with(&name, options))
        })
    }

    /// The effective configuration as `confiture.toml` text.
    pub fn to_toml(&self) -> String {
        let origin = match &self.file {
            Some(p) => format!("# effective configuration: {} and the command line\n", p.display()),
            None => "# effective configuration: no confiture.toml found, defaults and the command line\n".to_owned(),
        };
        let body = toml::to_string(&ConfigFile {
            lint: self.effective.clone(),
        })
        .unwrap_or_default();
        format!("{origin}{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_text(text: &str) -> Result<LintConfig, CliError> {
        let parsed: ConfigFile =
            toml::from_str(text).map_err(|e| CliError::usage("bad").detail(e))?;
        resolve(
            parsed.lint,
            Some("confiture.toml".into()),
            PathBuf::from("/project"),
            &Overrides::default(),
        )
    }

    #[test]
    fn a_full_configuration_resolves() {
        let c = from_text(
            r#"
            [lint]
            disabled = ["prefer-text", "table-without-comment"]
            exclude = ["legacy/**", "*.down.sql"]
            pg_version = 15
            transactional = false
            [lint.severity]
            drop-column = "error"
            [lint.variables]
            schema = "app"
            [[lint.exemptions]]
            rule = "drop-column"
            object_pattern = "legacy_%"
            [[lint.exemptions]]
            object_pattern = "tmp_%"
            "#,
        )
        .unwrap();
        assert!(c.rules.disabled.contains("prefer-text"));
        assert_eq!(
            c.rules.severities,
            vec![("drop-column".to_string(), Severity::Error)]
        );
        assert_eq!(
            c.rules.exemptions[1],
            ("*".to_string(), "tmp_%".to_string())
        );
        assert_eq!((c.pg_version, c.transactional), (15, false));
        assert_eq!(c.variables.get("schema").map(String::as_str), Some("app"));
        assert!(c.is_excluded(Path::new("/project/legacy/a/b.sql")));
        assert!(c.is_excluded(Path::new("/project/x/1.down.sql")));
        assert!(!c.is_excluded(Path::new("/project/x/1.up.sql")));
        // printed, it reads back as the same configuration
        let printed = c.to_toml();
        let again: ConfigFile = toml::from_str(&printed).unwrap();
        assert_eq!(again.lint, c.effective);
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for (text, expected) in [
            (
                "[lint]\ndisabled = [\"no-such-rule\"]",
                "unknown rule \"no-such-rule\"",
            ),
            (
                "[lint.severity]\ndrop-column = \"fatal\"",
                "is not info, warning or error",
            ),
            ("[lint]\npg_version = 9", "pg_version 9"),
            ("[lint]\nexclude = [\"[\"]", "is not a glob"),
            (
                "[lint]\ndisabled = [\"syntax-error\"]",
                "cannot be configured",
            ),
            ("[lint]\nunknown_key = 1", "unknown field"),
            ("[lint]\ndisabled = \"drop-column\"", "invalid type"),
        ] {
            let e = from_text(text).unwrap_err();
            assert_eq!(e.exit_code, crate::error::exit::USAGE);
            let all = format!("{} {}", e.message, e.lines.join(" "));
            assert!(all.contains(expected), "{text}: {all}");
        }
    }

    #[test]
    fn discovery_walks_up() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(discover(&deep), None);
        std::fs::write(dir.path().join("a").join(FILE_NAME), "[lint]\n").unwrap();
        assert_eq!(discover(&deep), Some(dir.path().join("a").join(FILE_NAME)));
        let overrides = Overrides {
            pg_version: Some(16),
            ..Default::default()
        };
        let c = load(None, &deep, &overrides).unwrap();
        assert_eq!(c.base_dir, dir.path().join("a"));
        assert_eq!(c.pg_version, 16);
    }
}
