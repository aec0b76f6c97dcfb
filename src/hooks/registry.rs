//! Hooks as stored in `confiture.hooks`, loaded once per `migrate` call.

use crate::error::{Error, Result};
use confiture_core::hooks::builtin::Builtin;
use confiture_core::hooks::{selects, Phase};
use pgrx::prelude::*;
use serde_json::Value;

#[derive(Debug, Clone)]
pub enum Action {
    Sql(String),
    /// A function taking the jsonb context: how to call it, and whether it returns void.
    /// `changed`: its owner or definition differ from when the hook was registered.
    Function {
        call: String,
        returns_void: bool,
        signature: String,
        changed: bool,
    },
    Builtin(Builtin),
}

#[derive(Debug, Clone)]
pub struct Hook {
    pub name: String,
    pub phase: Phase,
    pub migration: Option<String>,
    pub action: Action,
    pub options: Value,
    pub timeout_ms: i64,
    pub warn_only: bool,
    pub survive: bool,
    pub condition: Option<String>,
    /// Whose privileges and search_path it runs with.
    pub runner: crate::security::Runner,
}

impl Hook {
    pub fn kind(&self) -> &str {
        match &self.action {
            Action::Sql(_) => "sql",
            Action::Function { .. } => "function",
            Action::Builtin(b) => b.as_str(),
        }
    }
}

/// Every registered hook, in phase, order and name order.
#[derive(Debug, Default)]
pub struct HookSet {
    hooks: Vec<Hook>,
}

impl HookSet {
    pub fn load() -> Result<HookSet> {
        let hooks = Spi::connect_mut(|client| {
            let rows = client.update(
                "SELECT h.name, h.phase, h.migration, h.action_sql, h.builtin, h.options,
                        (extract(epoch FROM h.timeout) * 1000)::int8, h.on_failure = 'warn', h.survive,
                        h.condition,
                        quote_ident(n.nspname) || '.' || quote_ident(p.proname),
                        p.prorettype = 'void'::regtype, h.action_function::text,
                        h.function_fingerprint IS DISTINCT FROM confiture.function_fingerprint(h.action_function),
                        h.run_as::oid, h.search_path
                   FROM confiture.hooks h
                   LEFT JOIN pg_catalog.pg_proc p ON p.oid = h.action_function
                   LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                  ORDER BY array_position(ARRAY['before_validation', 'before_ddl', 'after_ddl',
                                                'after_validation', 'cleanup', 'on_error'], h.phase),
                           h.run_order, h.name",
                None,
                &[],
            )?;
            let mut hooks = Vec::with_capacity(rows.len());
            for row in rows {
                let phase: String = row.get(2)?.unwrap_or_default();
                let action = if let Some(sql) = row.get::<String>(4)? {
                    Action::Sql(sql)
                } else if let Some(b) = row.get::<String>(5)? {
                    Action::Builtin(Builtin::parse(&b).unwrap_or(Builtin::Analyze))
                } else {
                    Action::Function {
                        // NULL when the function was dropped: the call then fails, naming it
                        call: row.get(11)?.unwrap_or_else(|| "confiture.missing_hook_function".into()),
                        returns_void: row.get(12)?.unwrap_or(false),
                        signature: row.get(13)?.unwrap_or_default(),
                        changed: row.get(14)?.unwrap_or(true),
                    }
                };
                hooks.push(Hook {
                    name: row.get(1)?.unwrap_or_default(),
                    phase: Phase::parse(&phase).unwrap_or(Phase::Cleanup),
                    migration: row.get(3)?,
                    action,
                    options: row.get::<pgrx::JsonB>(6)?.map(|j| j.0).unwrap_or(Value::Null),
                    timeout_ms: row.get(7)?.unwrap_or(0),
                    warn_only: row.get(8)?.unwrap_or(false),
                    survive: row.get(9)?.unwrap_or(false),
                    condition: row.get(10)?,
                    runner: crate::security::Runner {
                        role: row.get(15)?,
                        search_path: row.get(16)?,
                        what: format!("hook {}", row.get::<String>(1)?.unwrap_or_default()),
                    },
                });
            }
            Ok::<_, pgrx::spi::SpiError>(hooks)
        })
        .map_err(Error::from)?;
        Ok(HookSet { hooks })
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// The hooks of one migration, in run order.
    pub fn for_migration(&self, version: &str, name: &str) -> Vec<&Hook> {
        self.hooks
            .iter()
            .filter(|h| selects(h.migration.as_deref(), version, name))
            .collect()
    }
}
