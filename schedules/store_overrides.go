package schedules

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
)

// check returns why o cannot be stored, or nil.
func (o *Override) check(dir Directory, loc *time.Location) error {
	switch {
	case o.Rotation == "":
		return problem.Invalidf("rotation is required")
	case !dir.HasRotation(o.Rotation):
		return problem.Invalidf("unknown rotation %q", o.Rotation)
	case o.Engineer == "":
		return problem.Invalidf("engineer is required")
	case !dir.HasEngineer(o.Engineer):
		return problem.Invalidf("unknown engineer %q", o.Engineer)
	case o.From.IsZero() || o.To.IsZero():
		return problem.Invalidf("from and to are required")
	case !o.To.After(o.From):
		return problem.Invalidf("to %s is not after from %s", o.To.In(loc).Format(time.RFC3339), o.From.In(loc).Format(time.RFC3339))
	case o.CreatedBy == "":
		return problem.Invalidf("created_by is required for the audit log")
	}
	return nil
}

// Audit actions of overrides.
const (
	ActionOverrideAdd    = "override.add"
	ActionOverrideRemove = "override.rm"
)

// describe is the audit detail of an override, its times in loc.
func (o *Override) describe(loc *time.Location) string {
	d := fmt.Sprintf("override %d: %s covers %s from %s to %s", o.ID, o.Engineer, o.Rotation,
		o.From.In(loc).Format(time.RFC3339Nano), o.To.In(loc).Format(time.RFC3339Nano))
	if o.Reason != "" {
		d += fmt.Sprintf(" (reason: %s)", o.Reason)
	}
	return d
}

// AddOverride stores o, checking its names against dir, and records it in
// the audit log in the same transaction. From and To are kept to the
// millisecond; ID and CreatedAt are set by the store. A refused override
// (unknown rotation or engineer, To not after From, no CreatedBy) returns an
// problem.Invalid error saying why and writes nothing. dir must not be nil.
func (s *Store) AddOverride(ctx context.Context, o Override, dir Directory) (Override, error) {
	o.From, o.To = o.From.Truncate(time.Millisecond).UTC(), o.To.Truncate(time.Millisecond).UTC()
	if err := o.check(dir, s.loc); err != nil {
		return Override{}, fmt.Errorf("schedules: override: %w", err)
	}
	o.CreatedAt = s.now().Truncate(time.Millisecond).UTC()
	const insert = `INSERT INTO overrides (rotation, engineer, starts_at, ends_at, reason, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, insert, o.Rotation, o.Engineer,
			toMillis(o.From), toMillis(o.To), o.Reason, o.CreatedBy, toMillis(o.CreatedAt)).Scan(&o.ID)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, o.CreatedAt, o.CreatedBy, ActionOverrideAdd, o.describe(s.loc)); err != nil {
			return err
		}
		return bumpGeneration(ctx, tx)
	})
	if err != nil {
		return Override{}, fmt.Errorf("schedules: add override: %w", err)
	}
	return o, nil
}

// RemoveOverride deletes override id and records who removed it in the
// audit log, in one transaction. It returns ErrNotFound if there is no such
// override, and a problem.Invalid error if actor is empty.
func (s *Store) RemoveOverride(ctx context.Context, id int64, actor string) error {
	if actor == "" {
		return fmt.Errorf("schedules: remove override %d: %w", id, problem.Invalidf("the audit log needs an actor"))
	}
	const del = `DELETE FROM overrides WHERE id = ?
		RETURNING id, rotation, engineer, starts_at, ends_at, reason, created_by, created_at`
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := scanOverride(tx.QueryRowContext(ctx, del, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, s.now(), actor, ActionOverrideRemove, o.describe(s.loc)); err != nil {
			return err
		}
		return bumpGeneration(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("schedules: remove override %d: %w", id, err)
	}
	return nil
}

// ListOverrides returns every stored override ordered by From, then ID.
func (s *Store) ListOverrides(ctx context.Context) ([]Override, error) {
	const list = `SELECT id, rotation, engineer, starts_at, ends_at, reason, created_by, created_at
		FROM overrides ORDER BY starts_at, id`
	rows, err := s.db.QueryContext(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("schedules: list overrides: %w", err)
	}
	defer rows.Close()
	out := []Override{}
	for rows.Next() {
		o, err := scanOverride(rows)
		if err != nil {
			return nil, fmt.Errorf("schedules: list overrides: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("schedules: list overrides: %w", err)
	}
	return out, nil
}

// Generation returns a counter that moves whenever an override is added or
// removed, so callers can cache an OverrideIndex and rebuild it only when
// the counter changes. It costs one single-row read.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	const get = `SELECT n FROM override_generation WHERE id = 1`
	var n int64
	if err := s.db.QueryRowContext(s.db.Short(ctx), get).Scan(&n); err != nil {
		return 0, fmt.Errorf("schedules: override generation: %w", err)
	}
	return n, nil
}

func bumpGeneration(ctx context.Context, tx execer) error {
	const bump = `UPDATE override_generation SET n = n + 1 WHERE id = 1`
	_, err := tx.ExecContext(ctx, bump)
	return err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanOverride(sc scanner) (Override, error) {
	var o Override
	var from, to, created int64
	err := sc.Scan(&o.ID, &o.Rotation, &o.Engineer, &from, &to, &o.Reason, &o.CreatedBy, &created)
	o.From, o.To, o.CreatedAt = fromMillis(from), fromMillis(to), fromMillis(created)
	return o, err
}
