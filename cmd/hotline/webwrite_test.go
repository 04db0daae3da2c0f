package main

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestWebWriteWhileDatabaseRemoved runs `hotline serve` on SQLite (only:
// PostgreSQL has no file) and deletes its database file while a manager is
// signed in and a call comes in. The call still rings and is spooled; an
// announcement posted meanwhile gets a 503 page saying it was not saved.
// When the file is restored, the next announcement is saved at once (the
// web reopens the restored file itself), the spooled call is replayed into
// the same file, and a fresh connection finds both there.
func TestWebWriteWhileDatabaseRemoved(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := c.PostForm(h.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("/login", url.Values{"username": {testUser}, "password": {testPassword}}); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	until := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)

	backup := h.removeDatabase()
	during := h.call(sim.Script{Presses: []string{"2"}, Engineers: map[string]sim.Behaviour{carol: sim.Accept}})
	if !heard(during, carol, "Support call for Service Desk") {
		t.Fatalf("with the database gone the call did not reach carol:\n%s", during.Transcript())
	}
	if code, body := post("/announcements", url.Values{"message": {"posted while gone"}, "until": {until}}); code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "your change was not saved") {
		t.Errorf("announcement with the database removed: %d, want 503 saying it was not saved", code)
	}

	if err := os.Rename(backup, h.db); err != nil {
		t.Fatal(err)
	}
	if code, _ := post("/announcements", url.Values{"message": {"posted after the restore"}, "until": {until}}); code != http.StatusSeeOther {
		t.Errorf("announcement with the database back: %d, want 303", code)
	}
	h.waitReady()
	wantStatus(t, h.incident(during.CallSid), "answered", "carol")

	file, err := sql.Open("sqlite", "file:"+h.db)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var calls, kept, lost int
	err = file.QueryRow(`SELECT (SELECT COUNT(*) FROM incidents WHERE call_sid = ?),
		(SELECT COUNT(*) FROM announcements WHERE message = 'posted after the restore'),
		(SELECT COUNT(*) FROM announcements WHERE message = 'posted while gone')`, during.CallSid).Scan(&calls, &kept, &lost)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || kept != 1 || lost != 0 {
		t.Errorf("in the restored file: %d incidents of the call, %d announcements posted after, %d posted while gone; want 1, 1, 0", calls, kept, lost)
	}
}

// TestRestoredDatabaseReadyWithoutAWrite: a database file deleted and put
// back while nothing writes is seen by /readyz itself. A load balancer that
// took the instance out on the 503 would otherwise send it no call and no
// page whose write reopens the file, and /readyz would stay 503 for good.
func TestRestoredDatabaseReadyWithoutAWrite(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	backup := h.removeDatabase()
	if code := h.readyStatus(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d with the database file gone", code)
	}
	if err := os.Rename(backup, h.db); err != nil {
		t.Fatal(err)
	}
	if code := h.readyStatus(); code != http.StatusOK {
		t.Errorf("/readyz answered %d once the file was back", code)
	}
	in := h.incident(h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}}).CallSid)
	wantStatus(t, in, "answered", "alice")
}
