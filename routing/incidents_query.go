package routing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Filter selects incidents for the call log and the API. Zero fields match
// everything.
type Filter struct {
	From   time.Time // started at or after
	To     time.Time // started before
	Team   string
	Status string
	Caller string // caller number, exact
	Limit  int    // default 50, at most 1000
	Offset int
}

const incidentColumns = `id, call_sid, from_number, caller_name, to_number, team, menu_digit, status,
	answered_by, started_at, answered_at, ended_at, duration_s, recording_url, transcript, config_revision, note`

// FindIncidents returns the incidents matching f, newest first, without events.
func (s *Incidents) FindIncidents(ctx context.Context, f Filter) ([]Incident, error) {
	where, args := f.where()
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	q := `SELECT ` + incidentColumns + ` FROM incidents` + where +
		` ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`
	rows, err := s.db.QueryContext(ctx, q, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("routing: find incidents: %w", err)
	}
	defer rows.Close()
	out := []Incident{}
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("routing: find incidents: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("routing: find incidents: %w", err)
	}
	return out, nil
}

// Incident returns one incident with its timeline.
func (s *Incidents) Incident(ctx context.Context, id int64) (Incident, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id)
	in, err := scanIncident(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("routing: incident %d: %w", id, err)
	}
	const events = `SELECT at, type, engineer, engineer_name, engineer_phone, detail, dedup_key
		FROM incident_events WHERE incident_id = ? ORDER BY at, id`
	rows, err := s.db.QueryContext(ctx, events, id)
	if err != nil {
		return Incident{}, fmt.Errorf("routing: incident %d events: %w", id, err)
	}
	defer rows.Close()
	in.Events = []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.Type, &e.Engineer, &e.EngineerName, &e.EngineerPhone, &e.Detail, &e.Key); err != nil {
			return Incident{}, fmt.Errorf("routing: incident %d events: %w", id, err)
		}
		e.At = fromMS(at)
		in.Events = append(in.Events, e)
	}
	return in, rows.Err()
}

// IncidentByCallSid returns the incident of a call, with its timeline.
func (s *Incidents) IncidentByCallSid(ctx context.Context, callSid string) (Incident, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM incidents WHERE call_sid = ?`, callSid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("%w: %s", ErrNotFound, callSid)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("routing: incident %s: %w", callSid, err)
	}
	return s.Incident(ctx, id)
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	if !f.From.IsZero() {
		conds, args = append(conds, "started_at >= ?"), append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		conds, args = append(conds, "started_at < ?"), append(args, ms(f.To))
	}
	if f.Team != "" {
		conds, args = append(conds, "team = ?"), append(args, f.Team)
	}
	if f.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, f.Status)
	}
	if f.Caller != "" {
		conds, args = append(conds, "from_number = ?"), append(args, f.Caller)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

type scanner interface{ Scan(dest ...any) error }

func scanIncident(r scanner) (Incident, error) {
	var in Incident
	var answeredBy sql.NullString
	var started int64
	var answered, ended, duration sql.NullInt64
	var recording, transcript string
	err := r.Scan(&in.ID, &in.CallSid, &in.From, &in.CallerName, &in.To, &in.Team, &in.MenuDigit, &in.Status,
		&answeredBy, &started, &answered, &ended, &duration, &recording, &transcript, &in.ConfigRevision, &in.Note)
	if err != nil {
		return Incident{}, err
	}
	in.StartedAt = fromMS(started)
	if answeredBy.Valid {
		in.AnsweredBy = &answeredBy.String
	}
	if answered.Valid {
		t := fromMS(answered.Int64)
		in.AnsweredAt = &t
	}
	if ended.Valid {
		t := fromMS(ended.Int64)
		in.EndedAt = &t
	}
	if duration.Valid {
		d := int(duration.Int64)
		in.DurationS = &d
	}
	if recording != "" {
		in.RecordingURL = &recording
	}
	if transcript != "" {
		in.Transcript = &transcript
	}
	return in, nil
}
