-- Every version of every encounter. A version is editable only while its status is 'draft';
-- a submitted version is never overwritten: amendments are new rows that supersede it.
CREATE TABLE encounter_versions (
    encounter_id  TEXT    NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    status        TEXT    NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'approved')),
    supersedes    INTEGER,
    occurred_at   TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    content_hash  TEXT,
    body          TEXT    NOT NULL,
    PRIMARY KEY (encounter_id, version)
);

-- Submitted versions waiting for the server. Written in the same transaction as the submit.
CREATE TABLE outbox (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    encounter_id  TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    content_hash  TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acknowledged', 'rejected')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    UNIQUE (encounter_id, version)
);

-- Append-only, hash-chained: each row carries the hash of the one before it.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    device     TEXT NOT NULL,
    action     TEXT NOT NULL,
    record_id  TEXT,
    outcome    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
