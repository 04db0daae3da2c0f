package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store/storetest"
)

// liveCall opens a call in progress that came in ago before the site's
// now, from from, and writes events as the call flow writes them, a
// second apart.
func (s *site) liveCall(sid, from, name string, ago time.Duration, upd incident.Update, events ...incident.Event) int64 {
	s.t.Helper()
	ctx := context.Background()
	at := s.now.Add(-ago)
	id, _, err := s.incidents.StartIncident(ctx, incident.Incident{CallSid: sid, From: from, CallerName: name, To: "+18005550100",
		StartedAt: at, ConfigRevision: "rev"}, incident.Event{At: at, Type: incident.EventIncoming, Detail: "call from " + from, Key: "incoming"})
	if err != nil {
		s.t.Fatal(err)
	}
	for i, e := range events {
		e.At = at.Add(time.Duration(i+1) * time.Second)
		if _, err := s.incidents.Record(ctx, sid, upd, e); err != nil {
			s.t.Fatal(err)
		}
	}
	return id
}

// record writes one more event of a call, at the site's now.
func (s *site) record(sid string, upd incident.Update, e incident.Event) {
	s.t.Helper()
	e.At = s.now
	if _, err := s.incidents.Record(context.Background(), sid, upd, e); err != nil {
		s.t.Fatal(err)
	}
}

var routedOps = incident.Update{Team: "ops", MenuDigit: "1"}

func ringEvent(engineer, name, key string) incident.Event {
	return incident.Event{Type: incident.EventRing, Engineer: engineer, EngineerName: name, Detail: "ringing", Key: key}
}

// oneCallAtEachStage writes five calls in progress, oldest first: at the
// menu, identifying, ringing Alice (step 1, pass 1), connected to Bob
// (step 2, pass 1) and leaving a voicemail.
func (s *site) oneCallAtEachStage() {
	s.liveCall("CA-menu", "+15555550120", "", 5*time.Minute, incident.Update{})
	s.liveCall("CA-pin", "+15555550121", "", 4*time.Minute, incident.Update{},
		incident.Event{Type: incident.EventPINInvalid, Detail: incident.PINTryDetail(1, 3), Key: "pin:1"})
	s.liveCall("CA-ring", "+15555550122", "Globex", 3*time.Minute, routedOps,
		incident.Event{Type: incident.EventRoute, Key: "route"}, ringEvent("alice", "Alice Adams", "ring:p0:s0"))
	s.liveCall("CA-talk", "+15555550123", evilName, 2*time.Minute, routedOps,
		incident.Event{Type: incident.EventRoute, Key: "route"}, ringEvent("alice", "Alice Adams", "ring:p0:s0"),
		incident.Event{Type: incident.EventNoAnswer, Engineer: "alice", Key: "dial:p0:s0"}, ringEvent("bob", "Bob Brown", "ring:p0:s1"),
		incident.Event{Type: incident.EventAccepted, Engineer: "bob", EngineerName: "Bob Brown", Detail: "pressed 1", Key: "whisper:p0:s1"})
	s.liveCall("CA-vm", "+15555550124", "", time.Minute, routedOps,
		incident.Event{Type: incident.EventRoute, Detail: "team ops: nobody on call", Key: "route"})
}

type configOf struct{ cfg *config.Config }

func (c configOf) Config() *config.Config { return c.cfg }

// TestAPILive: GET /api/v1/live answers each call in progress with the
// fields the README names and its stage, and the engineer, step and pass
// of a ringing or connected call (null otherwise); calls that ended are
// gone, and open incidents are listed as waiting.
func TestAPILive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		api := httptest.NewServer(HandleAPILive(s.incidents, configOf{mustConfig(t)}, zerolog.Nop()))
		defer api.Close()
		s.oneCallAtEachStage()
		voicemail := s.addCall("CA-old", "+15555550125", "Initech", "call me", s.now.Add(-time.Hour))
		ended := s.liveCall("CA-ended", "+15555550126", "", 30*time.Second, routedOps, ringEvent("alice", "Alice Adams", "ring:p0:s0"))
		s.record("CA-ended", incident.Update{Status: incident.StatusAnswered, AnsweredBy: "alice"},
			incident.Event{Type: incident.EventBridged, Engineer: "alice", Key: "dial:p0:s0"})
		// As serve does after each commit: answered, it is alice's.
		if _, err := s.incidents.Settle(context.Background(), ended, []string{incident.StatusVoicemail}, s.now); err != nil {
			t.Fatal(err)
		}

		resp, err := http.Get(api.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("GET /api/v1/live: %d %s", resp.StatusCode, ct)
		}
		var got struct {
			Calls        []map[string]any `json:"calls"`
			Waiting      []map[string]any `json:"waiting"`
			WaitingTotal int              `json:"waiting_total"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		type want struct {
			sid, stage, engineer string
			step, pass           float64
		}
		wants := []want{
			{"CA-menu", "menu", "", 0, 0},
			{"CA-pin", "identifying", "", 0, 0},
			{"CA-ring", "ringing", "alice", 1, 1},
			{"CA-talk", "connected", "bob", 2, 1},
			{"CA-vm", "voicemail", "", 0, 0},
		}
		if len(got.Calls) != len(wants) {
			t.Fatalf("%d calls, want %d (the ended call gone): %v", len(got.Calls), len(wants), got.Calls)
		}
		for i, w := range wants {
			c := got.Calls[i]
			for _, field := range []string{"incident_id", "call_sid", "from", "customer", "team", "started_at", "stage", "engineer", "step", "pass"} {
				if _, ok := c[field]; !ok {
					t.Errorf("%s: no %q in %v", w.sid, field, c)
				}
			}
			if c["call_sid"] != w.sid || c["stage"] != w.stage {
				t.Errorf("call %d: %v at %v; want %s at %s", i, c["call_sid"], c["stage"], w.sid, w.stage)
			}
			if w.engineer == "" {
				if c["engineer"] != nil || c["step"] != nil || c["pass"] != nil {
					t.Errorf("%s (%s): engineer %v, step %v, pass %v; want null", w.sid, w.stage, c["engineer"], c["step"], c["pass"])
				}
			} else if c["engineer"] != w.engineer || c["step"] != w.step || c["pass"] != w.pass {
				t.Errorf("%s: engineer %v, step %v, pass %v; want %s, %v, %v", w.sid, c["engineer"], c["step"], c["pass"], w.engineer, w.step, w.pass)
			}
		}
		if c := got.Calls[2]; c["team"] != "ops" || c["from"] != "+15555550122" || c["started_at"] != s.now.Add(-3*time.Minute).Format(time.RFC3339) {
			t.Errorf("ringing call: team %v, from %v, started %v", c["team"], c["from"], c["started_at"])
		}
		if got.WaitingTotal != 1 || len(got.Waiting) != 1 || got.Waiting[0]["incident_id"] != float64(voicemail) {
			t.Errorf("waiting %v (%d); want the voicemail %d", got.Waiting, got.WaitingTotal, voicemail)
		}
	})
}

// TestLivePage: /live shows each call's stage in words and the incidents
// waiting, escapes what callers chose, loads its one script from this
// origin under a policy that allows nothing else, and refreshes itself
// without JavaScript; other pages still allow no script at all.
func TestLivePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		s.oneCallAtEachStage()
		s.addCall("CA-old", "+15555550125", "Initech", "call me", s.now.Add(-time.Hour))
		c := s.client()
		if code, _, h := s.get(c, "/live"); code != http.StatusSeeOther || h.Get("Location") != "/login?next=%2Flive" {
			t.Errorf("signed out /live: %d %s", code, h.Get("Location"))
		}
		if code, _, h := s.get(c, "/live/events"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Errorf("signed out /live/events: %d %s", code, h.Get("Location"))
		}
		s.signIn(c, "ann")
		code, body, h := s.get(c, "/live")
		if code != http.StatusOK {
			t.Fatalf("/live: %d", code)
		}
		for _, want := range []string{
			"in the menu", "identifying: asked for the PIN", "ringing Alice Adams (step 1, pass 1)", "connected to Bob Brown (step 2, pass 1)",
			"leaving a voicemail", "Operations", "Globex", "5 min 00 s", "15555550120",
			"&lt;img src=x onerror=alert(1)&gt;", "Initech", "1 h 00 min", "nobody yet",
			`<script src="/static/live.js" defer></script>`, `<noscript><meta http-equiv="refresh" content="5"></noscript>`,
			`<a href="/live" aria-current="page">Live</a>`, `data-stream="/live/events"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/live lacks %q:\n%s", want, excerpt(body))
			}
		}
		if strings.Contains(body, evilName) {
			t.Error("/live shows the caller's markup unescaped")
		}
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "default-src 'none'") ||
			strings.Contains(csp, "unsafe-inline") {
			t.Errorf("/live's policy %q: want its own script and stream only", csp)
		}
		if _, _, h := s.get(c, "/"); strings.Contains(h.Get("Content-Security-Policy"), "script-src") {
			t.Errorf("the call log allows script: %q", h.Get("Content-Security-Policy"))
		}
		code, js, h := s.get(c, "/static/live.js")
		if code != http.StatusOK || !strings.Contains(h.Get("Content-Type"), "javascript") || !strings.Contains(js, `new EventSource(`) {
			t.Errorf("/static/live.js: %d %s", code, h.Get("Content-Type"))
		}
	})
}

// sseReader reads a stream of server-sent events.
type sseReader struct{ r *bufio.Reader }

// next returns the next event's name and data (its data lines joined),
// or the error that ended the stream.
func (s sseReader) next() (name, data string, err error) {
	var lines []string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && (name != "" || len(lines) > 0):
			return name, strings.Join(lines, "\n"), nil
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			lines = append(lines, strings.TrimPrefix(line, "data: "))
		}
	}
}

// TestLiveEvents: /live/events sends the tables at once, then again each
// time a call moves on (ringing, connected, gone), and ends after its
// bound so the browser reconnects.
func TestLiveEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "", func(ws *Site) { ws.liveTick, ws.liveFor = 50*time.Millisecond, 3*time.Second })
		s.liveCall("CA1", "+15555550122", "Globex", time.Minute, routedOps, ringEvent("alice", "Alice Adams", "ring:p0:s0"))
		c := s.client()
		s.signIn(c, "ann")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+"/live/events", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
			t.Fatalf("/live/events: %d %s", resp.StatusCode, ct)
		}
		began := time.Now()
		events := sseReader{bufio.NewReader(resp.Body)}
		expect := func(want, gone string) {
			t.Helper()
			name, data, err := events.next()
			if err != nil {
				t.Fatalf("waiting for %q: %v", want, err)
			}
			if name != "live" || !strings.Contains(data, want) || (gone != "" && strings.Contains(data, gone)) {
				t.Fatalf("event %q: want %q without %q in\n%s", name, want, gone, data)
			}
		}
		expect("ringing Alice Adams (step 1, pass 1)", "")
		s.record("CA1", incident.Update{}, incident.Event{Type: incident.EventAccepted, Engineer: "alice", EngineerName: "Alice Adams", Key: "whisper:p0:s0"})
		expect("connected to Alice Adams (step 1, pass 1)", "ringing")
		s.record("CA1", incident.Update{Status: incident.StatusAnswered, AnsweredBy: "alice"},
			incident.Event{Type: incident.EventBridged, Engineer: "alice", Key: "dial:p0:s0"})
		expect("No call in progress.", "Alice")
		// Nothing changes any more: the stream sends no event, and ends
		// at its bound.
		if name, data, err := events.next(); err != io.EOF && err != io.ErrUnexpectedEOF {
			t.Errorf("after the call ended the stream sent %q %q (%v); want its end", name, data, err)
		}
		if took := time.Since(began); took < 2*time.Second || took > 15*time.Second {
			t.Errorf("the stream lasted %v; want its 3 s bound", took)
		}
	})
}

// TestSSEEventFraming: a CR or LF inside the data (a caller's name may
// hold one) starts another data line, never another field.
func TestSSEEventFraming(t *testing.T) {
	got := string(sseEvent("live", []byte("<p>a\rb\r\nc\nevent: x</p>\n")))
	want := "event: live\ndata: <p>a\ndata: b\ndata: c\ndata: event: x</p>\n\n"
	if got != want {
		t.Errorf("sseEvent = %q, want %q", got, want)
	}
}

// TestLiveEventsStopWhenTheClientGoes: a stream whose browser went away
// ends at once, not at its bound.
func TestLiveEventsStopWhenTheClientGoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		var ws *Site
		s := newTestSite(t, dsn, "", func(x *Site) { x.liveTick, x.liveFor, ws = 50*time.Millisecond, time.Hour, x })
		ended := make(chan struct{}, 1)
		srv := httptest.NewServer(ws.requireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws.handleLiveEvents().ServeHTTP(w, r)
			ended <- struct{}{}
		}), ""))
		// Closed only once the stream ended: Close waits for it.
		c := s.client()
		s.signIn(c, "ann") // the jar sends the session to either server
		resp, err := c.Get(srv.URL + "/live/events")
		if err != nil {
			t.Fatal(err)
		}
		if name, _, err := (sseReader{bufio.NewReader(resp.Body)}).next(); err != nil || name != "live" {
			t.Fatalf("first event %q: %v", name, err)
		}
		resp.Body.Close()
		select {
		case <-ended:
			srv.Close()
		case <-time.After(10 * time.Second):
			t.Fatal("the stream went on after its client left")
		}
	})
}
