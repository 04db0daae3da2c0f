-- +goose Up
-- The lifecycle of an incident: what it is (a call, or an alert from a
-- machine), whether someone still has to take it (open), has taken it
-- (acknowledged) or it needs nothing more (resolved), and who did each.
-- Times are Unix milliseconds in UTC.
ALTER TABLE incidents ADD COLUMN kind TEXT NOT NULL DEFAULT 'call';
ALTER TABLE incidents ADD COLUMN state TEXT NOT NULL DEFAULT 'open';
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT;
ALTER TABLE incidents ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE incidents ADD COLUMN resolved_by TEXT;
ALTER TABLE incidents ADD COLUMN resolved_at BIGINT;
ALTER TABLE incidents ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN details TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN dedup_key TEXT;
-- Calls that ended before there was a lifecycle are history: an answered
-- one was taken by whoever answered it, every other one needs nothing more.
UPDATE incidents SET state = 'acknowledged', acknowledged_by = answered_by, acknowledged_at = COALESCE(ended_at, answered_at)
    WHERE status = 'answered' AND answered_by IS NOT NULL;
UPDATE incidents SET state = 'resolved', resolved_by = 'hotline', resolved_at = ended_at
    WHERE state = 'open' AND status <> 'in_progress';
-- What is still open, newest first, without reading the resolved history.
CREATE INDEX incidents_state_started ON incidents (state, started_at);
-- A machine's alert is one open incident per dedup_key.
CREATE UNIQUE INDEX incidents_open_alert ON incidents (dedup_key) WHERE kind = 'alert' AND state <> 'resolved';

-- +goose Down
DROP INDEX incidents_open_alert;
DROP INDEX incidents_state_started;
ALTER TABLE incidents DROP COLUMN dedup_key;
ALTER TABLE incidents DROP COLUMN details;
ALTER TABLE incidents DROP COLUMN summary;
ALTER TABLE incidents DROP COLUMN resolved_at;
ALTER TABLE incidents DROP COLUMN resolved_by;
ALTER TABLE incidents DROP COLUMN acknowledged_at;
ALTER TABLE incidents DROP COLUMN acknowledged_by;
ALTER TABLE incidents DROP COLUMN state;
ALTER TABLE incidents DROP COLUMN kind;
