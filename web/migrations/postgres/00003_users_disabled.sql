-- +goose Up
-- disabled_at: when the account was disabled (Unix ms UTC), NULL while it
-- may sign in.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- +goose Down
ALTER TABLE users DROP COLUMN disabled_at;
