package incident

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
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

	waits histogram // seconds from start to answer of the answered calls
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
	// MedianToAccept is the median time from their phone ringing to their
	// key press, over the rings they accepted; zero when none.
	MedianToAccept time.Duration
	Tally

	accepts histogram
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
// [from, to), with days cut at midnight in loc. A range of whole days in
// the roll-ups' zone reads the daily roll-ups, and the calls still in
// progress; any other range sums the calls themselves, ring by ring. A call
// and its rings count in the day it started.
func (s *Incidents) Stats(ctx context.Context, from, to time.Time, loc *time.Location) (Stats, error) {
	if loc == nil {
		loc = time.UTC
	}
	zone, err := s.RollupZone(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("incident: stats: %w", err)
	}
	var sm *sums
	if zone == loc.String() && midnight(from.In(loc)).Equal(from) && midnight(to.In(loc)).Equal(to) {
		if sm, err = s.readRollups(ctx, dayOf(from, loc), dayOf(to, loc)); err != nil {
			return Stats{}, err
		}
		live, err := sumCalls(ctx, s.db, loc, true, `i.status = ? AND i.started_at >= ? AND i.started_at < ?`, StatusInProgress, ms(from), ms(to))
		if err != nil {
			return Stats{}, fmt.Errorf("incident: stats: %w", err)
		}
		sm.addSums(live, 1)
	} else if sm, err = sumCalls(ctx, s.db, loc, true, `i.started_at >= ? AND i.started_at < ?`, ms(from), ms(to)); err != nil {
		return Stats{}, fmt.Errorf("incident: stats: %w", err)
	}
	return sm.stats(from, to, loc), nil
}

// stats turns the sums of [from, to) into the figures.
func (sm *sums) stats(from, to time.Time, loc *time.Location) Stats {
	out := Stats{From: from, To: to}
	days := map[int]int{} // YYYYMMDD → index in out.Days
	for d := midnight(from.In(loc)); d.Before(to); d = d.AddDate(0, 0, 1) {
		days[dayOf(d, loc)] = len(out.Days)
		out.Days = append(out.Days, DayTally{Day: d})
	}
	teams := map[string]*Tally{}
	options := map[string]*Tally{}
	engineers := map[string]*EngineerTally{}
	group := func(m map[string]*Tally, k string) *Tally {
		t, ok := m[k]
		if !ok {
			t = &Tally{}
			m[k] = t
		}
		return t
	}
	for k, n := range sm.calls {
		if n == 0 {
			continue
		}
		out.Total.count(k.status, k.wait, n)
		group(teams, k.team).count(k.status, k.wait, n)
		group(options, k.digit).count(k.status, k.wait, n)
		if i, ok := days[k.day]; ok {
			out.Days[i].count(k.status, k.wait, n)
		}
		if k.answeredBy != "" && k.status == StatusAnswered {
			engineerTally(engineers, k.answeredBy).count(k.status, k.wait, n)
		}
	}
	for k, n := range sm.rings {
		if n != 0 {
			engineerTally(engineers, k.engineer).add(k.typ, n)
		}
	}
	for k, n := range sm.accepts {
		if n != 0 {
			e := engineerTally(engineers, k.engineer)
			e.accepts.add(k.secs, n)
		}
	}
	out.Total.finish()
	for i := range out.Days {
		out.Days[i].finish()
	}
	out.Teams = groups(teams, func(a, b GroupTally) int { return cmp.Or(b.Calls-a.Calls, cmp.Compare(a.Key, b.Key)) })
	out.Options = groups(options, func(a, b GroupTally) int { return cmp.Compare(a.Key, b.Key) })
	out.Engineers = make([]EngineerTally, 0, len(engineers))
	for _, e := range engineers {
		e.finish()
		e.MedianToAccept = e.accepts.percentile(50)
		e.accepts = nil
		out.Engineers = append(out.Engineers, *e)
	}
	slices.SortFunc(out.Engineers, func(a, b EngineerTally) int {
		return cmp.Or(b.Rung-a.Rung, b.Answered-a.Answered, cmp.Compare(a.Key, b.Key))
	})
	return out
}

func engineerTally(byKey map[string]*EngineerTally, k string) *EngineerTally {
	e, ok := byKey[k]
	if !ok {
		e = &EngineerTally{Key: k}
		byKey[k] = e
	}
	return e
}

// histogram counts samples by whole seconds.
type histogram map[int]int

func (h *histogram) add(secs, n int) {
	if *h == nil {
		*h = histogram{}
	}
	(*h)[secs] += n
}

// percentile is the nearest-rank percentile p of the samples; zero when
// there are none.
func (h histogram) percentile(p int) time.Duration {
	total := 0
	keys := make([]int, 0, len(h))
	for k, n := range h {
		if n > 0 {
			total += n
			keys = append(keys, k)
		}
	}
	if total == 0 {
		return 0
	}
	slices.Sort(keys)
	rank := max((p*total+99)/100, 1) // ceil(p/100 * n)
	seen := 0
	for _, k := range keys {
		if seen += h[k]; seen >= rank {
			return time.Duration(k) * time.Second
		}
	}
	return time.Duration(keys[len(keys)-1]) * time.Second
}

func (t *Tally) count(status string, wait, n int) {
	t.Calls += n
	switch status {
	case StatusAnswered:
		t.Answered += n
	case StatusVoicemail:
		t.Voicemail += n
	case StatusMissed:
		t.Missed += n
	case StatusAbandoned:
		t.Abandoned += n
	case StatusInProgress:
		t.InProgress += n
	}
	if wait >= 0 {
		t.waits.add(wait, n)
	}
}

// finish computes the percentiles and lets the samples go.
func (t *Tally) finish() {
	t.MedianToAnswer = t.waits.percentile(50)
	t.P90ToAnswer = t.waits.percentile(90)
	t.waits = nil
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
