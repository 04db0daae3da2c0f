package incident

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

type writerFixture struct {
	t   *testing.T
	db  *store.DB
	inc *Incidents
	w   *Writer
	t0  time.Time
	log *syncBuffer // the writer's log
}

// newWriterFixture opens and migrates the database at dsn (see
// storetest.Each) and starts a writer on it, spooling under t.TempDir().
func newWriterFixture(t *testing.T, dsn string) *writerFixture {
	t.Helper()
	f := openWriterFixture(t, dsn)
	f.start(filepath.Join(t.TempDir(), "hotline.spool"))
	return f
}

// openWriterFixture opens and migrates the database at dsn; start starts
// its writer.
func openWriterFixture(t *testing.T, dsn string) *writerFixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &writerFixture{t: t, db: db, inc: NewIncidents(db), t0: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), log: &syncBuffer{}}
}

// start starts the fixture's writer, spooling to spoolPath.
func (f *writerFixture) start(spoolPath string) {
	f.t.Helper()
	w, err := NewWriter(f.inc, spoolPath, 200*time.Millisecond, zerolog.New(f.log))
	if err != nil {
		f.t.Fatal(err)
	}
	f.w = w
	f.t.Cleanup(func() { w.Close() })
}

// syncBuffer is a log safe to write from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// callUnavailable writes a whole small call while the database cannot take
// it (why): its three writes must still be answered within 3 s, from the
// spool.
func (f *writerFixture) callUnavailable(sid, why string) {
	f.t.Helper()
	start := time.Now()
	f.call(sid)
	if took := time.Since(start); took > 3*time.Second {
		f.t.Errorf("three writes took %v while %s", took, why)
	}
	if f.w.Healthy() || f.w.SpoolDepth() == 0 {
		f.t.Fatalf("writes were not spooled while %s (healthy %v, depth %d)", why, f.w.Healthy(), f.w.SpoolDepth())
	}
}

// call writes a whole small call through the writer: start, ring, hang-up.
func (f *writerFixture) call(sid string) { f.callNamed(sid, "") }

func (f *writerFixture) callNamed(sid, callerName string) {
	f.t.Helper()
	ctx := context.Background()
	in := Incident{CallSid: sid, From: "+15555550123", CallerName: callerName, To: "+18005550100", StartedAt: f.t0, ConfigRevision: "r"}
	if _, _, err := f.w.StartIncident(ctx, in, Event{At: f.t0, Type: "incoming", Key: "incoming"}); err != nil {
		f.t.Fatalf("start %s: %v", sid, err)
	}
	if _, err := f.w.Record(ctx, sid, Update{Team: "ops"}, Event{At: f.t0.Add(time.Second), Type: "ring", Engineer: "alice", Key: "ring:p0:s0"}); err != nil {
		f.t.Fatalf("ring %s: %v", sid, err)
	}
	if _, err := f.w.Record(ctx, sid, Update{Status: StatusAbandoned}, Event{At: f.t0.Add(2 * time.Second), Type: "hangup", Key: "hangup"}); err != nil {
		f.t.Fatalf("hangup %s: %v", sid, err)
	}
}

// wantCalls waits (bounded) for the writer to be healthy again, its spool
// replayed, then checks each call has exactly its three events, in order,
// and its final status.
func (f *writerFixture) wantCalls(sids ...string) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f.w.Healthy() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !f.w.Healthy() {
		f.t.Fatalf("writer unhealthy after 10 s, spool holding %d writes", f.w.SpoolDepth())
	}
	for _, sid := range sids {
		in, err := f.inc.IncidentByCallSid(context.Background(), sid)
		if err != nil {
			f.t.Fatalf("%s: %v", sid, err)
		}
		if got := eventTypes(in); got != "incoming ring hangup" || in.Status != StatusAbandoned || in.Team != "ops" {
			f.t.Errorf("%s: events %s status %s team %q", sid, got, in.Status, in.Team)
		}
	}
}

func TestWriterCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newWriterFixture(t, dsn)
		f.call("CA1")
		f.wantCalls("CA1")
	})
}

func TestWriterSpoolsWhileLockedThenReplays(t *testing.T) {
	f := newWriterFixture(t, storetest.SQLite(t))
	f.call("CAbefore")
	// Another connection holds the write lock, as a stuck process would.
	lock, err := f.db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	f.callUnavailable("CAlocked", "the database was locked")
	if _, err := lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	lock.Close()
	f.call("CAafter")
	f.wantCalls("CAbefore", "CAlocked", "CAafter")
}

func TestWriterSpoolsWhenFull(t *testing.T) {
	f := newWriterFixture(t, storetest.SQLite(t))
	f.call("CAbefore")
	free := f.fillDatabase()
	for i := range 20 {
		// Large caller names need new pages, which the cap refuses.
		f.callNamed(fmt.Sprintf("CAfull%02d", i), strings.Repeat("x", 10_000))
	}
	if f.w.SpoolDepth() == 0 {
		t.Fatal("nothing spooled on a full database")
	}
	free()
	f.call("CAafter")
	sids := []string{"CAbefore", "CAafter"}
	for i := range 20 {
		sids = append(sids, fmt.Sprintf("CAfull%02d", i))
	}
	f.wantCalls(sids...)
}

// fillDatabase makes the SQLite database full: a pool of one connection,
// capped at the file's current size, which the writer moves to at its next
// commit; inserts needing a new page (a large caller name) fail with
// SQLITE_FULL. free gives it space again: a new pool has no cap.
func (f *writerFixture) fillDatabase() (free func()) {
	f.t.Helper()
	ctx := context.Background()
	var pages int
	if err := f.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.Reopen(ctx); err != nil {
		f.t.Fatal(err)
	}
	f.db.SQL().SetMaxOpenConns(1)
	if _, err := f.db.SQL().ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		f.t.Fatal(err)
	}
	return func() {
		f.t.Helper()
		if err := f.db.Reopen(ctx); err != nil {
			f.t.Fatal(err)
		}
	}
}

func TestWriterSpoolsWhenFileRemovedThenRestored(t *testing.T) {
	f := newWriterFixture(t, storetest.SQLite(t))
	f.call("CAbefore")
	path := f.db.Path
	backup := path + ".bak"
	if _, err := f.db.ExecContext(context.Background(), "VACUUM INTO ?", backup); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	f.call("CAgone")
	if f.w.SpoolDepth() == 0 {
		t.Fatal("writes to a removed database file were not spooled")
	}
	if err := os.Rename(backup, path); err != nil {
		t.Fatal(err)
	}
	f.wantCalls("CAbefore", "CAgone")
}

func TestWriterSpoolsWhenReadOnly(t *testing.T) {
	f := newWriterFixture(t, storetest.SQLite(t))
	if err := os.Chmod(f.db.Path, 0o444); err != nil {
		t.Fatal(err)
	}
	f.call("CAro")
	if f.w.SpoolDepth() == 0 {
		t.Fatal("writes to a read-only database were not spooled")
	}
	if err := os.Chmod(f.db.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	f.wantCalls("CAro")
}

func TestSpoolSurvivesRestartAndTornLine(t *testing.T) {
	dir := t.TempDir()
	sp := mustOpenSpool(t, filepath.Join(dir, "x.spool"))
	mustKeep(t, sp, &writeOp{CallSid: "CA1", Events: []Event{{Type: "ring", Key: "k1"}}}, &writeOp{CallSid: "CA2", Events: []Event{{Type: "ring", Key: "k2"}}})
	// A crash in the middle of the next append leaves half a line.
	if _, err := io.WriteString(sp.f, `{"call_sid":"CA3","ev`); err != nil {
		t.Fatal(err)
	}
	sp.close()
	again := mustOpenSpool(t, filepath.Join(dir, "x.spool"))
	got, _, err := again.read()
	if err != nil || len(got) != 2 || got[0].CallSid != "CA1" || got[1].Events[0].Key != "k2" {
		t.Fatalf("read %+v, %v", got, err)
	}
}

// TestWriterSpoolsWhilePostgresDown: while the PostgreSQL server cannot be
// reached, webhooks are still answered quickly, their writes spooled, and
// the spool is replayed in order once the server is back.
func TestWriterSpoolsWhilePostgresDown(t *testing.T) {
	proxy, dsn := storetest.NewProxy(t, storetest.Postgres(t))
	f := newWriterFixture(t, dsn)
	f.call("CAbefore")
	proxy.SetDown(true)
	f.callUnavailable("CAdown", "the server was down")
	proxy.SetDown(false)
	f.call("CAafter")
	f.wantCalls("CAbefore", "CAdown", "CAafter")
}

// TestStormBatchGathers checks the commit of a storm waits for company, up
// to stormTarget writes, and when none comes returns the batch it had.
func TestStormBatchGathers(t *testing.T) {
	w := &Writer{ops: make(chan *pending, 4*maxBatch)}
	for range stormTarget + 10 {
		w.ops <- &pending{}
	}
	if got := len(w.gather(make([]*pending, stormBatch))); got != stormTarget {
		t.Errorf("a storm's batch gathered %d writes, want %d", got, stormTarget)
	}
	if got, want := len(w.ops), stormBatch+10; got != want {
		t.Errorf("%d writes left queued, want %d for the next batch", got, want)
	}
	for len(w.ops) > 0 {
		<-w.ops
	}
	if got := len(w.gather(make([]*pending, stormBatch))); got != stormBatch {
		t.Errorf("with nothing more queued the batch became %d writes, want %d", got, stormBatch)
	}
}

// TestWriterEventsBeforeSpooledStart: instance a cannot reach PostgreSQL
// and spools a call's start, while instance b writes the rest of the call.
// When a replays its spool, the incident has its caller and every event.
func TestWriterEventsBeforeSpooledStart(t *testing.T) {
	direct := storetest.Postgres(t)
	proxy, viaProxy := storetest.NewProxy(t, direct)
	a := newWriterFixture(t, viaProxy)
	b := newWriterFixture(t, direct)
	ctx := context.Background()
	proxy.SetDown(true)
	start := Incident{CallSid: "CAsplit", From: "+15555550123", To: "+18005550100", StartedAt: a.t0, ConfigRevision: "r"}
	if _, _, err := a.w.StartIncident(ctx, start, Event{At: a.t0, Type: "incoming", Key: "incoming"}); err != nil || a.w.SpoolDepth() == 0 {
		t.Fatalf("a's start: %v, spool depth %d; want it spooled", err, a.w.SpoolDepth())
	}
	if _, err := b.w.Record(ctx, "CAsplit", Update{Team: "ops"}, Event{At: a.t0.Add(time.Second), Type: "ring", Engineer: "alice", Key: "ring:p0:s0"}); err != nil {
		t.Fatalf("b's ring: %v", err)
	}
	if _, err := b.w.Record(ctx, "CAsplit", Update{Status: StatusAbandoned}, Event{At: a.t0.Add(2 * time.Second), Type: "hangup", Key: "hangup"}); err != nil {
		t.Fatalf("b's hang-up: %v", err)
	}
	proxy.SetDown(false)
	a.wantCalls("CAsplit")
	if in, err := a.inc.IncidentByCallSid(ctx, "CAsplit"); err != nil || in.From != start.From || !in.StartedAt.Equal(a.t0) {
		t.Errorf("after a's replay: caller %q started %v (%v)", in.From, in.StartedAt, err)
	}
}

// declinedCall writes, through the writer, the webhooks of a call whose
// first engineer declines and whose second accepts, as the call flow does
// (ivr/dial.go): the decline's key suppresses the step's no_key outcome
// (UnlessKey), and the bridge takes answered_at from the accept
// (AnsweredAtKey).
func (f *writerFixture) declinedCall(sid string) {
	f.t.Helper()
	ctx := context.Background()
	at := func(s int) time.Time { return f.t0.Add(time.Duration(s) * time.Second) }
	alice := Event{Engineer: "alice", EngineerName: "Alice Adams", EngineerPhone: "+15555550101"}
	bob := Event{Engineer: "bob", EngineerName: "Bob Brown", EngineerPhone: "+15555550102"}
	ev := func(e Event, s int, typ, detail, key string) Event {
		e.At, e.Type, e.Detail, e.Key = at(s), EventType(typ), detail, key
		return e
	}
	noKey := ev(alice, 9, "no_key", "answered but no key pressed (voicemail?)", "dial:p0:s0")
	noKey.UnlessKey = "whisper:p0:s0"
	hangup := ev(Event{}, 60, "hangup", "caller hung up before anyone accepted", "hangup")
	hangup.IfInProgress = true
	d := 60
	in := Incident{CallSid: sid, From: "+15555550123", CallerName: "Globex", To: "+18005550100", StartedAt: f.t0, ConfigRevision: "r"}
	if _, _, err := f.w.StartIncident(ctx, in, ev(Event{}, 0, "incoming", "", "incoming")); err != nil {
		f.t.Fatalf("start %s: %v", sid, err)
	}
	for i, w := range []struct {
		upd    Update
		events []Event
	}{
		{Update{Team: "ops", MenuDigit: "1"}, []Event{ev(Event{}, 2, "menu", "pressed 1", "menu"), ev(alice, 3, "ring", "", "ring:p0:s0")}},
		{Update{}, []Event{ev(alice, 8, "declined", `pressed "2"`, "whisper:p0:s0")}},
		{Update{}, []Event{noKey, ev(bob, 10, "ring", "", "ring:p0:s1")}},
		{Update{}, []Event{ev(bob, 15, "accepted", "pressed 1", "whisper:p0:s1")}},
		{Update{Status: StatusAnswered, AnsweredBy: "bob", AnsweredAt: at(59), AnsweredAtKey: "whisper:p0:s1"}, []Event{ev(bob, 59, "bridged", "talked to the caller", "dial:p0:s1")}},
		{Update{Status: StatusAbandoned, EndedAt: at(60), DurationS: &d}, []Event{hangup, ev(Event{}, 60, "completed", "call ended: completed", "status")}},
	} {
		if _, err := f.w.Record(ctx, sid, w.upd, w.events...); err != nil {
			f.t.Fatalf("%s write %d: %v", sid, i+1, err)
		}
	}
}

// settled waits (bounded) until the writer's spool is replayed, and returns
// the incident of sid without what differs between two calls (id, CallSid).
func (f *writerFixture) settled(sid string) Incident {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f.w.Healthy() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	in, err := f.inc.IncidentByCallSid(context.Background(), sid)
	if err != nil {
		f.t.Fatalf("%s: %v", sid, err)
	}
	in.ID, in.CallSid = 0, ""
	return in
}

// TestWriterSpooledCallEqualsDirect: a call whose writes wait in the spool
// (the database locked, or PostgreSQL unreachable) ends exactly as the same
// call written directly: status, answerer, answered_at and every event.
// The spool once dropped Event.UnlessKey, and a declined step got a
// no_key event on replay.
func TestWriterSpooledCallEqualsDirect(t *testing.T) {
	check := func(t *testing.T, f *writerFixture, unavailable func(bool)) {
		f.declinedCall("CAdirect")
		unavailable(true)
		f.declinedCall("CAspooled")
		if f.w.SpoolDepth() == 0 {
			t.Fatal("nothing was spooled")
		}
		unavailable(false)
		direct, spooled := f.settled("CAdirect"), f.settled("CAspooled")
		if got := eventTypes(direct); got != "incoming menu ring declined ring accepted bridged completed" {
			t.Fatalf("the direct call's events: %s", got)
		}
		if !reflect.DeepEqual(spooled, direct) {
			s, _ := json.MarshalIndent(spooled, "", " ")
			d, _ := json.MarshalIndent(direct, "", " ")
			t.Errorf("the spooled call differs from the direct one:\nspooled %s\ndirect %s", s, d)
		}
	}
	t.Run("sqlite-locked", func(t *testing.T) {
		f := newWriterFixture(t, storetest.SQLite(t))
		lock, err := f.db.SQL().Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()
		check(t, f, func(locked bool) {
			stmt := "ROLLBACK"
			if locked {
				stmt = "BEGIN EXCLUSIVE"
			}
			if _, err := lock.ExecContext(context.Background(), stmt); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("postgres-down", func(t *testing.T) {
		proxy, dsn := storetest.NewProxy(t, storetest.Postgres(t))
		check(t, newWriterFixture(t, dsn), proxy.SetDown)
	})
}

// TestWriterEventTypeSeesSpooledWrites: while the database is locked, a
// call's events wait in the spool; the Dial action that asks whether the
// engineer accepted (no DialBridged from Twilio) must find them there, or
// it would ring the next engineer after a conversation.
func TestWriterEventTypeSeesSpooledWrites(t *testing.T) {
	f := newWriterFixture(t, storetest.SQLite(t))
	lock, err := f.db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	f.callUnavailable("CAlocked", "the database was locked")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if typ, err := f.w.EventType(ctx, "CAlocked", "ring:p0:s0"); typ != EventRing || err != nil {
		t.Errorf("a spooled ring read back as %q, %v", typ, err)
	}
	if typ, err := f.w.EventType(ctx, "CAlocked", "no-such-key"); typ != "" || err != nil {
		t.Errorf("a key no write has: %q, %v", typ, err)
	}
	if _, err := lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	f.wantCalls("CAlocked")
}
