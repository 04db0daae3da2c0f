package incident

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store/storetest"
)

// auditLog records audit calls for tests.
func seedTest(t *testing.T, dsn string, n int) (*Incidents, *config.Config, time.Time) {
	t.Helper()
	s := openTestIncidents(t, dsn)
	cfg, err := config.LoadConfig("../config/testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	got, err := s.Seed(context.Background(), cfg, SeedOptions{N: n, End: end, Days: 30, Seed: 7})
	if err != nil || got != n {
		t.Fatalf("seed: %d %v", got, err)
	}
	return s, cfg, end
}

func TestSeedAndStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, cfg, end := seedTest(t, dsn, 10000)
		loc := cfg.Hotline.Location
		st, err := s.Stats(ctx, end.AddDate(0, 0, -30), end, loc)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total.Calls != 10000 {
			t.Fatalf("stats count %d calls, want 10000", st.Total.Calls)
		}
		if n, err := s.CountIncidents(ctx); n != 10000 || err != nil {
			t.Errorf("CountIncidents: %d %v, want 10000", n, err)
		}
		sum := st.Total.Answered + st.Total.Voicemail + st.Total.Missed + st.Total.Abandoned
		if sum != 10000 || st.Total.InProgress != 0 {
			t.Errorf("outcomes add up to %d (in progress %d)", sum, st.Total.InProgress)
		}
		if r := st.Total.AnswerRate(); r < 0.6 || r > 0.9 {
			t.Errorf("answer rate %.2f, the seed aims at about 0.75", r)
		}
		if st.Total.MedianToAnswer <= 0 || st.Total.P90ToAnswer < st.Total.MedianToAnswer {
			t.Errorf("median %v p90 %v", st.Total.MedianToAnswer, st.Total.P90ToAnswer)
		}
		days := 0
		for _, d := range st.Days {
			days += d.Calls
		}
		if days != 10000 || len(st.Days) < 30 || len(st.Days) > 32 {
			t.Errorf("%d days holding %d calls", len(st.Days), days)
		}
		teams, answered, rung, accepted := 0, 0, 0, 0
		for _, g := range st.Teams {
			teams += g.Calls
		}
		for _, g := range st.Engineers {
			answered += g.Answered
			rung += g.Rung
			accepted += g.Accepted
			if g.Accepted+g.Declined+g.NoKey+g.NoAnswer+g.Busy > g.Rung {
				t.Errorf("%s: more ring outcomes than rings: %+v", g.Key, g)
			}
		}
		// The seed's engineers decline, miss and let voicemail take some
		// rings: accepting every ring would be the bug of counting only
		// answered calls.
		if rung <= accepted || accepted < st.Total.Answered {
			t.Errorf("%d rings, %d accepted, %d answered calls", rung, accepted, st.Total.Answered)
		}
		if teams != 10000 || answered != st.Total.Answered || len(st.Options) == 0 {
			t.Errorf("per team %d, per engineer %d answered of %d", teams, answered, st.Total.Answered)
		}
	})
}

func TestPercentile(t *testing.T) {
	var h histogram
	for s := 1; s <= 10; s++ {
		h.add(s, 1)
	}
	if got := h.percentile(50); got != 5*time.Second {
		t.Errorf("median %v", got)
	}
	if got := h.percentile(90); got != 9*time.Second {
		t.Errorf("p90 %v", got)
	}
	h = histogram{}
	h.add(3, 8) // eight calls of 3 s and two of 40 s
	h.add(40, 2)
	if got := h.percentile(90); got != 40*time.Second {
		t.Errorf("p90 of 8×3 s and 2×40 s: %v", got)
	}
	if got := h.percentile(50); got != 3*time.Second {
		t.Errorf("median of 8×3 s and 2×40 s: %v", got)
	}
	if got := (histogram{42: 1}).percentile(90); got != 42*time.Second {
		t.Errorf("p90 of one %v", got)
	}
	if got := (histogram{}).percentile(50); got != 0 {
		t.Errorf("median of none %v", got)
	}
}

func TestFindIncidentsSearchAndPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, _, _ := seedTest(t, dsn, 500)
		t0 := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)
		if _, _, err := s.StartIncident(ctx, Incident{CallSid: "CAx", From: "+15550001111", CallerName: "100% Pure_Co",
			To: "+18005550100", StartedAt: t0, ConfigRevision: "r"}, Event{At: t0, Type: "incoming", Key: "incoming"}); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]int{"100%": 1, "pure_co": 1, "0001111": 1, "10_%": 0} {
			got, err := s.FindIncidents(ctx, Filter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != want {
				t.Errorf("q %q found %d, want %d", q, len(got), want)
			}
		}
		voice, err := s.FindIncidents(ctx, Filter{Q: "VPN is down", Limit: 1000})
		if err != nil || len(voice) == 0 {
			t.Fatalf("transcript search: %d %v", len(voice), err)
		}
		for _, in := range voice {
			if in.Transcript == nil || !strings.Contains(*in.Transcript, "VPN is down") {
				t.Errorf("incident %d does not mention it", in.ID)
			}
		}
		// Keyset paging walks every incident once, newest first.
		seen := map[int64]bool{}
		var before *Cursor
		var last time.Time
		for {
			page, err := s.FindIncidents(ctx, Filter{Limit: 50, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, in := range page {
				if seen[in.ID] || (!last.IsZero() && in.StartedAt.After(last)) {
					t.Fatalf("incident %d out of order or twice", in.ID)
				}
				seen[in.ID], last = true, in.StartedAt
			}
			c := CursorOf(page[len(page)-1])
			if back, err := ParseCursor(c.String()); err != nil || back != c {
				t.Fatalf("cursor round trip %v → %v %v", c, back, err)
			}
			before = &c
		}
		if len(seen) != 501 {
			t.Errorf("paging saw %d incidents, want 501", len(seen))
		}
		n := 0
		if err := s.EachIncident(ctx, Filter{Status: StatusVoicemail}, func(Incident) error { n++; return nil }); err != nil || n < len(voice) {
			t.Errorf("each voicemail: %d %v", n, err)
		}
	})
}

func TestSetNoteIsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, _, _ := seedTest(t, dsn, 3)
		at := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
		if err := s.SetNote(ctx, 2, "  called back, fixed  ", "web:ann", at); err != nil {
			t.Fatal(err)
		}
		in, err := s.Incident(ctx, 2)
		if err != nil || in.Note != "called back, fixed" {
			t.Fatalf("note %q %v", in.Note, err)
		}
		log := audit.NewLog(s.db)
		entries, err := log.List(ctx, 0)
		if err != nil || len(entries) != 1 || entries[0].Actor != "web:ann" || entries[0].Action != ActionNote ||
			!strings.HasPrefix(entries[0].Detail, "incident 2: note set") || !entries[0].At.Equal(at) {
			t.Errorf("audit %+v %v", entries, err)
		}
		if err := s.SetNote(ctx, 99, "x", "web:ann", at); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing incident: %v", err)
		}
		if err := s.SetNote(ctx, 2, strings.Repeat("x", MaxNote+1), "web:ann", at); !isInvalid(err) {
			t.Errorf("long note: %v", err)
		}
		if entries, _ := log.List(ctx, 0); len(entries) != 1 {
			t.Errorf("refused notes were audited: %+v", entries)
		}
		// The entry is written in the note's transaction: without an audit
		// log to write to, the note is not changed either.
		if _, err := s.db.ExecContext(ctx, `DROP TABLE audit_log`); err != nil {
			t.Fatal(err)
		}
		if err := s.SetNote(ctx, 2, "changed without a trace", "web:ann", at); err == nil {
			t.Error("a note was saved without its audit entry")
		}
		if in, _ := s.Incident(ctx, 2); in.Note != "called back, fixed" {
			t.Errorf("note %q changed without its audit entry", in.Note)
		}
	})
}

// isInvalid reports whether err refuses the input (problem.Invalid).
func isInvalid(err error) bool {
	_, ok := problem.Of(err, problem.Invalid)
	return ok
}
