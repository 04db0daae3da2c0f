package incident

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Stage is where a call in progress is, as the live view shows it.
type Stage string

// The stages of a call in progress (README "Web page", /live).
const (
	StageMenu        Stage = "menu"        // at the greeting, the announcements or the menu
	StageIdentifying Stage = "identifying" // asked for the customer PIN
	StageRinging     Stage = "ringing"     // an engineer's phone rings (or is screened by the whisper)
	StageConnected   Stage = "connected"   // an engineer pressed 1 and talks to the caller
	StageVoicemail   Stage = "voicemail"   // at the voicemail prompt: nobody took the call
)

// LiveCall is one call in progress and its stage, derived from its events
// alone, so every instance on one database shows the same, and a restart
// loses nothing.
type LiveCall struct {
	IncidentID int64     `json:"incident_id"`
	CallSid    string    `json:"call_sid"`
	From       string    `json:"from"`
	CallerName string    `json:"caller_name"`
	Customer   *string   `json:"customer"`
	Team       string    `json:"team"`
	StartedAt  time.Time `json:"started_at"`
	Stage      Stage     `json:"stage"`
	// StageSince is when the call reached its stage: the ring, the
	// accept, the voicemail prompt.
	StageSince time.Time `json:"stage_since"`
	// Engineer is who is rung (ringing) or talks to the caller
	// (connected), with the step of the chain and its pass, both from 1;
	// null at the other stages, and when a lost call state left them
	// unknown.
	Engineer     *string `json:"engineer"`
	EngineerName string  `json:"engineer_name,omitempty"`
	Step         *int    `json:"step"`
	Pass         *int    `json:"pass"`
}

// Waiting is an incident nobody has taken yet (state open) whose call has
// ended, or an alert: what paging is for.
type Waiting struct {
	IncidentID int64     `json:"incident_id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	Team       string    `json:"team"`
	From       string    `json:"from,omitempty"`
	CallerName string    `json:"caller_name,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	// LastPaged is the latest page of the incident (its paged event), nil
	// when none was placed yet.
	LastPaged *Paged `json:"last_paged"`
}

// Paged is who was paged for an incident, and when.
type Paged struct {
	Engineer     string    `json:"engineer"`
	EngineerName string    `json:"engineer_name"`
	At           time.Time `json:"at"`
}

// Live is the live view: the calls in progress, oldest first, and the
// incidents waiting for someone, newest first (at most WaitingLimit of
// OpenTotal).
type Live struct {
	Calls     []LiveCall `json:"calls"`
	Waiting   []Waiting  `json:"waiting"`
	OpenTotal int        `json:"waiting_total"`
}

// WaitingLimit bounds the waiting incidents Live lists.
const WaitingLimit = 100

// liveCalls reads the calls in progress with their events in one query: a
// range of the (status, started_at) index, and each call's events by the
// (incident_id, dedup_key) index. Only calls are ever in progress.
const liveCalls = `SELECT i.id, i.call_sid, i.from_number, i.caller_name, i.customer, i.team, i.started_at,
	e.at, e.type, e.engineer, e.engineer_name, e.detail, e.dedup_key
	FROM incidents i JOIN incident_events e ON e.incident_id = i.id
	WHERE i.status = 'in_progress'
	ORDER BY i.started_at, i.id, e.at, e.id`

// liveWaiting reads the newest open incidents that are not calls in
// progress, a range of the (state, started_at) index, with their latest
// page.
const liveWaiting = `SELECT i.id, i.kind, i.status, i.team, i.from_number, i.caller_name, i.summary, i.started_at,
	p.engineer, p.engineer_name, p.at
	FROM incidents i LEFT JOIN incident_events p ON p.id = (
		SELECT e.id FROM incident_events e WHERE e.incident_id = i.id AND e.type = 'paged' ORDER BY e.at DESC, e.id DESC LIMIT 1)
	WHERE i.state = 'open' AND i.status <> 'in_progress'
	ORDER BY i.started_at DESC, i.id DESC LIMIT ?`

const liveWaitingCount = `SELECT COUNT(*) FROM incidents WHERE state = 'open' AND status <> 'in_progress'`

// Live reads the live view. askPIN says that the line asks callers for a
// PIN (hotline.identify pin or callerid_or_pin), so a call that came in
// and is not identified yet is identifying rather than at the menu.
func (s *Incidents) Live(ctx context.Context, askPIN bool) (Live, error) {
	live := Live{Calls: []LiveCall{}, Waiting: []Waiting{}}
	rows, err := s.db.QueryContext(ctx, liveCalls)
	if err != nil {
		return Live{}, fmt.Errorf("incident: live calls: %w", err)
	}
	defer rows.Close()
	var cur *liveState
	for rows.Next() {
		var c LiveCall
		var customer sql.NullString
		var started, at int64
		var e Event
		if err := rows.Scan(&c.IncidentID, &c.CallSid, &c.From, &c.CallerName, &customer, &c.Team, &started,
			&at, &e.Type, &e.Engineer, &e.EngineerName, &e.Detail, &e.Key); err != nil {
			return Live{}, fmt.Errorf("incident: live calls: %w", err)
		}
		if cur == nil || cur.call.IncidentID != c.IncidentID {
			if cur != nil {
				live.Calls = append(live.Calls, cur.done())
			}
			c.Customer, c.StartedAt = nullString(customer), fromMS(started)
			cur = &liveState{call: c, askPIN: askPIN}
		}
		e.At = fromMS(at)
		cur.see(e)
	}
	if err := rows.Err(); err != nil {
		return Live{}, fmt.Errorf("incident: live calls: %w", err)
	}
	if cur != nil {
		live.Calls = append(live.Calls, cur.done())
	}

	if err := s.db.QueryRowContext(ctx, liveWaitingCount).Scan(&live.OpenTotal); err != nil {
		return Live{}, fmt.Errorf("incident: waiting incidents: %w", err)
	}
	wrows, err := s.db.QueryContext(ctx, liveWaiting, WaitingLimit)
	if err != nil {
		return Live{}, fmt.Errorf("incident: waiting incidents: %w", err)
	}
	defer wrows.Close()
	for wrows.Next() {
		var w Waiting
		var started int64
		var engineer, name sql.NullString
		var pagedAt sql.NullInt64
		if err := wrows.Scan(&w.IncidentID, &w.Kind, &w.Status, &w.Team, &w.From, &w.CallerName, &w.Summary, &started,
			&engineer, &name, &pagedAt); err != nil {
			return Live{}, fmt.Errorf("incident: waiting incidents: %w", err)
		}
		w.StartedAt = fromMS(started)
		if pagedAt.Valid {
			w.LastPaged = &Paged{Engineer: engineer.String, EngineerName: name.String, At: fromMS(pagedAt.Int64)}
		}
		live.Waiting = append(live.Waiting, w)
	}
	if err := wrows.Err(); err != nil {
		return Live{}, fmt.Errorf("incident: waiting incidents: %w", err)
	}
	return live, nil
}

// liveState walks one call's events in order to its stage.
type liveState struct {
	call   LiveCall
	askPIN bool
	seen   bool // a stage was set
}

// set moves the call to stage at e, naming e's engineer for ringing and
// connected.
func (l *liveState) set(stage Stage, e Event) {
	c := &l.call
	withEngineer := stage == StageRinging || stage == StageConnected
	// Each ring and accept starts afresh; a menu replayed does not.
	if !l.seen || c.Stage != stage || withEngineer {
		c.StageSince = e.At
	}
	l.seen = true
	c.Stage, c.Engineer, c.EngineerName, c.Step, c.Pass = stage, nil, "", nil, nil
	if withEngineer {
		if e.Engineer != "" {
			c.Engineer = &e.Engineer
		}
		c.EngineerName = e.EngineerName
		c.Step, c.Pass = stepPass(e.Key)
	}
}

// see applies one event. The call flow writes a step's outcome together
// with the next ring (or the voicemail prompt's route), so an outcome
// left last means the chain ended at the voicemail prompt. A decline
// leaves the stage as it is: the engineer's leg hangs up and the Dial's
// action, with the next ring, follows at once.
func (l *liveState) see(e Event) {
	switch e.Type {
	case EventIncoming:
		if l.askPIN {
			l.set(StageIdentifying, e)
		} else {
			l.set(StageMenu, e)
		}
	case EventPINInvalid:
		if lastPINTry(e.Detail) {
			l.set(StageMenu, e) // an unknown caller now: the menu
		} else {
			l.set(StageIdentifying, e)
		}
	case EventIdentified, EventMenu:
		l.set(StageMenu, e)
	case EventRoute, EventNoKey, EventNoAnswer, EventBusy, EventFailed:
		l.set(StageVoicemail, e)
	case EventRing:
		l.set(StageRinging, e)
	case EventAccepted:
		l.set(StageConnected, e)
	}
}

func (l *liveState) done() LiveCall {
	if !l.seen { // only events of no stage: a call whose start is still spooled elsewhere
		l.call.Stage, l.call.StageSince = StageMenu, l.call.StartedAt
	}
	return l.call
}

// stepPass reads the step and pass, from 1, of an event key the call flow
// wrote ("ring:p0:s1", "whisper:r1:p1:s0"); nil when the key has none
// (the call state was unreadable).
func stepPass(key string) (step, pass *int) {
	for _, part := range strings.Split(key, ":")[1:] {
		if len(part) < 2 {
			continue
		}
		n, err := strconv.Atoi(part[1:])
		if err != nil {
			continue
		}
		n++
		switch part[0] {
		case 's':
			step = &n
		case 'p':
			pass = &n
		}
	}
	return step, pass
}

// PINTryDetail is the detail of a pin_invalid event: "try 2 of 3".
func PINTryDetail(try, tries int) string {
	return "try " + strconv.Itoa(try) + " of " + strconv.Itoa(tries)
}

// lastPINTry reports whether a pin_invalid detail (PINTryDetail) was the
// caller's last try.
func lastPINTry(detail string) bool {
	var try, tries int
	if _, err := fmt.Sscanf(detail, "try %d of %d", &try, &tries); err != nil {
		return false
	}
	return try >= tries
}
