-- The review desk in the console (issue 15): the queue row shows the call type, the dispositions
-- and an arrest flag beside the other flags; decisions record when the device received them.
-- See the SQLite migration 0006 for the same change.

-- New columns at the end of the view (CREATE OR REPLACE VIEW may only append).
CREATE OR REPLACE VIEW review_fields AS SELECT
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
    coalesce(body->>'narrative', '') AS narrative,
    body->'call'->>'call_type' AS call_type,
    CASE WHEN json_typeof(body->'dispositions') = 'array' THEN
        ARRAY(SELECT json_array_elements_text(body->'dispositions')) ELSE '{}'::text[] END AS dispositions,
    CASE WHEN json_typeof(body->'dispositions') = 'array' THEN
        EXISTS (SELECT 1 FROM json_array_elements_text(body->'dispositions') d WHERE d = 'arrested')
        ELSE false END AS arrest
FROM encounter_versions;

ALTER TABLE review_index
    ADD COLUMN call_type TEXT,
    ADD COLUMN dispositions TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN arrest BOOLEAN NOT NULL DEFAULT false;
UPDATE review_index i SET call_type = f.call_type, dispositions = f.dispositions, arrest = f.arrest
FROM review_fields f WHERE f.encounter_id = i.encounter_id AND f.version = i.version;

CREATE OR REPLACE FUNCTION review_index_on_push() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO review_index (encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury,
                              weapon, emergency_detention, flag_rank, state, narrative_search, call_type,
                              dispositions, arrest)
    SELECT encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury, weapon,
           emergency_detention, CASE WHEN force_used OR injury THEN 0 ELSE 1 END, 'submitted',
           to_tsvector('english', narrative), call_type, dispositions, arrest
    FROM review_fields WHERE encounter_id = NEW.encounter_id AND version = NEW.version
    ON CONFLICT (encounter_id) DO UPDATE SET
        version = excluded.version, officer_id = excluded.officer_id, occurred_at = excluded.occurred_at,
        submitted_at = excluded.submitted_at, force_used = excluded.force_used, injury = excluded.injury,
        weapon = excluded.weapon, emergency_detention = excluded.emergency_detention,
        flag_rank = excluded.flag_rank, state = 'submitted', narrative_search = excluded.narrative_search,
        call_type = excluded.call_type, dispositions = excluded.dispositions, arrest = excluded.arrest
    WHERE review_index.version < excluded.version;
    RETURN NULL;
END $$;

-- Delivery: the device a decision went to (the one that pushed the version) and when that device
-- confirmed it, by pulling with a cursor at or past the decision's feed position.
ALTER TABLE review_decisions ADD COLUMN device_id TEXT, ADD COLUMN delivered_at TIMESTAMPTZ;
UPDATE review_decisions d SET device_id = c.device_id FROM changes c WHERE c.seq = d.feed_seq;
CREATE INDEX review_decisions_undelivered ON review_decisions (device_id, feed_seq) WHERE delivered_at IS NULL;
