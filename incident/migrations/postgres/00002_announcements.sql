-- +goose Up
-- The announcements table moved to the announce package's migrations
-- (announce/migrations/postgres/00001). Databases that ran this version keep
-- the table it made; new ones get it from announce.Migrate.
SELECT 1;

-- +goose Down
SELECT 1;
