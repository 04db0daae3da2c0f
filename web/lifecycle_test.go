package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestCallLogShowsWhoHasIt: the call log marks an open call and names who
// acknowledged one, ?state=open lists the open ones only, an unknown state
// is refused, and the incident page's buttons acknowledge and resolve as
// the signed-in manager.
func TestCallLogShowsWhoHasIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		open := s.addCall("CA1", "+15555550123", "Globex", "", s.now.Add(-2*time.Hour))
		taken := s.addCall("CA2", "+15555550124", "Initech", "", s.now.Add(-time.Hour))
		if err := s.incidents.Acknowledge(context.Background(), taken, "bob", "page call", s.now); err != nil {
			t.Fatal(err)
		}
		c := s.client()
		s.signIn(c, "ann")
		if _, body, _ := s.get(c, "/"); !strings.Contains(body, `<span class="tag open"`) || !strings.Contains(body, "Bob Brown has it") {
			t.Errorf("the call log does not mark the open call and who has the other:\n%s", excerpt(body))
		}
		if _, body, _ := s.get(c, "/?state=open"); !strings.Contains(body, "Globex") || strings.Contains(body, "Initech") {
			t.Errorf("?state=open does not list the open call only:\n%s", excerpt(body))
		}
		if code, body, _ := s.get(c, "/?state=sleeping"); code != http.StatusBadRequest || !strings.Contains(body, "State: open, acknowledged or resolved.") {
			t.Errorf("?state=sleeping: %d", code)
		}
		id := itoa(open)
		if resp := s.post(c, "/incidents/"+id+"/acknowledge", url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("acknowledge: %d", resp.StatusCode)
		}
		if _, body, _ := s.get(c, "/incidents/"+id); !strings.Contains(body, ">acknowledged</span> · ann") || strings.Contains(body, "/acknowledge\"") {
			t.Errorf("after Acknowledge the page does not show ann with only Resolve left:\n%s", excerpt(body))
		}
		if resp := s.post(c, "/incidents/"+id+"/resolve", url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("resolve: %d", resp.StatusCode)
		}
		if code, _, _ := s.postRead(c, "/incidents/"+id+"/acknowledge", url.Values{}); code != http.StatusConflict {
			t.Errorf("acknowledging a resolved call: %d, want 409", code)
		}
		in, err := s.incidents.Incident(context.Background(), open)
		if err != nil || in.State != incident.StateResolved || *in.ResolvedBy != "web:ann" {
			t.Errorf("incident %+v %v; want resolved by web:ann", in.State, err)
		}
	})
}
