-- +goose Up
-- Secret feed tokens. Only the hex SHA-256 of a token is kept: the token
-- itself is shown once, when it is made, and cannot be read back. One token
-- per subject: rotating it replaces the row, and the old URL stops working.
CREATE TABLE calendar_tokens (
    token_hash TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('engineer', 'team')),
    subject    TEXT    NOT NULL,
    created_at INTEGER NOT NULL, -- Unix milliseconds, UTC
    created_by TEXT    NOT NULL,
    UNIQUE (kind, subject)
);

-- +goose Down
DROP TABLE calendar_tokens;
