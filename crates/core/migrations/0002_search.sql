-- Text and date search over the encounter list.
ALTER TABLE encounter_versions ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE encounter_versions SET search_text = lower(
    coalesce(json_extract(body, '$.narrative'), '') || ' ' ||
    coalesce(json_extract(body, '$.incident_number'), '') || ' ' ||
    coalesce(json_extract(body, '$.call.nature_of_call'), '') || ' ' ||
    coalesce(json_extract(body, '$.subject.name'), '') || ' ' ||
    coalesce(json_extract(body, '$.location.address'), ''));

CREATE INDEX encounter_versions_occurred ON encounter_versions (occurred_at);
CREATE INDEX outbox_pending ON outbox (state, seq);
