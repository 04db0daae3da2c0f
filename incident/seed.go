package incident

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/store"
)

// SeedOptions says what Seed writes.
type SeedOptions struct {
	N    int       // incidents to write
	End  time.Time // the newest call starts before End
	Days int       // calls spread over the Days before End; default 365
	// Seed makes the data reproducible: the same seed, config and End write
	// the same calls (call SIDs aside, which are unique per run).
	Seed uint64
	// Progress, when set, is called after each committed batch with the
	// number of incidents written so far.
	Progress func(done int)
	// Chain, when set, is the team's escalation chain at an instant: the
	// engineer of each step in order, as the call path resolves it
	// (rotations at that time, overrides included). Each call then rings
	// the engineers on call at its time, down the chain and round again,
	// and a call that finds nobody on call is missed. Without it, a call
	// rings the engineers the team's chain can reach, in config order,
	// whoever is on call then.
	Chain func(team string, at time.Time) ([]string, error)
}

// seedBatch is the number of incidents written per transaction, and
// seedRows the rows per INSERT statement (bounded by SQLite's 32766
// parameters: 17 columns x 500 rows).
const (
	seedBatch = 10000
	seedRows  = 500
)

// Seed bulk-writes N realistic, finished incidents with their timelines,
// spread over opts.Days with a daytime peak, routed through cfg's menu and
// answered by engineers of each team's chain (opts.Chain: the one on call
// at the call's time), for demos and benchmarks. It
// writes in batches, one transaction each, and returns how many it wrote.
func (s *Incidents) Seed(ctx context.Context, cfg *config.Config, opts SeedOptions) (int, error) {
	if opts.N <= 0 {
		return 0, nil
	}
	if len(cfg.Menu.Options) == 0 {
		return 0, fmt.Errorf("incident: seed: the config has no menu options")
	}
	if opts.Days <= 0 {
		opts.Days = 365
	}
	g := newSeeder(cfg, opts)
	var next int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM incidents`).Scan(&next); err != nil {
		return 0, fmt.Errorf("incident: seed: %w", err)
	}
	done := 0
	for done < opts.N {
		n := min(seedBatch, opts.N-done)
		calls := make([]seedCall, n)
		for i := range calls {
			c, err := g.call(next+int64(done+i), g.starts[done+i])
			if err != nil {
				return done, fmt.Errorf("incident: seed: %w", err)
			}
			calls[i] = c
		}
		if err := s.inTx(ctx, func(tx txRunner) error { return insertSeed(ctx, tx.tx.Tx, calls) }); err != nil {
			return done, fmt.Errorf("incident: seed: %w", err)
		}
		if err := s.advanceIDs(ctx); err != nil {
			return done, fmt.Errorf("incident: seed: %w", err)
		}
		done += n
		if opts.Progress != nil {
			opts.Progress(done)
		}
	}
	// The seed writes calls whole, not as they end: the stats' roll-ups
	// are made again from all of them.
	if err := s.RebuildRollups(ctx, cfg.Hotline.Location); err != nil {
		return done, fmt.Errorf("incident: seed: %w", err)
	}
	return done, nil
}

// advanceIDs moves PostgreSQL's incident id sequence past the ids Seed
// chose itself, so the next call's incident does not collide with them.
// SQLite takes the next rowid from the table and needs nothing.
func (s *Incidents) advanceIDs(ctx context.Context) error {
	if s.db.Dialect() != store.Postgres {
		return nil
	}
	const q = `SELECT setval(pg_get_serial_sequence('incidents', 'id'), (SELECT MAX(id) FROM incidents))`
	_, err := s.db.ExecContext(ctx, q)
	return err
}

type seedCall struct {
	in     Incident
	events []Event
}

type seeder struct {
	cfg    *config.Config
	chain  func(team string, at time.Time) ([]string, error)
	rng    *rand.Rand
	run    string // unique per run, so call SIDs never collide
	starts []time.Time
	teams  map[string][]string // team → engineers its chain can reach
	names  []string
}

var (
	seedNames = []string{"", "", "Globex", "Initech", "Umbrella Corp", "Hooli", "Stark Industries", "Wayne Enterprises",
		"Acme Retail", "Soylent", "Vandelay Industries", "Cyberdyne", "Tyrell Corp", "Wonka Industries", "Massive Dynamic",
		"Pied Piper", "Aperture Science", "Oscorp", "Duff Brewing", "Gringotts"}
	seedMessages = []string{
		"Our VPN is down for the whole office, please call back.",
		"The checkout page returns an error since this morning.",
		"We cannot log in to the portal, ticket number 4471.",
		"Production database seems slow, orders are timing out.",
		"Please call me back about the invoice on our last ticket.",
		"The mail server is rejecting messages from our domain.",
		"Printers on the third floor are offline again.",
	}
	// hourWeight shapes the calls over the day: a business-hours peak.
	hourWeight = [24]int{1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 11, 9, 10, 11, 11, 10, 8, 5, 4, 3, 2, 2, 1}
)

func newSeeder(cfg *config.Config, opts SeedOptions) *seeder {
	g := &seeder{
		cfg:   cfg,
		chain: opts.Chain,
		rng:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		run:   strconv.FormatInt(time.Now().UnixNano()%1e12, 36),
		teams: map[string][]string{},
		names: seedNames,
	}
	for _, t := range cfg.Teams {
		var ids []string
		for _, st := range t.Escalation {
			if st.Engineer != "" {
				ids = append(ids, st.Engineer)
			}
			for _, rid := range st.Rotations {
				if r, ok := cfg.Rotation(rid); ok {
					ids = append(ids, r.Members...)
				}
			}
		}
		g.teams[t.ID] = ids
	}
	total := 0
	for _, w := range hourWeight {
		total += w
	}
	first := opts.End.Add(-time.Duration(opts.Days) * 24 * time.Hour).Truncate(time.Hour)
	hours := opts.Days * 24
	g.starts = make([]time.Time, opts.N)
	for i := range g.starts {
		// Pick a day, then an hour by weight, then a second in it.
		day := g.rng.IntN(opts.Days)
		pick := g.rng.IntN(total)
		h := 0
		for pick >= hourWeight[h] {
			pick -= hourWeight[h]
			h++
		}
		off := min(day*24+h, hours-1)
		g.starts[i] = first.Add(time.Duration(off)*time.Hour + time.Duration(g.rng.IntN(3600000))*time.Millisecond)
	}
	// Ids grow with time, as they do when calls really come in.
	slices.SortFunc(g.starts, func(a, b time.Time) int { return a.Compare(b) })
	return g
}

// call invents one finished call starting at t.
func (g *seeder) call(id int64, t time.Time) (seedCall, error) {
	r := g.rng
	opts := g.cfg.Menu.Options
	opt := opts[0]
	if len(opts) > 1 && r.IntN(10) >= 6 {
		opt = opts[1+r.IntN(len(opts)-1)]
	}
	team, _ := g.cfg.Team(opt.Team)
	caller := 1000000 + r.IntN(20000) // repeat callers, as in real life
	in := Incident{
		ID: id, CallSid: fmt.Sprintf("CAseed%s%020d", g.run, id), From: "+1555" + strconv.Itoa(caller),
		CallerName: g.names[caller%len(g.names)], To: g.cfg.Hotline.Number, Team: opt.Team, MenuDigit: opt.Digit,
		StartedAt: t, ConfigRevision: g.cfg.Revision,
	}
	at := t
	ev := []Event{{At: at, Type: EventIncoming, Detail: "call from " + in.From, Key: "incoming"}}
	at = at.Add(time.Duration(3000+r.IntN(9000)) * time.Millisecond)
	// The chain is resolved when the caller has chosen, as the call path
	// resolves it.
	candidates := g.teams[opt.Team]
	if g.chain != nil {
		var err error
		if candidates, err = g.chain(opt.Team, at); err != nil {
			return seedCall{}, fmt.Errorf("team %s at %s: %w", opt.Team, at.Format(time.RFC3339), err)
		}
	}
	ev = append(ev,
		Event{At: at, Type: EventMenu, Detail: "pressed " + opt.Digit, Key: "menu:choice"},
		Event{At: at, Type: EventRoute, Detail: seedRouteDetail(opt.Team, candidates), Key: "route"})
	roll := r.IntN(100)
	status := StatusAnswered
	switch {
	case roll >= 95:
		status = StatusMissed
	case roll >= 85:
		status = StatusAbandoned
	case roll >= 75:
		status = StatusVoicemail
	}
	if len(candidates) == 0 || (status == StatusVoicemail && team != nil && !team.Voicemail) {
		status = StatusMissed
	}
	rings := 1 + r.IntN(3)
	if status == StatusAnswered && r.IntN(3) > 0 {
		rings = 1
	}
	for i := 0; i < rings && len(candidates) > 0; i++ {
		eng := candidates[i%len(candidates)]
		e, _ := g.cfg.Engineer(eng)
		step := fmt.Sprintf(":p%d:s%d", i/len(candidates), i%len(candidates))
		ev = append(ev, Event{At: at, Type: EventRing, Engineer: eng, EngineerName: e.Name, EngineerPhone: e.Phone, Detail: "ringing", Key: "ring" + step})
		ringFor := time.Duration(4000+r.IntN(16000)) * time.Millisecond
		at = at.Add(ringFor)
		if status == StatusAnswered && i == rings-1 {
			in.AnsweredBy, in.AnsweredAt = &eng, ptr(at)
			ev = append(ev,
				Event{At: at, Type: EventAccepted, Engineer: eng, EngineerName: e.Name, EngineerPhone: e.Phone, Detail: "pressed 1", Key: "whisper" + step},
				Event{At: at, Type: EventBridged, Engineer: eng, EngineerName: e.Name, EngineerPhone: e.Phone, Detail: "talked to the caller", Key: "dial" + step})
			at = at.Add(time.Duration(60+r.IntN(1500)) * time.Second)
			break
		}
		outcome := []EventType{EventNoAnswer, EventNoKey, EventDeclined, EventBusy}[r.IntN(4)]
		ev = append(ev, Event{At: at, Type: outcome, Engineer: eng, EngineerName: e.Name, EngineerPhone: e.Phone, Key: "dial" + step})
	}
	switch status {
	case StatusVoicemail:
		msg := seedMessages[r.IntN(len(seedMessages))]
		secs := 10 + r.IntN(60)
		at = at.Add(time.Duration(secs) * time.Second)
		in.RecordingURL = ptr("https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE" + fmt.Sprintf("%032x", id))
		in.Transcript = &msg
		ev = append(ev, Event{At: at, Type: EventVoicemail, Detail: "message of " + strconv.Itoa(secs) + " s", Key: "voicemail"},
			Event{At: at.Add(20 * time.Second), Type: EventTranscript, Detail: "transcribed", Key: "transcript"})
	case StatusAbandoned:
		ev = append(ev, Event{At: at, Type: EventHangup, Detail: "caller hung up before anyone accepted", Key: "hangup"})
	case StatusMissed:
		ev = append(ev, Event{At: at, Type: EventMissed, Detail: "nobody accepted", Key: "missed"})
	}
	in.Status = status
	in.EndedAt = ptr(at)
	d := int(at.Sub(t) / time.Second)
	in.DurationS = &d
	ev = append(ev, Event{At: at, Type: EventCompleted, Detail: "call ended: completed", Key: "status"})
	return seedCall{in: in, events: ev}, nil
}

// seedRouteDetail says the route as the call path does.
func seedRouteDetail(team string, chain []string) string {
	if len(chain) == 0 {
		return "team " + team + ": nobody on call"
	}
	return "team " + team + ": " + strings.Join(chain, ", ")
}

func ptr[T any](v T) *T { return &v }

// insertSeed writes calls with multi-row INSERTs: far fewer statements than
// one per row, which is what makes a million incidents take seconds.
func insertSeed(ctx context.Context, tx *sql.Tx, calls []seedCall) error {
	const incCols = `INSERT INTO incidents (id, call_sid, from_number, caller_name, to_number, team, menu_digit, status,
		answered_by, started_at, answered_at, ended_at, duration_s, recording_url, transcript, config_revision, note,
		state, acknowledged_by, acknowledged_at, resolved_by, resolved_at) VALUES `
	var events [][]any
	for lo := 0; lo < len(calls); lo += seedRows {
		part := calls[lo:min(lo+seedRows, len(calls))]
		args := make([]any, 0, len(part)*22)
		for _, c := range part {
			in := c.in
			var answeredAt any
			if in.AnsweredAt != nil {
				answeredAt = ms(*in.AnsweredAt)
			}
			args = append(args, in.ID, in.CallSid, in.From, in.CallerName, in.To, in.Team, in.MenuDigit, in.Status,
				in.AnsweredBy, ms(in.StartedAt), answeredAt, ms(*in.EndedAt), *in.DurationS,
				deref(in.RecordingURL), deref(in.Transcript), in.ConfigRevision, "")
			// A seeded call is history: taken by whoever answered it, or
			// needing nothing more.
			if in.AnsweredBy != nil {
				args = append(args, StateAcknowledged, *in.AnsweredBy, ms(*in.EndedAt), nil, nil)
			} else {
				args = append(args, StateResolved, nil, nil, ResolvedByHotline, ms(*in.EndedAt))
			}
			for _, e := range c.events {
				events = append(events, []any{in.ID, ms(e.At), e.Type, e.Engineer, e.EngineerName, e.EngineerPhone, e.Detail, e.Key})
			}
		}
		if _, err := tx.ExecContext(ctx, incCols+store.Placeholders(len(part), 22), args...); err != nil {
			return err
		}
	}
	const evRows = 32766 / 8
	for lo := 0; lo < len(events); lo += evRows {
		part := events[lo:min(lo+evRows, len(events))]
		args := make([]any, 0, len(part)*8)
		for _, e := range part {
			args = append(args, e...)
		}
		if _, err := tx.ExecContext(ctx, insertEventsValues+store.Placeholders(len(part), 8), args...); err != nil {
			return err
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
