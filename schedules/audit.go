package schedules

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Audit actions written by this package. Other packages use their own
// "<noun>.<verb>" actions in the same log.
const (
	ActionOverrideAdd    = "override.add"
	ActionOverrideRemove = "override.rm"
)

// AuditEntry is one line of the audit log: who did what, and when.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string // e.g. "override.add"
	Detail string
}

// Audit appends an entry to the audit log, stamped with the store's clock.
func (s *Store) Audit(ctx context.Context, actor, action, detail string) error {
	if err := s.audit(ctx, s.db, s.now(), actor, action, detail); err != nil {
		return fmt.Errorf("schedules: audit %s: %w", action, err)
	}
	return nil
}

// audit writes an entry through ex, which may be a transaction.
func (s *Store) audit(ctx context.Context, ex execer, at time.Time, actor, action, detail string) error {
	const insert = `INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)`
	_, err := ex.ExecContext(ctx, insert, toMillis(at), actor, action, detail)
	return err
}

// ListAudit returns the newest limit entries of the audit log, newest
// first; limit <= 0 returns them all.
func (s *Store) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	const list = `SELECT id, at, actor, action, detail FROM audit_log
		ORDER BY id DESC LIMIT ?`
	if limit <= 0 {
		limit = math.MaxInt64 // no limit, in a form SQLite and PostgreSQL both take
	}
	rows, err := s.db.QueryContext(ctx, list, limit)
	if err != nil {
		return nil, fmt.Errorf("schedules: list audit: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("schedules: list audit: %w", err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("schedules: list audit: %w", err)
	}
	return out, nil
}
