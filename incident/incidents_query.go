package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/store"
)

// Filter selects incidents for the call log, its CSV export and the API.
// Zero fields match everything.
type Filter struct {
	From   time.Time // started at or after
	To     time.Time // started before
	Team   string
	Status string
	State  string // open, acknowledged or resolved
	Kind   string // call or alert
	Caller string // caller number, exact
	// Customer is a customer id from the config.
	Customer string
	// Q searches, ignoring case, for a substring of the caller's number,
	// the caller's name, the transcript and the id of the engineer who
	// answered: through a trigram index from three characters on
	// (incidents_search.go), by LIKE below that (ASCII case only, on
	// SQLite).
	Q string
	// QEngineers widens Q: incidents answered by one of these engineer ids
	// match too (the web page passes the engineers whose name contains Q).
	QEngineers []string
	// Before, when set, keeps only incidents older than that position in
	// the newest-first order: keyset paging, as fast on page 1000 as on 1.
	Before *Cursor
	// After, when set, keeps only incidents newer than that position, and
	// FindIncidents returns the oldest Limit of them (still newest first):
	// the page before a page. Before and After together are not supported.
	After  *Cursor
	Limit  int // default 50, at most 1000
	Offset int
}

// Cursor is a position in the newest-first order of the call log.
type Cursor struct {
	StartedAt time.Time
	ID        int64
}

// CursorOf returns the position of an incident.
func CursorOf(in Incident) Cursor { return Cursor{StartedAt: in.StartedAt, ID: in.ID} }

// String encodes the cursor for a URL: "<unix ms>.<id>".
func (c Cursor) String() string { return fmt.Sprintf("%d.%d", ms(c.StartedAt), c.ID) }

// ParseCursor reads what Cursor.String wrote.
func ParseCursor(s string) (Cursor, error) {
	var at, id int64
	if _, err := fmt.Sscanf(s, "%d.%d", &at, &id); err != nil || fmt.Sprintf("%d.%d", at, id) != s {
		return Cursor{}, fmt.Errorf("incident: bad cursor %q", s)
	}
	return Cursor{StartedAt: fromMS(at), ID: id}, nil
}

const incidentColumns = `id, call_sid, from_number, caller_name, to_number, team, menu_digit, status,
	answered_by, started_at, answered_at, ended_at, duration_s, recording_url, transcript, config_revision, note, customer, caller_attestation,
	kind, state, acknowledged_by, acknowledged_at, resolved_by, resolved_at, summary, details, dedup_key`

// FindIncidents returns the incidents matching f, newest first, without events.
func (s *Incidents) FindIncidents(ctx context.Context, f Filter) ([]Incident, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	out := make([]Incident, 0, min(limit, 64))
	err := s.eachIncident(ctx, f, limit, func(in Incident) error {
		out = append(out, in)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountIncidents returns how many incidents the database holds. On SQLite it
// reads a whole index: about a second at a million incidents.
func (s *Incidents) CountIncidents(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents`).Scan(&n); err != nil {
		return 0, fmt.Errorf("incident: count incidents: %w", err)
	}
	return n, nil
}

// EachIncident calls fn for every incident matching f, newest first, without
// events and without a limit (f.Limit and f.Offset are ignored): the CSV
// export streams through it. An error from fn stops the walk and is returned.
func (s *Incidents) EachIncident(ctx context.Context, f Filter, fn func(Incident) error) error {
	f.Offset = 0
	return s.eachIncident(ctx, f, math.MaxInt64, fn)
}

func (s *Incidents) eachIncident(ctx context.Context, f Filter, limit int, fn func(Incident) error) error {
	if f.After != nil {
		// Read upwards from the cursor, then hand the rows out newest first.
		var up []Incident
		err := s.walk(ctx, f, " ORDER BY started_at, id", limit, func(in Incident) error {
			up = append(up, in)
			return nil
		})
		if err != nil {
			return err
		}
		for i := len(up) - 1; i >= 0; i-- {
			if err := fn(up[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return s.walk(ctx, f, " ORDER BY started_at DESC, id DESC", limit, fn)
}

func (s *Incidents) walk(ctx context.Context, f Filter, order string, limit int, fn func(Incident) error) error {
	where, args, err := s.where(ctx, f)
	if err != nil {
		return fmt.Errorf("incident: find incidents: %w", err)
	}
	q := `SELECT ` + incidentColumns + ` FROM incidents` + where + order + ` LIMIT ? OFFSET ?`
	// The call log's filters combine into hundreds of statements: they run
	// unprepared (SQL()), so they never crowd the call path's statements
	// out of the store's cache.
	rows, err := s.db.SQL().QueryContext(ctx, q, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return fmt.Errorf("incident: find incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return fmt.Errorf("incident: find incidents: %w", err)
		}
		if err := fn(in); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("incident: find incidents: %w", err)
	}
	return nil
}

// Incident returns one incident with its timeline.
func (s *Incidents) Incident(ctx context.Context, id int64) (Incident, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id)
	in, err := scanIncident(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("incident: incident %d: %w", id, err)
	}
	const events = `SELECT at, type, engineer, engineer_name, engineer_phone, detail, dedup_key
		FROM incident_events WHERE incident_id = ? ORDER BY at, id`
	rows, err := s.db.QueryContext(ctx, events, id)
	if err != nil {
		return Incident{}, fmt.Errorf("incident: incident %d events: %w", id, err)
	}
	defer rows.Close()
	in.Events = []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.Type, &e.Engineer, &e.EngineerName, &e.EngineerPhone, &e.Detail, &e.Key); err != nil {
			return Incident{}, fmt.Errorf("incident: incident %d events: %w", id, err)
		}
		e.At = fromMS(at)
		in.Events = append(in.Events, e)
	}
	return in, rows.Err()
}

// callSidsPerQuery bounds the IN list of one query in IncidentsByCallSid.
const callSidsPerQuery = 500

// IncidentsByCallSid returns the incidents of several calls, without their
// timelines, keyed by CallSid; calls without an incident are left out. It
// reads them in one query per 500 calls, not one per call.
func (s *Incidents) IncidentsByCallSid(ctx context.Context, callSids []string) (map[string]Incident, error) {
	out := make(map[string]Incident, len(callSids))
	for start := 0; start < len(callSids); start += callSidsPerQuery {
		if err := s.incidentsByCallSid(ctx, callSids[start:min(start+callSidsPerQuery, len(callSids))], out); err != nil {
			return nil, fmt.Errorf("incident: incidents by call: %w", err)
		}
	}
	return out, nil
}

func (s *Incidents) incidentsByCallSid(ctx context.Context, callSids []string, out map[string]Incident) error {
	args := make([]any, len(callSids))
	for i, sid := range callSids {
		args[i] = sid
	}
	// The IN lists vary in length: SQL() runs them unprepared rather than
	// filling the prepared-statement cache.
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE call_sid IN `+store.Placeholders(1, len(callSids)), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return err
		}
		out[in.CallSid] = in
	}
	return rows.Err()
}

// IncidentByCallSid returns the incident of a call, with its timeline.
func (s *Incidents) IncidentByCallSid(ctx context.Context, callSid string) (Incident, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM incidents WHERE call_sid = ?`, callSid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("%w: %s", ErrNotFound, callSid)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("incident: incident %s: %w", callSid, err)
	}
	return s.Incident(ctx, id)
}

// where is f as a WHERE clause with its arguments; search says how Q is
// looked up (searchLike, searchFTS5 or searchTrigram).
func (f Filter) where(dialect store.Dialect, search searchMode) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if !f.From.IsZero() {
		add("started_at >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		add("started_at < ?", ms(f.To))
	}
	if f.Team != "" {
		add("team = ?", f.Team)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.State != "" {
		add("state = ?", f.State)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Caller != "" {
		add("from_number = ?", f.Caller)
	}
	if f.Customer != "" {
		add("customer = ?", f.Customer)
	}
	if f.Before != nil {
		// The first term bounds the index range; the second breaks ties.
		at := ms(f.Before.StartedAt)
		add("started_at <= ? AND (started_at < ? OR id < ?)", at, at, f.Before.ID)
	}
	if f.After != nil {
		at := ms(f.After.StartedAt)
		add("started_at >= ? AND (started_at > ? OR id > ?)", at, at, f.After.ID)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		or, qargs := searchTerms(q, dialect, search)
		if len(f.QEngineers) > 0 {
			or = append(or, "answered_by IN "+store.Placeholders(1, len(f.QEngineers)))
			for _, e := range f.QEngineers {
				qargs = append(qargs, e)
			}
		}
		add("("+strings.Join(or, " OR ")+")", qargs...)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

type scanner interface{ Scan(dest ...any) error }

func scanIncident(r scanner) (Incident, error) {
	var in Incident
	var answeredBy, customer sql.NullString
	var started int64
	var answered, ended, duration sql.NullInt64
	var recording, transcript string
	var ackBy, resolvedBy, dedup sql.NullString
	var ackAt, resolvedAt sql.NullInt64
	err := r.Scan(&in.ID, &in.CallSid, &in.From, &in.CallerName, &in.To, &in.Team, &in.MenuDigit, &in.Status,
		&answeredBy, &started, &answered, &ended, &duration, &recording, &transcript, &in.ConfigRevision, &in.Note, &customer, &in.CallerAttestation,
		&in.Kind, &in.State, &ackBy, &ackAt, &resolvedBy, &resolvedAt, &in.Summary, &in.Details, &dedup)
	if err != nil {
		return Incident{}, err
	}
	in.AcknowledgedBy, in.AcknowledgedAt = nullString(ackBy), nullTime(ackAt)
	in.ResolvedBy, in.ResolvedAt = nullString(resolvedBy), nullTime(resolvedAt)
	in.DedupKey = dedup.String
	in.StartedAt = fromMS(started)
	if answeredBy.Valid {
		in.AnsweredBy = &answeredBy.String
	}
	if customer.Valid {
		in.Customer = &customer.String
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

// nullString is a nullable column as a pointer.
func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

// nullTime is a nullable time column (Unix ms) as a pointer.
func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// CallsByRevision counts the calls each config revision routed (an
// incident's config_revision; alerts carry none), keyed by revision;
// revisions that routed none are left out, and so is "" (an alert's). One query per 500 revisions,
// each counted on the incidents_config_revision index: a revision's count
// reads its own calls' index entries only.
func (s *Incidents) CallsByRevision(ctx context.Context, revisions []string) (map[string]int64, error) {
	out := make(map[string]int64, len(revisions))
	revisions = slices.DeleteFunc(slices.Clone(revisions), func(r string) bool { return r == "" })
	for start := 0; start < len(revisions); start += callSidsPerQuery {
		part := revisions[start:min(start+callSidsPerQuery, len(revisions))]
		args := make([]any, len(part))
		for i, r := range part {
			args[i] = r
		}
		rows, err := s.db.SQL().QueryContext(ctx, `SELECT config_revision, COUNT(*) FROM incidents WHERE config_revision IN `+
			store.Placeholders(1, len(part))+` GROUP BY config_revision`, args...)
		if err != nil {
			return nil, fmt.Errorf("incident: calls by revision: %w", err)
		}
		for rows.Next() {
			var rev string
			var n int64
			if err := rows.Scan(&rev, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("incident: calls by revision: %w", err)
			}
			out[rev] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("incident: calls by revision: %w", err)
		}
	}
	return out, nil
}
