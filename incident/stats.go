package incident

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/hotline-dev/hotline/store"
)

// Tally counts calls by outcome, with the time callers waited for an
// engineer. Time to answer runs from the call coming in to an engineer
// accepting, menu included: what the caller lived through.
type Tally struct {
	Calls      int
	Answered   int
	Voicemail  int
	Missed     int
	Abandoned  int
	InProgress int
	// MedianToAnswer and P90ToAnswer are over answered calls; zero when
	// none was answered.
	MedianToAnswer time.Duration
	P90ToAnswer    time.Duration

	waits []int64 // ms from start to answer of each answered call
}

// AnswerRate is answered calls over finished calls (those in progress left
// out), from 0 to 1; 0 when no call finished.
func (t Tally) AnswerRate() float64 {
	done := t.Calls - t.InProgress
	if done == 0 {
		return 0
	}
	return float64(t.Answered) / float64(done)
}

// DayTally is one local calendar day of calls.
type DayTally struct {
	Day time.Time // local midnight
	Tally
}

// GroupTally is the calls of one team, menu option or engineer.
type GroupTally struct {
	Key string // team id, menu digit or engineer id
	Tally
}

// EngineerTally is what one engineer did with the calls that rang them:
// how often their phone rang and how each ring ended, from the timeline's
// events, and the calls they took (Answered, with the callers' waits).
type EngineerTally struct {
	Key                                                     string // engineer id
	Rung, Accepted, Declined, NoKey, NoAnswer, Busy, Failed int
	Tally
}

// AcceptRate is rings accepted over rings, from 0 to 1; 0 when the
// engineer was never rung.
func (e EngineerTally) AcceptRate() float64 {
	if e.Rung == 0 {
		return 0
	}
	return float64(e.Accepted) / float64(e.Rung)
}

// Stats summarises the calls that started in [From, To).
type Stats struct {
	From, To time.Time
	Total    Tally
	Days     []DayTally   // every local day of the range, oldest first, zero-filled
	Teams    []GroupTally // by calls, most first
	Options  []GroupTally // by menu digit
	// Engineers has everyone rung or answering in the range, most rung first.
	Engineers []EngineerTally
}

// ringOutcomes are the event types counted per engineer: a ring and each
// way it can end.
var ringOutcomes = []EventType{EventRing, EventAccepted, EventDeclined, EventNoKey, EventNoAnswer, EventBusy, EventFailed}

func (e *EngineerTally) add(typ EventType, n int) {
	switch typ {
	case EventRing:
		e.Rung += n
	case EventAccepted:
		e.Accepted += n
	case EventDeclined:
		e.Declined += n
	case EventNoKey:
		e.NoKey += n
	case EventNoAnswer:
		e.NoAnswer += n
	case EventBusy:
		e.Busy += n
	case EventFailed:
		e.Failed += n
	}
}

// Stats computes the reporting figures of the calls that started in
// [from, to), with days cut at midnight in loc. It reads the range once,
// from a covering index, and aggregates in memory.
func (s *Incidents) Stats(ctx context.Context, from, to time.Time, loc *time.Location) (Stats, error) {
	if loc == nil {
		loc = time.UTC
	}
	out := Stats{From: from, To: to}
	// Days are found by bisecting their start instants, which keeps DST
	// days (23 or 25 hours) right without converting every row.
	var starts []int64
	for d := midnight(from.In(loc)); d.Before(to); d = d.AddDate(0, 0, 1) {
		out.Days = append(out.Days, DayTally{Day: d})
		starts = append(starts, ms(d))
	}
	teams := map[string]*Tally{}
	options := map[string]*Tally{}
	engineers := map[string]*Tally{}
	group := func(m map[string]*Tally, k string) *Tally {
		t, ok := m[k]
		if !ok {
			t = &Tally{}
			m[k] = t
		}
		return t
	}
	// SQLite's planner prefers the narrower started_at index unless told;
	// PostgreSQL has no such hint and finds the covering index by itself.
	hint := ""
	if s.db.Dialect() == store.SQLite {
		hint = ` INDEXED BY incidents_stats`
	}
	// The rings are counted from another index on another connection while
	// this goroutine scans the calls.
	rings := make(chan ringResult, 1)
	go func() {
		byKey, err := s.ringCounts(ctx, from, to)
		rings <- ringResult{byKey, err}
	}()
	q := `SELECT started_at, status, team, menu_digit, answered_by, answered_at
		FROM incidents` + hint + ` WHERE started_at >= ? AND started_at < ?`
	rows, err := s.db.QueryContext(ctx, q, ms(from), ms(to))
	if err != nil {
		return Stats{}, fmt.Errorf("incident: stats: %w", err)
	}
	defer rows.Close()
	var started int64
	var status, team, digit string
	var by sql.NullString
	var answered sql.NullInt64
	for rows.Next() {
		if err := rows.Scan(&started, &status, &team, &digit, &by, &answered); err != nil {
			return Stats{}, fmt.Errorf("incident: stats: %w", err)
		}
		if status == StatusAlert {
			continue // a machine's alert is no call
		}
		wait := int64(-1)
		if status == StatusAnswered && answered.Valid {
			wait = max(answered.Int64-started, 0)
		}
		day, _ := slices.BinarySearch(starts, started+1)
		out.Total.count(status, wait)
		group(teams, team).count(status, wait)
		group(options, digit).count(status, wait)
		if day > 0 {
			out.Days[day-1].count(status, wait)
		}
		if by.Valid && by.String != "" && status == StatusAnswered {
			group(engineers, by.String).count(status, wait)
		}
	}
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("incident: stats: %w", err)
	}
	out.Total.finish()
	for i := range out.Days {
		out.Days[i].finish()
	}
	out.Teams = groups(teams, func(a, b GroupTally) int { return cmp.Or(b.Calls-a.Calls, cmp.Compare(a.Key, b.Key)) })
	out.Options = groups(options, func(a, b GroupTally) int { return cmp.Compare(a.Key, b.Key) })
	r := <-rings
	if r.err != nil {
		return Stats{}, r.err
	}
	out.Engineers = engineerTallies(r.byKey, groups(engineers, func(a, b GroupTally) int { return cmp.Compare(a.Key, b.Key) }))
	return out, nil
}

type ringResult struct {
	byKey map[string]*EngineerTally
	err   error
}

// ringCounts counts each engineer's rings and their outcomes in [from, to)
// (by the time of the event), from the index incident_events_engineer_at.
func (s *Incidents) ringCounts(ctx context.Context, from, to time.Time) (map[string]*EngineerTally, error) {
	q := `SELECT engineer, type, COUNT(*) FROM incident_events
		WHERE type IN ` + store.Placeholders(1, len(ringOutcomes)) + ` AND at >= ? AND at < ? AND engineer <> ''
		GROUP BY engineer, type`
	args := make([]any, 0, len(ringOutcomes)+2)
	for _, t := range ringOutcomes {
		args = append(args, string(t))
	}
	args = append(args, ms(from), ms(to))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("incident: stats per engineer: %w", err)
	}
	defer rows.Close()
	byKey := map[string]*EngineerTally{}
	for rows.Next() {
		var eng string
		var typ EventType
		var n int
		if err := rows.Scan(&eng, &typ, &n); err != nil {
			return nil, fmt.Errorf("incident: stats per engineer: %w", err)
		}
		engineerTally(byKey, eng).add(typ, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: stats per engineer: %w", err)
	}
	return byKey, nil
}

func engineerTally(byKey map[string]*EngineerTally, k string) *EngineerTally {
	e, ok := byKey[k]
	if !ok {
		e = &EngineerTally{Key: k}
		byKey[k] = e
	}
	return e
}

// engineerTallies joins the rings with the calls each engineer answered,
// most rung first.
func engineerTallies(byKey map[string]*EngineerTally, answeredBy []GroupTally) []EngineerTally {
	for _, g := range answeredBy {
		engineerTally(byKey, g.Key).Tally = g.Tally
	}
	out := make([]EngineerTally, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b EngineerTally) int {
		return cmp.Or(b.Rung-a.Rung, b.Answered-a.Answered, cmp.Compare(a.Key, b.Key))
	})
	return out
}

func (t *Tally) count(status string, wait int64) {
	t.Calls++
	switch status {
	case StatusAnswered:
		t.Answered++
	case StatusVoicemail:
		t.Voicemail++
	case StatusMissed:
		t.Missed++
	case StatusAbandoned:
		t.Abandoned++
	case StatusInProgress:
		t.InProgress++
	}
	if wait >= 0 {
		t.waits = append(t.waits, wait)
	}
}

// finish computes the percentiles and lets the samples go.
func (t *Tally) finish() {
	if len(t.waits) > 0 {
		slices.Sort(t.waits)
		t.MedianToAnswer = percentile(t.waits, 50)
		t.P90ToAnswer = percentile(t.waits, 90)
	}
	t.waits = nil
}

// percentile is the nearest-rank percentile p of sorted samples in ms.
func percentile(sorted []int64, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return time.Duration(sorted[max(rank-1, 0)]) * time.Millisecond
}

func groups(m map[string]*Tally, order func(a, b GroupTally) int) []GroupTally {
	out := make([]GroupTally, 0, len(m))
	for k, t := range m {
		t.finish()
		out = append(out, GroupTally{Key: k, Tally: *t})
	}
	slices.SortFunc(out, order)
	return out
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
