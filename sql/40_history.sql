-- DDL history: every DDL statement, who ran it and through which
-- migration; structural snapshots after each migration; drift; pgGit.

CREATE TABLE confiture.ddl_log (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    role_name         name NOT NULL DEFAULT current_user,
    command_tag       text NOT NULL,
    object_type       text,
    object_identity   text,
    schema_name       name,
    objid             oid,
    statement         text,
    xid               xid8 NOT NULL DEFAULT pg_current_xact_id(),
    migration_version text,
    dropped           boolean NOT NULL DEFAULT false,
    parent            oid                -- the table of an index, trigger or constraint
);
CREATE INDEX ddl_log_object_idx ON confiture.ddl_log (object_identity, id);
CREATE INDEX ddl_log_migration_idx ON confiture.ddl_log (migration_version, id);
CREATE INDEX ddl_log_objid_idx ON confiture.ddl_log (objid, id);
COMMENT ON TABLE confiture.ddl_log IS 'Confiture: every DDL statement, with its migration (NULL when typed by hand).';

-- One row per object per snapshot: the state of the objects a migration
-- touched right after it (a "base" snapshot holds every object at first use).
CREATE TABLE confiture.snapshot_objects (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version     text NOT NULL,           -- migration version, or 'base'
    taken_at    timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL,
    identity    text NOT NULL,
    objid       oid,                     -- to follow renames
    definition  jsonb,                   -- NULL: the object no longer exists
    hash        text
);
-- lz4 where the server has it: compressing each definition with pglz cost
-- a tenth of a DDL-only migration chain
DO $$
BEGIN
    IF 'lz4' = ANY (SELECT unnest(enumvals) FROM pg_catalog.pg_settings WHERE name = 'default_toast_compression') THEN
        ALTER TABLE confiture.snapshot_objects ALTER COLUMN definition SET COMPRESSION lz4;
    END IF;
END $$;
CREATE INDEX snapshot_objects_identity_idx ON confiture.snapshot_objects (identity, id);
CREATE INDEX snapshot_objects_version_idx ON confiture.snapshot_objects (version);
CREATE INDEX snapshot_objects_objid_idx ON confiture.snapshot_objects (objid);

-- Events for pgGit, one per applied or rolled back migration, delivered
-- strictly in order (confiture.pggit_sync, confiture.pggit_skip).
CREATE TABLE confiture.pggit_outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queued_at    timestamptz NOT NULL DEFAULT now(),
    event        text NOT NULL CHECK (event IN ('apply', 'rollback')),
    version      text NOT NULL,
    branch       text NOT NULL,           -- the pgGit branch when it was queued
    payload      jsonb NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,                    -- pgGit's last refusal; NULL once delivered
    delivered_at timestamptz,
    skipped_at   timestamptz,             -- given up on with confiture.pggit_skip
    skipped_by   name,
    skip_reason  text
);
CREATE INDEX pggit_outbox_waiting_idx ON confiture.pggit_outbox (id) WHERE delivered_at IS NULL AND skipped_at IS NULL;

-- Only confiture writes the history (as the extension's owner, from the
-- event triggers); reading it needs confiture_admin: statements can name
-- secrets that redaction does not know about.
REVOKE ALL ON confiture.ddl_log, confiture.snapshot_objects, confiture.pggit_outbox FROM PUBLIC;
GRANT SELECT ON confiture.ddl_log, confiture.snapshot_objects, confiture.pggit_outbox TO confiture_admin;
SELECT pg_catalog.pg_extension_config_dump('confiture.ddl_log', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.snapshot_objects', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.pggit_outbox', '');

-- The structure of user objects, one row each: tables (columns, constraints,
-- indexes, triggers, grants), views, functions, sequences, types. A view, so
-- that `WHERE objid = ANY (...)` reaches the catalogs' indexes and only the
-- wanted objects are described. Not user objects: the system's schemas,
-- confiture's, and pgGit's (pggit and its pggit_* schemas: pggit_errors,
-- pggit_audit, pggit_migration, pggit_branch_<name> ...).
CREATE VIEW confiture.object_definitions AS
WITH user_ns AS (
    SELECT oid FROM pg_catalog.pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'confiture', 'pggit', 'pg_toast')
       AND nspname NOT LIKE 'pggit\_%'
       AND nspname NOT LIKE 'pg\_temp%' AND nspname NOT LIKE 'pg\_toast\_temp%'
)
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' ELSE 'foreign table' END AS kind,
       -- what pg_identify_object says for a relation, without its lookups
       pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname) AS identity,
       pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
           'columns', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', a.attname,
                                  'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
                                  'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attnum)
                         FROM pg_catalog.pg_attribute a
                         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
           'constraints', (SELECT pg_catalog.jsonb_object_agg(k.conname, pg_catalog.pg_get_constraintdef(k.oid))
                             FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid),
           'indexes', (SELECT pg_catalog.jsonb_object_agg(i.indexrelid::pg_catalog.regclass::text, pg_catalog.pg_get_indexdef(i.indexrelid))
                         FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid),
           'triggers', (SELECT pg_catalog.jsonb_object_agg(t.tgname, pg_catalog.pg_get_triggerdef(t.oid))
                          FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
           'definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END,
           'grants', c.relacl::text[])) AS definition,
       c.oid AS objid
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relnamespace IN (SELECT oid FROM user_ns) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d   -- by the depender index
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
       (pg_catalog.pg_identify_object('pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 0)).identity,
       pg_catalog.jsonb_build_object('definition', pg_catalog.pg_get_functiondef(p.oid), 'grants', p.proacl::text[]),
       p.oid
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace IN (SELECT oid FROM user_ns) AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'type', (pg_catalog.pg_identify_object('pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0)).identity,
       pg_catalog.jsonb_build_object('kind', t.typtype,
           'labels', (SELECT pg_catalog.jsonb_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)),
       t.oid
  FROM pg_catalog.pg_type t
 WHERE t.typnamespace IN (SELECT oid FROM user_ns) AND t.typtype IN ('e', 'd')
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objid = t.oid AND d.deptype = 'e');

GRANT SELECT ON confiture.object_definitions TO confiture_admin;

-- The same as a function; `oids` limits it to some objects (NULL: all).
CREATE FUNCTION confiture.schema_objects(oids oid[] DEFAULT NULL)
RETURNS TABLE (kind text, identity text, definition jsonb, objid oid)
LANGUAGE sql STABLE
SET search_path = pg_catalog, confiture, pg_temp
AS $$
    SELECT * FROM confiture.object_definitions o WHERE $1 IS NULL OR o.objid = ANY ($1)
$$;

-- The recorded state of every object after migration `version` (NULL: the latest).
CREATE FUNCTION confiture.snapshot_at(version text DEFAULT NULL)
RETURNS TABLE (kind text, identity text, definition jsonb)
LANGUAGE sql STABLE
SET search_path = pg_catalog, confiture, pg_temp
AS $$
    SELECT DISTINCT ON (s.identity) s.kind, s.identity, s.definition
      FROM snapshot_objects s
      LEFT JOIN migrations m ON m.version = s.version
     WHERE $1 IS NULL OR s.version = 'base'
        OR m.sort_key <= (SELECT sort_key FROM migrations WHERE version = $1)
     ORDER BY s.identity, s.id DESC
$$;

-- What changed between two migrations, object by object.
CREATE FUNCTION confiture.schema_diff(from_version text, to_version text)
RETURNS TABLE (kind text, identity text, change text, before jsonb, after jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, confiture, pg_temp
AS $$
BEGIN
    IF from_version IS NULL OR to_version IS NULL THEN
        RAISE EXCEPTION 'from_version and to_version must not be NULL' USING ERRCODE = '22004',
            DETAIL = 'confiture.schema_diff compares the snapshots taken after two migrations.',
            HINT = 'Pass two versions from confiture.status().';
    END IF;
    IF NOT EXISTS (SELECT FROM migrations WHERE version = from_version)
       OR NOT EXISTS (SELECT FROM migrations WHERE version = to_version) THEN
        RAISE EXCEPTION 'migration % is not registered',
            CASE WHEN EXISTS (SELECT FROM migrations WHERE version = from_version) THEN to_version ELSE from_version END
            USING ERRCODE = '42704', DETAIL = 'Both versions must be in confiture.migrations.',
                  HINT = 'SELECT version FROM confiture.status() lists them.';
    END IF;
    RETURN QUERY
    SELECT coalesce(a.kind, b.kind), coalesce(a.identity, b.identity),
           CASE WHEN a.definition IS NULL THEN 'created' WHEN b.definition IS NULL THEN 'dropped' ELSE 'altered' END,
           a.definition, b.definition
      FROM snapshot_at(from_version) a
      FULL JOIN snapshot_at(to_version) b ON b.identity = a.identity
     WHERE a.definition IS DISTINCT FROM b.definition
     ORDER BY 2;
END $$;

-- The live schema against the snapshot of the last applied migration, with
-- the DDL typed by hand that explains each difference.
CREATE FUNCTION confiture.drift()
RETURNS TABLE (kind text, identity text, change text, recorded jsonb, live jsonb, explained_by jsonb)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, confiture, pg_temp
AS $$
    SELECT confiture.ddl_log_flush();   -- this session's DDL not written yet
    WITH recorded AS (SELECT * FROM snapshot_at(NULL) WHERE definition IS NOT NULL),
         live AS (SELECT kind, identity, definition FROM schema_objects(NULL)),
         diff AS (
            SELECT coalesce(r.kind, l.kind) AS kind, coalesce(r.identity, l.identity) AS identity,
                   CASE WHEN r.identity IS NULL THEN 'added' WHEN l.identity IS NULL THEN 'removed' ELSE 'changed' END AS change,
                   r.definition AS recorded, l.definition AS live
              FROM recorded r FULL JOIN live l ON l.identity = r.identity
             WHERE r.definition IS DISTINCT FROM l.definition
               AND EXISTS (SELECT FROM snapshot_objects))
    SELECT d.*, (SELECT jsonb_agg(jsonb_build_object('at', g.at, 'role', g.role_name, 'statement', g.statement) ORDER BY g.id)
                   FROM ddl_log g
                  WHERE g.migration_version IS NULL
                    AND (g.object_identity = d.identity OR g.object_identity LIKE '% on ' || d.identity
                         OR g.object_identity LIKE d.identity || '\_%'
                         OR g.statement ~* ('\m' || regexp_replace(split_part(d.identity, '.', 2), '\W', '', 'g') || '\M')))
      FROM diff d ORDER BY d.identity
$$;

-- The DDL log, newest first.
CREATE FUNCTION confiture.history(object text DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS TABLE (at timestamptz, role_name name, command_tag text, object_type text, object_identity text,
               schema_name name, statement text, xid xid8, migration_version text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, confiture, pg_temp
AS $$
    SELECT confiture.ddl_log_flush();   -- this session's DDL not written yet
    SELECT g.at, g.role_name, g.command_tag, g.object_type, g.object_identity, g.schema_name, g.statement, g.xid,
           g.migration_version
      FROM ddl_log g
     WHERE ($1 IS NULL OR g.object_identity = $1 OR g.object_identity LIKE $1 OR g.object_identity LIKE '%.' || $1)
       AND ($2 IS NULL OR g.at >= $2)
     ORDER BY g.id DESC
$$;

-- The event triggers (confiture.log_ddl, confiture.log_drop) are written in
-- Rust (src/history/log.rs) and created last, so the extension's own script
-- does not fire them half-built.
