package incident

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// write is one webhook's write: an update and its events.
type write struct {
	upd    Update
	events []Event
}

func writeEvents(events ...Event) write { return write{events: events} }

// staleCall opens an incident at at and records writes on it.
func staleCall(t *testing.T, s *Incidents, sid string, at time.Time, writes ...write) {
	t.Helper()
	ctx := context.Background()
	in := Incident{CallSid: sid, From: "+15555550123", To: "+18005550100", StartedAt: at, ConfigRevision: "r"}
	if _, _, err := s.StartIncident(ctx, in, Event{At: at, Type: "incoming", Key: "incoming"}); err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		if _, err := s.Record(ctx, sid, w.upd, w.events...); err != nil {
			t.Fatal(err)
		}
	}
}

// engineerEvent is an event of type typ for engineer at at, keyed typ:engineer.
func engineerEvent(at time.Time, typ EventType, engineer string) Event {
	return Event{At: at, Type: typ, Engineer: engineer, Key: string(typ) + ":" + engineer}
}

// TestCloseStale: calls still in progress 4 h after they started — their
// final status never came — are closed by the outcome their events show,
// each with a completed event saying so; not a minute before, never twice,
// and a status callback that arrives after all changes nothing.
func TestCloseStale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
		ring := func(s int, who string) Event { return engineerEvent(at(s), "ring", who) }
		staleCall(t, s, "CAaccepted", t0, writeEvents(ring(1, "alice"), engineerEvent(at(9), "accepted", "alice")))
		staleCall(t, s, "CAbridged", t0, writeEvents(ring(1, "alice"), engineerEvent(at(5), "declined", "alice"), ring(6, "bob")),
			writeEvents(engineerEvent(at(12), "accepted", "bob")), writeEvents(engineerEvent(at(50), "bridged", "bob")))
		staleCall(t, s, "CArecording", t0, writeEvents(ring(1, "alice"), engineerEvent(at(21), "no_answer", "alice")),
			write{upd: Update{RecordingURL: "https://api.twilio.com/rec/RE1"}})
		staleCall(t, s, "CAvoicemail", t0, writeEvents(Event{At: at(30), Type: "voicemail", Detail: "message of 12 s", Key: "voicemail"}))
		staleCall(t, s, "CArings", t0, writeEvents(ring(1, "alice"), engineerEvent(at(21), "no_answer", "alice"), ring(22, "bob")))
		d := 42
		staleCall(t, s, "CAclosed", t0, writeEvents(ring(1, "alice")),
			write{Update{Status: StatusAnswered, AnsweredBy: "alice"}, []Event{engineerEvent(at(9), "bridged", "alice")}},
			write{Update{Status: StatusAbandoned, EndedAt: at(60), DurationS: &d}, []Event{{At: at(60), Type: "completed", Detail: "call ended: completed", Key: "status"}}})
		staleCall(t, s, "CArecent", t0.Add(time.Hour), writeEvents(engineerEvent(t0.Add(time.Hour+time.Second), "ring", "alice")))
		before := map[string]Incident{}
		for _, sid := range []string{"CAclosed", "CArecent"} {
			before[sid] = mustIncident(t, s, sid)
		}

		if got, err := s.CloseStale(ctx, t0.Add(StaleAfter-time.Minute), StaleAfter); err != nil || len(got) != 0 {
			t.Fatalf("a minute before 4 h: closed %v, %v", got, err)
		}
		now := t0.Add(StaleAfter + time.Minute)
		got, err := s.CloseStale(ctx, now, StaleAfter)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Errorf("closed %v, want the 5 stale calls", got)
		}
		want := []struct {
			sid, status, by string
			answeredAt      time.Time
		}{
			{"CAaccepted", StatusAnswered, "alice", t0.Add(9 * time.Second)},
			{"CAbridged", StatusAnswered, "bob", t0.Add(12 * time.Second)},
			{"CArecording", StatusVoicemail, "", time.Time{}},
			{"CAvoicemail", StatusVoicemail, "", time.Time{}},
			{"CArings", StatusAbandoned, "", time.Time{}},
		}
		for _, w := range want {
			in := mustIncident(t, s, w.sid)
			by, at := "", time.Time{}
			if in.AnsweredBy != nil {
				by = *in.AnsweredBy
			}
			if in.AnsweredAt != nil {
				at = *in.AnsweredAt
			}
			if in.Status != w.status || by != w.by || !at.Equal(w.answeredAt) || in.EndedAt != nil {
				t.Errorf("%s: status %s answered by %q at %v, ended %v; want %s by %q at %v, no end", w.sid, in.Status, by, at, in.EndedAt, w.status, w.by, w.answeredAt)
			}
			last := in.Events[len(in.Events)-1]
			if last.Type != "completed" || last.Detail != "final status never arrived; closed by hotline after 4 h" || !last.At.Equal(now) {
				t.Errorf("%s: last event %+v, want hotline's completed at %v", w.sid, last, now)
			}
		}
		for sid, was := range before {
			if in := mustIncident(t, s, sid); eventTypes(in) != eventTypes(was) || in.Status != was.Status {
				t.Errorf("%s was changed: %s %q, was %s %q", sid, in.Status, eventTypes(in), was.Status, eventTypes(was))
			}
		}

		// Again, and ten minutes later: nothing more.
		for _, at := range []time.Time{now, now.Add(10 * time.Minute)} {
			if got, err := s.CloseStale(ctx, at, StaleAfter); err != nil || len(got) != 0 {
				t.Errorf("run at %v closed %v, %v", at, got, err)
			}
		}
		// Twilio's final status, late: a repeat of the one hotline wrote.
		for _, w := range want {
			before := mustIncident(t, s, w.sid)
			upd := Update{Status: StatusAbandoned, EndedAt: now.Add(time.Minute), DurationS: &d}
			applied, err := s.Record(ctx, w.sid, upd,
				Event{At: now.Add(time.Minute), Type: "hangup", Key: "hangup", IfInProgress: true},
				Event{At: now.Add(time.Minute), Type: "completed", Detail: "call ended: completed", Key: "status"})
			if err != nil || applied {
				t.Errorf("%s: a late status callback applied=%v, %v", w.sid, applied, err)
			}
			if in := mustIncident(t, s, w.sid); in.Status != before.Status || eventTypes(in) != eventTypes(before) || in.EndedAt != nil {
				t.Errorf("%s after a late status: %s %q ended %v, was %s %q", w.sid, in.Status, eventTypes(in), in.EndedAt, before.Status, eventTypes(before))
			}
		}
	})
}

// TestCloseStaleTwoInstances: two instances closing the same stale calls at
// once close each exactly once, with one completed event.
func TestCloseStaleTwoInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b := openTestIncidents(t, dsn), openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		const calls = staleBatch + 20 // more than one page
		for i := range calls {
			start := t0.Add(time.Duration(i) * time.Second)
			staleCall(t, a, fmt.Sprintf("CA%03d", i), start, writeEvents(engineerEvent(start.Add(time.Second), "ring", "alice")))
		}
		now := t0.Add(StaleAfter + time.Hour)
		var wg sync.WaitGroup
		closed := make([]int, 2)
		for i, s := range []*Incidents{a, b} {
			wg.Go(func() {
				got, err := s.CloseStale(context.Background(), now, StaleAfter)
				if err != nil {
					t.Error(err)
				}
				closed[i] = len(got)
			})
		}
		wg.Wait()
		if closed[0]+closed[1] != calls {
			t.Errorf("the instances closed %d and %d calls, want %d in all", closed[0], closed[1], calls)
		}
		for i := range calls {
			sid := fmt.Sprintf("CA%03d", i)
			if in := mustIncident(t, a, sid); in.Status != StatusAbandoned || eventTypes(in) != "incoming ring completed" {
				t.Errorf("%s: %s %q", sid, in.Status, eventTypes(in))
			}
		}
	})
}

// TestWriterCloseStaleWaitsForTheSpool: while the writer holds spooled
// writes, which may include how a stale call ended, it closes no call; once
// they are replayed, the call keeps the status they gave it.
func TestWriterCloseStaleWaitsForTheSpool(t *testing.T) {
	f := newWriterFixture(t, storetest.SQLite(t))
	ring := engineerEvent(f.t0.Add(time.Second), "ring", "alice")
	staleCall(t, f.inc, "CAlate", f.t0, writeEvents(ring))
	staleCall(t, f.inc, "CAstale", f.t0, writeEvents(ring))
	lock, err := f.db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := f.w.Record(ctx, "CAlate", Update{Status: StatusVoicemail, RecordingURL: "https://r"}, Event{At: f.t0.Add(time.Minute), Type: "voicemail", Key: "voicemail"}); err != nil {
		t.Fatal(err)
	}
	now := f.t0.Add(StaleAfter + time.Minute)
	if n, err := f.w.CloseStale(ctx, now, StaleAfter); err != nil || n != 0 || f.w.SpoolDepth() == 0 {
		t.Fatalf("with a write spooled: closed %d, %v (spool depth %d)", n, err, f.w.SpoolDepth())
	}
	if _, err := lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !f.w.Healthy() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n, err := f.w.CloseStale(ctx, now, StaleAfter); err != nil || n != 1 {
		t.Errorf("after the replay: closed %d, %v; want CAstale", n, err)
	}
	if in := mustIncident(t, f.inc, "CAlate"); in.Status != StatusVoicemail || eventTypes(in) != "incoming ring voicemail" {
		t.Errorf("CAlate: %s %q, want its spooled voicemail and no stale close", in.Status, eventTypes(in))
	}
	if in := mustIncident(t, f.inc, "CAstale"); in.Status != StatusAbandoned {
		t.Errorf("CAstale: %s", in.Status)
	}
}

func mustIncident(t *testing.T, s *Incidents, sid string) Incident {
	t.Helper()
	in, err := s.IncidentByCallSid(context.Background(), sid)
	if err != nil {
		t.Fatalf("%s: %v", sid, err)
	}
	return in
}
