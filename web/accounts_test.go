package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store/storetest"
)

// apiGet asks the API's on-call endpoint with HTTP Basic name:password, or
// with c's session cookie when name is empty, and returns the status.
func (s *site) apiGet(c *http.Client, name, password string) int {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/v1/oncall", nil)
	if name != "" {
		req.SetBasicAuth(name, password)
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// postBody is post returning the page too.
func (s *site) postBody(c *http.Client, path string, form url.Values) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// lastAudit returns the newest audit entry.
func (s *site) lastAudit() audit.Entry {
	s.t.Helper()
	es, err := audit.NewLog(s.db).List(context.Background(), 1)
	if err != nil || len(es) == 0 {
		s.t.Fatalf("audit log: %v %v", es, err)
	}
	return es[0]
}

// TestDisableAndRemoveEndAccessAtOnce: root disables ann on /users; ann's
// open session gets the login page at its next request, the API refuses
// her session and her password, and signing in says what a wrong password
// says. Enabled again, her old password works. Removed, the same holds.
// Each change is in the audit log under root.
func TestDisableAndRemoveEndAccessAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, _ := newAttackSite(t, dsn)
		root, ann := s.client(), s.client()
		s.signIn(root, "root")
		s.signIn(ann, "ann")
		if code, _, _ := s.get(ann, "/"); code != http.StatusOK {
			t.Fatalf("ann signed in: %d", code)
		}
		if code := s.apiGet(ann, "", ""); code != http.StatusOK {
			t.Fatalf("ann's session on the API: %d", code)
		}
		if code := s.apiGet(s.client(), "ann", "password-ann"); code != http.StatusOK {
			t.Fatalf("ann's password on the API: %d", code)
		}
		signedOut := func(when string) {
			t.Helper()
			if code, _, h := s.get(ann, "/"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
				t.Errorf("%s: ann's open session got %d %q, want the login page", when, code, h.Get("Location"))
			}
			if code := s.apiGet(ann, "", ""); code != http.StatusUnauthorized {
				t.Errorf("%s: ann's session on the API: %d, want 401", when, code)
			}
			if code := s.apiGet(s.client(), "ann", "password-ann"); code != http.StatusUnauthorized {
				t.Errorf("%s: ann's password on the API: %d, want 401", when, code)
			}
			code, body := s.postBody(s.client(), "/login", url.Values{"username": {"ann"}, "password": {"password-ann"}})
			if code != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password.") {
				t.Errorf("%s: ann signing in: %d, want 401 and the wrong-password message", when, code)
			}
		}

		if resp := s.post(root, "/users/disable", url.Values{"username": {"ann"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable ann: %d", resp.StatusCode)
		}
		signedOut("disabled")
		if e := s.lastAudit(); e.Actor != "web:root" || e.Action != ActionUserDisable || e.Detail != "ann" {
			t.Errorf("audit after disable: %+v", e)
		}
		if _, page, _ := s.get(root, "/users"); !strings.Contains(page, `<td data-label="Name">ann</td><td data-label="Role">manager</td>`) || !strings.Contains(page, "disabled") || !strings.Contains(page, `aria-label="Enable ann"`) {
			t.Errorf("the users page does not show ann disabled:\n%s", page)
		}

		if resp := s.post(root, "/users/enable", url.Values{"username": {"ann"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable ann: %d", resp.StatusCode)
		}
		if e := s.lastAudit(); e.Action != ActionUserEnable || e.Detail != "ann" {
			t.Errorf("audit after enable: %+v", e)
		}
		if code := s.apiGet(s.client(), "ann", "password-ann"); code != http.StatusOK {
			t.Errorf("ann enabled, her password on the API: %d", code)
		}
		if resp := s.signIn(ann, "ann"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("ann enabled signs in: %d", resp.StatusCode)
		}
		if code, _, _ := s.get(ann, "/"); code != http.StatusOK {
			t.Fatalf("ann enabled, signed in again: %d", code)
		}

		if resp := s.post(root, "/users/remove", url.Values{"username": {"ann"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove ann: %d", resp.StatusCode)
		}
		signedOut("removed")
		if e := s.lastAudit(); e.Actor != "web:root" || e.Action != ActionUserRemove || e.Detail != "ann" {
			t.Errorf("audit after remove: %+v", e)
		}
		if _, page, _ := s.get(root, "/users"); strings.Contains(page, `<td data-label="Name">ann</td>`) {
			t.Errorf("ann still listed after removal")
		}
		code, page := s.postBody(root, "/users/remove", url.Values{"username": {"ann"}})
		if code != http.StatusNotFound || !strings.Contains(page, "no account is named &#34;ann&#34;") {
			t.Errorf("removing ann again: %d, want 404 saying no such account:\n%s", code, page)
		}
	})
}

// TestLastAdminIsKept: root, the only admin, cannot remove, disable or
// demote root (each refused with why, nothing changed, nothing audited);
// with a second admin, root may disable root, which signs root out.
func TestLastAdminIsKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		root := s.client()
		s.signIn(root, "root")
		before := s.lastAudit()
		for _, try := range []struct {
			path string
			form url.Values
		}{
			{"/users/remove", url.Values{"username": {"root"}}},
			{"/users/disable", url.Values{"username": {"root"}}},
			{"/users", url.Values{"username": {"root"}, "role": {RoleManager}, "password": {"a new root password"}}},
		} {
			code, page := s.postBody(root, try.path, try.form)
			if code != http.StatusBadRequest || !strings.Contains(page, "root is the last enabled admin") {
				t.Errorf("%s %v: %d, want 400 saying root is the last enabled admin", try.path, try.form, code)
			}
		}
		if code, _, _ := s.get(root, "/users"); code != http.StatusOK {
			t.Errorf("root after the refusals: %d, want still an admin, signed in", code)
		}
		if e := s.lastAudit(); e.ID != before.ID {
			t.Errorf("a refusal was audited: %+v", e)
		}
		if _, err := NewUsers(s.db, nil).Authenticate(context.Background(), "root", "password-root"); err != nil {
			t.Errorf("root's password after the refused demotion: %v", err)
		}
		if resp := s.post(root, "/users", url.Values{"username": {"bob"}, "role": {RoleAdmin}, "password": {"password-bob"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add bob: %d", resp.StatusCode)
		}
		if resp := s.post(root, "/users/disable", url.Values{"username": {"root"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("root disables root beside bob: %d", resp.StatusCode)
		}
		if code, _, _ := s.get(root, "/users"); code != http.StatusSeeOther {
			t.Errorf("root disabled, root's session: %d, want the login page", code)
		}
	})
}

// TestLastAdminKeptUnderRace: two admins disable each other at once; one
// change wins, the other is refused, and one admin stays enabled.
func TestLastAdminKeptUnderRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		ctx := context.Background()
		users := NewUsers(s.db, func() time.Time { return s.now })
		if err := users.AddUser(ctx, "bob", RoleAdmin, "password-bob", "test"); err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, name := range []string{"root", "bob"} {
				wg.Go(func() { errs[i] = users.DisableUser(ctx, name, "test") })
			}
			wg.Wait()
			refused := 0
			for _, err := range errs {
				if _, ok := problem.Of(err, problem.Invalid); ok {
					refused++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			list, err := users.ListUsers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			enabled := 0
			for _, a := range list {
				if a.Role == RoleAdmin && !a.Disabled {
					enabled++
				}
			}
			if refused != 1 || enabled != 1 {
				t.Fatalf("round %d: %d refused, %d admins enabled; want 1 and 1", round, refused, enabled)
			}
			for _, name := range []string{"root", "bob"} {
				if err := users.EnableUser(ctx, name, "test"); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestAddUserRefusesAnExistingName: AddUser over an existing account is
// ErrUserExists, a problem.Invalid, and leaves its password; UpdateUser
// changes it, and over no account is a problem.NotFound.
func TestAddUserRefusesAnExistingName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		ctx := context.Background()
		users := NewUsers(s.db, func() time.Time { return s.now })
		err := users.AddUser(ctx, "ann", RoleAdmin, "another password", "cli:op")
		if _, ok := problem.Of(err, problem.Invalid); !errors.Is(err, ErrUserExists) || !ok {
			t.Fatalf("AddUser over ann: %v, want ErrUserExists", err)
		}
		if u, err := users.Authenticate(ctx, "ann", "password-ann"); err != nil || u.Role != RoleManager {
			t.Errorf("ann after the refused add: %+v %v, want her old password and role", u, err)
		}
		if err := users.UpdateUser(ctx, "ann", RoleAdmin, "another password", "cli:op"); err != nil {
			t.Fatal(err)
		}
		if u, err := users.Authenticate(ctx, "ann", "another password"); err != nil || u.Role != RoleAdmin {
			t.Errorf("ann after the update: %+v %v", u, err)
		}
		if e := s.lastAudit(); e.Actor != "cli:op" || e.Action != ActionUserUpdate || e.Detail != "ann as admin" {
			t.Errorf("audit after the update: %+v", e)
		}
		err = users.UpdateUser(ctx, "nobody", RoleAdmin, "another password", "cli:op")
		if _, ok := problem.Of(err, problem.NotFound); !ok {
			t.Errorf("UpdateUser of no account: %v, want NotFound", err)
		}
	})
}
