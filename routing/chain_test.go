package routing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/schedules"
)

const chainConfig = `
hotline:
  number: "+18005550100"
  timezone: "America/New_York"
  greeting: "Hello."
menu:
  options:
    - digit: "1"
      label: "an outage"
      team: ops
teams:
  - id: ops
    escalation:
      - rotations: [emea, amer]
        timeout: 15s
      - rotation: secondary
      - engineer: dana
  - id: nights
    escalation:
      - rotation: amer
engineers:
  - {id: alice, phone: "+15555550101"}
  - {id: bob, phone: "+15555550102"}
  - {id: carol, phone: "+15555550103"}
  - {id: dana, phone: "+15555550104"}
  - {id: erin, phone: "+15555550105"}
rotations:
  - id: emea
    members: [alice]
    shift: daily
    handoff: "08:00"
    start: "2026-11-02"
    timezone: "Europe/London"
    active: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "16:00"}
  - id: amer
    members: [bob, carol]
    shift: weekly
    handoff: "Mon 09:00"
    start: "2026-11-02"
    active: {days: [mon, tue, wed, thu, fri], from: "11:00", to: "20:00"}
  - id: secondary
    members: [carol]
    shift: daily
    handoff: "09:00"
    start: "2026-11-02"
`

func parseChainConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.ParseConfig("chain.yaml", []byte(chainConfig))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func chainString(chain []Step) string {
	var parts []string
	for _, s := range chain {
		parts = append(parts, s.Engineer+"@"+s.Source)
	}
	return strings.Join(parts, " ")
}

func TestResolveChain(t *testing.T) {
	cfg := parseChainConfig(t)
	over := schedules.NewOverrideIndex([]schedules.Override{{
		ID: 7, Rotation: "amer", Engineer: "erin",
		From: time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC),
	}})
	cases := []struct {
		at   string
		want string
	}{
		// Tue 2026-11-24 09:00 London: EMEA's window; AMER not yet.
		{"2026-11-24T09:00:00Z", "alice@rotation:emea carol@rotation:secondary dana@engineer"},
		// Tue 15:00 UTC = 10:00 New York: EMEA is still active (until 16:00 London) and wins.
		{"2026-11-24T15:00:00Z", "alice@rotation:emea carol@rotation:secondary dana@engineer"},
		// Tue 17:00 UTC = 12:00 New York: EMEA closed, AMER covers (4th weekly shift since 2026-11-02: carol).
		{"2026-11-24T17:00:00Z", "carol@rotation:amer carol@rotation:secondary dana@engineer"},
		// Wed 18:00 UTC: the override replaces AMER's member inside its window.
		{"2026-11-25T18:00:00Z", "erin@override:7 carol@rotation:secondary dana@engineer"},
		{"2026-11-25T19:00:00Z", "carol@rotation:amer carol@rotation:secondary dana@engineer"},
		// Saturday: no follow-the-sun rotation is active; the step is skipped.
		{"2026-11-28T15:00:00Z", "carol@rotation:secondary dana@engineer"},
		// Before any start: only the fixed engineer.
		{"2026-10-01T15:00:00Z", "dana@engineer"},
	}
	for _, c := range cases {
		at, _ := time.Parse(time.RFC3339, c.at)
		chain, err := ResolveChain(cfg, over, "ops", at)
		if err != nil {
			t.Fatal(err)
		}
		if got := chainString(chain); got != c.want {
			t.Errorf("%s: %s, want %s", c.at, got, c.want)
		}
	}
	if _, err := ResolveChain(cfg, over, "nope", time.Now()); err == nil {
		t.Error("unknown team resolved")
	}
}

func TestGaps(t *testing.T) {
	cfg := parseChainConfig(t)
	from := time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC) // Mon 00:00 New York
	to := from.Add(7 * 24 * time.Hour)
	gaps, err := Gaps(cfg, schedules.NewOverrideIndex(nil), "nights", from, to)
	if err != nil {
		t.Fatal(err)
	}
	// nights is only AMER: covered 11:00-20:00 New York on weekdays.
	if len(gaps) != 6 {
		t.Fatalf("%d gaps, want 6: %v", len(gaps), gaps)
	}
	ny, _ := time.LoadLocation("America/New_York")
	if got := gaps[0].From.In(ny).Format("Mon 15:04") + "-" + gaps[0].To.In(ny).Format("Mon 15:04"); got != "Mon 00:00-Mon 11:00" {
		t.Errorf("first gap %s", got)
	}
	if got := gaps[5].From.In(ny).Format("Mon 15:04") + "-" + gaps[5].To.In(ny).Format("Mon 15:04"); got != "Fri 20:00-Mon 00:00" {
		t.Errorf("last gap %s (the weekend is one gap)", got)
	}
	// An override over the whole week covers nothing outside AMER's window:
	// an override replaces who the rotation names, it does not extend it.
	over := schedules.NewOverrideIndex([]schedules.Override{{ID: 1, Rotation: "amer", Engineer: "erin", From: from, To: to}})
	if again, _ := Gaps(cfg, over, "nights", from, to); len(again) != 6 {
		t.Errorf("override changed the gaps: %v", again)
	}
	if full, _ := Gaps(cfg, schedules.NewOverrideIndex(nil), "ops", from, to); len(full) != 0 {
		t.Errorf("ops has a fixed engineer, so no gaps: %v", full)
	}
}

type fakeOverrides struct {
	list []schedules.Override
	gen  int64
	hits int
}

func (f *fakeOverrides) ListOverrides(context.Context) ([]schedules.Override, error) {
	f.hits++
	return f.list, nil
}

func (f *fakeOverrides) Generation(context.Context) (int64, error) { return f.gen, nil }

func TestRouterCachesOverrides(t *testing.T) {
	cfg := parseChainConfig(t)
	ov := &fakeOverrides{}
	r := NewRouter(cfg, ov)
	at := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for range 3 {
		if _, err := r.Chain(context.Background(), "ops", at); err != nil {
			t.Fatal(err)
		}
	}
	if ov.hits != 1 {
		t.Errorf("overrides listed %d times for an unchanged generation", ov.hits)
	}
	ov.list = []schedules.Override{{ID: 9, Rotation: "amer", Engineer: "erin", From: at.Add(-time.Hour), To: at.Add(time.Hour)}}
	ov.gen++
	chain, _ := r.Chain(context.Background(), "ops", at)
	if chain[0].Engineer != "erin" || ov.hits != 2 {
		t.Errorf("after a change: %s (%d lists)", chainString(chain), ov.hits)
	}
}

// benchConfig builds a team whose escalation walks 20 rotations.
func benchConfig(b *testing.B) *config.Config {
	var y strings.Builder
	y.WriteString("hotline: {number: \"+18005550100\", timezone: \"America/New_York\", greeting: \"Hi.\"}\n")
	y.WriteString("menu: {options: [{digit: \"1\", label: \"x\", team: big}]}\n")
	y.WriteString("teams:\n  - id: big\n    escalation:\n")
	for i := range 20 {
		fmt.Fprintf(&y, "      - rotation: r%d\n", i)
	}
	y.WriteString("engineers:\n")
	for i := range 40 {
		fmt.Fprintf(&y, "  - {id: e%d, phone: \"+1555555%04d\"}\n", i, i)
	}
	y.WriteString("rotations:\n")
	for i := range 20 {
		fmt.Fprintf(&y, "  - {id: r%d, members: [e%d, e%d], shift: weekly, handoff: \"Mon 09:00\", start: \"2026-01-05\"}\n", i, i, i+20)
	}
	cfg, err := config.ParseConfig("bench.yaml", []byte(y.String()))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkChain resolves one team's 20-step chain with N overrides spread
// over a year across its rotations.
func BenchmarkChain(b *testing.B) {
	cfg := benchConfig(b)
	year := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{0, 100, 1_000, 10_000, 100_000} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		list := make([]schedules.Override, n)
		for i := range list {
			from := year.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
			list[i] = schedules.Override{ID: int64(i + 1), Rotation: fmt.Sprintf("r%d", rng.IntN(20)),
				Engineer: fmt.Sprintf("e%d", rng.IntN(40)), From: from, To: from.Add(time.Duration(1+rng.IntN(48)) * time.Hour)}
		}
		idx := schedules.NewOverrideIndex(list)
		instants := make([]time.Time, 1024)
		for i := range instants {
			instants[i] = year.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		}
		b.Run(fmt.Sprintf("overrides=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := ResolveChain(cfg, idx, "big", instants[i%len(instants)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
