package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// openTestIncidents opens and migrates the database at dsn (see
// storetest.Each).
func openTestIncidents(t *testing.T, dsn string) *Incidents {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dsn)
	for _, m := range []func(context.Context, *store.DB) error{audit.Migrate, Migrate} {
		if err := m(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	return NewIncidents(db)
}

func TestIncidentLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		in := Incident{CallSid: "CA1", From: "+15555550123", CallerName: "<b>x</b>", To: "+18005550100", StartedAt: t0, ConfigRevision: "abc"}
		id, created, err := s.StartIncident(ctx, in, Event{At: t0, Type: "incoming", Key: "incoming"})
		if err != nil || !created {
			t.Fatalf("start: %v %v", created, err)
		}
		id2, created, err := s.StartIncident(ctx, in, Event{At: t0, Type: "incoming", Key: "incoming"})
		if err != nil || created || id2 != id {
			t.Fatalf("retried start: id %d created %v err %v", id2, created, err)
		}
		ring := Event{At: t0.Add(time.Second), Type: "ring", Engineer: "alice", EngineerName: "Alice", EngineerPhone: "+15555550101", Key: "ring:p0:s0"}
		if applied, err := s.Record(ctx, "CA1", Update{Team: "ops", MenuDigit: "1"}, ring); err != nil || !applied {
			t.Fatalf("record: %v %v", applied, err)
		}
		// The same webhook again: nothing changes, not even the update.
		if applied, err := s.Record(ctx, "CA1", Update{Team: "desk"}, ring); err != nil || applied {
			t.Fatalf("retried record applied=%v err=%v", applied, err)
		}
		accepted := t0.Add(5 * time.Second)
		if _, err := s.Record(ctx, "CA1", Update{Status: StatusAnswered, AnsweredBy: "alice", AnsweredAt: accepted},
			Event{At: accepted, Type: "bridged", Key: "dial:p0:s0"}); err != nil {
			t.Fatal(err)
		}
		d := 42
		// A later final status must not overwrite answered, nor add a hang-up.
		if _, err := s.Record(ctx, "CA1", Update{Status: StatusAbandoned, EndedAt: t0.Add(time.Minute), DurationS: &d},
			Event{At: t0.Add(time.Minute), Type: "hangup", Key: "hangup", IfInProgress: true},
			Event{At: t0.Add(time.Minute), Type: "completed", Key: "status"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusAnswered || got.AnsweredBy == nil || *got.AnsweredBy != "alice" || got.Team != "ops" ||
			got.DurationS == nil || *got.DurationS != 42 || !got.AnsweredAt.Equal(accepted) || got.CallerName != "<b>x</b>" {
			t.Errorf("incident %+v", got)
		}
		if got, want := eventTypes(got), "incoming ring bridged completed"; got != want {
			t.Errorf("events %q, want %q", got, want)
		}
		if _, err := s.Record(ctx, "CAnone", Update{Team: "ops"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("an update alone for an unknown call: %v", err)
		}
	})
}

// TestEventsBeforeTheStart: with several instances, a call's later webhooks
// may be written before its start, which the first instance still holds in
// its spool. Nothing is dropped: the events open the incident, and the start
// fills in the caller when it lands, once.
func TestEventsBeforeTheStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
		applied, err := s.Record(ctx, "CAearly", Update{Team: "ops", MenuDigit: "1"},
			Event{At: t0.Add(5 * time.Second), Type: "menu", Key: "menu"}, Event{At: t0.Add(6 * time.Second), Type: "ring", Engineer: "alice", Key: "ring"})
		if err != nil || !applied {
			t.Fatalf("events before the start: applied %v, %v", applied, err)
		}
		start := Incident{CallSid: "CAearly", From: "+15555550123", CallerName: "Globex", To: "+18005550100", StartedAt: t0, ConfigRevision: "r1"}
		incoming := Event{At: t0, Type: "incoming", Key: "incoming"}
		for try, wantCreated := range []bool{true, false} { // the start, then a retry of it
			_, created, err := s.StartIncident(ctx, start, incoming)
			if err != nil || created != wantCreated {
				t.Errorf("start %d: created %v, %v; want %v", try, created, err, wantCreated)
			}
		}
		if _, err := s.Record(ctx, "CAearly", Update{Status: StatusAnswered, AnsweredBy: "alice"}, Event{At: t0.Add(9 * time.Second), Type: "bridged", Key: "bridged"}); err != nil {
			t.Fatal(err)
		}
		in, err := s.IncidentByCallSid(ctx, "CAearly")
		if err != nil {
			t.Fatal(err)
		}
		if in.From != start.From || in.CallerName != "Globex" || in.To != start.To || in.ConfigRevision != "r1" ||
			!in.StartedAt.Equal(t0) || in.Team != "ops" || in.Status != StatusAnswered {
			t.Errorf("incident %+v", in)
		}
		if got := eventTypes(in); got != "incoming menu ring bridged" {
			t.Errorf("events %q, want the start first and each once", got)
		}
	})
}

func TestFindIncidentsFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i, c := range []struct{ sid, team, status string }{
			{"CA1", "ops", StatusAnswered}, {"CA2", "desk", StatusMissed}, {"CA3", "ops", StatusVoicemail},
		} {
			at := t0.Add(time.Duration(i) * time.Hour)
			if _, _, err := s.StartIncident(ctx, Incident{CallSid: c.sid, From: "+1555000000" + c.sid[2:], To: "+1800", StartedAt: at, ConfigRevision: "r"}, Event{At: at, Type: "incoming"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Record(ctx, c.sid, Update{Team: c.team, Status: c.status}, Event{At: at, Type: "route"}); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			f    Filter
			want string
		}{
			{Filter{}, "CA3 CA2 CA1"},
			{Filter{Team: "ops"}, "CA3 CA1"},
			{Filter{Status: StatusMissed}, "CA2"},
			{Filter{From: t0.Add(time.Hour)}, "CA3 CA2"},
			{Filter{To: t0.Add(time.Hour)}, "CA1"},
			{Filter{Caller: "+15550000002"}, "CA2"},
			{Filter{Limit: 1, Offset: 1}, "CA2"},
		}
		for _, c := range cases {
			list, err := s.FindIncidents(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var sids []string
			for _, in := range list {
				sids = append(sids, in.CallSid)
			}
			if strings.Join(sids, " ") != c.want {
				t.Errorf("%+v: %q, want %q", c.f, strings.Join(sids, " "), c.want)
			}
		}
	})
}

func TestIncidentsByCallSid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		// More calls than one query takes, so the batch is read in two.
		sids := []string{"CAmissing"}
		for i := range callSidsPerQuery + 2 {
			sid := fmt.Sprintf("CA%03d", i)
			sids = append(sids, sid)
			if _, _, err := s.StartIncident(ctx, Incident{CallSid: sid, From: "+15555550123", StartedAt: t0}, Event{At: t0, Type: "incoming", Key: "incoming"}); err != nil {
				t.Fatal(err)
			}
		}
		bridged := Event{At: t0.Add(time.Second), Type: "bridged", Engineer: "alice", Key: "dial:p0:s0"}
		if _, err := s.Record(ctx, "CA501", Update{Status: StatusAnswered, AnsweredBy: "alice"}, bridged); err != nil {
			t.Fatal(err)
		}
		got, err := s.IncidentsByCallSid(ctx, sids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != callSidsPerQuery+2 {
			t.Fatalf("%d incidents, want %d", len(got), callSidsPerQuery+2)
		}
		if _, ok := got["CAmissing"]; ok {
			t.Error("a call without an incident was returned")
		}
		in := got["CA501"]
		if in.Status != StatusAnswered || in.AnsweredBy == nil || *in.AnsweredBy != "alice" {
			t.Errorf("CA501: status %s, answered by %v", in.Status, in.AnsweredBy)
		}
		if got["CA000"].Status != StatusInProgress || got["CA000"].From != "+15555550123" {
			t.Errorf("CA000: %+v", got["CA000"])
		}
	})
}

// eventTypes is the incident's timeline as its event types, space-separated.
func eventTypes(in Incident) string {
	types := make([]string, len(in.Events))
	for i, e := range in.Events {
		types[i] = string(e.Type)
	}
	return strings.Join(types, " ")
}

// TestStrongerEvidenceUpgradesAnEarlyAbandon: the final status callback may
// arrive before the Dial or Record action (README, "The call"). It closes
// the call abandoned; the action's recording or bridge, superseding that
// status callback's hang-up, makes it voicemail or answered, once, and the
// hang-up leaves the timeline. Nothing else reopens a closed status.
func TestStrongerEvidenceUpgradesAnEarlyAbandon(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		d := 30
		earlyStatus := func(sid string) {
			t.Helper()
			if _, err := s.Record(ctx, sid, Update{Status: StatusAbandoned, EndedAt: t0.Add(time.Minute), DurationS: &d},
				Event{At: t0.Add(time.Minute), Type: EventHangup, Key: "hangup", IfInProgress: true},
				Event{At: t0.Add(time.Minute), Type: EventCompleted, Key: "status"}); err != nil {
				t.Fatal(err)
			}
		}
		start := func(sid string) int64 {
			t.Helper()
			id, _, err := s.StartIncident(ctx, Incident{CallSid: sid, From: "+15555550123", StartedAt: t0, ConfigRevision: "r"},
				Event{At: t0, Type: EventIncoming, Key: "incoming"})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		vm := Event{At: t0.Add(61 * time.Second), Type: EventVoicemail, Key: "voicemail"}
		upgrade := Update{Status: StatusVoicemail, RecordingURL: "https://api.twilio.com/rec", Supersedes: "hangup"}

		id := start("CAvm")
		earlyStatus("CAvm")
		if _, err := s.Record(ctx, "CAvm", Update{Status: StatusMissed, Supersedes: "hangup"}, Event{At: t0, Type: EventMissed, Key: "x"}); err != nil {
			t.Fatal(err)
		}
		var closed string
		err := s.inTx(ctx, func(tx txRunner) error {
			var err error
			_, closed, err = record(tx, "CAvm", upgrade, []Event{vm})
			return err
		})
		if err != nil || closed != StatusVoicemail {
			t.Fatalf("upgrade closed %q, err %v; want voicemail", closed, err)
		}
		got, err := s.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusVoicemail || got.RecordingURL == nil || got.DurationS == nil || *got.DurationS != 30 {
			t.Errorf("after the Record action: %+v", got)
		}
		if got, want := eventTypes(got), "incoming missed completed voicemail"; got != want {
			t.Errorf("events %q, want %q", got, want)
		}
		// The same action retried, and an answered after it: nothing changes.
		if applied, _ := s.Record(ctx, "CAvm", upgrade, vm); applied {
			t.Error("the retried Record action applied again")
		}
		if _, err := s.Record(ctx, "CAvm", Update{Status: StatusAnswered, Supersedes: "hangup"}, Event{At: t0, Type: EventBridged, Key: "dial:p0:s0"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Incident(ctx, id); got.Status != StatusVoicemail {
			t.Errorf("a voicemail became %s", got.Status)
		}

		// An abandonment written by another event (the caller hung up
		// while it rang) is what happened: it stays.
		id = start("CAring")
		if _, err := s.Record(ctx, "CAring", Update{Status: StatusAbandoned}, Event{At: t0, Type: EventHangup, Key: "dial:p0:s0"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, "CAring", Update{Status: StatusAnswered, Supersedes: "hangup"}, Event{At: t0, Type: EventBridged, Key: "dial:p0:s1"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Incident(ctx, id); got.Status != StatusAbandoned {
			t.Errorf("an abandon while ringing became %s", got.Status)
		}
		if typ, err := s.EventType(ctx, "CAring", "dial:p0:s1"); err != nil || typ != EventBridged {
			t.Errorf("EventType = %q, %v", typ, err)
		}
		if typ, err := s.EventType(ctx, "CAring", "whisper:p0:s0"); err != nil || typ != "" {
			t.Errorf("EventType of a missing event = %q, %v", typ, err)
		}
	})
}

// TestCallLogFiltersStayOutOfTheStatementCache: the call log's filters
// combine into many statements (every subset of fields, IN lists of any
// length); running them all adds nothing to the store's prepared
// statements, so they cannot push the call path's out.
func TestCallLogFiltersStayOutOfTheStatementCache(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite(t))
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	s := NewIncidents(db)
	if _, err := s.FindIncidents(ctx, Filter{}); err != nil {
		t.Fatal(err)
	}
	before := db.PreparedCount()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for mask := range 64 {
		for n := 1; n <= 5; n++ {
			f := Filter{Limit: 10}
			set := func(bit int, apply func()) {
				if mask&(1<<bit) != 0 {
					apply()
				}
			}
			set(0, func() { f.From = t0 })
			set(1, func() { f.To = t0.Add(time.Hour) })
			set(2, func() { f.Team = "ops" })
			set(3, func() { f.Status = StatusMissed })
			set(4, func() { f.Caller = "+15550000001" })
			set(5, func() { f.Q = "vpn"; f.QEngineers = make([]string, n) })
			if _, err := s.FindIncidents(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if after := db.PreparedCount(); after != before {
		t.Errorf("%d distinct call-log queries left %d statements prepared, %d before", 64*5, after, before)
	}
}
