-- The server's audit trail: append-only, each row chained to the one before by its hash
-- (src/audit.rs), the newest row's seq and hash kept in audit_head, whose row lock also
-- serializes appends (as change_counter does for the feed). Times are RFC 3339 text, hashed as
-- stored.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
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
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only for the server itself; the hash chain is what catches anyone going around this.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

-- Each device's own audit log as pushed (POST /v1/sync/audit). A break in a device's chain
-- starts a new segment (both kept) and is recorded in device_audit_breaks.
CREATE TABLE device_audit (
    device_id TEXT NOT NULL,
    segment INTEGER NOT NULL,
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    device TEXT NOT NULL,
    action TEXT NOT NULL,
    record_id TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, segment, seq)
);
CREATE TABLE device_audit_state (
    device_id TEXT PRIMARY KEY,
    segment INTEGER NOT NULL,
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    -- Set at the first break and kept: the device's log was rewritten or truncated.
    flagged_at TIMESTAMPTZ
);
CREATE TABLE device_audit_breaks (
    device_id TEXT NOT NULL,
    segment INTEGER NOT NULL,
    seq BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reason TEXT NOT NULL,
    PRIMARY KEY (device_id, segment)
);
CREATE TRIGGER device_audit_append_only BEFORE UPDATE OR DELETE ON device_audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
