package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/hotline-dev/hotline/store"
)

// ErrNoSession means a session token is unknown or expired.
var ErrNoSession = errors.New("web: no such session")

// SessionTTL is how long a sign-in lasts: a working day, then sign in again.
const SessionTTL = 12 * time.Hour

// Sessions keeps sign-ins in the database, so every instance behind a load
// balancer knows them. The cookie carries a random 32-byte token; the table
// keeps only its SHA-256.
type Sessions struct {
	db  *store.DB
	now func() time.Time
}

// NewSessions returns the session store over a migrated db.
func NewSessions(db *store.DB, now func() time.Time) *Sessions { return &Sessions{db: db, now: now} }

// StartSession creates a session for user id and returns its token and end.
// Expired sessions are swept on the way.
func (s *Sessions) StartSession(ctx context.Context, userID int64) (token string, expires time.Time, err error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("web: session token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	expires = now.Add(SessionTTL)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
		return "", time.Time{}, fmt.Errorf("web: sweep sessions: %w", err)
	}
	const insert = `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`
	if _, err := s.db.ExecContext(ctx, insert, hashToken(token), userID, now.UnixMilli(), expires.UnixMilli()); err != nil {
		return "", time.Time{}, fmt.Errorf("web: start session: %w", err)
	}
	return token, expires, nil
}

// SessionUser returns the account of a live session. It reads the
// database on every request, so an account removed or disabled (which also
// deletes its sessions) is signed out at its next one.
func (s *Sessions) SessionUser(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrNoSession
	}
	const q = `SELECT u.id, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`
	var u User
	err := s.db.QueryRowContext(ctx, q, hashToken(token), s.now().UnixMilli()).Scan(&u.ID, &u.Name, &u.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, fmt.Errorf("web: session: %w", err)
	}
	return u, nil
}

// EndSession forgets a session; an unknown token is not an error.
func (s *Sessions) EndSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token)); err != nil {
		return fmt.Errorf("web: end session: %w", err)
	}
	return nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
