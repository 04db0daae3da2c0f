package incident

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates or upgrades the incident tables. The set keeps the name
// "routing", the package it began in, so databases made then upgrade in
// place.
func Migrate(ctx context.Context, db *store.DB) error {
	return audit.MigrateFirst(ctx, db, "routing", migrations)
}

// Incident statuses (README "Incidents").
const (
	StatusInProgress = "in_progress"
	StatusAnswered   = "answered"
	StatusVoicemail  = "voicemail"
	StatusAbandoned  = "abandoned"
	StatusMissed     = "missed"
)

// Incident kinds and states (README "Incidents").
const (
	KindCall  = "call"
	KindAlert = "alert"

	StateOpen         = "open"
	StateAcknowledged = "acknowledged"
	StateResolved     = "resolved"
)

// ErrNotFound means no incident matched.
var ErrNotFound = errors.New("incident: incident not found")

// Incident is the record of one call, as the JSON API returns it.
type Incident struct {
	ID         int64  `json:"id"`
	CallSid    string `json:"call_sid"`
	From       string `json:"from"`
	CallerName string `json:"caller_name"`
	// CallerAttestation is Twilio's StirVerstat for the caller ID (e.g.
	// TN-Validation-Passed-A), "" when none came.
	CallerAttestation string     `json:"caller_attestation"`
	To                string     `json:"to"`
	Team              string     `json:"team"`
	MenuDigit         string     `json:"menu_digit"`
	Customer          *string    `json:"customer"`
	Status            string     `json:"status"`
	AnsweredBy        *string    `json:"answered_by"`
	StartedAt         time.Time  `json:"started_at"`
	AnsweredAt        *time.Time `json:"answered_at"`
	EndedAt           *time.Time `json:"ended_at"`
	DurationS         *int       `json:"duration_s"`
	RecordingURL      *string    `json:"recording_url"`
	Transcript        *string    `json:"transcript"`
	ConfigRevision    string     `json:"config_revision"`
	Note              string     `json:"note,omitempty"`
	// Kind is KindCall or KindAlert; State is StateOpen (someone has to
	// take it), StateAcknowledged (someone did) or StateResolved.
	Kind           string     `json:"kind"`
	State          string     `json:"state"`
	AcknowledgedBy *string    `json:"acknowledged_by"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	ResolvedBy     *string    `json:"resolved_by"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	// Summary, Details and DedupKey are an alert's, as its machine sent them.
	Summary  string  `json:"summary,omitempty"`
	Details  string  `json:"details,omitempty"`
	DedupKey string  `json:"dedup_key,omitempty"`
	Events   []Event `json:"events,omitempty"`
}

// Event is one entry of an incident's timeline. The engineer's name and
// number are copied as they were, so the log stays true when schedules change.
type Event struct {
	At            time.Time `json:"at"`
	Type          EventType `json:"type"`
	Engineer      string    `json:"engineer"`
	EngineerName  string    `json:"engineer_name,omitempty"`
	EngineerPhone string    `json:"engineer_phone,omitempty"`
	Detail        string    `json:"detail"`
	// Key makes the event idempotent: the same key on the same incident is
	// written once, so a retried webhook adds nothing.
	Key string `json:"-"`
	// IfInProgress writes the event only while the incident is in progress,
	// e.g. the hang-up that makes a call abandoned.
	IfInProgress bool `json:"-"`
	// UnlessKey skips the event when the incident already has an event with
	// that key (e.g. no "no key" outcome after a recorded decline).
	UnlessKey string `json:"-"`
}

// Update is what one webhook changes on an incident. Empty fields are left
// alone; Status only moves an incident out of in_progress, except with
// Supersedes.
type Update struct {
	Customer   string
	Team       string
	MenuDigit  string
	Status     string
	AnsweredBy string
	AnsweredAt time.Time
	// AnsweredAtKey takes answered_at from the event with this key (the
	// engineer's accept), falling back to AnsweredAt.
	AnsweredAtKey string
	RecordingURL  string
	// NoTranscript says that no transcript will come for the recording
	// (none was asked for, or Twilio transcribes none of its length), so
	// the voicemail's text need not wait for one. It is not stored.
	NoTranscript bool
	Transcript   string
	EndedAt      time.Time
	DurationS    *int
	// Supersedes lets Status answered or voicemail replace abandoned when
	// that abandonment was written with the event of this key: the call's
	// final status callback, which may arrive before the Dial or Record
	// action that carries the stronger evidence (README, "The call"). The
	// event is removed. Nothing else ever changes a closed status.
	Supersedes string
}

// Incidents stores incidents and their timelines.
type Incidents struct {
	db *store.DB
	// trigram caches TrigramSearch on PostgreSQL: 0 not read yet, 1 the
	// index is there, 2 it is not.
	trigram atomic.Int32
}

// NewIncidents returns the incident store over db.
func NewIncidents(db *store.DB) *Incidents { return &Incidents{db: db} }

// StartIncident opens the incident of a call. A retried webhook for the same
// CallSid returns the existing incident's id with created false. If a later
// webhook's events got there first (openEarly), the start fills in that
// incident and created is true.
func (s *Incidents) StartIncident(ctx context.Context, in Incident, first Event) (id int64, created bool, err error) {
	err = s.inTx(ctx, func(tx txRunner) error {
		id, created, err = startIncident(tx, in, first)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("incident: start incident %s: %w", in.CallSid, err)
	}
	return id, created, nil
}

// insertIncident opens an incident in progress, unless the call has one:
// then it returns no row.
const insertIncident = `INSERT INTO incidents (call_sid, from_number, caller_name, caller_attestation, to_number, status, started_at, config_revision)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_sid) DO NOTHING RETURNING id`

func startIncident(tx txRunner, in Incident, first Event) (id int64, created bool, err error) {
	err = tx.queryRow(insertIncident, in.CallSid, in.From, in.CallerName, in.CallerAttestation, in.To,
		StatusInProgress, ms(in.StartedAt), in.ConfigRevision).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) { // the incident exists
		id, created, err = completeEarly(tx, in)
		if err != nil || !created {
			return id, false, err // a retried webhook
		}
	} else if err != nil {
		return 0, false, err
	}
	_, err = insertEvents(tx, id, []Event{first})
	return id, true, err
}

// openEarly opens the incident of a call whose start is not in the database
// yet, for the events of a later webhook: with several instances, the one
// that answered the call's first webhook may still hold its start in its
// spool, and another must not drop the rest of the call meanwhile. The
// incident starts at its earliest event and has no caller and no config
// revision (the mark completeEarly looks for) until the start lands.
func openEarly(tx txRunner, callSid string, events []Event) (id int64, status string, err error) {
	at := events[0].At
	for _, e := range events[1:] {
		if e.At.Before(at) {
			at = e.At
		}
	}
	err = tx.queryRow(insertIncident, callSid, "", "", "", "", StatusInProgress, ms(at), "").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) { // another transaction opened it meanwhile
		err = tx.queryRow(lockIncident[tx.dialect], callSid).Scan(&id, &status)
		return id, status, err
	}
	return id, StatusInProgress, err
}

// completeEarly gives an incident that openEarly opened its caller, number,
// config revision and start time; completed is false when the incident had
// them already.
func completeEarly(tx txRunner, in Incident) (id int64, completed bool, err error) {
	const fill = `UPDATE incidents SET from_number = ?, caller_name = ?, caller_attestation = ?, to_number = ?, config_revision = ?,
		started_at = CASE WHEN started_at > ? THEN ? ELSE started_at END
		WHERE call_sid = ? AND config_revision = ''`
	res, err := tx.exec(fill, in.From, in.CallerName, in.CallerAttestation, in.To, in.ConfigRevision, ms(in.StartedAt), ms(in.StartedAt), in.CallSid)
	if err != nil {
		return 0, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, err
	}
	id, err = incidentID(tx, in.CallSid)
	return id, n > 0, err
}

// Record adds events to the incident of callSid and applies upd, in one
// transaction. When every event was already recorded (a retried webhook),
// nothing changes and applied is false. A call with no incident yet gets one
// (openEarly) when there are events to keep, and ErrNotFound otherwise.
func (s *Incidents) Record(ctx context.Context, callSid string, upd Update, events ...Event) (applied bool, err error) {
	err = s.inTx(ctx, func(tx txRunner) error {
		applied, _, err = record(tx, callSid, upd, events)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("incident: record %s: %w", callSid, err)
	}
	return applied, nil
}

// lockIncident reads the incident a webhook writes to. SQLite's write
// transactions are serial already; on PostgreSQL the row is locked, so two
// instances writing one call's webhooks at once take turns, as on SQLite,
// and each sees the other's events and status.
var lockIncident = map[store.Dialect]string{
	store.SQLite:   selectIncident,
	store.Postgres: selectIncident + ` FOR UPDATE`,
}

const selectIncident = `SELECT id, status FROM incidents WHERE call_sid = ?`

// record applies one webhook's events and update. closed names the status
// the incident left in_progress for, when this write closed it.
func record(tx txRunner, callSid string, upd Update, events []Event) (applied bool, closed string, err error) {
	var id int64
	var status string
	err = tx.queryRow(lockIncident[tx.dialect], callSid).Scan(&id, &status)
	if errors.Is(err, sql.ErrNoRows) {
		if len(events) == 0 {
			return false, "", ErrNotFound
		}
		id, status, err = openEarly(tx, callSid, events)
	}
	if err != nil {
		return false, "", err
	}
	keep := make([]Event, 0, len(events))
	for _, e := range events {
		if e.IfInProgress && status != StatusInProgress {
			continue
		}
		if e.UnlessKey != "" {
			var n int
			if err := tx.queryRow(`SELECT COUNT(*) FROM incident_events WHERE incident_id = ? AND dedup_key = ?`, id, e.UnlessKey).Scan(&n); err != nil {
				return false, "", err
			}
			if n > 0 {
				continue
			}
		}
		keep = append(keep, e)
	}
	tracked, err := trackRollup(tx, id, status, upd, keep)
	if err != nil {
		return false, "", err
	}
	added, err := insertEvents(tx, id, keep)
	if err != nil {
		return false, "", err
	}
	if added == 0 && len(events) > 0 {
		return false, "", nil
	}
	// The row read above is the current one: SQLite's write transactions
	// are serial, and PostgreSQL holds its lock until commit.
	switch {
	case upd.Status == "":
	case status == StatusInProgress:
		closed = upd.Status
	case status == StatusAbandoned && upd.Supersedes != "" && (upd.Status == StatusAnswered || upd.Status == StatusVoicemail):
		res, err := tx.exec(`DELETE FROM incident_events WHERE incident_id = ? AND dedup_key = ?`, id, upd.Supersedes)
		if err != nil {
			return false, "", err
		}
		if n, err := res.RowsAffected(); err != nil {
			return false, "", err
		} else if n > 0 {
			closed = upd.Status
		}
	}
	if err := applyUpdate(tx, id, upd, closed); err != nil {
		return false, "", err
	}
	return true, closed, tracked.end(tx)
}

// EventType returns the type of the event with key on callSid's incident,
// "" when it has none (or there is no incident).
func (s *Incidents) EventType(ctx context.Context, callSid, key string) (EventType, error) {
	var typ string
	err := s.db.QueryRowContext(ctx, `SELECT e.type FROM incident_events e JOIN incidents i ON i.id = e.incident_id
		WHERE i.call_sid = ? AND e.dedup_key = ?`, callSid, key).Scan(&typ)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("incident: read event %s of %s: %w", key, callSid, err)
	}
	return EventType(typ), nil
}

// txRunner runs one transaction's statements, prepared once (store.Tx).
type txRunner struct {
	ctx     context.Context
	tx      *store.Tx
	dialect store.Dialect
}

func (r txRunner) exec(q string, args ...any) (sql.Result, error) {
	return r.tx.ExecContext(r.ctx, q, args...)
}

func (r txRunner) queryRow(q string, args ...any) *sql.Row {
	return r.tx.QueryRowContext(r.ctx, q, args...)
}

func (s *Incidents) inTx(ctx context.Context, fn func(txRunner) error) error {
	return s.inTxOn(ctx, s.db.Begin, fn)
}

// inTxOn runs fn in a transaction that begin starts: the pool's (inTx) or
// one connection's (store.Conn).
func (s *Incidents) inTxOn(ctx context.Context, begin func(context.Context) (*store.Tx, error), fn func(txRunner) error) error {
	tx, err := begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(txRunner{ctx: ctx, tx: tx, dialect: s.db.Dialect()}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func incidentID(tx txRunner, callSid string) (int64, error) {
	var id int64
	err := tx.queryRow(`SELECT id FROM incidents WHERE call_sid = ?`, callSid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// insertEventsValues starts an INSERT of events, before its VALUES rows.
const insertEventsValues = `INSERT INTO incident_events (incident_id, at, type, engineer, engineer_name, engineer_phone, detail, dedup_key) VALUES `

// insertEvents adds events to an incident in one statement, skipping those
// whose key it already has, and returns how many it added.
func insertEvents(tx txRunner, incident int64, events []Event) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	args := make([]any, 0, 8*len(events))
	for _, e := range events {
		key := e.Key
		if key == "" {
			key = string(e.Type)
		}
		args = append(args, incident, ms(e.At), string(e.Type), e.Engineer, e.EngineerName, e.EngineerPhone, e.Detail, key)
	}
	q := insertEventsValues + store.Placeholders(len(events), 8) + " ON CONFLICT (incident_id, dedup_key) DO NOTHING"
	res, err := tx.exec(q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// applyUpdate writes the update's fields, and status when the write closes
// the incident.
func applyUpdate(tx txRunner, id int64, u Update, status string) error {
	var set []string
	var args []any
	add := func(clause string, v ...any) {
		set = append(set, clause)
		args = append(args, v...)
	}
	if status != "" {
		add("status = ?", status)
	}
	if u.Customer != "" {
		add("customer = ?", u.Customer)
	}
	if u.Team != "" {
		add("team = ?", u.Team)
	}
	if u.MenuDigit != "" {
		add("menu_digit = ?", u.MenuDigit)
	}
	if u.AnsweredBy != "" {
		add("answered_by = ?", u.AnsweredBy)
	}
	switch {
	case u.AnsweredAtKey != "":
		add("answered_at = COALESCE((SELECT at FROM incident_events WHERE incident_id = ? AND dedup_key = ?), ?)", id, u.AnsweredAtKey, ms(u.AnsweredAt))
	case !u.AnsweredAt.IsZero():
		add("answered_at = ?", ms(u.AnsweredAt))
	}
	if u.RecordingURL != "" {
		add("recording_url = ?", u.RecordingURL)
	}
	if u.Transcript != "" {
		add("transcript = ?", u.Transcript)
	}
	if !u.EndedAt.IsZero() {
		add("ended_at = ?", ms(u.EndedAt))
	}
	if u.DurationS != nil {
		add("duration_s = ?", *u.DurationS)
	}
	if len(set) == 0 {
		return nil
	}
	args = append(args, id)
	_, err := tx.exec("UPDATE incidents SET "+strings.Join(set, ", ")+" WHERE id = ?", args...)
	return err
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
