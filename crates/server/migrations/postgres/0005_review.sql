-- The review state lives on the server (issue 14, part 2). See the SQLite migration 0002 for the
-- same tables; here the narrative search is a tsvector column with a GIN index.
CREATE TABLE review_decisions (
    id BIGSERIAL PRIMARY KEY,
    encounter_id UUID NOT NULL,
    version INTEGER NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'returned')),
    comment TEXT,
    reason TEXT,
    reviewer TEXT NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL,
    feed_seq BIGINT
);
CREATE INDEX review_decisions_by_version ON review_decisions (encounter_id, version, id);

-- The fields the review desk filters on, read from a stored body (trigger, backfill, benchmark scan).
-- The author is the body's officer_id until encounter_versions has the authenticated officer.
CREATE VIEW review_fields AS SELECT
    encounter_id,
    version,
    coalesce(body->>'officer_id', '') AS officer_id,
    coalesce((body->>'occurred_at')::timestamptz, received_at) AS occurred_at,
    coalesce((body->>'submitted_at')::timestamptz, received_at) AS submitted_at,
    coalesce((body->'response'->>'reportable_force')::boolean, false) AS force_used,
    (coalesce((body->'response'->>'subject_injured')::boolean, false)
        OR coalesce((body->'response'->>'officer_injured')::boolean, false)) AS injury,
    coalesce(body->'risk'->>'weapon', 'none') NOT IN ('none', '') AS weapon,
    CASE WHEN json_typeof(body->'dispositions') = 'array' THEN
        EXISTS (SELECT 1 FROM json_array_elements_text(body->'dispositions') d WHERE d = 'emergency_detention')
        ELSE false END AS emergency_detention,
    coalesce(body->>'narrative', '') AS narrative
FROM encounter_versions;

CREATE TABLE review_index (
    encounter_id UUID PRIMARY KEY,
    version INTEGER NOT NULL,
    officer_id TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    force_used BOOLEAN NOT NULL,
    injury BOOLEAN NOT NULL,
    weapon BOOLEAN NOT NULL,
    emergency_detention BOOLEAN NOT NULL,
    -- 0 when force was used or someone was injured: "flagged first" sorts on it ascending.
    flag_rank SMALLINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'submitted',
    narrative_search TSVECTOR NOT NULL
);
CREATE INDEX review_queue_oldest ON review_index (state, submitted_at, encounter_id);
CREATE INDEX review_queue_flagged ON review_index (state, flag_rank, submitted_at, encounter_id);
CREATE INDEX review_queue_officer ON review_index (state, officer_id, submitted_at, encounter_id);
CREATE INDEX review_queue_narrative ON review_index USING GIN (narrative_search);

-- A new latest version (an amendment included) is `submitted` again.
CREATE FUNCTION review_index_on_push() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO review_index (encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury,
                              weapon, emergency_detention, flag_rank, state, narrative_search)
    SELECT encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury, weapon,
           emergency_detention, CASE WHEN force_used OR injury THEN 0 ELSE 1 END, 'submitted',
           to_tsvector('english', narrative)
    FROM review_fields WHERE encounter_id = NEW.encounter_id AND version = NEW.version
    ON CONFLICT (encounter_id) DO UPDATE SET
        version = excluded.version, officer_id = excluded.officer_id, occurred_at = excluded.occurred_at,
        submitted_at = excluded.submitted_at, force_used = excluded.force_used, injury = excluded.injury,
        weapon = excluded.weapon, emergency_detention = excluded.emergency_detention,
        flag_rank = excluded.flag_rank, state = 'submitted', narrative_search = excluded.narrative_search
    WHERE review_index.version < excluded.version;
    RETURN NULL;
END $$;
CREATE TRIGGER review_index_on_push AFTER INSERT ON encounter_versions
    FOR EACH ROW EXECUTE FUNCTION review_index_on_push();

-- Backfill: the latest version of every encounter already held ...
INSERT INTO review_index (encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury, weapon,
                          emergency_detention, flag_rank, state, narrative_search)
SELECT DISTINCT ON (encounter_id) encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury,
       weapon, emergency_detention, CASE WHEN force_used OR injury THEN 0 ELSE 1 END, 'submitted',
       to_tsvector('english', narrative)
FROM review_fields ORDER BY encounter_id, version DESC;
-- ... and the decisions supervisors made before, from the review results in the pull feed.
INSERT INTO review_decisions (encounter_id, version, decision, comment, reason, reviewer, decided_at, feed_seq)
SELECT v.encounter_id, v.version, c.body::json->>'decision', c.body::json->>'comment', NULL,
       coalesce(c.body::json->>'reviewer', 'unknown'), coalesce((c.body::json->>'at')::timestamptz, c.created_at), c.seq
FROM changes c
JOIN encounter_versions v ON v.encounter_id::text = c.key AND v.version::text = c.body::json->>'version'
WHERE c.kind = 'review_result' AND c.body::json->>'decision' IN ('approved', 'returned')
ORDER BY c.seq;
UPDATE review_index i SET state = d.decision
FROM (SELECT DISTINCT ON (encounter_id, version) encounter_id, version, decision FROM review_decisions
      ORDER BY encounter_id, version, id DESC) d
WHERE d.encounter_id = i.encounter_id AND d.version = i.version;
