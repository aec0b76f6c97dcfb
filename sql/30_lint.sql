-- Lint configuration, and the catalog rules over the live schema.

-- Rules switched off or given another severity (migration and catalog rules).
CREATE TABLE confiture.lint_rules (
    rule        text PRIMARY KEY,
    enabled     boolean NOT NULL DEFAULT true,
    severity    text CHECK (severity IN ('info', 'warning', 'error'))
);
-- Objects a rule (NULL: every rule) does not apply to: a LIKE pattern on
-- the object as findings name it (table, schema.table, table.column).
CREATE TABLE confiture.lint_exemptions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule            text,
    object_pattern  text NOT NULL,
    reason          text
);
-- Naming rules: in schemas matching schema_pattern (LIKE), objects of this
-- kind ('table', 'view', 'column', 'index') must match name_regex.
CREATE TABLE confiture.lint_naming (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schema_pattern  text NOT NULL,
    object_kind     text NOT NULL DEFAULT 'table' CHECK (object_kind IN ('table', 'view', 'column', 'index')),
    name_regex      text NOT NULL,
    description     text
);
-- Columns every table must have (e.g. tenant_id), in schemas matching
-- schema_pattern, except tables matching exempt_pattern.
CREATE TABLE confiture.lint_required_columns (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    column_name     name NOT NULL,
    schema_pattern  text NOT NULL DEFAULT '%',
    exempt_pattern  text
);
-- CQRS read models and the write tables they are built from.
CREATE TABLE confiture.read_models (
    read_model      text PRIMARY KEY,
    sources         text[] NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON confiture.lint_rules, confiture.lint_exemptions, confiture.lint_naming,
    confiture.lint_required_columns, confiture.read_models TO confiture_admin;
GRANT SELECT ON confiture.lint_rules, confiture.lint_exemptions TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('confiture.lint_rules', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.lint_exemptions', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.lint_naming', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.lint_required_columns', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.read_models', '');

-- The catalog rules, one query each, over user schemas (or one schema).
CREATE FUNCTION confiture.lint_schema(schema name DEFAULT NULL)
RETURNS TABLE (rule text, severity text, object text, line integer, "column" integer, message text, suggestion text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, confiture, pg_temp
AS $$
WITH tables AS (
    SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind, c.relpersistence,
           format('%I.%I', n.nspname, c.relname) AS object
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'confiture', 'pggit')
       AND n.nspname NOT LIKE 'pg\_%'
       AND ($1 IS NULL OR n.nspname = $1)
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
),
findings AS (
    SELECT 'table-without-primary-key' AS rule, t.object, 'table ' || t.object || ' has no primary key' AS message
      FROM tables t WHERE NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conrelid = t.oid AND k.contype = 'p')
    UNION ALL
    SELECT 'fk-without-index', t.object || '.' || k.conname,
           format('foreign key %s on %s (%s) has no index starting with its columns', k.conname, t.object,
                  (SELECT string_agg(a.attname, ', ' ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.attnum))
      FROM tables t JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype = 'f'
     WHERE NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = t.oid
                         AND (i.indkey::int2[])[0:array_length(k.conkey, 1) - 1] @> k.conkey
                         AND (i.indkey::int2[])[0:array_length(k.conkey, 1) - 1] <@ k.conkey)
    UNION ALL
    SELECT 'table-without-comment', t.object, 'table ' || t.object || ' has no comment'
      FROM tables t WHERE obj_description(t.oid, 'pg_class') IS NULL
    UNION ALL
    SELECT 'naming-snake-case', t.object, 'table name ' || quote_ident(t.name) || ' is not snake_case'
      FROM tables t WHERE t.name !~ '^[a-z_][a-z0-9_]*$'
    UNION ALL
    SELECT 'naming-snake-case', t.object || '.' || a.attname, 'column name ' || quote_ident(a.attname) || ' is not snake_case'
      FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE a.attname !~ '^[a-z_][a-z0-9_]*$'
    UNION ALL
    SELECT 'naming-pattern', o.object,
           format('%s %s in schema %s does not match %s%s', r.object_kind, o.name, o.schema, r.name_regex,
                  coalesce(' (' || r.description || ')', ''))
      FROM lint_naming r
      JOIN (SELECT 'table' AS kind, t.schema, t.name, t.object FROM tables t
            UNION ALL
            SELECT 'view', n.nspname, c.relname, format('%I.%I', n.nspname, c.relname)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('v', 'm') AND ($1 IS NULL OR n.nspname = $1)
            UNION ALL
            SELECT 'column', t.schema, a.attname, t.object || '.' || a.attname
              FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'index', t.schema, c.relname, format('%I.%I', t.schema, c.relname)
              FROM tables t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class c ON c.oid = i.indexrelid) o
        ON o.kind = r.object_kind AND o.schema LIKE r.schema_pattern
     WHERE o.name !~ r.name_regex
    UNION ALL
    SELECT 'missing-required-column', t.object, format('table %s has no column %s', t.object, r.column_name)
      FROM tables t JOIN lint_required_columns r ON t.schema LIKE r.schema_pattern
     WHERE (r.exempt_pattern IS NULL OR (t.name NOT LIKE r.exempt_pattern AND t.object NOT LIKE r.exempt_pattern))
       AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = r.column_name AND NOT a.attisdropped)
    UNION ALL
    SELECT 'unlogged-table', t.object, 'table ' || t.object || ' is unlogged: emptied after a crash, not replicated'
      FROM tables t WHERE t.relpersistence = 'u'
    UNION ALL
    SELECT 'plaintext-secret', t.object || '.' || a.attname,
           format('column %s.%s (%s) looks like a secret stored as plain text', t.object, a.attname, format_type(a.atttypid, a.atttypmod))
      FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
       AND a.attname ~* '(password|passwd|secret|api_?key|access_?token|private_?key|credit_?card|card_?number)'
       AND a.attname !~* '(hash|digest|encrypted|_enc$|salt)'
    UNION ALL
    SELECT 'read-model-source-missing', m.read_model || ' <- ' || s.source,
           format('read model %s declares source %s, which does not exist', m.read_model, s.source)
      FROM read_models m CROSS JOIN LATERAL unnest(m.sources) AS s(source)
     WHERE to_regclass(s.source) IS NULL
    UNION ALL
    SELECT 'read-model-source-missing', m.read_model, format('read model %s does not exist', m.read_model)
      FROM read_models m WHERE to_regclass(m.read_model) IS NULL
)
SELECT f.rule, coalesce(lr.severity, d.severity), f.object, NULL::int, NULL::int, f.message, d.alternative
  FROM findings f
  JOIN (SELECT * FROM confiture.lint_rules()) d ON d.rule = f.rule
  LEFT JOIN lint_rules lr ON lr.rule = f.rule
 WHERE coalesce(lr.enabled, true)
   AND NOT EXISTS (SELECT FROM lint_exemptions e WHERE coalesce(e.rule, f.rule) = f.rule AND f.object LIKE e.object_pattern)
 ORDER BY f.rule, f.object
$$;
