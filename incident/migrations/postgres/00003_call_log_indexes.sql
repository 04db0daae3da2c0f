-- +goose Up
-- The stats page reads a range of started_at and only these columns: a
-- covering index turns its scan into an index-only read.
CREATE INDEX incidents_stats ON incidents (started_at, status, team, menu_digit, answered_by, answered_at);
-- The call log filtered by the engineer who answered.
CREATE INDEX incidents_answered_by_started ON incidents (answered_by, started_at);
-- Team and status together, the call log's most common combined filter.
CREATE INDEX incidents_team_status_started ON incidents (team, status, started_at);

-- +goose Down
DROP INDEX incidents_team_status_started;
DROP INDEX incidents_answered_by_started;
DROP INDEX incidents_stats;
