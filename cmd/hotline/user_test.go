package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store/storetest"
	"github.com/hotline-dev/hotline/web"
)

// TestUserRmEndsOpenSession is the acceptance of removing and disabling
// accounts from the command line against a running server: the manager's
// open session gets the login page on its next request, the API stops
// taking the password, and the audit log shows the change under cli:$USER.
func TestUserRmEndsOpenSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		signIn := func() {
			t.Helper()
			resp, err := c.PostForm(h.base+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", resp.StatusCode)
			}
		}
		home := func() (int, string) {
			t.Helper()
			resp, err := c.Get(h.base + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Location")
		}
		api := func() int {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, h.base+"/api/v1/oncall", nil)
			req.SetBasicAuth(testUser, testPassword)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		db, err := openDB(context.Background(), h.db)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		lastAudit := func() audit.Entry {
			t.Helper()
			es, err := audit.NewLog(db).List(context.Background(), 1)
			if err != nil || len(es) != 1 {
				t.Fatalf("audit: %v %v", es, err)
			}
			return es[0]
		}
		for _, verb := range []string{"disable", "rm"} {
			if verb == "rm" {
				h.mustRun(strings.NewReader(""), "user", "enable", testUser, "--db", h.db)
			}
			signIn()
			if code, _ := home(); code != http.StatusOK {
				t.Fatalf("%s: signed in, the call log: %d", verb, code)
			}
			if code := api(); code != http.StatusOK {
				t.Fatalf("%s: the API before: %d", verb, code)
			}
			h.mustRun(strings.NewReader(""), "user", verb, testUser, "--db", h.db)
			if code, loc := home(); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Errorf("after user %s: the open session got %d %q, want the login page", verb, code, loc)
			}
			if code := api(); code != http.StatusUnauthorized {
				t.Errorf("after user %s: the API: %d, want 401", verb, code)
			}
			want := map[string]string{"disable": web.ActionUserDisable, "rm": web.ActionUserRemove}[verb]
			if e := lastAudit(); e.Actor != "cli:tester" || e.Action != want || e.Detail != testUser {
				t.Errorf("after user %s: audit %+v, want %s of %s by cli:tester", verb, e, want, testUser)
			}
		}
	})
}
