-- Masked access: roles that read a profile's masking views
-- (schema confiture_masked_<profile>), never the tables or the salt.
CREATE TABLE confiture.anon_masked_access (
    profile     text NOT NULL REFERENCES confiture.anon_profiles ON DELETE CASCADE,
    role_name   name NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (profile, role_name)
);
REVOKE ALL ON confiture.anon_masked_access FROM PUBLIC;
GRANT SELECT ON confiture.anon_masked_access TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('confiture.anon_masked_access', '');

-- A table's rows, masked by a profile. With the profile's masking views
-- (confiture.create_masking_views) it reads the view, so a role with masked
-- access may call it too; without them, only the profile's owner may.
-- Streaming and index use: query the view itself; a set-returning function
-- in FROM is always materialized by the server.
CREATE FUNCTION confiture.anonymized(rowtype anyelement, profile text)
RETURNS SETOF anyelement
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v text := confiture.masking_view(pg_typeof(rowtype)::text::regclass, profile);
BEGIN
    IF v IS NOT NULL THEN
        RETURN QUERY EXECUTE format('SELECT * FROM %s', v);
    ELSE
        RETURN QUERY EXECUTE confiture.masking_query(pg_typeof(rowtype)::text::regclass, profile)
            USING confiture.profile_salt(profile);
    END IF;
END $$;
