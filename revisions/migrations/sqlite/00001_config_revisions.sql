-- +goose Up
-- Every config hotline has served (revisions/revisions.go): the file's
-- bytes once per revision (their SHA-256 in hex), and when each instance
-- served it. Times are Unix milliseconds in UTC; live is 1 while the
-- instance serves the revision (and beats, every minute), 0 once it moved
-- on or stopped.
CREATE TABLE config_revisions (
    revision   TEXT    PRIMARY KEY,
    text       BLOB    NOT NULL,
    first_seen INTEGER NOT NULL
);
CREATE TABLE config_live (
    revision   TEXT    NOT NULL REFERENCES config_revisions (revision),
    instance   TEXT    NOT NULL,
    first_live INTEGER NOT NULL,
    last_live  INTEGER NOT NULL,
    live       INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (revision, instance)
);
CREATE INDEX config_live_instance ON config_live (instance, live);

-- +goose Down
DROP TABLE config_live;
DROP TABLE config_revisions;
