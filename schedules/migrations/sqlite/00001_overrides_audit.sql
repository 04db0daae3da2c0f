-- +goose Up
-- Times are Unix milliseconds in UTC, the one encoding of hotline's tables.
-- AUTOINCREMENT: an id is never reused after a removal, so "override:<id>"
-- in an incident log always names the same override.
CREATE TABLE overrides (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    rotation   TEXT    NOT NULL,
    engineer   TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL CHECK (ends_at > starts_at),
    reason     TEXT    NOT NULL DEFAULT '',
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX overrides_starts ON overrides (starts_at);

-- The audit log was created here until it got a package of its own
-- (audit/migrations/sqlite/00001), which finds it in databases made then.

-- One row, bumped in the transaction of every override change, so readers
-- can cache an OverrideIndex and rebuild it only when this moves.
CREATE TABLE override_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO override_generation (id, n) VALUES (1, 0);

-- +goose Down
DROP TABLE override_generation;
DROP TABLE overrides;
