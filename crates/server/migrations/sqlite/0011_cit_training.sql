-- CIT training as data (issue 16): each officer's CIT courses, initial and refreshers, as an
-- admin records them. The coverage figures read the first initial course of the officer who
-- filed a report and compare it with the day of the call.
CREATE TABLE cit_training (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL REFERENCES users (username),
    course TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('initial', 'refresher')),
    -- YYYY-MM-DD: the day the course was completed.
    completed_on TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX cit_training_by_user ON cit_training (username, completed_on);
