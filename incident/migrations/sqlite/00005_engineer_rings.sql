-- +goose Up
-- The stats page counts each engineer's rings and their outcomes in a range
-- of time: this covering index holds only events about an engineer, so the
-- count reads it alone instead of every event of every call in the range.
CREATE INDEX incident_events_engineer_at ON incident_events (type, at, engineer) WHERE engineer <> '';

-- +goose Down
DROP INDEX incident_events_engineer_at;
