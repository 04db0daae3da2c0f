-- +goose Up
-- The /config page counts the calls each config revision routed
-- (CallsByRevision): with this index a revision's count reads its own
-- calls' entries, not every incident (at a million calls of one revision
-- 0.35 s instead of 0.8 s on SQLite; a revision of a few thousand calls a
-- few milliseconds).
CREATE INDEX incidents_config_revision ON incidents (config_revision);

-- +goose Down
DROP INDEX incidents_config_revision;
