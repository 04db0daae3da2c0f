package incident

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// liveCall opens a call at at and writes its events as the call flow
// writes them, each a second after the last, in one Record per inner
// slice (one webhook).
func liveCall(t *testing.T, s *Incidents, sid string, at time.Time, upd Update, webhooks ...[]Event) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.StartIncident(ctx, Incident{CallSid: sid, From: "+15555550123", CallerName: "Globex", To: "+18005550100", StartedAt: at, ConfigRevision: "r"},
		Event{At: at, Type: EventIncoming, Detail: "call from +15555550123", Key: "incoming"}); err != nil {
		t.Fatal(err)
	}
	for i, events := range webhooks {
		for j := range events {
			events[j].At = at.Add(time.Duration(i+1) * time.Second)
		}
		if _, err := s.Record(ctx, sid, upd, events...); err != nil {
			t.Fatal(err)
		}
	}
}

func ring(engineer, name, key string) Event {
	return Event{Type: EventRing, Engineer: engineer, EngineerName: name, Detail: "step, pass", Key: key}
}

// TestLiveStages: each call in progress is at the stage its events say,
// with the engineer, step and pass of a ring or an accept; ended calls are
// not listed; a line that asks for a PIN has its new callers identifying.
func TestLiveStages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		routed := Update{Team: "ops", MenuDigit: "1"}
		choice := []Event{{Type: EventMenu, Detail: "pressed 1", Key: "menu:choice"}, {Type: EventRoute, Detail: "team ops: alice, bob", Key: "route"}}
		liveCall(t, s, "CA-new", t0, Update{})
		liveCall(t, s, "CA-menu", t0.Add(time.Minute), Update{}, []Event{{Type: EventMenu, Detail: "no key (play 1)", Key: "menu:1"}})
		liveCall(t, s, "CA-pin", t0.Add(2*time.Minute), Update{}, []Event{{Type: EventPINInvalid, Detail: PINTryDetail(1, 3), Key: "pin:1"}})
		liveCall(t, s, "CA-pins", t0.Add(3*time.Minute), Update{},
			[]Event{{Type: EventPINInvalid, Detail: PINTryDetail(1, 3), Key: "pin:1"}},
			[]Event{{Type: EventPINInvalid, Detail: PINTryDetail(2, 3), Key: "pin:2"}},
			[]Event{{Type: EventPINInvalid, Detail: PINTryDetail(3, 3), Key: "pin:3"}})
		liveCall(t, s, "CA-known", t0.Add(4*time.Minute), Update{Customer: "globex"}, []Event{{Type: EventIdentified, Detail: "customer globex by PIN", Key: "identified"}})
		liveCall(t, s, "CA-ring", t0.Add(5*time.Minute), routed,
			append(choice, ring("alice", "Alice Adams", "ring:p0:s0")),
			[]Event{{Type: EventNoAnswer, Engineer: "alice", Key: "dial:p0:s0"}, ring("bob", "Bob Brown", "ring:p0:s1")})
		liveCall(t, s, "CA-talk", t0.Add(6*time.Minute), routed,
			append(choice, ring("alice", "Alice Adams", "ring:p0:s0")),
			[]Event{{Type: EventNoKey, Engineer: "alice", Key: "dial:p0:s0"}, ring("bob", "Bob Brown", "ring:p0:s1")},
			[]Event{{Type: EventNoAnswer, Engineer: "bob", Key: "dial:p0:s1"}, ring("alice", "Alice Adams", "ring:p1:s0")},
			[]Event{{Type: EventAccepted, Engineer: "alice", EngineerName: "Alice Adams", Detail: "pressed 1", Key: "whisper:p1:s0"}})
		liveCall(t, s, "CA-declined", t0.Add(7*time.Minute), routed,
			append(choice, ring("alice", "Alice Adams", "ring:p0:s0")),
			[]Event{{Type: EventDeclined, Engineer: "alice", Detail: `pressed "2"`, Key: "whisper:p0:s0"}})
		liveCall(t, s, "CA-chain-ended", t0.Add(8*time.Minute), routed,
			append(choice, ring("alice", "Alice Adams", "ring:p0:s0")),
			[]Event{{Type: EventBusy, Engineer: "alice", Key: "dial:p0:s0"}})
		liveCall(t, s, "CA-nobody", t0.Add(9*time.Minute), routed, []Event{{Type: EventMenu, Key: "menu:choice"}, {Type: EventRoute, Detail: "team ops: nobody on call", Key: "route"}})
		liveCall(t, s, "CA-lost-state", t0.Add(10*time.Minute), routed,
			append(choice, ring("alice", "Alice Adams", "ring:p0:s0")),
			[]Event{{Type: EventAccepted, Detail: "pressed 1 (call state unreadable: engineer unknown)", Key: "whisper:unreadable"}})
		liveCall(t, s, "CA-ended", t0.Add(11*time.Minute), routed, append(choice, ring("alice", "Alice Adams", "ring:p0:s0")))
		if _, err := s.Record(ctx, "CA-ended", Update{Status: StatusAnswered, AnsweredBy: "alice"}, Event{At: t0.Add(12 * time.Minute), Type: EventBridged, Engineer: "alice", Key: "dial:p0:s0"}); err != nil {
			t.Fatal(err)
		}

		type want struct {
			stage          Stage
			since          time.Duration // after the call's start
			engineer, name string
			step, pass     int
		}
		wants := []struct {
			sid string
			want
		}{
			{"CA-new", want{stage: StageMenu}},
			{"CA-menu", want{stage: StageMenu}},
			{"CA-pin", want{stage: StageIdentifying, since: time.Second}},
			{"CA-pins", want{stage: StageMenu, since: 3 * time.Second}},
			{"CA-known", want{stage: StageMenu}},
			{"CA-ring", want{StageRinging, 2 * time.Second, "bob", "Bob Brown", 2, 1}},
			{"CA-talk", want{StageConnected, 4 * time.Second, "alice", "Alice Adams", 1, 2}},
			{"CA-declined", want{StageRinging, time.Second, "alice", "Alice Adams", 1, 1}},
			{"CA-chain-ended", want{stage: StageVoicemail, since: 2 * time.Second}},
			{"CA-nobody", want{stage: StageVoicemail, since: time.Second}},
			{"CA-lost-state", want{stage: StageConnected, since: 2 * time.Second}},
		}
		live, err := s.Live(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(live.Calls) != len(wants) {
			t.Fatalf("%d calls in progress, want %d: %+v", len(live.Calls), len(wants), live.Calls)
		}
		for i, w := range wants {
			c := live.Calls[i]
			got := want{stage: c.Stage, since: c.StageSince.Sub(c.StartedAt), name: c.EngineerName}
			if c.Engineer != nil {
				got.engineer = *c.Engineer
			}
			if c.Step != nil {
				got.step = *c.Step
			}
			if c.Pass != nil {
				got.pass = *c.Pass
			}
			if c.CallSid != w.sid || got != w.want {
				t.Errorf("call %d: %s %+v; want %s %+v", i, c.CallSid, got, w.sid, w.want)
			}
			if (c.Engineer == nil) != (w.engineer == "") || (c.Step == nil) != (w.step == 0) {
				t.Errorf("%s: engineer %v, step %v: null only when unknown", c.CallSid, c.Engineer, c.Step)
			}
		}
		if c := live.Calls[4]; c.Customer == nil || *c.Customer != "globex" || c.CallerName != "Globex" || c.From != "+15555550123" {
			t.Errorf("identified call: customer %v, caller %q %q", c.Customer, c.CallerName, c.From)
		}
		if c := live.Calls[5]; c.Team != "ops" || !c.StartedAt.Equal(t0.Add(5*time.Minute)) || c.IncidentID == 0 {
			t.Errorf("ringing call: team %q, started %v, id %d", c.Team, c.StartedAt, c.IncidentID)
		}

		// A line that asks for a PIN: a caller who only came in is
		// identifying; one identified is at the menu.
		live, err = s.Live(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		for i, stage := range []Stage{StageIdentifying, StageMenu, StageIdentifying, StageMenu, StageMenu} {
			if live.Calls[i].Stage != stage {
				t.Errorf("asking for a PIN, %s is %s, want %s", live.Calls[i].CallSid, live.Calls[i].Stage, stage)
			}
		}
	})
}

// TestLiveWaiting: the open incidents whose call ended, and open alerts,
// are listed newest first with their latest page; calls in progress and
// incidents someone took are not.
func TestLiveWaiting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		followUp := []string{StatusVoicemail, StatusMissed}
		voicemail := endedCall(t, s, "CA-vm", StatusVoicemail, "", t0)
		answered := endedCall(t, s, "CA-ans", StatusAnswered, "alice", t0.Add(time.Minute))
		missed := endedCall(t, s, "CA-missed", StatusMissed, "", t0.Add(2*time.Minute))
		taken := endedCall(t, s, "CA-taken", StatusVoicemail, "", t0.Add(3*time.Minute))
		for _, id := range []int64{voicemail, answered, missed, taken} {
			if _, err := s.Settle(ctx, id, followUp, t0.Add(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Acknowledge(ctx, taken, "web:ann", "web", t0.Add(6*time.Minute)); err != nil {
			t.Fatal(err)
		}
		for i, who := range []string{"alice", "bob"} {
			at := t0.Add(time.Duration(6+i) * time.Minute)
			if _, err := s.AddEvent(ctx, voicemail, Event{At: at, Type: EventPaged, Engineer: who, EngineerName: map[string]string{"alice": "Alice Adams", "bob": "Bob Brown"}[who],
				Detail: "called", Key: fmt.Sprintf("page-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		alert, _, err := s.OpenAlert(ctx, Alert{Team: "ops", Summary: "disk full on db1", Source: "prometheus", At: t0.Add(4 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		liveCall(t, s, "CA-now", t0.Add(10*time.Minute), Update{})

		live, err := s.Live(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, w := range live.Waiting {
			got = append(got, w.IncidentID)
		}
		if fmt.Sprint(got) != fmt.Sprint([]int64{alert, missed, voicemail}) || live.OpenTotal != 3 {
			t.Fatalf("waiting %v of %d; want the alert, the missed call and the voicemail (%d %d %d) of 3", got, live.OpenTotal, alert, missed, voicemail)
		}
		if w := live.Waiting[0]; w.Kind != KindAlert || w.Summary != "disk full on db1" || w.Team != "ops" || w.LastPaged != nil {
			t.Errorf("alert: %+v", w)
		}
		if w := live.Waiting[1]; w.Kind != KindCall || w.Status != StatusMissed || w.LastPaged != nil {
			t.Errorf("missed call: %+v", w)
		}
		if p := live.Waiting[2].LastPaged; p == nil || p.Engineer != "bob" || p.EngineerName != "Bob Brown" || !p.At.Equal(t0.Add(7*time.Minute)) {
			t.Errorf("voicemail last paged %+v; want Bob Brown at +7 min", p)
		}
		if len(live.Calls) != 1 || live.Calls[0].CallSid != "CA-now" {
			t.Errorf("calls in progress %+v; want CA-now only", live.Calls)
		}
	})
}

// TestLiveBounded: the waiting list holds the newest WaitingLimit, and
// says how many there are.
func TestLiveBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		n := WaitingLimit + 5
		var newest int64
		for i := range n {
			newest = endedCall(t, s, fmt.Sprintf("CA%d", i), StatusVoicemail, "", t0.Add(time.Duration(i)*time.Second))
		}
		live, err := s.Live(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		if len(live.Waiting) != WaitingLimit || live.OpenTotal != n || live.Waiting[0].IncidentID != newest {
			t.Errorf("%d waiting listed of %d, first %d; want %d of %d, first %d", len(live.Waiting), live.OpenTotal, live.Waiting[0].IncidentID, WaitingLimit, n, newest)
		}
	})
}
