package incident

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store/storetest"
)

// endedCall opens and ends a call incident with status (answered by who,
// when who is not empty) and returns its id.
func endedCall(t *testing.T, s *Incidents, sid, status, who string, at time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	id, _, err := s.StartIncident(ctx, Incident{CallSid: sid, From: "+15555550123", To: "+18005550100", StartedAt: at, ConfigRevision: "r"},
		Event{At: at, Type: EventIncoming, Key: "incoming"})
	if err != nil {
		t.Fatal(err)
	}
	d := 60
	if _, err := s.Record(ctx, sid, Update{Team: "ops", Status: status, AnsweredBy: who, EndedAt: at.Add(time.Minute), DurationS: &d},
		Event{At: at.Add(time.Minute), Type: EventCompleted, Key: "completed"}); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSettle: an ended call is acknowledged by whoever answered it, left
// open when its outcome wants a follow-up (and Settle says so), resolved by
// hotline otherwise; a later write that makes an abandoned call a voicemail
// reopens it, but a person's resolution stays.
func TestSettle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		followUp := []string{StatusVoicemail, StatusMissed}
		answered := endedCall(t, s, "CA1", StatusAnswered, "alice", t0)
		voicemail := endedCall(t, s, "CA2", StatusVoicemail, "", t0)
		abandoned := endedCall(t, s, "CA3", StatusAbandoned, "", t0)
		for id, want := range map[int64]struct {
			open  bool
			state string
		}{answered: {false, StateAcknowledged}, voicemail: {true, StateOpen}, abandoned: {false, StateResolved}} {
			open, err := s.Settle(ctx, id, followUp, t0)
			in, _ := s.Incident(ctx, id)
			if err != nil || open != want.open || in.State != want.state {
				t.Errorf("incident %d (%s): Settle = %v, %v, state %q; want %v, %q", id, in.Status, open, err, in.State, want.open, want.state)
			}
		}
		if in, _ := s.Incident(ctx, answered); in.AcknowledgedBy == nil || *in.AcknowledgedBy != "alice" || in.AcknowledgedAt == nil || !in.AcknowledgedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("answered call acknowledged by %v at %v; want alice at its end", in.AcknowledgedBy, in.AcknowledgedAt)
		}
		if in, _ := s.Incident(ctx, abandoned); in.ResolvedBy == nil || *in.ResolvedBy != ResolvedByHotline {
			t.Errorf("abandoned call resolved by %v; want hotline", in.ResolvedBy)
		}
		// The Record action that beat the status callback: abandoned
		// becomes voicemail, and the incident opens again.
		if _, err := s.Record(ctx, "CA3", Update{Status: StatusVoicemail, Supersedes: "completed", RecordingURL: "https://api.twilio.com/r"}); err != nil {
			t.Fatal(err)
		}
		if open, err := s.Settle(ctx, abandoned, followUp, t0); err != nil || !open {
			t.Errorf("superseded voicemail: Settle = %v, %v; want open", open, err)
		}
		// Settling again never undoes a person.
		if err := s.Resolve(ctx, voicemail, "web:ann", "web", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if open, _ := s.Settle(ctx, voicemail, followUp, t0); open {
			t.Error("Settle reopened what a person resolved")
		}
		if in, _ := s.Incident(ctx, voicemail); in.State != StateResolved || *in.ResolvedBy != "web:ann" {
			t.Errorf("state %q by %v after Settle; want resolved by web:ann", in.State, in.ResolvedBy)
		}
	})
}

// TestAcknowledgeAndResolve: a person's acknowledgement and resolution each
// write their state, one event and one audit entry, once; a resolved
// incident cannot be acknowledged; a missing one is ErrNotFound.
func TestAcknowledgeAndResolve(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		id := endedCall(t, s, "CA1", StatusVoicemail, "", t0)
		for range 2 {
			if err := s.Acknowledge(ctx, id, "bob", "page call", t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		in, _ := s.Incident(ctx, id)
		if in.State != StateAcknowledged || *in.AcknowledgedBy != "bob" || !in.AcknowledgedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("after Acknowledge: %q by %v at %v", in.State, in.AcknowledgedBy, in.AcknowledgedAt)
		}
		for range 2 {
			if err := s.Resolve(ctx, id, "cli:root", "cli", t0.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Acknowledge(ctx, id, "carol", "text", t0.Add(3*time.Hour)); !isInvalid(err) {
			t.Errorf("Acknowledge of a resolved incident = %v; want problem.Invalid", err)
		}
		if err := s.Acknowledge(ctx, 999, "carol", "text", t0); !strings.Contains(err.Error(), "not found") {
			t.Errorf("Acknowledge of a missing incident = %v", err)
		}
		in, _ = s.Incident(ctx, id)
		var kinds []string
		for _, e := range in.Events {
			if e.Type == EventAcknowledged || e.Type == EventResolved {
				kinds = append(kinds, string(e.Type)+" "+e.Detail)
			}
		}
		if strings.Join(kinds, "; ") != "acknowledged bob (page call); resolved cli:root (cli)" {
			t.Errorf("events %q", kinds)
		}
		entries, err := audit.NewLog(s.db).List(ctx, 0)
		if err != nil || len(entries) != 2 || entries[0].Action != ActionResolve || entries[1].Action != ActionAcknowledge || entries[1].Actor != "bob" {
			t.Errorf("audit %+v %v; want one acknowledge by bob, then one resolve", entries, err)
		}
		if list, _ := s.FindIncidents(ctx, Filter{State: StateResolved, Kind: KindCall}); len(list) != 1 {
			t.Errorf("Filter{State: resolved, Kind: call} found %d", len(list))
		}
		if list, _ := s.FindIncidents(ctx, Filter{State: StateOpen}); len(list) != 0 {
			t.Errorf("Filter{State: open} found %d", len(list))
		}
	})
}

// TestLifecycleMigrationSettlesHistory: on a database that held calls
// before incidents had a state, the migration makes an answered call
// acknowledged by who answered it, every other ended call resolved, and
// leaves a call in progress open.
func TestLifecycleMigrationSettlesHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		older := fstest.MapFS{}
		err := fs.WalkDir(migrations, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Base(p) >= "00007" { // 00007 and later
				return err
			}
			data, err := migrations.ReadFile(p)
			older[p] = &fstest.MapFile{Data: data}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, "routing", older); err != nil {
			t.Fatal(err)
		}
		for _, row := range [][]any{
			{1, "CA1", "answered", "alice", 60_000},
			{2, "CA2", "voicemail", nil, 60_000},
			{3, "CA3", "in_progress", nil, nil},
		} {
			if _, err := db.ExecContext(ctx, `INSERT INTO incidents (id, call_sid, from_number, to_number, status, answered_by, started_at, ended_at, config_revision)
				VALUES (?, ?, '+15555550123', '+18005550100', ?, ?, 0, ?, 'r')`, row...); err != nil {
				t.Fatal(err)
			}
		}
		if err := audit.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		s := NewIncidents(db)
		for id, want := range map[int64]string{1: StateAcknowledged, 2: StateResolved, 3: StateOpen} {
			in, err := s.Incident(ctx, id)
			if err != nil || in.State != want || in.Kind != KindCall {
				t.Errorf("incident %d: %q %q %v; want %q call", id, in.State, in.Kind, err, want)
			}
		}
		if in, _ := s.Incident(ctx, 1); in.AcknowledgedBy == nil || *in.AcknowledgedBy != "alice" {
			t.Errorf("answered call acknowledged by %v", in.AcknowledgedBy)
		}
	})
}

// TestSettleAStaleCall: a call hotline closed because its final status
// never came (no end time) is settled too, at the moment it is settled.
func TestSettleAStaleCall(t *testing.T) {
	ctx := context.Background()
	s := openTestIncidents(t, storetest.SQLite(t))
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	id, _, err := s.StartIncident(ctx, Incident{CallSid: "CA1", From: "+15555550123", To: "+18005550100", StartedAt: t0, ConfigRevision: "r"},
		Event{At: t0, Type: EventIncoming, Key: "incoming"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseStale(ctx, t0.Add(5*time.Hour), StaleAfter); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Settle(ctx, id, []string{StatusVoicemail, StatusMissed}, t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	in, _ := s.Incident(ctx, id)
	if in.Status != StatusAbandoned || in.State != StateResolved || in.ResolvedAt == nil || !in.ResolvedAt.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("stale call: %q %q at %v; want abandoned, resolved at the settling", in.Status, in.State, in.ResolvedAt)
	}
}
