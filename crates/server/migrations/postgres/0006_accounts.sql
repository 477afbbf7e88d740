-- Accounts that an agency can audit: MFA, lockout, disabling, session idle time, device
-- revocation. Existing rows keep working: users enabled, not locked, no MFA yet (staff enrol at
-- their next sign-in); sessions count as used now; devices not revoked.
ALTER TABLE users ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX sessions_username ON sessions (username);
ALTER TABLE devices ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE devices ADD COLUMN revoked_at TIMESTAMPTZ;
-- One-time recovery codes, SHA-256 hashed; used_at set when spent.
CREATE TABLE recovery_codes (
    username TEXT NOT NULL REFERENCES users (username),
    code_hash TEXT NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (username, code_hash)
);
-- Short-lived credentials that only reach the MFA enrolment endpoints; secret set once the
-- otpauth URL was shown, moved to users.totp_secret when the first code confirms it.
CREATE TABLE mfa_enrolments (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    expires_at TIMESTAMPTZ NOT NULL,
    secret TEXT
);
