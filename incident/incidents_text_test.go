package incident

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestAddEventTx: another store's transaction adds an event to an incident
// once per key, commits it with its own change, and is refused for an
// incident that does not exist.
func TestAddEventTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
		id, _, err := s.StartIncident(ctx, Incident{CallSid: "CA1", From: "+15555550123", To: "+18005550100", StartedAt: t0, ConfigRevision: "r"},
			Event{At: t0, Type: EventIncoming})
		if err != nil {
			t.Fatal(err)
		}
		e := Event{At: t0.Add(time.Minute), Type: EventTextFailed, Detail: "30032: the toll-free number is not verified", Key: "text_failed:SM1:undelivered"}
		for i, want := range []bool{true, false} {
			tx, err := s.db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			added, err := s.AddEventTx(ctx, tx, id, e)
			if err != nil || added != want {
				t.Fatalf("AddEventTx #%d = %v, %v; want %v", i+1, added, err, want)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		in, err := s.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(in.Events); n != 2 || in.Events[1].Type != EventTextFailed || in.Events[1].Detail != e.Detail {
			t.Errorf("events %+v, want incoming and one text_failed", in.Events)
		}
		if in.Status != StatusInProgress {
			t.Errorf("status %q: a text's failure changed the call's", in.Status)
		}
		tx, err := s.db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := s.AddEventTx(ctx, tx, id+100, e); !errors.Is(err, ErrNotFound) {
			t.Errorf("AddEventTx on no incident: %v, want ErrNotFound", err)
		}
	})
}
