//! What a script has done so far, as the rules and risk assessment need
//! it: which relations it created (nobody else can be reading them), which
//! columns it added, which schemas it made — following renames, drops and
//! schemas, so a copy-and-swap (`CREATE TABLE users_new …; DROP TABLE users;
//! ALTER TABLE users_new RENAME TO users;`) leaves `users` new, and
//! `staging.users` created never hides `public.users`.
//!
//! Names are compared resolved: an unqualified name means
//! `default_schema` (the server's `current_schema()`; `public` offline),
//! except that a temporary table created in the script is found first, as
//! the server's search path does (`pg_temp` is searched before the rest).

use super::{AlterTableCmd, ConstraintKind, ObjectKind, QualifiedName, Statement, StatementKind};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptState {
    /// The schema unqualified names resolve to; `public` when `None`.
    pub default_schema: Option<String>,
    /// For `CREATE TABLE IF NOT EXISTS`: the resolved names (`schema.name`)
    /// the catalog says exist. `None` without a database: such a table is
    /// then taken as existing (it may hold data), never as new.
    pub catalog: Option<BTreeSet<String>>,
    /// Relations (tables, views, materialized views) created by the script.
    relations: BTreeSet<String>,
    schemas: BTreeSet<String>,
    /// Columns added by the script to tables that existed before it
    /// (`schema.table.column`).
    columns: BTreeSet<String>,
    /// Columns with a `CHECK (col IS NOT NULL)` added by the script.
    not_null_checked: BTreeSet<String>,
}

const TEMP: &str = "pg_temp";

impl ScriptState {
    pub fn with_default_schema(schema: Option<String>) -> Self {
        ScriptState {
            default_schema: schema,
            ..Default::default()
        }
    }

    fn schema_of<'a>(&'a self, t: &'a QualifiedName) -> &'a str {
        t.schema
            .as_deref()
            .or(self.default_schema.as_deref())
            .unwrap_or("public")
    }

    /// The schema an unqualified name is created in.
    pub fn resolved_schema(&self, t: &QualifiedName) -> String {
        self.schema_of(t).to_owned()
    }

    /// The resolved name of a relation: `schema.name`.
    pub fn key(&self, t: &QualifiedName) -> String {
        if t.schema.is_none() {
            let temp = format!("{TEMP}.{}", t.name);
            if self.relations.contains(&temp) {
                return temp;
            }
        }
        format!("{}.{}", self.schema_of(t), t.name)
    }

    /// Was relation `t` created by the script (and is still there)?
    pub fn is_new(&self, t: &QualifiedName) -> bool {
        !t.name.is_empty() && self.relations.contains(&self.key(t))
    }

    /// Was the schema created by the script?
    pub fn is_new_schema(&self, name: &str) -> bool {
        self.schemas.contains(name)
    }

    /// Was column `column` of `table` added by the script (or its table created by it)?
    pub fn is_new_column(&self, table: &QualifiedName, column: &str) -> bool {
        self.is_new(table)
            || self
                .columns
                .contains(&format!("{}.{column}", self.key(table)))
    }

    /// Has the script added a `CHECK (column IS NOT NULL)` on `table`?
    pub fn not_null_checked(&self, table: &QualifiedName, column: &str) -> bool {
        self.not_null_checked
            .contains(&format!("{}.{column}", self.key(table)))
    }

    /// Would `CREATE TABLE IF NOT EXISTS` of `key` create a new table?
    fn if_not_exists_creates(&self, key: &str) -> bool {
        if self.relations.contains(key) {
            return true; // created earlier in the script: still new
        }
        match &self.catalog {
            Some(existing) => !existing.contains(key),
            None => false,
        }
    }

    fn create_key(&self, t: &QualifiedName, temporary: bool) -> String {
        if temporary {
            format!("{TEMP}.{}", t.name)
        } else {
            format!("{}.{}", self.schema_of(t), t.name)
        }
    }

    /// Remember what `stmt` did for the statements after it.
    pub fn after(&mut self, stmt: &Statement) {
        use StatementKind as K;
        match &stmt.kind {
            K::CreateTable(t) => {
                let key = self.create_key(&t.name, t.temporary);
                if !t.if_not_exists || self.if_not_exists_creates(&key) {
                    self.relations.insert(key);
                }
            }
            K::CreateView { name, .. } => {
                let key = self.create_key(name, false);
                self.relations.insert(key);
            }
            K::CreateOther {
                object: ObjectKind::Schema,
                name: Some(n),
            } => {
                self.schemas.insert(n.name.clone());
            }
            K::Drop(d) => {
                for n in &d.names {
                    match d.object {
                        ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView => {
                            let key = self.key(n);
                            self.forget_relation(&key);
                        }
                        ObjectKind::Schema => {
                            self.schemas.remove(&n.name);
                            let prefix = format!("{}.", n.name);
                            self.relations.retain(|k| !k.starts_with(&prefix));
                            self.columns.retain(|k| !k.starts_with(&prefix));
                            self.not_null_checked.retain(|k| !k.starts_with(&prefix));
                        }
                        _ => {}
                    }
                }
            }
            K::Rename(r) => self.rename(r),
            K::SetSchema {
                object: ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView,
                name,
                schema,
            } => {
                let from = self.key(name);
                let new = self.is_new(name);
                self.move_relation(&from, &format!("{schema}.{}", name.name), new);
            }
            K::AlterTable(at) => {
                let table = self.key(&at.table);
                let new = self.is_new(&at.table);
                for c in &at.commands {
                    match c {
                        AlterTableCmd::AddColumn { column, .. } if !new => {
                            self.columns.insert(format!("{table}.{}", column.name));
                        }
                        AlterTableCmd::DropColumn { name, .. } => {
                            let col = format!("{table}.{name}");
                            self.columns.remove(&col);
                            self.not_null_checked.remove(&col);
                        }
                        AlterTableCmd::AddConstraint(k) if k.kind == ConstraintKind::Check => {
                            if let Some(col) = &k.checks_not_null {
                                self.not_null_checked.insert(format!("{table}.{col}"));
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn forget_relation(&mut self, key: &str) {
        self.relations.remove(key);
        if let Some(c) = &mut self.catalog {
            c.remove(key); // dropped: a later CREATE ... IF NOT EXISTS creates it anew
        }
        let prefix = format!("{key}.");
        self.columns.retain(|k| !k.starts_with(&prefix));
        self.not_null_checked.retain(|k| !k.starts_with(&prefix));
    }

    /// `from` is now called `to`; it is new only if `from` was.
    fn move_relation(&mut self, from: &str, to: &str, was_new: bool) {
        let prefix = format!("{from}.");
        let moved = |set: &mut BTreeSet<String>| {
            let keys: Vec<String> = set
                .iter()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            for k in keys {
                set.remove(&k);
                set.insert(format!("{to}.{}", &k[prefix.len()..]));
            }
        };
        // whatever the script knew under the new name is gone: it now names `from`
        self.forget_relation(to);
        moved(&mut self.columns);
        moved(&mut self.not_null_checked);
        self.relations.remove(from);
        if was_new {
            self.relations.insert(to.to_owned());
        }
    }

    fn rename(&mut self, r: &super::Rename) {
        match (r.object, &r.sub) {
            (ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView, None) => {
                let from = self.key(&r.target);
                let schema = from
                    .rsplit_once('.')
                    .map_or("public", |(s, _)| s)
                    .to_owned();
                let to = format!("{schema}.{}", r.new_name);
                let new = self.is_new(&r.target);
                self.move_relation(&from, &to, new);
            }
            (ObjectKind::Column, Some(old)) => {
                let table = self.key(&r.target);
                let from = format!("{table}.{old}");
                let to = format!("{table}.{}", r.new_name);
                for set in [&mut self.columns, &mut self.not_null_checked] {
                    let had = set.remove(&from);
                    set.remove(&to);
                    if had {
                        set.insert(to.clone());
                    }
                }
            }
            (ObjectKind::Schema, None) => {
                let from = format!("{}.", r.target.name);
                let to = format!("{}.", r.new_name);
                let was_new = self.schemas.remove(&r.target.name);
                if was_new {
                    self.schemas.insert(r.new_name.clone());
                }
                for set in [
                    &mut self.relations,
                    &mut self.columns,
                    &mut self.not_null_checked,
                ] {
                    let keys: Vec<String> = set
                        .iter()
                        .filter(|k| k.starts_with(&from) || k.starts_with(&to))
                        .cloned()
                        .collect();
                    for k in keys {
                        set.remove(&k);
                        if let Some(rest) = k.strip_prefix(&from) {
                            set.insert(format!("{to}{rest}"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddl::{CreateTable, Drop, Rename};
    use crate::source::Span;

    fn st(kind: StatementKind) -> Statement {
        Statement {
            span: Span::new(0, 0),
            tag: String::new(),
            kind,
        }
    }
    fn q(s: &str) -> QualifiedName {
        match s.split_once('.') {
            Some((a, b)) => QualifiedName::new(Some(a), b),
            None => QualifiedName::unqualified(s),
        }
    }
    fn create(name: &str, if_not_exists: bool, temporary: bool) -> Statement {
        st(StatementKind::CreateTable(CreateTable {
            name: q(name),
            if_not_exists,
            temporary,
            ..Default::default()
        }))
    }
    fn rename(from: &str, to: &str) -> Statement {
        st(StatementKind::Rename(Rename {
            object: ObjectKind::Table,
            target: q(from),
            sub: None,
            new_name: to.into(),
        }))
    }
    fn drop_table(name: &str) -> Statement {
        st(StatementKind::Drop(Drop {
            object: ObjectKind::Table,
            names: vec![q(name)],
            concurrently: false,
            if_exists: false,
            cascade: false,
        }))
    }

    #[test]
    fn copy_and_swap_keeps_the_swapped_table_new() {
        let mut s = ScriptState::default();
        for stmt in [
            create("users_new", false, false),
            drop_table("users"),
            rename("users_new", "users"),
        ] {
            s.after(&stmt);
        }
        assert!(s.is_new(&q("users")));
        assert!(s.is_new(&q("public.users")));
        assert!(!s.is_new(&q("users_new")));
    }

    #[test]
    fn renaming_an_existing_table_onto_a_new_name_is_not_new() {
        let mut s = ScriptState::default();
        s.after(&create("t2", false, false));
        s.after(&drop_table("t2"));
        s.after(&rename("t", "t2"));
        assert!(!s.is_new(&q("t2")));
    }

    #[test]
    fn schemas_are_resolved() {
        let mut s = ScriptState::default();
        s.after(&create("staging.users", false, false));
        assert!(s.is_new(&q("staging.users")));
        assert!(!s.is_new(&q("users")));
        assert!(!s.is_new(&q("public.users")));
        let mut s = ScriptState::with_default_schema(Some("app".into()));
        s.after(&create("users", false, false));
        assert!(s.is_new(&q("app.users")));
        assert!(!s.is_new(&q("public.users")));
    }

    #[test]
    fn temporary_tables_are_found_first() {
        let mut s = ScriptState::default();
        s.after(&create("scratch", false, true));
        assert!(s.is_new(&q("scratch")));
        assert!(!s.is_new(&q("public.scratch")));
    }

    #[test]
    fn if_not_exists_is_new_only_when_the_catalog_says_so() {
        let mut s = ScriptState::default();
        s.after(&create("t", true, false));
        assert!(!s.is_new(&q("t")), "offline: taken as existing");
        let mut s = ScriptState {
            catalog: Some(["public.t".to_owned()].into()),
            ..Default::default()
        };
        s.after(&create("t", true, false));
        s.after(&create("u", true, false));
        assert!(!s.is_new(&q("t")));
        assert!(s.is_new(&q("u")));
    }

    #[test]
    fn columns_follow_renames() {
        let mut s = ScriptState::default();
        s.after(&st(StatementKind::AlterTable(crate::ddl::AlterTable {
            table: q("t"),
            object: Some(ObjectKind::Table),
            commands: vec![AlterTableCmd::AddColumn {
                column: crate::ddl::ColumnDef {
                    name: "c".into(),
                    ..Default::default()
                },
                if_not_exists: false,
            }],
        })));
        assert!(s.is_new_column(&q("t"), "c"));
        s.after(&st(StatementKind::Rename(Rename {
            object: ObjectKind::Column,
            target: q("t"),
            sub: Some("c".into()),
            new_name: "d".into(),
        })));
        assert!(!s.is_new_column(&q("t"), "c"));
        assert!(s.is_new_column(&q("t"), "d"));
        s.after(&rename("t", "t_old"));
        assert!(s.is_new_column(&q("t_old"), "d"));
        assert!(!s.is_new(&q("t_old")));
    }
}
