package calendar

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates or upgrades the table calendar owns: calendar_tokens.
func Migrate(ctx context.Context, db *store.DB) error {
	return audit.MigrateFirst(ctx, db, "calendar", migrations)
}

// Errors of the package.
var (
	// ErrNotFound means no feed answers to a token: unknown, rotated away,
	// revoked, or its subject left the config.
	ErrNotFound = errors.New("calendar: not found")
	// ErrInvalid means a token request was refused (bad kind, no id or no
	// actor).
	ErrInvalid = errors.New("calendar: invalid")
)

// Kind is what a feed is about.
type Kind string

// The kinds of feed.
const (
	KindEngineer Kind = "engineer"
	KindTeam     Kind = "team"
)

// Subject is the engineer or team a feed shows.
type Subject struct {
	Kind Kind
	ID   string
}

// TokenInfo describes a subject's token without revealing it.
type TokenInfo struct {
	Subject   Subject
	CreatedAt time.Time
	CreatedBy string
}

// Audit actions written by this package.
const (
	ActionTokenRotate = "calendar.rotate"
	ActionTokenRevoke = "calendar.revoke"
)

// Tokens keeps the secret tokens of the feeds. Only a token's SHA-256 is
// stored; the token is returned once, by Rotate. Each change is in the
// audit log, written in its transaction.
type Tokens struct {
	db  *store.DB
	now func() time.Time
}

// NewTokens returns the token store over a migrated db.
func NewTokens(db *store.DB, now func() time.Time) *Tokens {
	return &Tokens{db: db, now: now}
}

// tokenBytes is the entropy of a token: 32 random bytes, 43 characters.
const tokenBytes = 32

// hash is how a token is stored and looked up.
func hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Rotate makes a new token for subject (kind, id), replacing any earlier
// one, whose URL then answers 404. It returns the token, to be shown once.
// The names are not checked against the config: a token whose subject is
// not in the config serves 404.
func (t *Tokens) Rotate(ctx context.Context, kind Kind, id, actor string) (string, error) {
	if err := check(kind, id, actor); err != nil {
		return "", err
	}
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("calendar: rotate token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	const (
		del    = `DELETE FROM calendar_tokens WHERE kind = ? AND subject = ?`
		insert = `INSERT INTO calendar_tokens (token_hash, kind, subject, created_at, created_by) VALUES (?, ?, ?, ?, ?)`
	)
	now := t.now()
	err := t.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, del, kind, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insert, hash(token), kind, id, now.UnixMilli(), actor); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor, ActionTokenRotate, describe(kind, id))
	})
	if err != nil {
		return "", fmt.Errorf("calendar: rotate token: %w", err)
	}
	return token, nil
}

// Revoke removes subject's token; its URL then answers 404. It returns
// ErrNotFound when the subject has none.
func (t *Tokens) Revoke(ctx context.Context, kind Kind, id, actor string) error {
	if err := check(kind, id, actor); err != nil {
		return err
	}
	const del = `DELETE FROM calendar_tokens WHERE kind = ? AND subject = ?`
	err := t.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, del, kind, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%w: no token for %s %q", ErrNotFound, kind, id)
		}
		return audit.Record(ctx, tx, t.now(), actor, ActionTokenRevoke, describe(kind, id))
	})
	if err != nil {
		return fmt.Errorf("calendar: revoke token: %w", err)
	}
	return nil
}

// Lookup returns the subject a token opens, or ErrNotFound.
func (t *Tokens) Lookup(ctx context.Context, token string) (Subject, error) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) ||
		strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return Subject{}, ErrNotFound
	}
	const q = `SELECT kind, subject FROM calendar_tokens WHERE token_hash = ?`
	var s Subject
	err := t.db.QueryRowContext(ctx, q, hash(token)).Scan(&s.Kind, &s.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Subject{}, ErrNotFound
	}
	if err != nil {
		return Subject{}, fmt.Errorf("calendar: look up token: %w", err)
	}
	return s, nil
}

// List returns which subjects have a token, for the web page.
func (t *Tokens) List(ctx context.Context) ([]TokenInfo, error) {
	const q = `SELECT kind, subject, created_at, created_by FROM calendar_tokens ORDER BY kind, subject`
	rows, err := t.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("calendar: list tokens: %w", err)
	}
	defer rows.Close()
	out := []TokenInfo{}
	for rows.Next() {
		var i TokenInfo
		var at int64
		if err := rows.Scan(&i.Subject.Kind, &i.Subject.ID, &at, &i.CreatedBy); err != nil {
			return nil, fmt.Errorf("calendar: list tokens: %w", err)
		}
		i.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("calendar: list tokens: %w", err)
	}
	return out, nil
}

// URL is the address of the feed a token opens: <public URL>/calendar/<token>.ics.
func URL(publicURL, token string) string {
	return strings.TrimSuffix(publicURL, "/") + "/calendar/" + token + ".ics"
}

func check(kind Kind, id, actor string) error {
	switch {
	case kind != KindEngineer && kind != KindTeam:
		return fmt.Errorf("%w: kind %q (engineer or team)", ErrInvalid, kind)
	case id == "":
		return fmt.Errorf("%w: no id", ErrInvalid)
	case actor == "":
		return fmt.Errorf("%w: actor is required for the audit log", ErrInvalid)
	}
	return nil
}

// describe is the audit detail of a change to subject (kind, id)'s token.
func describe(kind Kind, id string) string {
	return fmt.Sprintf("calendar feed of %s %s", kind, id)
}
