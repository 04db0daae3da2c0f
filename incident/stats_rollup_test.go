package incident

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// statsFromCalls sums the calls themselves, whatever the roll-ups hold.
func statsFromCalls(t *testing.T, s *Incidents, from, to time.Time, loc *time.Location) Stats {
	t.Helper()
	sm, err := sumCalls(context.Background(), s.db, loc, true, `i.started_at >= ? AND i.started_at < ?`, ms(from), ms(to))
	if err != nil {
		t.Fatal(err)
	}
	return sm.stats(from, to, loc)
}

// TestStatsRollupsMatchTheCalls: the stats read from the daily roll-ups are
// the stats of the calls themselves — after the seed's rebuild, and after
// calls written webhook by webhook: answered after two rings, a status
// callback first (abandoned) superseded by the voicemail with a late ring
// event, and a call still in progress.
func TestStatsRollupsMatchTheCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, cfg, _ := seedTest(t, dsn, 2000)
		loc := cfg.Hotline.Location
		if zone, err := s.RollupZone(ctx); err != nil || zone != loc.String() {
			t.Fatalf("roll-ups after the seed in %q (%v); want %q", zone, err, loc)
		}
		day := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
		from, to := day.AddDate(0, 0, -20), day.AddDate(0, 0, 10)
		check := func(when string) Stats {
			t.Helper()
			got, err := s.Stats(ctx, from, to, loc)
			if err != nil {
				t.Fatal(err)
			}
			if want := statsFromCalls(t, s, from, to, loc); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: roll-ups say\n%+v\nthe calls say\n%+v", when, got.Total, want.Total)
			}
			return got
		}
		before := check("after the seed")

		at := day.Add(10 * time.Hour)
		start := func(sid string) {
			t.Helper()
			if _, _, err := s.StartIncident(ctx, Incident{CallSid: sid, From: "+15555550123", To: "+18005550100", StartedAt: at, ConfigRevision: "r"},
				Event{At: at, Type: EventIncoming, Key: "incoming"}); err != nil {
				t.Fatal(err)
			}
		}
		record := func(sid string, upd Update, events ...Event) {
			t.Helper()
			if _, err := s.Record(ctx, sid, upd, events...); err != nil {
				t.Fatal(err)
			}
		}
		ring := func(typ EventType, who string, after time.Duration, key string) Event {
			return Event{At: at.Add(after), Type: typ, Engineer: who, Key: key}
		}
		// Alice does not answer; bob accepts 7 s after his phone rings.
		start("CAanswered")
		record("CAanswered", Update{Team: "ops", MenuDigit: "1"}, ring(EventRing, "alice", 5*time.Second, "ring:0"))
		record("CAanswered", Update{}, ring(EventNoAnswer, "alice", 30*time.Second, "out:0"), ring(EventRing, "bob", 31*time.Second, "ring:1"))
		record("CAanswered", Update{Status: StatusAnswered, AnsweredBy: "bob", AnsweredAt: at.Add(38 * time.Second)},
			ring(EventAccepted, "bob", 38*time.Second, "out:1"))
		// The status callback comes before the voicemail's Record action.
		start("CAvoicemail")
		record("CAvoicemail", Update{Team: "ops", MenuDigit: "1"}, ring(EventRing, "alice", 5*time.Second, "ring:0"))
		record("CAvoicemail", Update{Status: StatusAbandoned}, Event{At: at.Add(time.Minute), Type: EventCompleted, Key: "hangup"})
		mid := check("with a call abandoned by its early status callback")
		if mid.Total.Abandoned != before.Total.Abandoned+1 {
			t.Errorf("abandoned %d → %d; want one more", before.Total.Abandoned, mid.Total.Abandoned)
		}
		record("CAvoicemail", Update{Status: StatusVoicemail, Supersedes: "hangup"}, ring(EventNoAnswer, "alice", 30*time.Second, "out:0"),
			Event{At: at.Add(time.Minute), Type: EventVoicemail, Key: "recorded"})
		// One still ringing.
		start("CAringing")
		record("CAringing", Update{Team: "desk", MenuDigit: "2"}, ring(EventRing, "carol", 5*time.Second, "ring:0"))

		after := check("after the calls")
		if after.Total.Calls != before.Total.Calls+3 || after.Total.Answered != before.Total.Answered+1 ||
			after.Total.Voicemail != before.Total.Voicemail+1 || after.Total.Abandoned != before.Total.Abandoned || after.Total.InProgress != 1 {
			t.Errorf("totals before %+v after %+v", before.Total, after.Total)
		}
		var bob EngineerTally
		for _, e := range after.Engineers {
			if e.Key == "bob" {
				bob = e
			}
		}
		if bob.MedianToAccept <= 0 {
			t.Errorf("bob's median time to accept is %v", bob.MedianToAccept)
		}

	})
}

// TestRollupsRebuiltWhileCallsEnd: calls that end while the roll-ups are
// rebuilt in another zone are counted once, whichever day's recount they
// meet.
func TestRollupsRebuiltWhileCallsEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, _, end := seedTest(t, dsn, 1000)
		done := make(chan error, 1)
		go func() { done <- s.RebuildRollups(ctx, time.UTC) }()
		for i := range 30 {
			sid := "CAduring" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			at := end.Add(-time.Duration(i) * 20 * time.Hour) // spread over the days being recounted
			if _, _, err := s.StartIncident(ctx, Incident{CallSid: sid, From: "+15555550123", To: "+18005550100", StartedAt: at, ConfigRevision: "r"},
				Event{At: at, Type: EventIncoming, Key: "incoming"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Record(ctx, sid, Update{Team: "ops", MenuDigit: "1", Status: StatusAnswered, AnsweredBy: "bob", AnsweredAt: at.Add(20 * time.Second)},
				Event{At: at.Add(5 * time.Second), Type: EventRing, Engineer: "bob", Key: "ring:0"},
				Event{At: at.Add(20 * time.Second), Type: EventAccepted, Engineer: "bob", Key: "out:0"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if zone, err := s.RollupZone(ctx); err != nil || zone != "UTC" {
			t.Fatalf("roll-ups in %q (%v) after the rebuild; want UTC", zone, err)
		}
		from := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -40)
		to := from.AddDate(0, 0, 42)
		got, err := s.Stats(ctx, from, to, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if want := statsFromCalls(t, s, from, to, time.UTC); !reflect.DeepEqual(got, want) || got.Total.Calls != 1030 {
			t.Fatalf("roll-ups say %+v, the calls %+v; want 1030 calls", got.Total, want.Total)
		}
	})
}
