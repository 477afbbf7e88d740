-- A ~2.3 KB body crosses the TOAST threshold and is compressed on insert: with pglz (the default)
-- that was about a sixth of PostgreSQL's CPU under load; lz4 is several times faster. Needs
-- PostgreSQL 14+ built with lz4 (Debian's is); elsewhere pglz stays. Rows already stored keep
-- their compression; new ones use lz4.
DO $$ BEGIN
    IF (SELECT attcompression FROM pg_attribute
        WHERE attrelid = 'encounter_versions'::regclass AND attname = 'body') IS DISTINCT FROM 'l' THEN
        ALTER TABLE encounter_versions ALTER COLUMN body SET COMPRESSION lz4;
    END IF;
EXCEPTION WHEN feature_not_supported OR undefined_column OR syntax_error THEN NULL;
END $$;
