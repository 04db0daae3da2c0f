package page

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates or updates the pages table (the goose set "page").
func Migrate(ctx context.Context, db *store.DB) error {
	return db.Migrate(ctx, "page", migrations)
}

// ErrNoPage is the answer for a page id that names no row.
var ErrNoPage = errors.New("page: no such page")

// emergencyStep is the step of the page to hotline.emergency_number, after
// the last pass over the chain.
const emergencyStep = -1

// The states of a page row.
const (
	rowPending   = "pending"
	rowPlaced    = "placed"
	rowCancelled = "cancelled"
)

// row is one page: to place, placed or cancelled.
type row struct {
	id, incident               int64
	team                       string
	step, pass                 int
	due                        time.Time
	state, callSid, callStatus string
	engineer, name, phone      string
}

const rowColumns = `id, incident_id, team, step, pass, due_at, state, call_sid, call_status, engineer, engineer_name, engineer_phone`

func scanRow(s interface{ Scan(...any) error }) (row, error) {
	var r row
	var due int64
	err := s.Scan(&r.id, &r.incident, &r.team, &r.step, &r.pass, &due, &r.state, &r.callSid, &r.callStatus, &r.engineer, &r.name, &r.phone)
	r.due = time.UnixMilli(due).UTC()
	return r, err
}

// execer is a *store.DB or *store.Tx.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// schedule adds the page (incident, pass, step) due at `due`, unless the
// incident already has it: so Open, a retried placement and a second
// instance never page the same step of a pass twice.
func schedule(ctx context.Context, ex execer, incident int64, team string, pass, step int, due time.Time) error {
	const q = `INSERT INTO pages (incident_id, team, step, pass, due_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (incident_id, pass, step) DO NOTHING`
	if _, err := ex.ExecContext(ctx, q, incident, team, step, pass, due.UnixMilli()); err != nil {
		return fmt.Errorf("page: schedule incident %d pass %d step %d: %w", incident, pass, step, err)
	}
	return nil
}

// claim leases the next due page until leaseUntil, or reports false when
// none is due. The lease test is made again on the row itself: two pagers
// may pick the same id in the subquery, and the second, once the first
// commits, must find it leased. On PostgreSQL SKIP LOCKED sends the second
// to the next due row instead of waiting for the first's; SQLite has one
// writer at a time and needs no lock.
func (p *Pager) claim(ctx context.Context, now, leaseUntil time.Time) (row, bool, error) {
	lock := ""
	if p.db.Dialect() == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE pages SET lease_until = ?
		WHERE id = (SELECT id FROM pages WHERE state = 'pending' AND due_at <= ? AND lease_until <= ?
			ORDER BY due_at, id LIMIT 1` + lock + `)
		AND state = 'pending' AND lease_until <= ?
		RETURNING ` + rowColumns
	ms := now.UnixMilli()
	r, err := scanRow(p.db.QueryRowContext(ctx, q, leaseUntil.UnixMilli(), ms, ms, ms))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return row{}, false, nil
	case err != nil:
		return row{}, false, fmt.Errorf("page: claim: %w", err)
	}
	return r, true, nil
}

// cancelRow ends one page unplaced.
func cancelRow(ctx context.Context, ex execer, id int64) error {
	const q = `UPDATE pages SET state = 'cancelled', lease_until = 0 WHERE id = ? AND state = 'pending'`
	if _, err := ex.ExecContext(ctx, q, id); err != nil {
		return fmt.Errorf("page: cancel page %d: %w", id, err)
	}
	return nil
}

// cancelIncident ends every page of an incident still to place.
func (p *Pager) cancelIncident(ctx context.Context, incident int64) error {
	const q = `UPDATE pages SET state = 'cancelled', lease_until = 0 WHERE incident_id = ? AND state = 'pending'`
	if _, err := p.db.ExecContext(ctx, q, incident); err != nil {
		return fmt.Errorf("page: cancel pages of incident %d: %w", incident, err)
	}
	return nil
}

// assign records who a page is about to call, before the call starts:
// Twilio may request the page call's TwiML, and its keys, before the call's
// SID is recorded (markPlaced), and they must know who pressed.
func assign(ctx context.Context, ex execer, r row) error {
	const q = `UPDATE pages SET engineer = ?, engineer_name = ?, engineer_phone = ? WHERE id = ?`
	if _, err := ex.ExecContext(ctx, q, r.engineer, r.name, r.phone, r.id); err != nil {
		return fmt.Errorf("page: assign page %d: %w", r.id, err)
	}
	return nil
}

// markPlaced records a placed page: who was called, and the call's SID.
func markPlaced(ctx context.Context, ex execer, r row, sid string, at time.Time) error {
	const q = `UPDATE pages SET state = 'placed', lease_until = 0, call_sid = ?, engineer = ?, engineer_name = ?,
		engineer_phone = ?, placed_at = ? WHERE id = ?`
	if _, err := ex.ExecContext(ctx, q, sid, r.engineer, r.name, r.phone, at.UnixMilli(), r.id); err != nil {
		return fmt.Errorf("page: record page %d: %w", r.id, err)
	}
	return nil
}

// find returns the page with that id.
func (p *Pager) find(ctx context.Context, id int64) (row, error) {
	r, err := scanRow(p.db.QueryRowContext(ctx, `SELECT `+rowColumns+` FROM pages WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return row{}, fmt.Errorf("%w: %d", ErrNoPage, id)
	case err != nil:
		return row{}, fmt.Errorf("page: find page %d: %w", id, err)
	}
	return r, nil
}

// hurry brings the incident's next page forward to now, and reports
// whether there was one: an engineer who pressed 3 escalates at once.
func (p *Pager) hurry(ctx context.Context, incident int64, now time.Time) (bool, error) {
	const q = `UPDATE pages SET due_at = ? WHERE incident_id = ? AND state = 'pending' AND due_at > ?`
	res, err := p.db.ExecContext(ctx, q, now.UnixMilli(), incident, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("page: escalate incident %d: %w", incident, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// setCallStatus keeps the page call's final status from its callback.
func (p *Pager) setCallStatus(ctx context.Context, id int64, status string) error {
	const q = `UPDATE pages SET call_status = ? WHERE id = ?`
	if _, err := p.db.ExecContext(ctx, q, status, id); err != nil {
		return fmt.Errorf("page: record call status of page %d: %w", id, err)
	}
	return nil
}
