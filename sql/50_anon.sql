-- Anonymization profiles: rules per table and column, tables to skip.
-- The SQL wrappers call Rust functions that may be created later in the script.
SET LOCAL check_function_bodies = off;

CREATE TABLE confiture.anon_profiles (
    name        text PRIMARY KEY CHECK (btrim(name) <> ''),
    owner       name NOT NULL DEFAULT current_user,
    salt        text,          -- readable only by the owner and superusers (see confiture.profile_salt)
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE confiture.anon_rules (
    profile     text NOT NULL REFERENCES confiture.anon_profiles ON DELETE CASCADE,
    table_name  regclass NOT NULL,
    column_name name NOT NULL,
    strategy    text NOT NULL,
    options     jsonb NOT NULL DEFAULT '{}',
    condition   text,          -- mask only the rows where this SQL boolean holds (NULL: every row)
    PRIMARY KEY (profile, table_name, column_name)
);
CREATE TABLE confiture.anon_skipped (
    profile     text NOT NULL REFERENCES confiture.anon_profiles ON DELETE CASCADE,
    table_name  regclass NOT NULL,
    PRIMARY KEY (profile, table_name)
);
REVOKE ALL ON confiture.anon_profiles FROM PUBLIC;
GRANT SELECT (name, owner, created_at) ON confiture.anon_profiles TO PUBLIC;
GRANT SELECT ON confiture.anon_rules, confiture.anon_skipped TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('confiture.anon_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.anon_rules', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.anon_skipped', '');

-- A profile's salt: confiture.profile_salt(profile), in src/anon/profile.rs;
-- the column is readable by no role but confiture's owner.

-- Date and IP wrappers over the Rust functions.
CREATE FUNCTION confiture.mask_date_shift(value timestamptz, salt text DEFAULT NULL, days integer DEFAULT 30)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT value OPERATOR(pg_catalog.+) (confiture.mask_date_shift_days(value::text, salt, days) OPERATOR(pg_catalog.*) '1 day'::pg_catalog.interval) $$;
CREATE FUNCTION confiture.mask_date_shift(value date, salt text DEFAULT NULL, days integer DEFAULT 30)
RETURNS date LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT value OPERATOR(pg_catalog.+) confiture.mask_date_shift_days(value::text, salt, days) $$;
CREATE FUNCTION confiture.mask_date_trunc(value timestamptz, unit text DEFAULT 'month')
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.date_trunc(unit, value) $$;
CREATE FUNCTION confiture.mask_ip(value inet, salt text DEFAULT NULL, keep_bits integer DEFAULT NULL,
                                  keep_bits_v6 integer DEFAULT NULL)
RETURNS inet LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT confiture.mask_ip_text(pg_catalog.host(value), salt, keep_bits, keep_bits_v6)::pg_catalog.inet $$;

-- confiture.anonymized(NULL::t, profile): in 51_anon_masked.sql.

-- Rows of a foreign key's table whose key finds no referenced row.
CREATE FUNCTION confiture.foreign_key_orphans(fk oid) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE k record; cond text; n bigint;
BEGIN
    SELECT * INTO k FROM pg_catalog.pg_constraint WHERE oid = fk AND contype = 'f';
    IF NOT FOUND THEN RETURN 0; END IF;
    SELECT string_agg(format('p.%I = c.%I', pa.attname, ca.attname), ' AND '),
           string_agg(format('c.%I IS NOT NULL', ca.attname), ' AND ')
      INTO cond, k.conname
      FROM unnest(k.conkey, k.confkey) AS u(c, p)
      JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.c
      JOIN pg_catalog.pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.p;
    EXECUTE format('SELECT count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT FROM %s p WHERE %s)',
                   k.conrelid::regclass, k.conname, k.confrelid::regclass, cond) INTO n;
    RETURN n;
END $$;

-- Do most sampled values of this column look like email addresses?
CREATE FUNCTION confiture.looks_like_email(tbl oid, col name) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE hits int; total int;
BEGIN
    EXECUTE format('SELECT count(*) FILTER (WHERE v ~ ''^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$''), count(v)
                      FROM (SELECT %I::text AS v FROM %s LIMIT 200) s', col, tbl::regclass)
       INTO hits, total;
    RETURN total > 0 AND hits * 2 > total;
END $$;
