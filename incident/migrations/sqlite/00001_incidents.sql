-- +goose Up
-- Times are Unix milliseconds in UTC.
CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    call_sid        TEXT    NOT NULL UNIQUE,
    from_number     TEXT    NOT NULL,
    caller_name     TEXT    NOT NULL DEFAULT '',
    to_number       TEXT    NOT NULL,
    team            TEXT    NOT NULL DEFAULT '',
    menu_digit      TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL,
    answered_by     TEXT,
    started_at      INTEGER NOT NULL,
    answered_at     INTEGER,
    ended_at        INTEGER,
    duration_s      INTEGER,
    recording_url   TEXT    NOT NULL DEFAULT '',
    transcript      TEXT    NOT NULL DEFAULT '',
    config_revision TEXT    NOT NULL,
    note            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX incidents_started ON incidents (started_at);
CREATE INDEX incidents_team_started ON incidents (team, started_at);
CREATE INDEX incidents_status_started ON incidents (status, started_at);
CREATE INDEX incidents_from_started ON incidents (from_number, started_at);

CREATE TABLE incident_events (
    id             INTEGER PRIMARY KEY,
    incident_id    INTEGER NOT NULL REFERENCES incidents (id),
    at             INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    engineer       TEXT    NOT NULL DEFAULT '',
    engineer_name  TEXT    NOT NULL DEFAULT '',
    engineer_phone TEXT    NOT NULL DEFAULT '',
    detail         TEXT    NOT NULL DEFAULT '',
    dedup_key      TEXT    NOT NULL,
    UNIQUE (incident_id, dedup_key)
);

-- +goose Down
DROP TABLE incident_events;
DROP TABLE incidents;
