package web

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestWebWritesWhileDatabaseRemoved removes the SQLite file under a
// running site (SQLite only: PostgreSQL has no file to remove), deleted
// then restored from a copy, or moved away then back. While it is gone an
// override, an announcement, a note and a sign-in each get a 503 page
// saying so, and no session cookie: SQLite would have written them into
// the removed file, lost once it is put back. Once it is back the same
// posts succeed, and a fresh connection finds each in the file.
func TestWebWritesWhileDatabaseRemoved(t *testing.T) {
	for name, gone := range map[string]func(t *testing.T, path string) (restore func()){
		"deleted then restored from a copy": func(t *testing.T, path string) func() {
			backup := path + ".bak"
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("VACUUM INTO ?", backup); err != nil {
				t.Fatal(err)
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			}
			return func() {
				if err := os.Rename(backup, path); err != nil {
					t.Fatal(err)
				}
			}
		},
		"moved away then back": func(t *testing.T, path string) func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Rename(path+suffix, path+suffix+".away"); err != nil {
					t.Fatal(err)
				}
			}
			return func() {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					if err := os.Rename(path+suffix+".away", path+suffix); err != nil {
						t.Fatal(err)
					}
				}
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newLiveSite(t, storetest.SQLite(t))
			id := s.addCall("CAgone", "+15555550123", "Globex", "", s.now.Add(-time.Minute))
			c := s.client()
			if resp := s.signIn(c, "ann"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", resp.StatusCode)
			}
			loc, err := time.LoadLocation("America/New_York")
			if err != nil {
				t.Fatal(err)
			}
			at := func(d time.Duration) string { return s.now.Add(d).In(loc).Format(inputLayout) }
			writes := func(tag string) map[string]url.Values {
				return map[string]url.Values{
					"/schedules/overrides": {"rotation": {"ops-primary"}, "engineer": {"carol"},
						"from": {at(time.Hour)}, "to": {at(3 * time.Hour)}, "reason": {"override " + tag}},
					"/announcements":                   {"message": {"announcement " + tag}, "until": {at(2 * time.Hour)}},
					"/incidents/" + itoa(id) + "/note": {"note": {"note " + tag}},
				}
			}
			path := s.db.Path
			restore := gone(t, path)

			for p, form := range writes("while gone") {
				code, body, _ := s.postRead(c, p, form)
				if code != http.StatusServiceUnavailable || !strings.Contains(body, "your change was not saved") {
					t.Errorf("POST %s with the database removed: %d, want 503 saying the change was not saved:\n%s", p, code, excerpt(body))
				}
			}
			fresh := s.client()
			code, body, cookies := s.postRead(fresh, "/login", url.Values{"username": {"root"}, "password": {"password-root"}})
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "sign in right now") {
				t.Errorf("sign-in with the database removed: %d, want 503 saying one cannot sign in:\n%s", code, excerpt(body))
			}
			for _, ck := range cookies {
				if ck.Name == sessionCookie && ck.Value != "" {
					t.Errorf("sign-in with the database removed handed out a session cookie")
				}
			}

			restore()
			for p, form := range writes("after") {
				if code, body, _ := s.postRead(c, p, form); code != http.StatusSeeOther {
					t.Errorf("POST %s with the database back: %d, want 303:\n%s", p, code, excerpt(body))
				}
			}
			code, body, cookies = s.postRead(fresh, "/login", url.Values{"username": {"root"}, "password": {"password-root"}})
			var token string
			for _, ck := range cookies {
				if ck.Name == sessionCookie {
					token = ck.Value
				}
			}
			if code != http.StatusSeeOther || token == "" {
				t.Fatalf("sign-in with the database back: %d, cookie %q:\n%s", code, token, excerpt(body))
			}
			if code, _, _ := s.get(fresh, "/users"); code != http.StatusOK {
				t.Errorf("the new session does not open /users: %d", code)
			}

			file, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			ctx := context.Background()
			for _, q := range []struct {
				what, query string
				args        []any
				want        int
			}{
				{"the override", `SELECT COUNT(*) FROM overrides WHERE reason LIKE 'override %'`, nil, 1},
				{"the announcement", `SELECT COUNT(*) FROM announcements WHERE message LIKE 'announcement %'`, nil, 1},
				{"the note", `SELECT COUNT(*) FROM incidents WHERE id = ? AND note = 'note after'`, []any{id}, 1},
				{"the session", `SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, []any{hashToken(token)}, 1},
				{"the audit entries of the three changes", `SELECT COUNT(*) FROM audit_log WHERE actor <> 'test'`, nil, 3},
				{"anything posted while gone", `SELECT (SELECT COUNT(*) FROM overrides WHERE reason LIKE '%while gone%')
					+ (SELECT COUNT(*) FROM announcements WHERE message LIKE '%while gone%')
					+ (SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%while gone%')`, nil, 0},
			} {
				var n int
				if err := file.QueryRowContext(ctx, q.query, q.args...).Scan(&n); err != nil {
					t.Fatalf("%s: %v", q.what, err)
				}
				if n != q.want {
					t.Errorf("%s: %d rows in the file, want %d", q.what, n, q.want)
				}
			}
		})
	}
}

// postRead posts form and returns the status, the body and the cookies set.
func (s *site) postRead(c *http.Client, path string, form url.Values) (int, string, []*http.Cookie) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Cookies()
}

// excerpt is the part of a page worth showing in a failure: its message.
func excerpt(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	return body[:min(len(body), 600)]
}
