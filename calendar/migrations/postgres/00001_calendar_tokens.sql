-- +goose Up
-- Secret feed tokens, as sqlite/00001: only the hex SHA-256 of a token is
-- kept. COLLATE "C" sorts the list by bytes, as SQLite does.
CREATE TABLE calendar_tokens (
    token_hash TEXT    PRIMARY KEY,
    kind       TEXT    COLLATE "C" NOT NULL CHECK (kind IN ('engineer', 'team')),
    subject    TEXT    COLLATE "C" NOT NULL,
    created_at BIGINT  NOT NULL, -- Unix milliseconds, UTC
    created_by TEXT    NOT NULL,
    UNIQUE (kind, subject)
);

-- +goose Down
DROP TABLE calendar_tokens;
