package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// publicURL is the one address both instances answer to, as behind a load
// balancer: Twilio signs every webhook for it, whichever instance gets it.
const publicURL = "http://hotline.example.test"

// TestTwoInstances runs two `hotline serve` on one PostgreSQL database, as
// behind a load balancer: each call's webhooks alternate between them (so
// the whisper leg lands on the other instance than the webhook that dialled
// it), webhooks retried on the other instance change nothing, a manager's
// sign-in on one works on the other, and an override added on one is used
// by the other on the next call.
func TestTwoInstances(t *testing.T) {
	dsn := storetest.Postgres(t)
	cfg := mustRead(t, "testdata/e2e.yaml")
	// Both start at once on an empty schema: the migrations take a lock.
	var pair [2]*hotline
	var wg sync.WaitGroup
	starts := make([]func() *hotline, 2)
	for i := range pair {
		starts[i] = serveBehindBalancer(t, dsn, cfg)
	}
	for i := range pair {
		wg.Add(1)
		go func() { defer wg.Done(); pair[i] = starts[i]() }()
	}
	wg.Wait()
	if pair[0] == nil || pair[1] == nil {
		t.FailNow()
	}
	a, b := pair[0], pair[1]
	a.mustRun(strings.NewReader(testPassword+"\n"), "user", "add", testUser, "--role", "manager", "--password-stdin", "--db", dsn)

	t.Run("calls alternate between instances", func(t *testing.T) {
		a.t, b.t = t, t
		type scenario struct {
			name      string
			script    sim.Script
			status    string
			by        string
			wantCount map[string]int // event prefix -> how many
		}
		scenarios := []scenario{
			{"answered", sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}},
				"answered", "alice", map[string]int{"incoming": 1, "ring:alice": 1, "accepted:alice": 1, "ring:bob": 0}},
			{"declined then answered", sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Decline, bob: sim.Accept}},
				"answered", "bob", map[string]int{"ring:alice": 1, "declined:alice": 1, "ring:bob": 1, "accepted:bob": 1}},
			{"voicemail", sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Voicemail}, Voicemail: "Our VPN is down."},
				"voicemail", "", map[string]int{"ring:": 6, "no_key:alice": 2}},
			{"caller hangs up while ringing", sim.Script{Presses: []string{"1"}, HangupAfter: "ring:1"},
				"abandoned", "", map[string]int{"ring:alice": 1}},
		}
		const rounds = 3
		type placed struct {
			scenario
			res  *sim.Result
			hops *alternate
		}
		var mu sync.Mutex
		var calls []placed
		var wg sync.WaitGroup
		for range rounds {
			for _, s := range scenarios {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tw, hops := alternating(a, b)
					s.script.From, s.script.To = "+15555550123", "+18005550100"
					res, err := tw.Call(context.Background(), s.script)
					if err != nil {
						t.Errorf("%s: %v\n%s", s.name, err, transcript(res))
						return
					}
					mu.Lock()
					calls = append(calls, placed{s, res, hops})
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		if len(calls) != rounds*len(scenarios) {
			t.FailNow()
		}
		a.waitReady() // b.incident waits for b's spool; a may have one too
		whispers := map[string]int{}
		for _, c := range calls {
			for _, r := range c.res.Requests {
				if r.Status != http.StatusOK {
					t.Errorf("%s: %s %s answered %d", c.name, r.Kind, r.Path, r.Status)
				}
			}
			served := c.hops.served()
			if served[a.base] == 0 || served[b.base] == 0 {
				t.Errorf("%s: webhooks did not reach both instances: %v", c.name, served)
			}
			for host, n := range c.hops.whispers() {
				whispers[host] += n
			}
			in := b.incident(c.res.CallSid)
			wantStatus(t, in, c.status, c.by)
			ev := eventTypes(in)
			for prefix, n := range c.wantCount {
				if got := countPrefix(ev, prefix); got != n {
					t.Errorf("%s: %d events %q, want %d: %v", c.name, got, prefix, n, ev)
				}
			}
		}
		t.Logf("whisper legs per instance: %v", whispers)
		if whispers[a.base] == 0 || whispers[b.base] == 0 {
			t.Errorf("whisper legs were not served by both instances: %v", whispers)
		}
		var list struct{ Incidents []any }
		a.getJSON("/api/v1/incidents?limit=1000", &list)
		if len(list.Incidents) != len(calls) {
			t.Errorf("%d incidents for %d calls", len(list.Incidents), len(calls))
		}

		// Twilio may retry a webhook on another instance: every webhook of
		// a call sent again, to the instance that did not answer it the
		// first time, adds nothing.
		c := calls[0]
		before := a.incident(c.res.CallSid)
		retry, _ := alternating(b, a)
		for _, r := range c.res.Requests {
			if resp, _, err := retry.Post(context.Background(), r.Path, url.Values(r.Params)); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("retried %s: %v %v", r.Path, resp, err)
			}
		}
		after := a.incident(c.res.CallSid)
		if len(after.Events) != len(before.Events) || after.Status != before.Status {
			t.Errorf("retries on the other instance changed the incident: %v -> %v", eventTypes(before), eventTypes(after))
		}
	})

	t.Run("session made on one works on the other", func(t *testing.T) {
		a.t, b.t = t, t
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.PostForm(a.base+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Value != "" && c.MaxAge >= 0 {
				session = c
			}
		}
		if resp.StatusCode != http.StatusSeeOther || session == nil {
			t.Fatalf("sign-in on A: %d, cookies %v", resp.StatusCode, resp.Cookies())
		}
		req, _ := http.NewRequest(http.MethodGet, b.base+"/", nil)
		req.AddCookie(session)
		resp, err = noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), testUser) {
			t.Errorf("GET / on B with A's session: %d (Location %q)", resp.StatusCode, resp.Header.Get("Location"))
		}

		// An override added through A's web page is used by B on the next
		// call, every webhook of which B answers.
		loc, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Fatal(err)
		}
		// The form takes New York wall-clock times, which a DST change can
		// read an hour early (01:30 on the night clocks fall back is the
		// first 01:30): an end two hours ahead is after now on any night.
		now := time.Now().In(loc)
		form := url.Values{"rotation": {"ops-primary"}, "engineer": {"erin"}, "reason": {"alice is ill"},
			"from": {now.Add(-time.Hour).Format("2006-01-02T15:04")}, "to": {now.Add(2 * time.Hour).Format("2006-01-02T15:04")}}
		req, _ = http.NewRequest(http.MethodPost, a.base+"/schedules/overrides", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(session)
		resp, err = noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("override on A: %d", resp.StatusCode)
		}
		onB, _ := alternating(b)
		res, err := onB.Call(context.Background(), sim.Script{From: "+15555550123", To: "+18005550100", Presses: []string{"1"},
			Engineers: map[string]sim.Behaviour{erin: sim.Accept, alice: sim.Accept}})
		if err != nil {
			t.Fatalf("call on B: %v\n%s", err, transcript(res))
		}
		in := a.incident(res.CallSid)
		wantStatus(t, in, "answered", "erin")
		if ev := eventTypes(in); countPrefix(ev, "ring:alice") != 0 {
			t.Errorf("B rang alice despite the override added on A: %v", ev)
		}
	})
}

// serveBehindBalancer prepares a `hotline serve` on dsn answering to
// publicURL, with a spool of its own; the returned function starts it and
// returns once it listens (nil, after reporting, if it did not start).
func serveBehindBalancer(t *testing.T, dsn, cfg string) func() *hotline {
	t.Helper()
	dir := t.TempDir()
	h := &hotline{t: t, dir: dir, config: writeFile(t, dir, "hotline.yaml", cfg), db: dsn, stderr: &lockedBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, h.stderr.String())
		}
	})
	return func() *hotline {
		pr, pw := io.Pipe()
		go func() {
			done <- run(ctx, []string{"serve", "--config", h.config, "--db", dsn, "--addr", "127.0.0.1:0", "--public-url", publicURL},
				testEnv(map[string]string{"TWILIO_AUTH_TOKEN": testToken, "HOTLINE_SPOOL": filepath.Join(dir, "hotline.spool")}),
				strings.NewReader(""), pw, h.stderr)
			pw.Close()
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Errorf("serve did not start: %v\n%s", err, h.stderr.String())
			return nil
		}
		go io.Copy(io.Discard, pr)
		h.base = strings.Fields(strings.TrimPrefix(line, "hotline: listening on "))[0]
		return h
	}
}

// alternating returns a simulated Twilio whose requests, all signed for
// publicURL, go to the instances in turn, and the record of where each went.
func alternating(instances ...*hotline) (*sim.Twilio, *alternate) {
	alt := &alternate{}
	for _, h := range instances {
		u, _ := url.Parse(h.base)
		alt.hosts = append(alt.hosts, u.Host)
	}
	return &sim.Twilio{BaseURL: publicURL, AuthToken: testToken,
		Client: &http.Client{Transport: alt, Timeout: 15 * time.Second}}, alt
}

// alternate is a load balancer in a RoundTripper: round robin, and a log.
type alternate struct {
	mu    sync.Mutex
	hosts []string
	n     int
	sent  []string // "http://host path" of each request, in order
}

func (a *alternate) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	host := a.hosts[a.n%len(a.hosts)]
	a.n++
	a.sent = append(a.sent, "http://"+host+" "+req.URL.Path)
	a.mu.Unlock()
	out := req.Clone(req.Context())
	out.URL.Host = host
	return http.DefaultTransport.RoundTrip(out)
}

// served counts requests per instance base URL.
func (a *alternate) served() map[string]int { return a.count("") }

// whispers counts whisper-leg requests per instance base URL.
func (a *alternate) whispers() map[string]int { return a.count("/twilio/whisper") }

func (a *alternate) count(path string) map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int{}
	for _, s := range a.sent {
		base, p, _ := strings.Cut(s, " ")
		if path == "" || strings.HasPrefix(p, path) {
			out[base]++
		}
	}
	return out
}
