package incident

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-dev/hotline/store/storetest"
)

// fullDisk is a spool file on a disk that fills up: while full, a write
// stores a few of its bytes and fails with ENOSPC, as write(2) does on a
// full filesystem.
type fullDisk struct {
	spoolFile
	full atomic.Bool
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if !d.full.Load() {
		return d.spoolFile.Write(p)
	}
	n, _ := d.spoolFile.Write(p[:min(len(p), 9)])
	return n, &os.PathError{Op: "write", Path: "hotline.spool", Err: syscall.ENOSPC}
}

// fillSpoolDisk puts the writer's spool file on a full disk.
func (f *writerFixture) fillSpoolDisk() *fullDisk {
	sp := f.w.spool
	sp.mu.Lock()
	defer sp.mu.Unlock()
	d := &fullDisk{spoolFile: sp.f}
	d.full.Store(true)
	sp.f = d
	return d
}

// lockDatabase takes the SQLite write lock on another connection, as a
// stuck process would, until the returned function releases it.
func (f *writerFixture) lockDatabase() (unlock func()) {
	f.t.Helper()
	ctx := context.Background()
	lock, err := f.db.SQL().Conn(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		f.t.Fatal(err)
	}
	return func() {
		f.t.Helper()
		if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
			f.t.Fatal(err)
		}
		lock.Close()
	}
}

// waitFor polls cond, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 10 s", what)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// metric is the value of the writer's metric called name.
func (f *writerFixture) metric(name string) float64 {
	f.t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.w.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != name || len(fam.GetMetric()) != 1 {
			continue
		}
		m := fam.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	f.t.Fatalf("no metric %s", name)
	return 0
}

// TestWriterHoldsWritesWhenDatabaseAndSpoolAreFull: with the database full
// and the spool's disk full too, 20 calls still get every write answered,
// none refused; the 60 writes are held in memory, and the writer says why.
// Whichever comes back first takes them, in order: the spool file (then
// the database, from it), or the database itself. Each call then has each
// of its events once. hotline used to refuse the writes ("spool write
// failed") and keep none of them.
func TestWriterHoldsWritesWhenDatabaseAndSpoolAreFull(t *testing.T) {
	for _, first := range []string{"spool", "database"} {
		t.Run(first+"-back-first", func(t *testing.T) {
			f := newWriterFixture(t, storetest.SQLite(t))
			f.call("CAbefore")
			freeDatabase := f.fillDatabase()
			disk := f.fillSpoolDisk()
			name := strings.Repeat("x", 10_000)
			sids := []string{"CAbefore"}
			for i := range 20 {
				sid := fmt.Sprintf("CAfull%02d", i)
				f.callNamed(sid, name)
				sids = append(sids, sid)
			}
			st := f.w.State()
			if st.Held != 60 || st.Spooled != 0 || st.Dropped != 0 || f.w.Healthy() {
				t.Fatalf("with both disks full: %+v, healthy %v; want the 60 writes held", st, f.w.Healthy())
			}
			problems := strings.Join(st.Problems(), "; ")
			for _, want := range []string{"database unavailable: ", "spool unwritable: ", "no space left on device", "60 writes held in memory"} {
				if !strings.Contains(problems, want) {
					t.Errorf("the writer's problems %q do not say %q", problems, want)
				}
			}
			if got := f.metric("hotline_held_writes"); got != 60 {
				t.Errorf("hotline_held_writes %v, want 60", got)
			}
			// Each failed write left a few bytes; they were taken back.
			if size := fileSize(t, f.w.SpoolPath()); size != 0 {
				t.Errorf("the full spool file holds %d bytes", size)
			}
			switch first {
			case "spool":
				disk.full.Store(false)
				waitFor(t, "held writes moved to the spool file", func() bool {
					st := f.w.State()
					return st.Held == 0 && st.Spooled == 60 && st.Spool == nil
				})
				freeDatabase()
			case "database":
				freeDatabase()
			}
			f.call("CAafter")
			f.wantCalls(append(sids, "CAafter")...)
			in, err := f.inc.IncidentByCallSid(context.Background(), "CAfull07")
			if err != nil || in.CallerName != name {
				t.Errorf("a held start landed without its caller: %d bytes of name (%v)", len(in.CallerName), err)
			}
			if st := f.w.State(); len(st.Problems()) > 0 {
				t.Errorf("after recovery the writer still reports %q", st.Problems())
			}
			if size := fileSize(t, f.w.SpoolPath()); size != 0 {
				t.Errorf("the spool file holds %d bytes after the replay", size)
			}
		})
	}
}

// TestWriterHeldWritesBounded: beyond the memory bound, a write neither
// the database nor the spool can take is lost, but counted and logged with
// its call, never silently; the writes held land once space is back.
func TestWriterHeldWritesBounded(t *testing.T) {
	f := newWriterFixture(t, storetest.SQLite(t))
	f.w.spool.mu.Lock()
	f.w.spool.limit = 4
	f.w.spool.mu.Unlock()
	freeDatabase := f.fillDatabase()
	f.fillSpoolDisk()
	name := strings.Repeat("x", 10_000)
	f.callNamed("CAkept", name)
	f.callNamed("CAlost", name) // its start is held; its ring and hang-up are beyond the bound
	if st := f.w.State(); st.Held != 4 || st.Dropped != 2 {
		t.Fatalf("held %d, dropped %d; want 4 and 2", st.Held, st.Dropped)
	}
	if got := f.metric("hotline_held_writes_dropped_total"); got != 2 {
		t.Errorf("hotline_held_writes_dropped_total %v, want 2", got)
	}
	if n := strings.Count(f.log.String(), `"call_sid":"CAlost","held":4,"event":`); n != 2 {
		t.Errorf("%d log lines name a lost write of CAlost, want 2:\n%s", n, f.log.String())
	}
	freeDatabase()
	f.wantCalls("CAkept")
	in, err := f.inc.IncidentByCallSid(context.Background(), "CAlost")
	if err != nil || eventTypes(in) != "incoming" {
		t.Errorf("CAlost: events %q (%v), want its held start alone", eventTypes(in), err)
	}
}

// TestWriterSpoolUnopenable: a spool path that cannot be opened (its
// directory is a file) does not stop the writer: writes reach the
// database, the writer reports the spool, a write during a lock is held
// in memory and lands after it, and the spool is opened once its
// directory exists. hotline used to refuse to start.
func TestWriterSpoolUnopenable(t *testing.T) {
	f := openWriterFixture(t, storetest.SQLite(t))
	dir := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.start(filepath.Join(dir, "hotline.spool"))
	f.call("CAdirect")
	if problems := strings.Join(f.w.State().Problems(), "; "); !strings.Contains(problems, "spool unwritable: ") || !strings.Contains(problems, "not a directory") {
		t.Errorf("with no spool the writer reports %q", problems)
	}
	unlock := f.lockDatabase()
	f.call("CAheld")
	if st := f.w.State(); st.Held != 3 || st.Database == nil {
		t.Errorf("during the lock: %+v, want the call's 3 writes held", st)
	}
	unlock()
	waitFor(t, "held writes replayed", func() bool { return f.w.State().Held == 0 })
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "spool file opened", func() bool { return f.w.State().Spool == nil })
	f.wantCalls("CAdirect", "CAheld")
}

// TestWriterAppendsAfterATornTail: a spool file whose last line a crash
// tore is opened with the database locked; the next call's writes are
// appended after it. Each of them lands, the torn line is counted and
// logged, and the replay empties the file. The first write used to be
// glued onto the torn line and lost, and the spool never emptied.
func TestWriterAppendsAfterATornTail(t *testing.T) {
	f := openWriterFixture(t, storetest.SQLite(t))
	path := filepath.Join(t.TempDir(), "hotline.spool")
	if err := os.WriteFile(path, []byte(`{"v":1,"call_sid":"CAtorn","ev`), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock := f.lockDatabase()
	f.start(path)
	f.callUnavailable("CAafter", "the database was locked")
	unlock()
	f.wantCalls("CAafter")
	if in, err := f.inc.IncidentByCallSid(context.Background(), "CAafter"); err != nil || in.From != "+15555550123" {
		t.Errorf("the call's start, appended after the torn line, did not land: from %q (%v)", in.From, err)
	}
	if size := fileSize(t, path); size != 0 {
		t.Errorf("the spool holds %d bytes after the replay", size)
	}
	if got := f.metric("hotline_spool_torn_lines_total"); got != 1 {
		t.Errorf("hotline_spool_torn_lines_total %v, want 1", got)
	}
	if !strings.Contains(f.log.String(), "torn by a crash") {
		t.Errorf("no log line for the torn line:\n%s", f.log.String())
	}
}

// TestSpoolTornLines: a torn tail is cut at open, so what is appended
// next reads back; a good line a crash glued onto a torn one (as hotline
// once appended) is read from where it starts.
func TestSpoolTornLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.spool")
	line := func(sid string) string {
		return opString(&writeOp{CallSid: sid, Events: []Event{{Type: "ring", Key: "ring:" + sid}}})
	}
	good := line("CA1") + "\n" + `{"v":1,"call_sid":"CAx","ev` + line("CA2") + "\n"
	if err := os.WriteFile(path, []byte(good+`{"v":1,"call_sid":"CAtorn"`), 0o600); err != nil {
		t.Fatal(err)
	}
	sp := mustOpenSpool(t, path)
	if st := sp.state(); st.depth != 2 || st.torn != 2 {
		t.Errorf("opened with depth %d and %d torn lines, want 2 and 2", st.depth, st.torn)
	}
	if size := fileSize(t, path); size != int64(len(good)) {
		t.Errorf("the file is %d bytes after open, want %d: the torn tail cut", size, len(good))
	}
	mustKeep(t, sp, &writeOp{CallSid: "CA3", Events: []Event{{Type: "ring", Key: "ring:CA3"}}})
	sp.close()
	again := mustOpenSpool(t, path)
	defer again.close()
	ops, _, err := again.read()
	var sids []string
	for _, op := range ops {
		sids = append(sids, op.CallSid)
	}
	if err != nil || strings.Join(sids, " ") != "CA1 CA2 CA3" {
		t.Errorf("read %v (%v), want CA1 CA2 CA3", sids, err)
	}
}

// TestWritersSharingASpoolPath: two instances on one SQLite file with the
// same spool path (the default <db>.spool) both spool while it is locked;
// each to a file of its own. Once it is unlocked both replay, both are
// healthy again, and every event is in the database once. They used to
// share the file and stay in spool mode for good.
func TestWritersSharingASpoolPath(t *testing.T) {
	dsn := storetest.SQLite(t)
	path := filepath.Join(t.TempDir(), "hotline.spool")
	a, b := openWriterFixture(t, dsn), openWriterFixture(t, dsn)
	a.start(path)
	b.start(path)
	if a.w.SpoolPath() != path || b.w.SpoolPath() == path || filepath.Dir(b.w.SpoolPath()) != filepath.Dir(path) {
		t.Fatalf("spools %s and %s, want %s and another beside it", a.w.SpoolPath(), b.w.SpoolPath(), path)
	}
	if !strings.Contains(b.log.String(), b.w.SpoolPath()) {
		t.Errorf("b does not log the spool it took:\n%s", b.log.String())
	}
	unlock := a.lockDatabase()
	a.callUnavailable("CAa", "the database was locked")
	b.callUnavailable("CAb", "the database was locked")
	unlock()
	a.wantCalls("CAa") // each waits for its own writer's replay
	b.wantCalls("CAb")
	a.wantCalls("CAa", "CAb")
	for _, f := range []*writerFixture{a, b} {
		if size := fileSize(t, f.w.SpoolPath()); size != 0 {
			t.Errorf("%s holds %d bytes after the replay", f.w.SpoolPath(), size)
		}
	}
	own := b.w.SpoolPath()
	b.w.Close()
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Errorf("b's empty spool %s is left after it stopped (%v)", own, err)
	}
}

// TestWriterTakesOverStoppedInstancesSpools: at start, the writes in the
// spool of an instance that stopped (crashed) beside this one's are
// replayed, and its file removed; the spool of a running instance, and a
// file that is not a spool, are left alone.
func TestWriterTakesOverStoppedInstancesSpools(t *testing.T) {
	f := openWriterFixture(t, storetest.SQLite(t))
	path := filepath.Join(t.TempDir(), "hotline.spool")
	start := &writeOp{Start: &Incident{CallSid: "CAdead", From: "+15555550123", To: "+18005550100", StartedAt: f.t0, ConfigRevision: "r"},
		CallSid: "CAdead", Events: []Event{{At: f.t0, Type: "incoming", Key: "incoming"}}}
	running := mustOpenSpool(t, path)
	defer running.close()
	mustKeep(t, running, &writeOp{Start: &Incident{CallSid: "CAlive", From: "+15555550124", To: "+18005550100", StartedAt: f.t0, ConfigRevision: "r"},
		CallSid: "CAlive", Events: []Event{{At: f.t0, Type: "incoming", Key: "incoming"}}})
	dead := mustOpenSpool(t, path+".4242")
	mustKeep(t, dead, start,
		&writeOp{CallSid: "CAdead", Update: Update{Team: "ops"}, Events: []Event{{At: f.t0.Add(time.Second), Type: "ring", Engineer: "alice", Key: "ring:p0:s0"}}},
		&writeOp{CallSid: "CAdead", Update: Update{Status: StatusAbandoned}, Events: []Event{{At: f.t0.Add(2 * time.Second), Type: "hangup", Key: "hangup"}}})
	dead.close()
	if err := os.WriteFile(path+".bak", []byte("not a spool\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.start(path)
	f.wantCalls("CAdead")
	if _, err := os.Stat(path + ".4242"); !os.IsNotExist(err) {
		t.Errorf("the stopped instance's spool is still there (%v)", err)
	}
	if _, err := f.inc.IncidentByCallSid(context.Background(), "CAlive"); err == nil {
		t.Error("the running instance's spool was replayed by another")
	}
	if running.size() != 1 || fileSize(t, path) == 0 || fileSize(t, path+".bak") == 0 {
		t.Errorf("the running instance's spool holds %d writes in %d bytes, the .bak file %d bytes",
			running.size(), fileSize(t, path), fileSize(t, path+".bak"))
	}
	if !strings.Contains(f.log.String(), "took over the spooled writes of a stopped instance") {
		t.Errorf("the take-over is not logged:\n%s", f.log.String())
	}
}
