-- Identity on every pushed record (issue 14, part 1).
-- Each user has an officer id (badge number) that their pushed reports must carry; existing users
-- keep their username as it, until an admin sets another.
ALTER TABLE users ADD COLUMN officer_id TEXT NOT NULL DEFAULT '';
UPDATE users SET officer_id = username WHERE officer_id = '';
CREATE UNIQUE INDEX users_officer_id ON users (officer_id);
-- The authenticated author (username) of each stored version. Versions stored before this was
-- checked take the officer id their body names (which is the username of a user migrated above).
ALTER TABLE encounter_versions ADD COLUMN officer TEXT NOT NULL DEFAULT '';
UPDATE encounter_versions SET officer = coalesce(json_extract(body, '$.officer_id'), '') WHERE officer = '';
-- Who owns each encounter: the officer and device of its first stored version. Only they add
-- versions to it. One row per encounter, claimed in the push transaction that stores the first
-- version (a primary key, so two pushes cannot both claim one encounter).
CREATE TABLE encounter_owners (
    encounter_id TEXT PRIMARY KEY,
    officer TEXT NOT NULL,
    device_id TEXT NOT NULL
);
INSERT INTO encounter_owners (encounter_id, officer, device_id)
    SELECT encounter_id, officer, device_id FROM encounter_versions v
    WHERE version = (SELECT min(version) FROM encounter_versions w WHERE w.encounter_id = v.encounter_id);
-- Device-bound officer credentials issued at sign-in: one user on one device. Only the SHA-256 of
-- the token is kept. No expiry: an officer's offline reports sync whenever the device is back; a
-- credential stops when revoked (sign-out, user disabled, device revoked).
CREATE TABLE officer_credentials (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    device_id TEXT NOT NULL REFERENCES devices (device_id),
    issued_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX officer_credentials_holder ON officer_credentials (username, device_id);
CREATE INDEX officer_credentials_device ON officer_credentials (device_id);
