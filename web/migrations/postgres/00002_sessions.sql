-- +goose Up
-- A session is known by the SHA-256 of its cookie token: a copy of the
-- database does not hand out live sessions. Times are Unix ms UTC.
CREATE TABLE sessions (
    token_hash BYTEA   PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
