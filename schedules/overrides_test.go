package schedules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var base = time.Date(2026, time.November, 2, 14, 0, 0, 0, time.UTC)

func hours(n float64) time.Time { return base.Add(time.Duration(n * float64(time.Hour))) }

// ov builds an override created at hour created after base.
func ov(id int64, rotation, engineer string, from, to, created float64) Override {
	return Override{ID: id, Rotation: rotation, Engineer: engineer, From: hours(from), To: hours(to), CreatedAt: hours(created)}
}

// TestOnCallOverrideBounds: an override beats the rotation exactly in
// [From, To).
func TestOnCallOverrideBounds(t *testing.T) {
	r := &Rotation{ID: "ops", Members: []string{"alice"}, Kind: Daily, Start: Date{2026, time.November, 1}, Location: time.UTC}
	o := ov(7, "ops", "bob", 1, 3, 0)
	idx := NewOverrideIndex([]Override{o, ov(8, "other", "carol", 0, 10, 5)})
	tests := []struct {
		at       time.Time
		engineer string
		source   string
	}{
		{o.From.Add(-time.Nanosecond), "alice", "rotation:ops"},
		{o.From, "bob", "override:7"},
		{o.To.Add(-time.Nanosecond), "bob", "override:7"},
		{o.To, "alice", "rotation:ops"},
	}
	for _, tt := range tests {
		eng, src, ok := OnCall(r, idx, tt.at)
		if !ok || eng != tt.engineer || src != tt.source {
			t.Errorf("OnCall(%s) = %q %q %v; want %q %q", tt.at, eng, src, ok, tt.engineer, tt.source)
		}
	}
}

// TestOnCallRules: outside the window nobody, overrides included; before
// start an override still answers inside the window.
func TestOnCallRules(t *testing.T) {
	r := &Rotation{
		ID: "ops", Members: []string{"alice"}, Kind: Daily, HandoffMinute: 9 * 60,
		Start: Date{2026, time.November, 3}, Location: time.UTC,
		Active: &Window{Days: weekdays(time.Monday, time.Tuesday), From: 8 * 60, To: 20 * 60},
	}
	idx := NewOverrideIndex([]Override{ov(1, "ops", "bob", -10, 48, 0)}) // Mon 04:00 to Wed 14:00
	tests := []struct {
		name     string
		at       string
		engineer string
		ok       bool
	}{
		{"override outside window", "2026-11-02T07:00:00Z", "", false},
		{"override inside window before start", "2026-11-02T10:00:00Z", "bob", true},
		{"window shut on wednesday", "2026-11-04T10:00:00Z", "", false},
		{"rotation after the override", "2026-11-03T08:00:00Z", "bob", true},
	}
	for _, tt := range tests {
		eng, _, ok := OnCall(r, idx, ts(t, tt.at))
		if eng != tt.engineer || ok != tt.ok {
			t.Errorf("%s: OnCall = %q %v; want %q %v", tt.name, eng, ok, tt.engineer, tt.ok)
		}
	}
	if eng, src, ok := OnCall(r, nil, ts(t, "2026-11-02T10:00:00Z")); ok {
		t.Errorf("before start without overrides: %q %q; want nobody", eng, src)
	}
	if eng, src, _ := OnCall(r, nil, ts(t, "2026-11-03T10:00:00Z")); eng != "alice" || src != "rotation:ops" {
		t.Errorf("after start: %q %q; want alice rotation:ops", eng, src)
	}
}

// TestOverrideIndexLatestWins: among overlapping overrides the most recently
// created one wins, whatever the order of the list.
func TestOverrideIndexLatestWins(t *testing.T) {
	list := []Override{
		ov(1, "ops", "long", 0, 10, 0),
		ov(2, "ops", "newer", 2, 4, 1),
		ov(3, "ops", "older", 3, 8, -1), // created before "long": hidden by it
		ov(4, "ops", "newest", 6, 12, 2),
		ov(5, "ops", "tie", 11, 13, 2), // same CreatedAt as 4: the higher id wins
	}
	tests := []struct {
		at   float64
		want string
	}{
		{-0.5, ""}, {0, "long"}, {1.99, "long"}, {2, "newer"}, {3.5, "newer"}, {4, "long"},
		{5.99, "long"}, {6, "newest"}, {10.5, "newest"}, {11, "tie"}, {12.5, "tie"}, {13, ""},
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}} {
		var shuffled []Override
		for _, i := range order {
			shuffled = append(shuffled, list[i])
		}
		idx := NewOverrideIndex(shuffled)
		for _, tt := range tests {
			o, ok := idx.At("ops", hours(tt.at))
			if (tt.want == "") == ok || o.Engineer != tt.want {
				t.Errorf("order %v: At(+%vh) = %q, %v; want %q", order, tt.at, o.Engineer, ok, tt.want)
			}
		}
		if _, ok := idx.At("other", hours(1)); ok {
			t.Error("an override of ops answered for another rotation")
		}
		got := idx.Boundaries("ops", hours(-1), hours(20))
		var want []time.Time
		for _, h := range []float64{0, 2, 4, 6, 11, 13} {
			want = append(want, hours(h))
		}
		if !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("order %v: Boundaries = %v; want %v", order, got, want)
		}
	}
}

// TestOverrideIndexMatchesBruteForce compares the index with a linear scan
// over random overlapping overrides.
func TestOverrideIndexMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	list := randomOverrides(rng, 300, []string{"ops", "desk"})
	idx := NewOverrideIndex(list)
	for range 5000 {
		rot := []string{"ops", "desk", "none"}[rng.IntN(3)]
		at := hours(rng.Float64()*1200 - 50)
		want, wantOK := bruteForce(list, rot, at)
		got, ok := idx.At(rot, at)
		if ok != wantOK || got.ID != want.ID {
			t.Fatalf("At(%s, %s) = #%d %v; want #%d %v", rot, at, got.ID, ok, want.ID, wantOK)
		}
	}
}

func bruteForce(list []Override, rotation string, at time.Time) (Override, bool) {
	var best Override
	found := false
	for _, o := range list {
		if o.Rotation != rotation || at.Before(o.From) || !at.Before(o.To) {
			continue
		}
		if !found || o.CreatedAt.After(best.CreatedAt) || (o.CreatedAt.Equal(best.CreatedAt) && o.ID > best.ID) {
			best, found = o, true
		}
	}
	return best, found
}

// randomOverrides returns n overrides of 1 to 72 hours over about 50 days,
// created in random order (some at the same instant).
func randomOverrides(rng *rand.Rand, n int, rotations []string) []Override {
	list := make([]Override, n)
	for i := range list {
		from := rng.Float64() * 1200
		list[i] = ov(int64(i+1), rotations[rng.IntN(len(rotations))], fmt.Sprintf("e%d", i),
			from, from+1+rng.Float64()*71, float64(rng.IntN(n/2+1)))
	}
	return list
}

// BenchmarkOverrideIndexAt shows lookups grow with log n: a tenfold larger
// index adds a constant step, not ten times the time.
func BenchmarkOverrideIndexAt(b *testing.B) {
	for _, n := range []int{100, 1_000, 10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, uint64(n)))
			list := make([]Override, n)
			for i := range list {
				// Spread over a span that grows with n so overlaps stay
				// typical and the segment count grows with n.
				from := rng.Float64() * float64(n) * 12
				list[i] = ov(int64(i+1), "ops", "e", from, from+1+rng.Float64()*24, float64(i))
			}
			idx := NewOverrideIndex(list)
			probes := make([]time.Time, 1024)
			for i := range probes {
				probes[i] = hours(rng.Float64() * float64(n) * 12)
			}
			b.ResetTimer()
			hits := 0
			for i := range b.N {
				if _, ok := idx.At("ops", probes[i%len(probes)]); ok {
					hits++
				}
			}
			if hits == 0 && b.N > len(probes) {
				b.Fatal("no lookup found an override")
			}
		})
	}
}

// TestOverlappingAndWins: overlapping means the same rotation and some
// common time (touching ends do not overlap); the later created wins, the
// higher id on a tie, as the index resolves them.
func TestOverlappingAndWins(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 25, h, 0, 0, 0, time.UTC) }
	made := at(0)
	list := []Override{
		{ID: 1, Rotation: "r", Engineer: "carol", From: at(9), To: at(17), CreatedAt: made},
		{ID: 2, Rotation: "r", Engineer: "alice", From: at(12), To: at(20), CreatedAt: made},
		{ID: 3, Rotation: "r", Engineer: "bob", From: at(17), To: at(18), CreatedAt: made.Add(-time.Hour)},
		{ID: 4, Rotation: "other", Engineer: "bob", From: at(9), To: at(17), CreatedAt: made},
	}
	ids := func(os []Override) (out []int64) {
		for _, o := range os {
			out = append(out, o.ID)
		}
		return out
	}
	if got := ids(Overlapping(list, list[0])); !slices.Equal(got, []int64{2}) {
		t.Errorf("override 1 overlaps %v, want [2]", got)
	}
	if got := ids(Overlapping(list, list[1])); !slices.Equal(got, []int64{1, 3}) {
		t.Errorf("override 2 overlaps %v, want [1 3]", got)
	}
	if !Wins(list[1], list[0]) || Wins(list[0], list[1]) {
		t.Errorf("on a tie of created_at the higher id should win")
	}
	if !Wins(list[1], list[2]) || Wins(list[2], list[1]) {
		t.Errorf("the later created should win")
	}
	idx := NewOverrideIndex(list)
	for h, want := range map[int]string{10: "carol", 13: "alice", 17: "alice", 19: "alice"} {
		if o, _ := idx.At("r", at(h)); o.Engineer != want {
			t.Errorf("at %d:00 the index names %q, want %q (Wins)", h, o.Engineer, want)
		}
	}
}
