-- +goose Up
-- The SMS outbox. Times are Unix milliseconds in UTC, the one encoding of
-- hotline's tables. A row is waiting while sent_at and failed_at are both
-- NULL; lease_until > now means a worker has claimed it and is sending.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  INTEGER NOT NULL,
    send_after  INTEGER NOT NULL,
    to_number   TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    dedup_key   TEXT    NOT NULL UNIQUE,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0,
    sent_at     INTEGER,
    failed_at   INTEGER,
    twilio_sid  TEXT    NOT NULL DEFAULT ''
);
-- The worker's poll: waiting rows in the order they fall due.
CREATE INDEX outbox_due ON outbox (send_after, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP TABLE outbox;
