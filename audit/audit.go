// Package audit is the log of who changed what and when: overrides,
// announcements, notes, accounts and calendar links. The policy is one:
// each store writes its entry with Record inside the transaction of the
// change it records, so a change is never kept without its entry, nor an
// entry without its change.
package audit

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"time"

	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates the audit_log table, or finds it made by the schedules
// migrations of an older hotline.
func Migrate(ctx context.Context, db *store.DB) error {
	return db.Migrate(ctx, "audit", migrations)
}

// MigrateFirst migrates the audit log, then owner's own migrations: what a
// store whose changes write audit entries calls from its Migrate, so it
// never meets a database without the log (both are idempotent).
func MigrateFirst(ctx context.Context, db *store.DB, owner string, migrations fs.FS) error {
	if err := Migrate(ctx, db); err != nil {
		return err
	}
	return db.Migrate(ctx, owner, migrations)
}

// Entry is one line of the audit log: who did what, and when.
type Entry struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string // "<noun>.<verb>", e.g. "override.add"
	Detail string
}

// Execer is the transaction (a *store.Tx) of the change an entry records.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Record writes an entry through tx.
func Record(ctx context.Context, tx Execer, at time.Time, actor, action, detail string) error {
	const insert = `INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, insert, at.UnixMilli(), actor, action, detail); err != nil {
		return fmt.Errorf("audit: %s: %w", action, err)
	}
	return nil
}

// Log reads the audit log.
type Log struct{ db *store.DB }

// NewLog reads the audit log of db.
func NewLog(db *store.DB) *Log { return &Log{db: db} }

// List returns the newest limit entries, newest first; limit <= 0 returns
// them all.
func (l *Log) List(ctx context.Context, limit int) ([]Entry, error) {
	return l.ListPage(ctx, 0, 0, limit)
}

// ListPage pages through the log by entry id (keyset paging, as fast on
// the last page as on the first), newest first: with before > 0 the limit
// entries older than entry before, with after > 0 the limit entries just
// newer than entry after (still newest first), else the newest limit;
// limit <= 0 means no limit.
func (l *Log) ListPage(ctx context.Context, before, after int64, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = math.MaxInt64 // no limit, in a form SQLite and PostgreSQL both take
	}
	q, args := `SELECT id, at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?`, []any{limit}
	switch {
	case before > 0:
		q, args = `SELECT id, at, actor, action, detail FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`, []any{before, limit}
	case after > 0:
		q, args = `SELECT id, at, actor, action, detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`, []any{after, limit}
	}
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	if after > 0 {
		slices.Reverse(out)
	}
	return out, nil
}
