package incident

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestCallsByRevision: each revision counts the calls it routed, an alert
// counts for none, and a revision without calls is left out.
func TestCallsByRevision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		for i, rev := range []string{"r1", "r2", "r2", "r2", "r1"} {
			in := Incident{CallSid: fmt.Sprintf("CA%d", i), From: "+15555550123", To: "+18005550100", StartedAt: t0, ConfigRevision: rev}
			if _, _, err := s.StartIncident(ctx, in, Event{At: t0, Type: "incoming", Key: "incoming"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.OpenAlert(ctx, Alert{Team: "ops", Summary: "disk full", At: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := s.CallsByRevision(ctx, []string{"r1", "r2", "r3", ""})
		if want := map[string]int64{"r1": 2, "r2": 3}; err != nil || !maps.Equal(got, want) {
			t.Errorf("CallsByRevision = %v, %v; want %v", got, err, want)
		}
	})
}
