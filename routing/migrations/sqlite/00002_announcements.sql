-- +goose Up
-- Times are Unix milliseconds in UTC.
CREATE TABLE announcements (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message    TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX announcements_ends ON announcements (ends_at);

-- +goose Down
DROP TABLE announcements;
