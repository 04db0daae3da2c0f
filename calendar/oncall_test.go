package calendar

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/schedules"
	"github.com/hotline-dev/hotline/store/storetest"
)

// dstOverrides straddle the clock changes, and two of them overlap.
func dstOverrides(t testing.TB) []schedules.Override {
	return []schedules.Override{
		// New York springs forward inside it.
		{Rotation: "ops-secondary", Engineer: "dana", From: utc(t, "2027-03-13T22:00:00-05:00"), To: utc(t, "2027-03-14T10:00:00-04:00")},
		// Around desk's 02:30 handoff, which falls in the skipped hour.
		{Rotation: "desk", Engineer: "emma", From: utc(t, "2027-03-14T01:00:00-05:00"), To: utc(t, "2027-03-14T04:00:00-04:00")},
		// London springs forward inside it; outside ops-emea's window it
		// changes nothing.
		{Rotation: "ops-emea", Engineer: "bob", From: utc(t, "2027-03-26T10:00:00Z"), To: utc(t, "2027-03-29T15:00:00+01:00")},
		// Overlapping: frank's, created later, wins where both apply.
		{Rotation: "desk-london", Engineer: "carol", From: utc(t, "2027-03-26T20:00:00Z"), To: utc(t, "2027-03-29T00:00:00Z")},
		{Rotation: "desk-london", Engineer: "frank", From: utc(t, "2027-03-28T00:30:00Z"), To: utc(t, "2027-03-28T03:00:00Z")},
	}
}

// instants draws 50 instants in [now, now+60 days): 20 within a quarter of
// an hour of a clock change (three of them exactly on it, or a second
// either side) and 30 anywhere.
func instants(now time.Time, seed uint64) []time.Time {
	r := rand.New(rand.NewPCG(seed, 7))
	changes := []time.Time{
		time.Date(2027, 3, 14, 7, 0, 0, 0, time.UTC), // New York: 02:00 EST → 03:00 EDT
		time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC), // London: 01:00 GMT → 02:00 BST
	}
	out := []time.Time{changes[0], changes[1].Add(-time.Second), changes[1].Add(time.Second)}
	for len(out) < 20 {
		c := changes[r.IntN(len(changes))]
		out = append(out, c.Add(time.Duration(r.IntN(30*60+1)-15*60)*time.Second))
	}
	for len(out) < 50 {
		out = append(out, now.Add(time.Duration(r.Int64N(int64(Horizon/time.Second)))*time.Second))
	}
	return out
}

// TestFeedsMatchOnCall is the acceptance test: at 50 instants, DST changes
// included, every team's feed and every engineer's feed say what
// `hotline oncall` (Router.WhoIsOnCall) says.
func TestFeedsMatchOnCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		now := utc(t, "2027-03-01T00:00:00Z")
		h := newHarness(t, dsn, now, dstOverrides(t)...)
		ctx := context.Background()
		cfg := h.router.Config()

		teamFeeds := map[string][]parsed{}
		for _, tm := range cfg.Teams {
			teamFeeds[tm.ID] = h.feed(t, KindTeam, tm.ID)
		}
		engineerFeeds := map[string][]parsed{}
		for _, e := range cfg.Engineers {
			engineerFeeds[e.ID] = h.feed(t, KindEngineer, e.ID)
		}
		for id, events := range teamFeeds {
			for _, ev := range events {
				if !ev.End.After(now) || !ev.Start.Before(now.Add(Horizon)) || !ev.Stamp.Equal(now) {
					t.Errorf("team %s: event %+v outside the 60 days or stamped wrong", id, ev)
				}
			}
		}

		const seed = 20270301
		checked := 0
		for _, at := range instants(now, seed) {
			oc, err := h.router.WhoIsOnCall(ctx, "", at)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]place{} // engineer id → places
			for _, tc := range oc.Teams {
				tm, _ := cfg.Team(tc.Team)
				var chain []place
				for i, s := range tc.Chain {
					chain = append(chain, place{Team: tm.Name, Engineer: s.Name, Position: i + 1})
					want[s.Engineer] = append(want[s.Engineer], place{Team: tm.Name, Engineer: s.Name, Position: i + 1})
				}
				got := covering(t, teamFeeds[tc.Team], KindTeam, "", at)
				if !samePlaces(got, chain) {
					t.Errorf("%s (%s), team %s: feed says %v, oncall says %v", at.Format(time.RFC3339),
						at.In(zone(t, "America/New_York")).Format(time.RFC3339), tc.Team, got, chain)
				}
				checked++
			}
			for _, e := range cfg.Engineers {
				got := covering(t, engineerFeeds[e.ID], KindEngineer, e.Name, at)
				if !samePlaces(got, want[e.ID]) {
					t.Errorf("%s, engineer %s: feed says %v, oncall says %v", at.Format(time.RFC3339), e.ID, got, want[e.ID])
				}
			}
		}
		if checked != 2*50 {
			t.Fatalf("checked %d team chains, want 100", checked)
		}
		if t.Failed() {
			t.Logf("instants drawn with seed %d", seed)
		}
	})
}

// samePlaces compares two lists of places in any order.
func samePlaces(a, b []place) bool {
	cmp := func(x, y place) int {
		if x.Team != y.Team {
			return compare(x.Team, y.Team)
		}
		if x.Position != y.Position {
			return x.Position - y.Position
		}
		return compare(x.Engineer, y.Engineer)
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

func compare(x, y string) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestShiftsAtTheClockChange pins a few shifts by hand: the skipped 02:30
// handoff happens at 03:00 EDT, and a 12h rotation hands off at 09:00 and
// 21:00 on the wall clock on both sides of the change.
func TestShiftsAtTheClockChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, utc(t, "2027-03-01T00:00:00Z"))
		idx, err := h.router.Overrides(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		from, to := utc(t, "2027-03-13T12:00:00Z"), utc(t, "2027-03-15T12:00:00Z")
		shifts, err := TeamShifts(h.router.Config(), idx, "desk", from, to)
		if err != nil {
			t.Fatal(err)
		}
		var starts []string
		for _, s := range shifts {
			if s.Position == 1 {
				starts = append(starts, s.Engineer+"@"+s.Start.Format(time.RFC3339))
			}
		}
		// desk: frank holds the shifts of even days after 2027-01-04 (the
		// 13th is day 68); handoffs at 02:30 EST, on the 14th at 03:00 EDT
		// (07:00Z), then 02:30 EDT (06:30Z).
		want := []string{
			"frank@2027-03-13T12:00:00Z", // clipped at the window's start
			"grace@2027-03-14T07:00:00Z",
			"frank@2027-03-15T06:30:00Z",
		}
		if !slices.Equal(starts, want) {
			t.Errorf("desk primary starts %v, want %v", starts, want)
		}
		if !shifts[0].Clipped || shifts[1].Clipped {
			t.Errorf("clipped flags: %v, %v", shifts[0].Clipped, shifts[1].Clipped)
		}

		shifts, err = TeamShifts(h.router.Config(), idx, "ops", from, to)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int][]string{}
		for _, s := range shifts {
			got[s.Position] = append(got[s.Position], s.Engineer+"@"+s.Start.Format(time.RFC3339))
		}
		// Over the weekend ops-emea and ops-amer are closed: ops-secondary is
		// rung first and dana second, as the call would. ops-secondary hands
		// off at 09:00 and 21:00 New York time: 14:00Z and 02:00Z before the
		// change, 13:00Z and 01:00Z after. Monday 08:00 in London ops-emea
		// opens and everyone moves down a place.
		wantOps := map[int][]string{
			1: {"carol@2027-03-13T12:00:00Z", "alice@2027-03-13T14:00:00Z", "bob@2027-03-14T02:00:00Z",
				"carol@2027-03-14T13:00:00Z", "alice@2027-03-15T01:00:00Z", "emma@2027-03-15T08:00:00Z"},
			2: {"dana@2027-03-13T12:00:00Z", "alice@2027-03-15T08:00:00Z"},
			3: {"dana@2027-03-15T08:00:00Z"},
		}
		for pos, w := range wantOps {
			if !slices.Equal(got[pos], w) {
				t.Errorf("ops place %d: %v, want %v", pos, got[pos], w)
			}
		}
	})
}
