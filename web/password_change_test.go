package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestPasswordChangeEndsOtherSessions signs root in on two browsers; one
// changes root's password on /users: the other is signed out at its next
// request, the one that made the change stays signed in. Changing ann's
// password ends every session of ann's.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		laptop, phone, ann := s.client(), s.client(), s.client()
		s.signIn(laptop, "root")
		s.signIn(phone, "root")
		s.signIn(ann, "ann")
		for name, c := range map[string]*http.Client{"laptop": laptop, "phone": phone, "ann": ann} {
			if code, _, _ := s.get(c, "/"); code != http.StatusOK {
				t.Fatalf("%s signed in: %d", name, code)
			}
		}
		change := url.Values{"username": {"root"}, "role": {RoleAdmin}, "password": {"a new root password"}}
		if resp := s.post(laptop, "/users", change); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("change root's password: %d", resp.StatusCode)
		}
		if code, _, h := s.get(phone, "/"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Errorf("the other session after the password change: %d %s, want a redirect to /login", code, h.Get("Location"))
		}
		if code, _, _ := s.get(laptop, "/"); code != http.StatusOK {
			t.Errorf("the session that changed the password: %d, want it kept", code)
		}
		if code, _, _ := s.get(ann, "/"); code != http.StatusOK {
			t.Errorf("ann's session after root's change: %d", code)
		}
		change = url.Values{"username": {"ann"}, "role": {RoleManager}, "password": {"a new ann password"}}
		if resp := s.post(laptop, "/users", change); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("change ann's password: %d", resp.StatusCode)
		}
		if code, _, _ := s.get(ann, "/"); code != http.StatusSeeOther {
			t.Errorf("ann's session after ann's password changed: %d, want a redirect", code)
		}
		// The command line's `user add --update` ends its sessions too.
		s.signIn(phone, "ann") // the old password: refused
		if code, _, _ := s.get(phone, "/"); code != http.StatusSeeOther {
			t.Errorf("ann's old password still signs in")
		}
		if resp := s.post(phone, "/login", url.Values{"username": {"ann"}, "password": {"a new ann password"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("ann with the new password: %d", resp.StatusCode)
		}
		if err := NewUsers(s.db, func() time.Time { return s.now }).UpdateUser(context.Background(), "ann", RoleManager, "password-ann", "test"); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := s.get(phone, "/"); code != http.StatusSeeOther {
			t.Errorf("ann's session after UpdateUser replaced the password: %d, want a redirect", code)
		}
	})
}
