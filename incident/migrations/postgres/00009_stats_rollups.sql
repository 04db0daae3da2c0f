-- +goose Up
-- Daily roll-ups of the calls, kept as calls end (incident/stats_rollup.go),
-- so the stats of a long range read a few rows a day instead of every call.
-- day is the local date of the call's start as YYYYMMDD, in the zone that
-- stats_zone names (hotline.timezone when the roll-ups were last rebuilt);
-- without a stats_zone row, or with zone '', there are no roll-ups to keep;
-- ready is 0 while a rebuild goes day by day (calls ending meanwhile keep
-- the roll-ups up to date, but only a finished rebuild is read), and the
-- stats read the calls themselves. A call counts in its start's day, its
-- rings too.
-- wait_s and accept_s are whole seconds (rounded), -1 for no answer.
CREATE TABLE stats_zone (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    zone  TEXT    NOT NULL,
    ready INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE stats_calls (
    day         INTEGER NOT NULL,
    team        TEXT    NOT NULL,
    menu_digit  TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    answered_by TEXT    NOT NULL,
    wait_s      INTEGER NOT NULL,
    calls       BIGINT  NOT NULL,
    PRIMARY KEY (day, team, menu_digit, status, answered_by, wait_s)
);
CREATE TABLE stats_rings (
    day      INTEGER NOT NULL,
    engineer TEXT    NOT NULL,
    type     TEXT    NOT NULL,
    n        BIGINT  NOT NULL,
    PRIMARY KEY (day, engineer, type)
);
CREATE TABLE stats_accepts (
    day      INTEGER NOT NULL,
    engineer TEXT    NOT NULL,
    accept_s INTEGER NOT NULL,
    n        BIGINT  NOT NULL,
    PRIMARY KEY (day, engineer, accept_s)
);

-- +goose Down
DROP TABLE stats_accepts;
DROP TABLE stats_rings;
DROP TABLE stats_calls;
DROP TABLE stats_zone;
