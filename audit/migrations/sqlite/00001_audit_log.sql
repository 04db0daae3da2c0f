-- +goose Up
-- Who changed what and when. Times are Unix milliseconds in UTC. Databases
-- made before this package existed got the table from schedules' first
-- migration: IF NOT EXISTS leaves it as it is.
CREATE TABLE IF NOT EXISTS audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    detail TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);

-- +goose Down
DROP TABLE audit_log;
