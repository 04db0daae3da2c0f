package incident

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// spoolVersion marks the lines spoolRecord writes. Lines without it were
// written by hotline before spool records had their own type: their update
// is spelled with Update's Go field names (legacyUpdate).
const spoolVersion = 1

// errNewerSpool means the spool holds a line a newer hotline wrote: it is
// replayed by that version, not skipped by this one.
var errNewerSpool = errors.New("incident: the spool was written by a newer hotline")

// spoolRecord is one line of the spool file: a writeOp with every field of
// its incident, update and events spelled out. The spool is a durable
// record of writes to replay, not the JSON API, so it must carry what the
// API hides (an event's Key, IfInProgress, UnlessKey); recordOf and op are
// the one place the domain types are converted, and
// TestSpoolRecordCarriesEveryField fails when a field is added to Incident,
// Event or Update and not here.
type spoolRecord struct {
	Version int            `json:"v"`
	CallSid string         `json:"call_sid"`
	Start   *spoolIncident `json:"start,omitempty"`
	Update  spoolUpdate    `json:"update"`
	Events  []spoolEvent   `json:"events,omitempty"`
}

type spoolIncident struct {
	ID             int64        `json:"id,omitempty"`
	CallSid        string       `json:"call_sid"`
	From           string       `json:"from,omitempty"`
	CallerName     string       `json:"caller_name,omitempty"`
	Attestation    string       `json:"caller_attestation,omitempty"`
	To             string       `json:"to,omitempty"`
	Team           string       `json:"team,omitempty"`
	MenuDigit      string       `json:"menu_digit,omitempty"`
	Customer       *string      `json:"customer,omitempty"`
	Status         string       `json:"status,omitempty"`
	AnsweredBy     *string      `json:"answered_by,omitempty"`
	StartedAt      time.Time    `json:"started_at,omitzero"`
	AnsweredAt     *time.Time   `json:"answered_at,omitempty"`
	EndedAt        *time.Time   `json:"ended_at,omitempty"`
	DurationS      *int         `json:"duration_s,omitempty"`
	RecordingURL   *string      `json:"recording_url,omitempty"`
	Transcript     *string      `json:"transcript,omitempty"`
	ConfigRevision string       `json:"config_revision,omitempty"`
	Note           string       `json:"note,omitempty"`
	Kind           string       `json:"kind,omitempty"`
	State          string       `json:"state,omitempty"`
	AcknowledgedBy *string      `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *time.Time   `json:"acknowledged_at,omitempty"`
	ResolvedBy     *string      `json:"resolved_by,omitempty"`
	ResolvedAt     *time.Time   `json:"resolved_at,omitempty"`
	Summary        string       `json:"summary,omitempty"`
	Details        string       `json:"details,omitempty"`
	DedupKey       string       `json:"dedup_key,omitempty"`
	Events         []spoolEvent `json:"events,omitempty"`
}

type spoolEvent struct {
	At            time.Time `json:"at,omitzero"`
	Type          string    `json:"type"`
	Engineer      string    `json:"engineer,omitempty"`
	EngineerName  string    `json:"engineer_name,omitempty"`
	EngineerPhone string    `json:"engineer_phone,omitempty"`
	Detail        string    `json:"detail,omitempty"`
	Key           string    `json:"key,omitempty"`
	IfInProgress  bool      `json:"if_in_progress,omitempty"`
	UnlessKey     string    `json:"unless_key,omitempty"`
}

type spoolUpdate struct {
	Customer      string    `json:"customer,omitempty"`
	Team          string    `json:"team,omitempty"`
	MenuDigit     string    `json:"menu_digit,omitempty"`
	Status        string    `json:"status,omitempty"`
	AnsweredBy    string    `json:"answered_by,omitempty"`
	AnsweredAt    time.Time `json:"answered_at,omitzero"`
	AnsweredAtKey string    `json:"answered_at_key,omitempty"`
	RecordingURL  string    `json:"recording_url,omitempty"`
	NoTranscript  bool      `json:"no_transcript,omitempty"`
	Transcript    string    `json:"transcript,omitempty"`
	EndedAt       time.Time `json:"ended_at,omitzero"`
	DurationS     *int      `json:"duration_s,omitempty"`
	Supersedes    string    `json:"supersedes,omitempty"`
}

// legacyUpdate is the update of a line written before spoolVersion: Update
// encoded without tags. Its names are frozen here, whatever Update becomes.
type legacyUpdate struct {
	Customer      string    `json:"Customer"`
	Team          string    `json:"Team"`
	MenuDigit     string    `json:"MenuDigit"`
	Status        string    `json:"Status"`
	AnsweredBy    string    `json:"AnsweredBy"`
	AnsweredAt    time.Time `json:"AnsweredAt"`
	AnsweredAtKey string    `json:"AnsweredAtKey"`
	RecordingURL  string    `json:"RecordingURL"`
	Transcript    string    `json:"Transcript"`
	EndedAt       time.Time `json:"EndedAt"`
	DurationS     *int      `json:"DurationS"`
}

// spoolUpdate is the update a legacy line stands for; it had no Supersedes
// and no NoTranscript (so its voicemail text waits for a transcript).
func (u legacyUpdate) spoolUpdate() spoolUpdate {
	return spoolUpdate{
		Customer: u.Customer, Team: u.Team, MenuDigit: u.MenuDigit, Status: u.Status, AnsweredBy: u.AnsweredBy,
		AnsweredAt: u.AnsweredAt, AnsweredAtKey: u.AnsweredAtKey, RecordingURL: u.RecordingURL, Transcript: u.Transcript,
		EndedAt: u.EndedAt, DurationS: u.DurationS,
	}
}

// encodeSpoolLine returns op as one spool line, without its newline.
func encodeSpoolLine(op *writeOp) ([]byte, error) {
	return json.Marshal(recordOf(op))
}

// decodeSpoolLine reads a line encodeSpoolLine wrote, or one written before
// spoolVersion. Those old lines never carried an event's UnlessKey: an
// event they hold is replayed without it.
func decodeSpoolLine(line []byte) (*writeOp, error) {
	var r spoolRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, err
	}
	switch {
	case r.Version == 0:
		var old struct {
			Update legacyUpdate `json:"update"`
		}
		if err := json.Unmarshal(line, &old); err != nil {
			return nil, err
		}
		r.Update = old.Update.spoolUpdate()
	case r.Version > spoolVersion:
		return nil, fmt.Errorf("%w (line version %d, this one reads %d)", errNewerSpool, r.Version, spoolVersion)
	case r.Version != spoolVersion:
		return nil, fmt.Errorf("incident: spool line of version %d", r.Version)
	}
	return r.op(), nil
}

func recordOf(op *writeOp) spoolRecord {
	r := spoolRecord{Version: spoolVersion, CallSid: op.CallSid, Update: updateRecord(op.Update), Events: eventRecords(op.Events)}
	if op.Start != nil {
		in := incidentRecord(*op.Start)
		r.Start = &in
	}
	return r
}

func (r spoolRecord) op() *writeOp {
	op := &writeOp{CallSid: r.CallSid, Update: r.Update.update(), Events: events(r.Events)}
	if r.Start != nil {
		in := r.Start.incident()
		op.Start = &in
	}
	return op
}

func incidentRecord(in Incident) spoolIncident {
	return spoolIncident{
		ID: in.ID, CallSid: in.CallSid, From: in.From, CallerName: in.CallerName, Attestation: in.CallerAttestation, To: in.To,
		Team: in.Team, MenuDigit: in.MenuDigit, Customer: in.Customer, Status: in.Status, AnsweredBy: in.AnsweredBy,
		StartedAt: in.StartedAt, AnsweredAt: in.AnsweredAt, EndedAt: in.EndedAt, DurationS: in.DurationS,
		RecordingURL: in.RecordingURL, Transcript: in.Transcript, ConfigRevision: in.ConfigRevision, Note: in.Note,
		Kind: in.Kind, State: in.State, AcknowledgedBy: in.AcknowledgedBy, AcknowledgedAt: in.AcknowledgedAt,
		ResolvedBy: in.ResolvedBy, ResolvedAt: in.ResolvedAt, Summary: in.Summary, Details: in.Details, DedupKey: in.DedupKey,
		Events: eventRecords(in.Events),
	}
}

func (r spoolIncident) incident() Incident {
	return Incident{
		ID: r.ID, CallSid: r.CallSid, From: r.From, CallerName: r.CallerName, CallerAttestation: r.Attestation, To: r.To,
		Team: r.Team, MenuDigit: r.MenuDigit, Customer: r.Customer, Status: r.Status, AnsweredBy: r.AnsweredBy,
		StartedAt: r.StartedAt, AnsweredAt: r.AnsweredAt, EndedAt: r.EndedAt, DurationS: r.DurationS,
		RecordingURL: r.RecordingURL, Transcript: r.Transcript, ConfigRevision: r.ConfigRevision, Note: r.Note,
		Kind: r.Kind, State: r.State, AcknowledgedBy: r.AcknowledgedBy, AcknowledgedAt: r.AcknowledgedAt,
		ResolvedBy: r.ResolvedBy, ResolvedAt: r.ResolvedAt, Summary: r.Summary, Details: r.Details, DedupKey: r.DedupKey,
		Events: events(r.Events),
	}
}

func eventRecords(events []Event) []spoolEvent {
	if len(events) == 0 {
		return nil
	}
	out := make([]spoolEvent, len(events))
	for i, e := range events {
		out[i] = spoolEvent{
			At: e.At, Type: string(e.Type), Engineer: e.Engineer, EngineerName: e.EngineerName, EngineerPhone: e.EngineerPhone,
			Detail: e.Detail, Key: e.Key, IfInProgress: e.IfInProgress, UnlessKey: e.UnlessKey,
		}
	}
	return out
}

func events(records []spoolEvent) []Event {
	if len(records) == 0 {
		return nil
	}
	out := make([]Event, len(records))
	for i, r := range records {
		out[i] = Event{
			At: r.At, Type: EventType(r.Type), Engineer: r.Engineer, EngineerName: r.EngineerName, EngineerPhone: r.EngineerPhone,
			Detail: r.Detail, Key: r.Key, IfInProgress: r.IfInProgress, UnlessKey: r.UnlessKey,
		}
	}
	return out
}

func updateRecord(u Update) spoolUpdate { return spoolUpdate(u) }

func (r spoolUpdate) update() Update { return Update(r) }
