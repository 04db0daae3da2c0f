package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

const (
	testToken    = "e2e-auth-token"
	testUser     = "manager"
	testPassword = "correct horse battery"
	alice        = "+15555550101"
	bob          = "+15555550102"
	carol        = "+15555550103"
	dana         = "+15555550104"
	erin         = "+15555550105"
)

// hotline is a `hotline serve` started through run, as a user would.
type hotline struct {
	t      *testing.T
	base   string
	dir    string
	config string
	db     string
	twilio *sim.Twilio
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// startHotline runs `hotline serve` on 127.0.0.1:0 with the database at dsn
// (a fresh one from storetest: SQLite or PostgreSQL) and the config in
// testdata/e2e.yaml, and a manager account for the API.
func startHotline(t *testing.T, dsn string) *hotline {
	t.Helper()
	cfg, err := os.ReadFile("testdata/e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return startHotlineWith(t, dsn, string(cfg))
}

// startHotlineWith is startHotline with another config.
func startHotlineWith(t *testing.T, dsn, cfg string) *hotline {
	t.Helper()
	h := prepareHotline(t, dsn, cfg)
	h.serve(filepath.Join(h.dir, "hotline.spool"))
	return h
}

// prepareHotline writes the config and adds the manager account; serve
// starts it.
func prepareHotline(t *testing.T, dsn, cfg string) *hotline {
	t.Helper()
	dir := t.TempDir()
	h := &hotline{t: t, dir: dir, config: filepath.Join(dir, "hotline.yaml"), db: dsn, stderr: &lockedBuffer{}}
	if err := os.WriteFile(h.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// A test that starts hotline again on the same database finds the
	// account made the first time (user add refuses an existing name).
	add := []string{"user", "add", testUser, "--role", "manager", "--password-stdin", "--db", h.db}
	if err := run(context.Background(), add, testEnv(map[string]string{"USER": "tester"}), strings.NewReader(testPassword+"\n"), io.Discard, io.Discard); err != nil &&
		!strings.Contains(err.Error(), "exists") {
		t.Fatalf("hotline %s: %v", strings.Join(add, " "), err)
	}
	return h
}

// serve starts `hotline serve` for h, spooling to spool, and returns once
// it listens.
func (h *hotline) serve(spool string) {
	t := h.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", h.config, "--db", h.db, "--addr", "127.0.0.1:0"},
			testEnv(map[string]string{"TWILIO_AUTH_TOKEN": testToken, "HOTLINE_SPOOL": spool}), strings.NewReader(""), pw, h.stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v\n%s", err, h.stderr.String())
	}
	go io.Copy(io.Discard, pr)
	addr := strings.Fields(strings.TrimPrefix(line, "hotline: listening on "))[0]
	h.base = addr
	// The test number has caller-name lookup on, so scripts' CallerNames
	// are sent.
	h.twilio = &sim.Twilio{BaseURL: addr, AuthToken: testToken, CallerNameLookup: true}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// mustRun runs a hotline command in-process and fails the test on error.
func (h *hotline) mustRun(stdin io.Reader, args ...string) string {
	h.t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, testEnv(map[string]string{"USER": "tester"}), stdin, &out, &errOut); err != nil {
		h.t.Fatalf("hotline %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// call places a simulated call and checks every webhook answer the way
// Twilio would need it: 2xx, text/xml, parseable TwiML, under 64 kB.
func (h *hotline) call(s sim.Script) *sim.Result {
	h.t.Helper()
	if s.From == "" {
		s.From = "+15555550123"
	}
	s.To = "+18005550100"
	res, err := h.twilio.Call(context.Background(), s)
	if err != nil {
		h.t.Fatalf("call: %v\n%s", err, transcript(res))
	}
	for _, r := range res.Requests {
		if r.Status < 200 || r.Status > 299 {
			h.t.Errorf("%s %s answered %d", r.Kind, r.Path, r.Status)
		}
		if len(r.Body) >= 64<<10 {
			h.t.Errorf("%s %s: TwiML of %d bytes", r.Kind, r.Path, len(r.Body))
		}
		if r.Body != "" {
			var doc struct{ XMLName xml.Name }
			if err := xml.Unmarshal([]byte(r.Body), &doc); err != nil || doc.XMLName.Local != "Response" {
				h.t.Errorf("%s %s: not TwiML: %v %q", r.Kind, r.Path, err, r.Body)
			}
			if _, silent := dials(r.Body); silent > 0 {
				h.t.Errorf("%s %s: a <Dial> without answerOnBridge=\"true\" leaves the caller in silence during the whisper: %q", r.Kind, r.Path, r.Body)
			}
		}
	}
	return res
}

// dials counts the <Dial> verbs of a TwiML document, and those of them
// without answerOnBridge="true" (README "The call": the caller hears
// ringing, not silence, while the engineer is screened).
func dials(body string) (all, silent int) {
	d := xml.NewDecoder(strings.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return all, silent
		}
		el, ok := tok.(xml.StartElement)
		if !ok || el.Name.Local != "Dial" {
			continue
		}
		all++
		bridged := false
		for _, a := range el.Attr {
			bridged = bridged || (a.Name.Local == "answerOnBridge" && a.Value == "true")
		}
		if !bridged {
			silent++
		}
	}
}

func transcript(r *sim.Result) string {
	if r == nil {
		return ""
	}
	return r.Transcript()
}

// incident reads the call's incident through the JSON API, once hotline is
// ready: a write that took longer than writeWait was answered from the
// spool and reaches the database only when the spool is replayed.
func (h *hotline) incident(callSid string) incident.Incident {
	h.t.Helper()
	h.waitReady()
	var list struct{ Incidents []incident.Incident }
	h.getJSON("/api/v1/incidents?limit=1000", &list)
	for _, in := range list.Incidents {
		if in.CallSid == callSid {
			var full incident.Incident
			h.getJSON(fmt.Sprintf("/api/v1/incidents/%d", in.ID), &full)
			return full
		}
	}
	h.t.Fatalf("no incident for %s among %d", callSid, len(list.Incidents))
	return incident.Incident{}
}

func (h *hotline) getJSON(path string, v any) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.base+path, nil)
	req.SetBasicAuth(testUser, testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
}

// eventTypes lists an incident's event types with their engineers, e.g.
// "ring:alice".
func eventTypes(in incident.Incident) []string {
	var out []string
	for _, e := range in.Events {
		s := string(e.Type)
		if e.Engineer != "" {
			s += ":" + e.Engineer
		}
		out = append(out, s)
	}
	return out
}

func heard(res *sim.Result, leg, text string) bool {
	for _, l := range res.Heard {
		if l.Leg == leg && strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

func countPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

func wantStatus(t *testing.T, in incident.Incident, status, answeredBy string) {
	t.Helper()
	got := ""
	if in.AnsweredBy != nil {
		got = *in.AnsweredBy
	}
	if in.Status != status || got != answeredBy {
		t.Fatalf("status %q answered_by %q, want %q %q; events %v", in.Status, got, status, answeredBy, eventTypes(in))
	}
}

func TestCallAnsweredByPrimary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{CallerName: "Globex", Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !heard(res, "caller", "Thank you for calling Acme 24x7 support.") {
			t.Errorf("caller did not hear the greeting:\n%s", res.Transcript())
		}
		if !heard(res, alice, "Support call for Operations") {
			t.Errorf("alice did not hear the whisper:\n%s", res.Transcript())
		}
		in := h.incident(res.CallSid)
		wantStatus(t, in, "answered", "alice")
		if in.Team != "ops" || in.MenuDigit != "1" || in.CallerName != "Globex" || in.AnsweredAt == nil || in.EndedAt == nil || in.DurationS == nil {
			t.Errorf("incident fields: %+v", in)
		}
		if len(in.ConfigRevision) != 64 {
			t.Errorf("config_revision %q is not a hex SHA-256", in.ConfigRevision)
		}
		ev := eventTypes(in)
		if countPrefix(ev, "ring:alice") != 1 || countPrefix(ev, "accepted:alice") != 1 || countPrefix(ev, "ring:bob") != 0 {
			t.Errorf("events %v", ev)
		}
		for _, e := range in.Events {
			if e.Type == "ring" && (e.EngineerName != "Alice Adams" || e.EngineerPhone != alice) {
				t.Errorf("ring event does not carry the engineer's name and number: %+v", e)
			}
		}
	})
}

func TestEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		cases := []struct {
			name    string
			primary sim.Behaviour
			outcome string
		}{
			{"primary does not answer", sim.NoAnswer, "no_answer:alice"},
			{"primary's voicemail picks up", sim.Voicemail, "no_key:alice"},
			{"primary declines with 2", sim.Decline, "declined:alice"},
			{"primary is busy", sim.Busy, "busy:alice"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: c.primary, bob: sim.Accept}})
				in := h.incident(res.CallSid)
				wantStatus(t, in, "answered", "bob")
				ev := eventTypes(in)
				if countPrefix(ev, c.outcome) != 1 || countPrefix(ev, "ring:bob") != 1 || countPrefix(ev, "accepted:bob") != 1 {
					t.Errorf("events %v, want one %s then bob ringing and accepting", ev, c.outcome)
				}
				if !heard(res, "caller", "Still trying to reach an engineer") {
					t.Errorf("caller heard silence between steps:\n%s", res.Transcript())
				}
			})
		}
	})
}

// TestEveryDialAnswersOnBridge: an escalation through every kind of step
// (no answer, a personal voicemail, a decline, an accept) sends only Dials
// that keep the caller hearing ringing while each leg is screened; h.call
// checks the attribute on every Dial of every call.
func TestEveryDialAnswersOnBridge(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Voicemail, bob: sim.Decline}, Voicemail: "Please call back."})
	n := 0
	for _, r := range res.Requests {
		all, _ := dials(r.Body)
		n += all
	}
	if n < 3 {
		t.Fatalf("%d Dials in a call that escalates through three steps:\n%s", n, res.Transcript())
	}
}

func TestVoicemailAfterRepeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{Presses: []string{"1"}, Voicemail: "Our VPN is down, please call back."})
		in := h.incident(res.CallSid)
		wantStatus(t, in, "voicemail", "")
		ev := eventTypes(in)
		// Three steps, repeat: 1 → two passes.
		if n := countPrefix(ev, "ring:"); n != 6 {
			t.Errorf("%d rings, want 6 (3 steps x 2 passes): %v", n, ev)
		}
		if in.RecordingURL == nil || !strings.HasPrefix(*in.RecordingURL, "https://") {
			t.Errorf("recording_url %v", in.RecordingURL)
		}
		if in.Transcript == nil || *in.Transcript != "Our VPN is down, please call back." {
			t.Errorf("transcript %v", in.Transcript)
		}
	})
}

func TestNoVoicemailTeamIsMissed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{Presses: []string{"2"}})
		in := h.incident(res.CallSid)
		wantStatus(t, in, "missed", "")
		if !heard(res, "caller", "nobody could take your call") {
			t.Errorf("no apology:\n%s", res.Transcript())
		}
		if in.Team != "desk" {
			t.Errorf("team %q", in.Team)
		}
	})
}

func TestEmptyVoicemailIsMissed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{Presses: []string{"1"}})
		wantStatus(t, h.incident(res.CallSid), "missed", "")
	})
}

// TestShortRecordingIsMissed: a one-word message records 1 s, which Twilio
// saves and posts to the Record action like any other; under 2 s it is no
// message, so the call is missed, as an empty recording is.
func TestShortRecordingIsMissed(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	res := h.call(sim.Script{Presses: []string{"1"}, Voicemail: "Hello"})
	in := h.incident(res.CallSid)
	wantStatus(t, in, "missed", "")
	if in.RecordingURL != nil || !heard(res, "caller", "We did not receive a message") {
		t.Errorf("recording_url %v; transcript:\n%s", in.RecordingURL, res.Transcript())
	}
}

func TestMenuNoKeyRoutesToDefault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		menus := 0
		for _, l := range res.Heard {
			if l.Leg == "caller" && strings.Contains(l.Text, "For a production outage, press 1.") {
				menus++
			}
		}
		if menus != 3 {
			t.Errorf("menu played %d times, want 3:\n%s", menus, res.Transcript())
		}
		in := h.incident(res.CallSid)
		wantStatus(t, in, "answered", "alice")
		if in.Team != "ops" || in.MenuDigit != "1" {
			t.Errorf("routed to %q/%q, want the default ops/1", in.Team, in.MenuDigit)
		}
	})
}

func TestInvalidThenValidKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{Presses: []string{"7", "*", "1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !heard(res, "caller", "not a valid choice") {
			t.Errorf("invalid key not explained:\n%s", res.Transcript())
		}
		wantStatus(t, h.incident(res.CallSid), "answered", "alice")
	})
}

func TestCallerHangsUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		for _, at := range []string{"menu", "ring:1", "ring:2", "record"} {
			t.Run(at, func(t *testing.T) {
				res := h.call(sim.Script{Presses: []string{"1"}, HangupAfter: at})
				in := h.incident(res.CallSid)
				wantStatus(t, in, "abandoned", "")
				if in.EndedAt == nil {
					t.Errorf("incident not closed")
				}
			})
		}
	})
}

func TestForgedSignatureWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		form := url.Values{"CallSid": {"CAforged"}, "From": {"+15555550123"}, "To": {"+18005550100"}}
		for name, sig := range map[string]string{"missing": "", "forged": "bm90IGEgc2lnbmF0dXJl", "other token": sim.Sign("wrong", h.base+"/twilio/voice", form)} {
			req, _ := http.NewRequest(http.MethodPost, h.base+"/twilio/voice", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if sig != "" {
				req.Header.Set("X-Twilio-Signature", sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s signature: %d, want 403", name, resp.StatusCode)
			}
		}
		var list struct{ Incidents []incident.Incident }
		h.getJSON("/api/v1/incidents", &list)
		if len(list.Incidents) != 0 {
			t.Errorf("a forged webhook wrote %d incidents", len(list.Incidents))
		}
	})
}

func TestRetriedWebhooksAddNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.NoAnswer, bob: sim.Accept}})
		before := h.incident(res.CallSid)
		for _, r := range res.Requests {
			resp, _, err := h.twilio.Post(context.Background(), r.Path, url.Values(r.Params))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("replayed %s: %d", r.Path, resp.StatusCode)
			}
		}
		after := h.incident(res.CallSid)
		if len(after.Events) != len(before.Events) {
			t.Errorf("replaying every webhook changed the timeline from %v to %v", eventTypes(before), eventTypes(after))
		}
		wantStatus(t, after, "answered", "bob")
		var list struct{ Incidents []incident.Incident }
		h.getJSON("/api/v1/incidents", &list)
		if len(list.Incidents) != 1 {
			t.Errorf("%d incidents, want 1", len(list.Incidents))
		}
	})
}

func TestOverrideIsRungFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		now := time.Now().UTC()
		h.mustRun(nil, "override", "add", "--config", h.config, "--db", h.db, "--rotation", "ops-primary", "--engineer", "erin",
			"--from", now.Add(-time.Hour).Format(time.RFC3339), "--to", now.Add(time.Hour).Format(time.RFC3339), "--reason", "alice is ill")
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{erin: sim.Accept, alice: sim.Accept}})
		in := h.incident(res.CallSid)
		wantStatus(t, in, "answered", "erin")
		if ev := eventTypes(in); countPrefix(ev, "ring:alice") != 0 {
			t.Errorf("alice was rung despite the override: %v", ev)
		}
	})
}

func TestAPIAcceptsSessionOrBasic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		get := func(c *http.Client, basic bool) int {
			req, _ := http.NewRequest(http.MethodGet, h.base+"/api/v1/oncall", nil)
			if basic {
				req.SetBasicAuth(testUser, testPassword)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := get(http.DefaultClient, false); code != http.StatusUnauthorized {
			t.Errorf("no credentials: %d, want 401", code)
		}
		if code := get(http.DefaultClient, true); code != http.StatusOK {
			t.Errorf("HTTP Basic: %d, want 200", code)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(h.base+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if code := get(c, false); code != http.StatusOK {
			t.Errorf("session cookie: %d, want 200", code)
		}
	})
}
