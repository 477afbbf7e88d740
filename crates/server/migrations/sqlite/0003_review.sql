-- The review state lives on the server (issue 14, part 2).
--
-- review_decisions: every decision on a version, never updated or deleted (a reversal is a new row
-- with a reason). A version without a row is `submitted`.
CREATE TABLE review_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    encounter_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'returned')),
    comment TEXT,
    reason TEXT,
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    -- The review result this decision put in the device's pull feed.
    feed_seq INTEGER
);
CREATE INDEX review_decisions_by_version ON review_decisions (encounter_id, version, id);

-- The fields the review desk filters on, read from a stored body. One definition, used by the
-- trigger, the backfill below and the benchmark's full scan.
-- The author is the body's officer_id until encounter_versions has the authenticated officer.
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
    coalesce(json_extract(body, '$.narrative'), '') AS narrative
FROM encounter_versions;

-- The latest version held of each encounter, with its review state: what the queue reads, so a
-- page costs an index range, not a scan of the bodies.
CREATE TABLE review_index (
    encounter_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    officer_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    force_used INTEGER NOT NULL,
    injury INTEGER NOT NULL,
    weapon INTEGER NOT NULL,
    emergency_detention INTEGER NOT NULL,
    -- 0 when force was used or someone was injured: "flagged first" sorts on it ascending.
    flag_rank INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'submitted'
);
CREATE INDEX review_queue_oldest ON review_index (state, submitted_at, encounter_id);
CREATE INDEX review_queue_flagged ON review_index (state, flag_rank, submitted_at, encounter_id);
CREATE INDEX review_queue_officer ON review_index (state, officer_id, submitted_at, encounter_id);

-- The narrative of each indexed version, by review_index rowid (contentless: the body has it).
CREATE VIRTUAL TABLE review_narrative USING fts5 (
    narrative, content = '', contentless_delete = 1, tokenize = 'porter unicode61');

-- A new latest version (an amendment included) is `submitted` again.
CREATE TRIGGER review_index_on_push AFTER INSERT ON encounter_versions
WHEN NEW.version > coalesce((SELECT version FROM review_index WHERE encounter_id = NEW.encounter_id), 0)
BEGIN
    INSERT INTO review_index (encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury,
                              weapon, emergency_detention, flag_rank, state)
    SELECT encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury, weapon,
           emergency_detention, CASE WHEN force_used OR injury THEN 0 ELSE 1 END, 'submitted'
    FROM review_fields WHERE encounter_id = NEW.encounter_id AND version = NEW.version
    ON CONFLICT (encounter_id) DO UPDATE SET
        version = excluded.version, officer_id = excluded.officer_id, occurred_at = excluded.occurred_at,
        submitted_at = excluded.submitted_at, force_used = excluded.force_used, injury = excluded.injury,
        weapon = excluded.weapon, emergency_detention = excluded.emergency_detention,
        flag_rank = excluded.flag_rank, state = 'submitted';
    DELETE FROM review_narrative
    WHERE rowid = (SELECT rowid FROM review_index WHERE encounter_id = NEW.encounter_id);
    INSERT INTO review_narrative (rowid, narrative)
    SELECT i.rowid, coalesce(json_extract(NEW.body, '$.narrative'), '')
    FROM review_index i WHERE i.encounter_id = NEW.encounter_id;
END;

-- Backfill: the latest version of every encounter already held ...
INSERT INTO review_index (encounter_id, version, officer_id, occurred_at, submitted_at, force_used, injury, weapon,
                          emergency_detention, flag_rank, state)
SELECT f.encounter_id, f.version, f.officer_id, f.occurred_at, f.submitted_at, f.force_used, f.injury, f.weapon,
       f.emergency_detention, CASE WHEN f.force_used OR f.injury THEN 0 ELSE 1 END, 'submitted'
FROM review_fields f
WHERE f.version = (SELECT max(version) FROM encounter_versions v WHERE v.encounter_id = f.encounter_id);
INSERT INTO review_narrative (rowid, narrative)
SELECT i.rowid, f.narrative FROM review_index i
JOIN review_fields f ON f.encounter_id = i.encounter_id AND f.version = i.version;
-- ... and the decisions supervisors made before, from the review results in the pull feed.
INSERT INTO review_decisions (encounter_id, version, decision, comment, reason, reviewer, decided_at, feed_seq)
SELECT c.key, json_extract(c.body, '$.version'), json_extract(c.body, '$.decision'),
       json_extract(c.body, '$.comment'), NULL, coalesce(json_extract(c.body, '$.reviewer'), 'unknown'),
       coalesce(json_extract(c.body, '$.at'), c.created_at), c.seq
FROM changes c
JOIN encounter_versions v ON v.encounter_id = c.key AND v.version = json_extract(c.body, '$.version')
WHERE c.kind = 'review_result' AND json_extract(c.body, '$.decision') IN ('approved', 'returned')
ORDER BY c.seq;
UPDATE review_index SET state = coalesce(
    (SELECT d.decision FROM review_decisions d WHERE d.encounter_id = review_index.encounter_id
     AND d.version = review_index.version ORDER BY d.id DESC LIMIT 1), 'submitted');
