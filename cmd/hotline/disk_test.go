package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// lockSQLite takes the write lock of the SQLite file at path from another
// connection, as another process would, until unlock.
func lockSQLite(t *testing.T, path string) (unlock func()) {
	t.Helper()
	lock, unlock := sqliteLocker(t, path)
	lock()
	return unlock
}

// sqliteLocker returns functions that take and release the write lock of
// the SQLite file at path from another connection, as another process
// would. lock may run on another goroutine (a hookTransport's hook).
func sqliteLocker(t *testing.T, path string) (lock, unlock func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	lock = func() {
		if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
			t.Error(err)
		}
	}
	unlock = func() {
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Error(err)
		}
	}
	return lock, unlock
}

// removeDatabase copies the SQLite database aside (VACUUM INTO, as a backup
// would) and deletes it with its -wal and -shm files, as an operator's
// mistake would; it returns the copy's path.
func (h *hotline) removeDatabase() (backup string) {
	h.t.Helper()
	backup = h.db + ".bak"
	db, err := sql.Open("sqlite", "file:"+h.db)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("VACUUM INTO ?", backup); err != nil {
		h.t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(h.db + suffix)
	}
	return backup
}

// ready returns /readyz's status and body.
func (h *hotline) ready() (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.base + "/readyz")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metrics returns /metrics.
func (h *hotline) metrics() string {
	h.t.Helper()
	resp, err := http.Get(h.base + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// wantEventsOnce checks the incident of an answered call has each of its
// events once.
func (h *hotline) wantEventsOnce(callSid, engineer string) {
	h.t.Helper()
	in := h.incident(callSid)
	wantStatus(h.t, in, "answered", engineer)
	for _, typ := range []string{"incoming", "route", "ring:" + engineer, "accepted:" + engineer, "bridged:" + engineer, "completed"} {
		if n := countPrefix(eventTypes(in), typ); n != 1 {
			h.t.Errorf("%s: event %s written %d times: %v", callSid, typ, n, eventTypes(in))
		}
	}
}

// TestDiskFullCallsGoOn: a `hotline serve` whose spool cannot be written
// (its directory is a file) and whose database another process locks.
// Calls still ring; /readyz answers 503 naming the database, the spool and
// the writes held in memory; once the lock is released every event is in
// the incidents exactly once, and once the spool's directory exists
// /readyz answers 200. hotline used to refuse to start on such a spool,
// and with a spool that failed mid-run it kept nothing.
func TestDiskFullCallsGoOn(t *testing.T) {
	cfg, err := os.ReadFile("testdata/e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := prepareHotline(t, storetest.SQLite(t), string(cfg))
	spoolDir := filepath.Join(h.dir, "spool")
	if err := os.WriteFile(spoolDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h.serve(filepath.Join(spoolDir, "hotline.spool"))
	if code, body := h.ready(); code != http.StatusServiceUnavailable || !strings.Contains(body, "spool unwritable: ") || !strings.Contains(body, "not a directory") {
		t.Errorf("/readyz with no spool: %d %q", code, body)
	}
	unlock := lockSQLite(t, h.db)
	var calls []string
	for range 2 {
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !heard(res, alice, "Support call for Operations") {
			t.Fatalf("with the database locked and no spool the call did not reach alice:\n%s", res.Transcript())
		}
		calls = append(calls, res.CallSid)
	}
	code, body := h.ready()
	held := regexp.MustCompile(`(\d+) writes held in memory`).FindStringSubmatch(body)
	if code != http.StatusServiceUnavailable || held == nil || !strings.Contains(body, "database unavailable") || !strings.Contains(body, "spool unwritable: ") {
		t.Fatalf("/readyz during the outage: %d %q, want 503 naming the database, the spool and the writes held", code, body)
	}
	if want := "hotline_held_writes " + held[1] + "\n"; !strings.Contains(h.metrics(), want) {
		t.Errorf("/metrics lacks %q", want)
	}
	unlock()
	deadline := time.Now().Add(15 * time.Second)
	for _, body = h.ready(); strings.Contains(body, "held in memory"); _, body = h.ready() {
		if time.Now().After(deadline) {
			t.Fatalf("held writes not replayed after 15 s: %q", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := os.Remove(spoolDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(spoolDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, sid := range calls {
		h.wantEventsOnce(sid, "alice") // waits for /readyz 200
	}
	if m := h.metrics(); !strings.Contains(m, "hotline_held_writes 0\n") || !strings.Contains(m, "hotline_held_writes_dropped_total 0\n") {
		t.Errorf("/metrics after recovery:\n%s", m)
	}
}

// TestTwoServersShareASpoolPath: two `hotline serve` on one SQLite file
// with the same spool path spool while another process locks it, each to
// a file of its own; after the lock both answer /readyz 200 and each
// call's events are in the incidents once. They used to share one file
// and answer 503 until restarted.
func TestTwoServersShareASpoolPath(t *testing.T) {
	a := startHotline(t, storetest.SQLite(t))
	b := &hotline{t: t, dir: a.dir, config: a.config, db: a.db, stderr: &lockedBuffer{}}
	b.serve(filepath.Join(a.dir, "hotline.spool"))
	unlock := lockSQLite(t, a.db)
	var calls []string
	for i, h := range []*hotline{a, b} {
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !heard(res, alice, "Support call for Operations") {
			t.Fatalf("call %d did not reach alice:\n%s", i+1, res.Transcript())
		}
		calls = append(calls, res.CallSid)
	}
	for _, h := range []*hotline{a, b} {
		if code, body := h.ready(); code != http.StatusServiceUnavailable || !strings.Contains(body, "writes spooled") {
			t.Errorf("/readyz while spooling: %d %q", code, body)
		}
	}
	if !strings.Contains(b.stderr.String(), fmt.Sprintf(`"spool":"%s.%d"`, filepath.Join(a.dir, "hotline.spool"), os.Getpid())) {
		t.Errorf("the second server does not log the spool of its own:\n%s", b.stderr.String())
	}
	unlock()
	a.waitReady()
	b.waitReady()
	for _, sid := range calls {
		a.wantEventsOnce(sid, "alice")
	}
}
