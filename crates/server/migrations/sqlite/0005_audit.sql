-- The server's audit trail: append-only, each row chained to the one before by its hash
-- (src/audit.rs), the newest row's seq and hash kept in audit_head so a cut tail shows.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    client TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
-- Append-only for the server itself; the hash chain is what catches anyone going around this.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- Each device's own audit log as pushed (POST /v1/sync/audit). A break in a device's chain
-- starts a new segment (both kept) and is recorded in device_audit_breaks.
CREATE TABLE device_audit (
    device_id TEXT NOT NULL,
    segment INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    device TEXT NOT NULL,
    action TEXT NOT NULL,
    record_id TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, segment, seq)
);
CREATE TABLE device_audit_state (
    device_id TEXT PRIMARY KEY,
    segment INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    -- Set at the first break and kept: the device's log was rewritten or truncated.
    flagged_at TEXT
);
CREATE TABLE device_audit_breaks (
    device_id TEXT NOT NULL,
    segment INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (device_id, segment)
);
CREATE TRIGGER device_audit_no_update BEFORE UPDATE ON device_audit
BEGIN SELECT RAISE(ABORT, 'device audit logs are append-only'); END;
CREATE TRIGGER device_audit_no_delete BEFORE DELETE ON device_audit
BEGIN SELECT RAISE(ABORT, 'device audit logs are append-only'); END;
