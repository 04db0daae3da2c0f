-- +goose Up
-- The pages of incidents nobody has taken (README "Paging"): one row per
-- page to place. Times are Unix milliseconds in UTC, the one encoding of
-- hotline's tables. step is the index in the team's chain at the moment of
-- the page, -1 for hotline.emergency_number; pass counts the passes over
-- the chain (team repeat). A row is pending until placed or cancelled;
-- lease_until > now means a pager has claimed it and is placing it. The
-- engineer's id, name and number are copied on when the page is placed,
-- so the log stays true when schedules change.
CREATE TABLE pages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id    INTEGER NOT NULL,
    team           TEXT    NOT NULL,
    step           INTEGER NOT NULL,
    pass           INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'pending',
    lease_until    INTEGER NOT NULL DEFAULT 0,
    call_sid       TEXT    NOT NULL DEFAULT '',
    call_status    TEXT    NOT NULL DEFAULT '',
    engineer       TEXT    NOT NULL DEFAULT '',
    engineer_name  TEXT    NOT NULL DEFAULT '',
    engineer_phone TEXT    NOT NULL DEFAULT '',
    placed_at      INTEGER,
    UNIQUE (incident_id, pass, step)
);
-- The pagers' poll: pending rows in the order they fall due.
CREATE INDEX pages_due ON pages (due_at, id) WHERE state = 'pending';

-- +goose Down
DROP TABLE pages;
