-- Bodies are `json` (the canonical text as sent, checked to be JSON), not `jsonb`: building the
-- jsonb tree of each 2 KB body was about a fifth of PostgreSQL's CPU under push load, and nothing
-- queries inside them (`body->>'narrative'` works on json too).
-- Conditional, as it was when servers ran it at every start: a database from before tracking may
-- already have json bodies. Changing the type resets the column's compression: 0003 sets it after.
DO $$ BEGIN
    IF (SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()
        AND table_name = 'encounter_versions' AND column_name = 'body') = 'jsonb' THEN
        ALTER TABLE encounter_versions ALTER COLUMN body TYPE json USING body::text::json;
    END IF;
    IF (SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()
        AND table_name = 'conflicts' AND column_name = 'body') = 'jsonb' THEN
        ALTER TABLE conflicts ALTER COLUMN body TYPE json USING body::text::json;
    END IF;
END $$;
