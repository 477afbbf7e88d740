-- The agency configuration as versioned documents (the newest is what devices use), the version
-- each device last reported using, and the directory's local facts: what the agency knows about
-- a service that the national listings lack, kept apart from the imported data so a re-import
-- never loses them.
CREATE TABLE agency_config_versions (
    version INTEGER PRIMARY KEY,
    saved_at TIMESTAMPTZ NOT NULL,
    saved_by TEXT NOT NULL,
    -- The core's AgencyConfig (its config_version equals `version`).
    config JSONB NOT NULL,
    -- vocabulary -> old code -> new code, as sent with this change ('{}' when none).
    mapping JSONB NOT NULL DEFAULT '{}',
    note TEXT
);
CREATE TABLE device_config_versions (
    device_id TEXT PRIMARY KEY,
    config_version INTEGER NOT NULL,
    reported_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE directory_local_facts (
    service_id TEXT PRIMARY KEY,
    -- NULL: not known locally (the national answer stands).
    accepts_dropoffs BOOLEAN,
    -- The LocalFacts JSON of the protocol crate (hours, phone, note), as the admin saved it.
    facts JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);
-- Each directory import: what, when, by whom, and the importer's report.
CREATE TABLE directory_imports (
    id BIGSERIAL PRIMARY KEY,
    finished_at TIMESTAMPTZ NOT NULL,
    source TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    upserts BIGINT NOT NULL,
    deletes BIGINT NOT NULL,
    report JSONB NOT NULL
);
