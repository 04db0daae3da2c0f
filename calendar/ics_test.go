package calendar

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestEncodingRoundTrips: long lines are folded without splitting a
// character, and text comes back from golang-ical as it went in.
func TestEncodingRoundTrips(t *testing.T) {
	summary := "Équipe d’astreinte; niveau 1, “Opérations” \\ " + strings.Repeat("été ☎ ", 20)
	f := Feed{Name: "On call: Ops, EMEA", Stamp: utc(t, "2027-03-01T00:00:00Z"), Events: []Event{{
		UID: "x@hotline", Summary: summary, Description: "line one\nline two\x07",
		Start: utc(t, "2027-03-01T09:00:00Z"), End: utc(t, "2027-03-01T21:00:00Z"),
	}}}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	events := parse(t, buf.Bytes())
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	ev := events[0]
	if ev.Summary != summary || ev.Description != "line one\nline two " {
		t.Errorf("round trip:\n got %q / %q\nwant %q", ev.Summary, ev.Description, summary)
	}
	if !ev.Start.Equal(f.Events[0].Start) || !ev.End.Equal(f.Events[0].End) || !ev.Stamp.Equal(f.Stamp) {
		t.Errorf("times %v–%v stamp %v", ev.Start, ev.End, ev.Stamp)
	}
	if !strings.Contains(buf.String(), "\r\nDTSTART:20270301T090000Z\r\n") {
		t.Errorf("DTSTART is not UTC:\n%s", buf.String())
	}
}

// TestUIDsAreStable: a refresh an hour later keeps the UIDs of the events
// it still shows, the shift in progress included.
func TestUIDsAreStable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		now := utc(t, "2027-03-01T00:00:00Z")
		h := newHarness(t, dsn, now, dstOverrides(t)...)
		idx, err := h.router.Overrides(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, subject := range []Subject{{KindTeam, "ops"}, {KindEngineer, "dana"}, {KindEngineer, "frank"}} {
			a, err := Build(h.router.Config(), idx, subject, now)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Build(h.router.Config(), idx, subject, now.Add(26*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			uids := map[string]string{} // summary and end → UID
			for _, ev := range a.Events {
				uids[ev.Summary+ev.End.String()] = ev.UID
			}
			same := 0
			for _, ev := range b.Events {
				if u, ok := uids[ev.Summary+ev.End.String()]; ok && ev.End.Before(now.Add(Horizon)) {
					if u != ev.UID {
						t.Errorf("%v: %q ending %v changed UID on refresh", subject, ev.Summary, ev.End)
					}
					same++
				}
			}
			if same == 0 {
				t.Errorf("%v: no event in common between the two refreshes", subject)
			}
		}
	})
}

// TestFeedNames: the calendar's name says whose it is; an engineer in no
// chain gets an empty but valid feed.
func TestFeedNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, utc(t, "2027-03-01T00:00:00Z"))
		idx, _ := h.router.Overrides(context.Background())
		f, err := Build(h.router.Config(), idx, Subject{KindTeam, "desk"}, h.now)
		if err != nil || f.Name != "On call: Service Desk" || len(f.Events) == 0 {
			t.Fatalf("desk feed %q with %d events, %v", f.Name, len(f.Events), err)
		}
		if f.Events[0].Summary != "Service Desk (primary): Grace Gupta" {
			t.Errorf("first desk event %q", f.Events[0].Summary)
		}
		if _, err := Build(h.router.Config(), idx, Subject{KindTeam, "nope"}, h.now); err == nil {
			t.Error("a feed for an unknown team")
		}
	})
}
