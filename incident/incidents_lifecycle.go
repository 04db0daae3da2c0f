package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
)

// The lifecycle of an incident: a call opens one; when it ends it is
// settled (Settle): taken by the engineer who answered it, left open for a
// follow-up, or resolved because it needs nothing more. A person then
// acknowledges or resolves what is open, by the page call, a text reply,
// the web page, the API or the CLI.

// ResolvedByHotline is resolved_by of an incident hotline itself settled
// as needing nothing more. Only such a resolution may be undone by a later
// write of the same call (an abandonment superseded by a voicemail); what
// a person acknowledged or resolved is never changed by hotline.
const ResolvedByHotline = "hotline"

// Audit actions of the lifecycle.
const (
	ActionAcknowledge = "incident.acknowledge"
	ActionResolve     = "incident.resolve"
)

// Acknowledge records that by (an engineer's or an account's name) took
// the open incident id, how (e.g. "page call", "web"), at at: an
// acknowledged event and an audit entry, in one transaction. An incident
// already acknowledged is left as it is; a resolved one is a
// problem.Invalid error.
func (s *Incidents) Acknowledge(ctx context.Context, id int64, by, how string, at time.Time) error {
	return s.change(ctx, id, by, how, at, func(r txRunner, state string) (bool, error) {
		switch state {
		case StateAcknowledged:
			return false, nil
		case StateResolved:
			return false, problem.Invalidf("incident %d is resolved already", id)
		}
		_, err := r.exec(`UPDATE incidents SET state = ?, acknowledged_by = ?, acknowledged_at = ? WHERE id = ?`,
			StateAcknowledged, by, ms(at), id)
		return true, err
	}, EventAcknowledged, ActionAcknowledge)
}

// Resolve records that by resolved incident id, how, at at: a resolved
// event and an audit entry, in one transaction. A resolved incident is
// left as it is.
func (s *Incidents) Resolve(ctx context.Context, id int64, by, how string, at time.Time) error {
	return s.change(ctx, id, by, how, at, func(r txRunner, state string) (bool, error) {
		if state == StateResolved {
			return false, nil
		}
		_, err := r.exec(`UPDATE incidents SET state = ?, resolved_by = ?, resolved_at = ? WHERE id = ?`,
			StateResolved, by, ms(at), id)
		return true, err
	}, EventResolved, ActionResolve)
}

// change runs one person's change of incident id's state: apply, given
// the state read under the transaction, reports whether it changed
// anything; when it did, the event and the audit entry are written too.
func (s *Incidents) change(ctx context.Context, id int64, by, how string, at time.Time,
	apply func(r txRunner, state string) (bool, error), ev EventType, action string) error {
	if by == "" {
		return fmt.Errorf("incident: %s %d: %w", action, id, problem.Invalidf("who did it is required"))
	}
	err := s.inTx(ctx, func(r txRunner) error {
		var state string
		if err := r.queryRow(`SELECT state FROM incidents WHERE id = ?`+forUpdate(r.dialect), id).Scan(&state); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: %d", ErrNotFound, id)
			}
			return err
		}
		changed, err := apply(r, state)
		if err != nil || !changed {
			return err
		}
		// One of each: an incident is acknowledged once and resolved once
		// (hotline's own resolutions, which Settle may undo, write none).
		e := Event{At: at, Type: ev, Detail: by + " (" + how + ")", Key: string(ev)}
		if _, err := insertEvents(r, id, []Event{e}); err != nil {
			return err
		}
		return audit.Record(ctx, r.tx, at, by, action, fmt.Sprintf("incident %d, %s", id, how))
	})
	if err != nil {
		return fmt.Errorf("incident: %s %d: %w", action, id, err)
	}
	return nil
}

// forUpdate locks the row read on PostgreSQL, where two instances may
// change one incident at once; a SQLite transaction that writes holds the
// database's one write lock anyway.
func forUpdate(d store.Dialect) string {
	if d == store.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Settle decides the state of a call incident that has ended, from its
// outcome: answered by an engineer, it is acknowledged by them; an outcome
// among followUp (a team's follow_up.outcomes) leaves it open, and open
// reports true so the caller can page it (paging an incident is idempotent,
// so settling it again pages nobody twice); any other outcome resolves it as
// ResolvedByHotline. It changes only what hotline itself decided before
// (open, or resolved by hotline), so it may run again when a later write
// of the call changes its outcome. A call still in progress is left alone;
// one closed without its end (a stale call hotline closed) is settled at at.
func (s *Incidents) Settle(ctx context.Context, id int64, followUp []string, at time.Time) (open bool, err error) {
	in, err := s.incidentRow(ctx, id)
	if err != nil {
		return false, err
	}
	return s.SettleRead(ctx, in, followUp, at)
}

// SettleRead is Settle of an incident the caller has just read (its
// status, answerer and end), sparing a second read. A later write that
// changes the outcome settles it again, so a read a moment old is enough.
func (s *Incidents) SettleRead(ctx context.Context, in Incident, followUp []string, at time.Time) (open bool, err error) {
	id := in.ID
	if in.Kind != KindCall || in.Status == StatusInProgress {
		return false, nil
	}
	end := at
	if in.EndedAt != nil {
		end = *in.EndedAt
	}
	mine := `id = ? AND (state = 'open' OR (state = 'resolved' AND resolved_by = 'hotline'))`
	switch {
	case in.Status == StatusAnswered && in.AnsweredBy != nil:
		_, err = s.db.ExecContext(ctx, `UPDATE incidents SET state = ?, acknowledged_by = ?, acknowledged_at = ?, resolved_by = NULL, resolved_at = NULL WHERE `+mine,
			StateAcknowledged, *in.AnsweredBy, ms(end), id)
	case slices.Contains(followUp, in.Status):
		var res sql.Result
		res, err = s.db.ExecContext(ctx, `UPDATE incidents SET state = ?, resolved_by = NULL, resolved_at = NULL WHERE `+mine, StateOpen, id)
		if err == nil {
			n, _ := res.RowsAffected()
			open = n > 0
		}
	default:
		_, err = s.db.ExecContext(ctx, `UPDATE incidents SET state = ?, resolved_by = ?, resolved_at = ? WHERE `+mine,
			StateResolved, ResolvedByHotline, ms(end), id)
	}
	if err != nil {
		return false, fmt.Errorf("incident: settle %d: %w", id, err)
	}
	return open, nil
}

// incidentRow reads one incident without its events.
func (s *Incidents) incidentRow(ctx context.Context, id int64) (Incident, error) {
	in, err := scanIncident(s.db.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("incident: incident %d: %w", id, err)
	}
	return in, nil
}

// AddEvent adds e to incident id (once per e.Key) and reports whether it
// was added.
func (s *Incidents) AddEvent(ctx context.Context, id int64, e Event) (added bool, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		added, err = s.AddEventTx(ctx, tx, id, e)
		return err
	})
	return added, err
}

// OpenCount is how many incidents are open, nobody having taken them: a
// range of the state index, however long the history.
func (s *Incidents) OpenCount(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE state = 'open'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("incident: count open: %w", err)
	}
	return n, nil
}
