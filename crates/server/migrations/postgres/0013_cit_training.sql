-- CIT training as data (issue 16). See the SQLite migration 0011.
CREATE TABLE cit_training (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    course TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('initial', 'refresher')),
    completed_on DATE NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX cit_training_by_user ON cit_training (username, completed_on);
