-- The agency records feed and webhooks (issue 16, part 2).
--
-- record_events: what the records system hears, one row for each decision that approves a
-- version (encounter.approved, or encounter.amended when an earlier version was approved) or
-- withdraws an approval (encounter.approval_withdrawn). Numbered by the decision's feed_seq (the
-- serialized feed counter), so a reader's cursor never passes an event that commits later.
-- Written in the decision's transaction; never updated or deleted.
CREATE TABLE record_events (
    seq INTEGER PRIMARY KEY,
    event_type TEXT NOT NULL,
    encounter_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL
);

-- Decisions made before this migration: classified as the server classifies them now.
INSERT INTO record_events (seq, event_type, encounter_id, version, reviewer, decided_at)
SELECT d.feed_seq,
       CASE WHEN d.decision = 'approved' AND EXISTS (
                SELECT 1 FROM review_decisions p WHERE p.encounter_id = d.encounter_id AND p.version < d.version
                AND p.decision = 'approved' AND p.id < d.id)
            THEN 'encounter.amended'
            WHEN d.decision = 'approved' THEN 'encounter.approved'
            ELSE 'encounter.approval_withdrawn' END,
       d.encounter_id, d.version, d.reviewer, d.decided_at
FROM review_decisions d
WHERE d.feed_seq IS NOT NULL AND (d.decision = 'approved' OR (SELECT p.decision FROM review_decisions p
      WHERE p.encounter_id = d.encounter_id AND p.version = d.version AND p.id < d.id ORDER BY p.id DESC LIMIT 1)
      = 'approved');

-- Credentials of the agency's records system: bearer tokens (only their SHA-256 kept).
CREATE TABLE api_credentials (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('records')),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

-- Webhook endpoints. The secret signs (HMAC), so it is kept as given; the file is encrypted.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

-- The outbox: one row per event and endpoint, written with the event. A worker claims due rows
-- by moving next_attempt_at past its lease, so a server that dies mid-delivery leaves the row to
-- be retried (at-least-once).
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    event_seq INTEGER NOT NULL REFERENCES record_events (seq),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    -- Retries stop after this: set at the first attempt (the retry window), anew by a replay.
    retry_until TEXT,
    next_attempt_at TEXT,
    last_attempt_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
