-- +goose Up
-- Machines that may raise alerts: each has a team it pages and a secret,
-- of which only the SHA-256 is kept. Times are Unix milliseconds in UTC.
CREATE TABLE integrations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    team        TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL
);

-- +goose Down
DROP TABLE integrations;
