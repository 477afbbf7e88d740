-- The body a version is pushed with moves to a table of its own. An outbox row is rewritten each
-- time the server answers (state, attempts, acknowledged_at); with a 2 KB body inside it, every
-- acknowledgement re-encrypted and rewrote a whole page per record. Small rows share pages.
CREATE TABLE outbox_body (
    seq  INTEGER PRIMARY KEY REFERENCES outbox (seq),
    body TEXT NOT NULL
);
INSERT INTO outbox_body (seq, body) SELECT seq, body FROM outbox WHERE body IS NOT NULL;
ALTER TABLE outbox DROP COLUMN body;
