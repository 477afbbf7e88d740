-- The agency records feed and webhooks (issue 16, part 2). See the SQLite migration 0010 for
-- what each table is for.
CREATE TABLE record_events (
    seq BIGINT PRIMARY KEY,
    event_type TEXT NOT NULL,
    encounter_id UUID NOT NULL,
    version INTEGER NOT NULL,
    reviewer TEXT NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL
);

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

CREATE TABLE api_credentials (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('records')),
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

-- The secret is kept as given (it signs); PostgreSQL's own encryption at rest applies.
CREATE TABLE webhook_endpoints (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    event_seq BIGINT NOT NULL REFERENCES record_events (seq),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    -- Retries stop after this: set at the first attempt (the retry window), anew by a replay.
    retry_until TIMESTAMPTZ,
    next_attempt_at TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
