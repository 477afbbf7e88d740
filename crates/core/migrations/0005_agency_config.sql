-- The newest agency configuration this device received from its server (the pull feed, or the
-- server's current one when the device took the directory snapshot). It replaces the bundled
-- configuration for validation, vocabularies and the form. One row.
CREATE TABLE agency_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    config TEXT NOT NULL,
    received_at TEXT NOT NULL
);
