-- Reports from the agency's older records system (issue 16, `waypoint-server import encounters`):
-- a baseline the figures count beside the devices' reports. Kept apart from
-- `encounter_versions` on purpose: no device made them, nobody reviews them, the sync and records
-- feeds never carry them. One row per source row, keyed by (source, row key); `id` is a UUID v5
-- of the two, so a re-import of the same file finds its rows again and changes nothing. The key
-- is the row key, not the id: an extract's keys mostly come in order, the ids never do, and a
-- random key makes each insert of a million touch a page of its own.
CREATE TABLE imported_encounters (
    id TEXT NOT NULL,
    -- The mapping's `source`: which system and extract the row came from.
    source TEXT NOT NULL,
    row_key TEXT NOT NULL,
    -- Same text form as review_index.occurred_at (sorts as time).
    occurred_at TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    body TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (source, row_key)
);
CREATE INDEX imported_encounters_by_time ON imported_encounters (occurred_at);
