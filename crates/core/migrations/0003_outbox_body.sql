-- The outbox keeps the exact version it will push, so a review pulled before the push was
-- acknowledged (a lost reply) cannot change what is re-sent and turn a retry into a conflict.
ALTER TABLE outbox ADD COLUMN body TEXT;
UPDATE outbox SET body = (
    SELECT v.body FROM encounter_versions v
    WHERE v.encounter_id = outbox.encounter_id AND v.version = outbox.version);
ALTER TABLE outbox ADD COLUMN acknowledged_at TEXT;
