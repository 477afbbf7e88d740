-- Reports from the agency's older records system (issue 16). See the SQLite migration 0012.
CREATE TABLE imported_encounters (
    id UUID NOT NULL,
    source TEXT NOT NULL,
    row_key TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    officer_id TEXT NOT NULL,
    body JSONB NOT NULL,
    content_hash TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL,
    -- The row key, not the id (a UUID v5, random): see the SQLite migration 0012.
    PRIMARY KEY (source, row_key)
);
CREATE INDEX imported_encounters_by_time ON imported_encounters (occurred_at);
DO $$ BEGIN
    ALTER TABLE imported_encounters ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR undefined_column OR syntax_error THEN NULL;
END $$;
