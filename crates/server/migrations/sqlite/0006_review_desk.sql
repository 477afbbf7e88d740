-- The review desk in the console (issue 15): the queue row shows the call type, the dispositions
-- and an arrest flag beside the other flags; decisions record when the device received them.

-- Replaced below with the new columns.
DROP TRIGGER review_index_on_push;

-- The view gains the new fields at its end (the benchmark's scan names its columns).
DROP VIEW review_fields;
CREATE VIEW review_fields AS SELECT
    encounter_id,
    version,
    coalesce(json_extract(body, '$.officer_id'), '') AS officer_id,
    coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(body, '$.occurred_at')),
             strftime('%Y-%m-%dT%H:%M:%fZ', received_at)) AS occurred_at,
    coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(body, '$.submitted_at')),
             strftime('%Y-%m-%dT%H:%M:%fZ', received_at)) AS submitted_at,
    coalesce(json_extract(body, '$.response.reportable_force'), 0) != 0 AS force_used,
    (coalesce(json_extract(body, '$.response.subject_injured'), 0) != 0
        OR coalesce(json_extract(body, '$.response.officer_injured'), 0) != 0) AS injury,
    coalesce(json_extract(body, '$.risk.weapon'), 'none') NOT IN ('none', '') AS weapon,
    EXISTS (SELECT 1 FROM json_each(body, '$.dispositions') WHERE value = 'emergency_detention')
        AS emergency_detention,
    coalesce(json_extract(body, '$.narrative'), '') AS narrative,
    json_extract(body, '$.call.call_type') AS call_type,
    CASE WHEN json_type(body, '$.dispositions') = 'array' THEN json_extract(body, '$.dispositions') ELSE '[]' END
        AS dispositions,
    EXISTS (SELECT 1 FROM json_each(body, '$.dispositions') WHERE value = 'arrested') AS arrest
FROM encounter_versions;

ALTER TABLE review_index ADD COLUMN call_type TEXT;
-- A JSON array of disposition codes.
ALTER TABLE review_index ADD COLUMN dispositions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE review_index ADD COLUMN arrest INTEGER NOT NULL DEFAULT 0;
UPDATE review_index SET call_type = f.call_type, dispositions = f.dispositions, arrest = f.arrest
FROM review_fields f WHERE f.encounter_id = review_index.encounter_id AND f.version = review_index.version;

-- The trigger of 0003 with the new columns.
CREATE TRIGGER review_index_on_push AFTER INSERT ON encounter_versions
WHEN NEW.version > coalesce((SELECT version FROM review_index WHERE encounter_id = NEW.encounter_id), 0)
BEGIN
    INSERT INTO review_index (encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury,
                              weapon, emergency_detention, flag_rank, state, call_type, dispositions, arrest)
    SELECT encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury, weapon,
           emergency_detention, CASE WHEN force_used OR injury THEN 0 ELSE 1 END, 'submitted', call_type,
           dispositions, arrest
    FROM review_fields WHERE encounter_id = NEW.encounter_id AND version = NEW.version
    ON CONFLICT (encounter_id) DO UPDATE SET
        version = excluded.version, officer_id = excluded.officer_id, occurred_at = excluded.occurred_at,
        submitted_at = excluded.submitted_at, force_used = excluded.force_used, injury = excluded.injury,
        weapon = excluded.weapon, emergency_detention = excluded.emergency_detention,
        flag_rank = excluded.flag_rank, state = 'submitted', call_type = excluded.call_type,
        dispositions = excluded.dispositions, arrest = excluded.arrest;
    DELETE FROM review_narrative
    WHERE rowid = (SELECT rowid FROM review_index WHERE encounter_id = NEW.encounter_id);
    INSERT INTO review_narrative (rowid, narrative)
    SELECT i.rowid, coalesce(json_extract(NEW.body, '$.narrative'), '')
    FROM review_index i WHERE i.encounter_id = NEW.encounter_id;
END;

-- Delivery: the device a decision went to (the one that pushed the version) and when that device
-- confirmed it, by pulling with a cursor at or past the decision's feed position.
ALTER TABLE review_decisions ADD COLUMN device_id TEXT;
ALTER TABLE review_decisions ADD COLUMN delivered_at TEXT;
UPDATE review_decisions SET device_id = (SELECT c.device_id FROM changes c WHERE c.seq = review_decisions.feed_seq);
-- What a pull looks for: small, since a delivered decision leaves it.
CREATE INDEX review_decisions_undelivered ON review_decisions (device_id, feed_seq) WHERE delivered_at IS NULL;
