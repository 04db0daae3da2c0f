package web

import (
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestSchedulesShowOptedOut: an engineer whose number opted out of texts is
// shown so where managers see who is on call, the reason escaped.
func TestSchedulesShowOptedOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		c := s.client()
		s.signIn(c, "ann")
		if _, body, _ := s.get(c, "/schedules"); strings.Contains(body, "opted out") {
			t.Fatalf("an engineer shown opted out before any did")
		}
		s.optedOut = map[string]string{"+15555550101": "replied STOP on 2026-11-24", "+15555550103": "<b>x</b>"}
		_, body, _ := s.get(c, "/schedules")
		for _, want := range []string{
			`Alice Adams: opted out of texts (replied STOP on 2026-11-24)`,
			`Carol Chen: opted out of texts (&lt;b&gt;x&lt;/b&gt;)`,
			// Carol is on call now for the Service Desk.
			`rotation:desk-day</span> <span class="tag opted-out">opted out of texts (&lt;b&gt;x&lt;/b&gt;)</span>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("schedules page lacks %q", want)
			}
		}
		if strings.Contains(body, "Bob Brown: opted out") || strings.Contains(body, "<b>x</b>") {
			t.Errorf("schedules page shows the wrong engineer opted out, or the reason unescaped")
		}
	})
}
