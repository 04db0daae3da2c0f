package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestRefusalsSayWhy: each form that refuses its input answers 400 with
// the store's own reason, as a person would read it: no package prefix,
// no error-chain plumbing.
func TestRefusalsSayWhy(t *testing.T) {
	s := newTestSite(t, storetest.SQLite(t), "")
	id := s.addCall("CA1", "+15555550123", "Globex", "", s.now.Add(-time.Hour))
	c := s.client()
	s.signIn(c, "root")
	for _, tc := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/incidents/" + itoa(id) + "/note", url.Values{"note": {strings.Repeat("x", 4001)}}, "The note was not saved: the note has 4001 characters, at most 4000"},
		{"/announcements", url.Values{"message": {" "}, "until": {"2026-11-24T18:00"}}, "The announcement was not posted: the message is empty"},
		{"/schedules/overrides", url.Values{"rotation": {"ops-primary"}, "engineer": {"nobody"}, "from": {"2026-11-24T09:00"}, "to": {"2026-11-24T12:00"}}, `The override was not added: unknown engineer &#34;nobody&#34;`},
		{"/users", url.Values{"username": {"zoe"}, "role": {"owner"}, "password": {"long enough pw"}}, `The account was not saved: role &#34;owner&#34;: must be manager or admin`},
	} {
		code, body, _ := s.postRead(c, tc.path, tc.form)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s: %d, want 400 saying %q:\n%s", tc.path, code, tc.want, excerpt(body))
		}
		for _, plumbing := range []string{"incident:", "announce:", "schedules:", "web:", "invalid"} {
			if strings.Contains(body, plumbing) {
				t.Errorf("POST %s shows %q to the user", tc.path, plumbing)
			}
		}
	}
}
