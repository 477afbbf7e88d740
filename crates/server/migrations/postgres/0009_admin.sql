-- The admin console (issue 15): where each session was started, what each device last reported,
-- and re-enrolment codes bound to one device (a rotation).
-- Sessions made before this have no created_at or origin (shown as unknown).
ALTER TABLE sessions ADD COLUMN created_at TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN origin TEXT;
ALTER TABLE sessions ADD COLUMN device_id TEXT;
-- Sent by the device with each sync request (waypoint_protocol::APP_VERSION_HEADER, ...).
ALTER TABLE devices ADD COLUMN app_version TEXT;
ALTER TABLE devices ADD COLUMN pending_records BIGINT;
ALTER TABLE devices ADD COLUMN reported_at TIMESTAMPTZ;
-- One-time codes that re-enrol one device under its own id with a new token (a rotation).
-- Apart from enrollments, whose codes enrol any new device.
CREATE TABLE reenrolments (
    code_hash TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices (device_id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX reenrolments_device ON reenrolments (device_id);
-- The last officer signed in on each device.
CREATE INDEX officer_credentials_device_issued ON officer_credentials (device_id, issued_at);
-- Audit browsing filters by actor or action, newest first.
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
