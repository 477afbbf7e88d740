-- The server's first schema, with jsonb bodies (0002 makes them json). Idempotent (IF NOT EXISTS):
-- a database made before migrations were tracked already has these tables, and runs this once to
-- come under tracking.
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    role TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS enrollments (
    code_hash TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    device_id TEXT
);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    enrolled_at TIMESTAMPTZ NOT NULL,
    device_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS encounter_versions (
    encounter_id UUID NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    body JSONB NOT NULL,
    PRIMARY KEY (encounter_id, version)
);
CREATE INDEX IF NOT EXISTS encounter_versions_received ON encounter_versions (received_at);
CREATE TABLE IF NOT EXISTS conflicts (
    encounter_id UUID NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    body JSONB NOT NULL,
    PRIMARY KEY (encounter_id, version, content_hash)
);
CREATE TABLE IF NOT EXISTS changes (
    seq BIGINT PRIMARY KEY,
    device_id TEXT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS change_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO change_counter (id, last_seq) VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS directory_published (
    key TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL
);
