-- +goose Up
-- Databases made before the announce package got its own migrations
-- already hold this table (incident set, 00002): IF NOT EXISTS leaves it.
-- Times are Unix milliseconds in UTC.
CREATE TABLE IF NOT EXISTS announcements (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message    TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS announcements_ends ON announcements (ends_at);

-- +goose Down
DROP TABLE announcements;
