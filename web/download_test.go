package web

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// manyCalls is an incident log of n calls, made up as /calls.csv streams
// them; ended receives what EachIncident returned once the stream stops.
type manyCalls struct {
	fakeLog
	n     int
	ended chan error
}

func (m manyCalls) EachIncident(ctx context.Context, _ incident.Filter, fn func(incident.Incident) error) error {
	err := func() error {
		at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		for i := range m.n {
			if err := ctx.Err(); err != nil {
				return err
			}
			in := incident.Incident{ID: int64(i + 1), StartedAt: at.Add(time.Duration(i) * time.Second), From: "+15555550123",
				CallerName: "A caller with a fairly long name", Team: "ops", MenuDigit: "1", Status: incident.StatusMissed}
			if err := fn(in); err != nil {
				return err
			}
		}
		return nil
	}()
	m.ended <- err
	return err
}

// smallSendBuffers keeps the server's socket send buffers small, so a slow
// reader holds the handler's writes back instead of the kernel taking the
// whole file at once.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(64 << 10)
	}
	return c, err
}

// downloadSite serves the site over calls, on 127.0.0.1 with the given
// server WriteTimeout and download limits, on the real clock. It returns
// the base URL, a signed-in manager's session cookie and a client with a
// small receive buffer.
func downloadSite(t *testing.T, calls IncidentLog, writeTimeout time.Duration, limits downloadLimits) (string, *http.Cookie, *http.Client) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite(t))
	for _, m := range []func(context.Context, *store.DB) error{audit.Migrate, schedules.Migrate, incident.Migrate, Migrate} {
		if err := m(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	users := NewUsers(db, time.Now)
	if err := users.AddUser(ctx, "ann", RoleManager, "password-ann", "test"); err != nil {
		t.Fatal(err)
	}
	// The session is made here, not by posting /login: a sign-in can take
	// longer than the small WriteTimeout under the race detector.
	u, err := users.Authenticate(ctx, "ann", "password-ann")
	if err != nil {
		t.Fatal(err)
	}
	sessions := NewSessions(db, time.Now)
	token, expires, err := sessions.StartSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	overrides := schedules.NewStore(db, time.Now)
	site := NewSite(SiteDeps{Log: zerolog.Nop(), Users: users, Sessions: sessions, Incidents: calls,
		Schedules: routing.NewRouter(mustConfig(t), overrides), Overrides: overrides})
	site.downloads = limits
	r := mux.NewRouter()
	site.Register(r)
	srv := httptest.NewUnstartedServer(r)
	srv.Config.WriteTimeout = writeTimeout
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)

	c := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DisableCompression: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(64 << 10)
			}
			return conn, err
		}},
	}
	t.Cleanup(c.CloseIdleConnections)
	return srv.URL, site.cookie(token, expires), c
}

// getCSV starts a download of /calls.csv.
func getCSV(t *testing.T, base string, cookie *http.Cookie, c *http.Client) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/calls.csv", nil)
	req.AddCookie(cookie)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("calls.csv: %d", resp.StatusCode)
	}
	return resp
}

// slowReader reads at most chunk bytes a tick: a client on a slow line.
type slowReader struct {
	r     io.Reader
	chunk int
	tick  *time.Ticker
}

func (s slowReader) Read(p []byte) (int, error) {
	<-s.tick.C
	if len(p) > s.chunk {
		p = p[:s.chunk]
	}
	return s.r.Read(p)
}

// readSlowly reads a CSV body at about 8 kB every 5 ms and returns its
// records, how long it took and the error that ended it.
func readSlowly(body io.Reader) (int, time.Duration, error) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	cr := csv.NewReader(slowReader{r: body, chunk: 8 << 10, tick: tick})
	n := 0
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return n, time.Since(start), nil
		}
		if err != nil {
			return n, time.Since(start), err
		}
		n++
	}
}

// waitEnded waits (bounded) for the stream of calls to stop.
func waitEnded(t *testing.T, calls manyCalls, within time.Duration) error {
	t.Helper()
	select {
	case err := <-calls.ended:
		return err
	case <-time.After(within):
		t.Fatalf("the download was still being written after %s", within)
		return nil
	}
}

// TestCallsCSVOutlastsWriteTimeout: a slow client downloading a big call
// log gets all of it, though it takes several times the server's
// WriteTimeout.
func TestCallsCSVOutlastsWriteTimeout(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	calls := manyCalls{fakeLog: fakeLog{}, n: 12000, ended: make(chan error, 1)}
	base, cookie, c := downloadSite(t, calls, writeTimeout, downloadLimits{write: 5 * time.Second, total: time.Minute})
	resp := getCSV(t, base, cookie, c)
	defer resp.Body.Close()
	rows, took, err := readSlowly(resp.Body)
	if err != nil || rows != calls.n+1 {
		t.Errorf("after %s: %d of %d rows, %v", took, rows, calls.n+1, err)
	}
	if took < 2*writeTimeout {
		t.Errorf("the download took %s, not long enough to outlast the %s WriteTimeout", took, writeTimeout)
	}
	if err := waitEnded(t, calls, 10*time.Second); err != nil {
		t.Errorf("the stream ended with %v", err)
	}
}

// TestCallsCSVDropsStalledClient: a client that stops reading is dropped
// one write's wait after its buffers fill, long before the server's own
// WriteTimeout would drop it.
func TestCallsCSVDropsStalledClient(t *testing.T) {
	calls := manyCalls{fakeLog: fakeLog{}, n: 1_000_000, ended: make(chan error, 1)}
	base, cookie, c := downloadSite(t, calls, time.Minute, downloadLimits{write: 300 * time.Millisecond, total: time.Minute})
	resp := getCSV(t, base, cookie, c)
	defer resp.Body.Close()
	start := time.Now()
	err := waitEnded(t, calls, 10*time.Second)
	if err == nil {
		t.Fatalf("all %d calls were written to a client that reads nothing", calls.n)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("dropped after %s, before the 300ms write wait", took)
	}
}

// TestCallsCSVTotalBound: a client that keeps reading, but too slowly to
// finish within the download's total bound, is cut off at it: the file
// ends short and broken (no final chunk), so the browser reports a failed
// download rather than a complete one.
func TestCallsCSVTotalBound(t *testing.T) {
	const total = 200 * time.Millisecond
	calls := manyCalls{fakeLog: fakeLog{}, n: 12000, ended: make(chan error, 1)}
	base, cookie, c := downloadSite(t, calls, time.Minute, downloadLimits{write: 5 * time.Second, total: total})
	resp := getCSV(t, base, cookie, c)
	defer resp.Body.Close()
	rows, took, err := readSlowly(resp.Body)
	if err == nil || rows >= calls.n+1 {
		t.Errorf("after %s: %d of %d rows, %v; want the download cut off at %s", took, rows, calls.n+1, err, total)
	}
	if took < total {
		t.Errorf("cut off after %s, before the %s bound", took, total)
	}
	if err := waitEnded(t, calls, 10*time.Second); err == nil {
		t.Errorf("the stream ended with %v, want an error", err)
	}
}
