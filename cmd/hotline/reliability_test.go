package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// hookTransport runs hook before the n-th request it carries, so a test can
// break something in the middle of a call.
type hookTransport struct {
	n    int64
	at   int64
	hook func()
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if atomic.AddInt64(&h.n, 1) == h.at {
		h.hook()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// waitReady polls /readyz until it answers 200 (the spool is replayed),
// bounded by a deadline.
func (h *hotline) waitReady() {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(h.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("not ready after 15 s:\n%s", h.stderr.String())
}

func (h *hotline) readyStatus() int {
	resp, err := http.Get(h.base + "/readyz")
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestDatabaseLockedMidCall(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	lock, unlock := sqliteLocker(t, h.db)
	// After the menu choice, another process takes the write lock.
	h.twilio.Client = &http.Client{Transport: &hookTransport{at: 3, hook: lock}}
	inProgress := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.NoAnswer, bob: sim.Accept}})
	if !heard(inProgress, bob, "Support call for Operations") {
		t.Fatalf("the call in progress did not reach bob:\n%s", inProgress.Transcript())
	}
	// A new call while the database is still locked.
	h.twilio.Client = nil
	fresh := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
	if !heard(fresh, alice, "Support call for Operations") {
		t.Fatalf("a new call during the outage did not reach alice:\n%s", fresh.Transcript())
	}
	if code := h.readyStatus(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d while events are spooled", code)
	}
	unlock()
	h.waitReady()
	wantStatus(t, h.incident(inProgress.CallSid), "answered", "bob")
	in := h.incident(fresh.CallSid)
	wantStatus(t, in, "answered", "alice")
	for _, typ := range []string{"incoming", "route", "ring:alice", "accepted:alice", "bridged:alice", "completed"} {
		if n := countPrefix(eventTypes(in), typ); n != 1 {
			t.Errorf("event %s written %d times after recovery: %v", typ, n, eventTypes(in))
		}
	}
}

// TestDatabaseLockedDeclinedCall: a call whose first engineer declines,
// with the database locked from the menu choice on, ends as the same call
// with the database free: the same status, answerer and events (type,
// engineer, detail). The spool once lost the key that keeps a declined step
// from also getting a no_key event.
func TestDatabaseLockedDeclinedCall(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	script := sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Decline, bob: sim.Accept}}
	direct := h.call(script)
	lock, unlock := sqliteLocker(t, h.db)
	h.twilio.Client = &http.Client{Transport: &hookTransport{at: 3, hook: lock}}
	spooled := h.call(script)
	if code := h.readyStatus(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d while events are spooled", code)
	}
	unlock()
	want, got := h.incident(direct.CallSid), h.incident(spooled.CallSid)
	wantStatus(t, want, "answered", "bob")
	wantStatus(t, got, "answered", "bob")
	timeline := func(in incident.Incident) string {
		var lines []string
		for _, e := range in.Events {
			lines = append(lines, string(e.Type)+" "+e.Engineer+" "+e.Detail)
		}
		return strings.Join(lines, "\n")
	}
	if countPrefix(eventTypes(want), "declined:alice") != 1 || countPrefix(eventTypes(want), "no_key") != 0 {
		t.Fatalf("the direct call: %v", eventTypes(want))
	}
	if g, w := timeline(got), timeline(want); g != w {
		t.Errorf("the spooled call's events:\n%s\nwant, as written directly:\n%s", g, w)
	}
}

func TestDatabaseRemovedThenRestored(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	before := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
	backup := h.removeDatabase()
	during := h.call(sim.Script{Presses: []string{"2"}, Engineers: map[string]sim.Behaviour{carol: sim.Accept}})
	if !heard(during, carol, "Support call for Service Desk") {
		t.Fatalf("with the database gone the call did not reach carol:\n%s", during.Transcript())
	}
	if err := os.Rename(backup, h.db); err != nil {
		t.Fatal(err)
	}
	h.waitReady()
	wantStatus(t, h.incident(before.CallSid), "answered", "alice")
	wantStatus(t, h.incident(during.CallSid), "answered", "carol")
}

func TestReloadOnSIGHUP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		good := mustRead(t, h.config)
		oldRevision := h.incident(h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}}).CallSid).ConfigRevision

		if err := os.WriteFile(h.config, []byte(strings.Replace(good, "menu:", "menu:\n  bogus: 1", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		reload := func(want string) {
			t.Helper()
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(h.stderr.String(), want) {
				if time.Now().After(deadline) {
					t.Fatalf("no %q in the log:\n%s", want, h.stderr.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		reload("config reload refused")
		if !strings.Contains(h.stderr.String(), "menu.bogus") {
			t.Errorf("the refusal does not name the key:\n%s", h.stderr.String())
		}
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if in := h.incident(res.CallSid); in.ConfigRevision != oldRevision || *in.AnsweredBy != "alice" {
			t.Errorf("after a refused reload: revision %s, answered by %v", in.ConfigRevision, in.AnsweredBy)
		}

		// A good change: erin first for ops.
		changed := strings.Replace(good, "      - rotation: ops-primary\n", "      - engineer: erin\n      - rotation: ops-primary\n", 1)
		if err := os.WriteFile(h.config, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		reload("config reloaded")
		res = h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{erin: sim.Accept, alice: sim.Accept}})
		in := h.incident(res.CallSid)
		wantStatus(t, in, "answered", "erin")
		if in.ConfigRevision == oldRevision {
			t.Error("the incident does not carry the new config_revision")
		}
	})
}

func TestHostileWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		post := func(path, body string, sign bool) int {
			req, _ := http.NewRequest(http.MethodPost, h.base+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if sign {
				form, _ := url.ParseQuery(body)
				req.Header.Set("X-Twilio-Signature", sim.Sign(testToken, h.base+path, form))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := post("/twilio/voice", "CallSid=CAbig&From="+strings.Repeat("9", 70_000), true); code != http.StatusRequestEntityTooLarge {
			t.Errorf("70 kB body: %d, want 413", code)
		}
		if code := post("/twilio/voice", "CallSid=CA%zz", true); code != http.StatusBadRequest {
			t.Errorf("malformed encoding: %d, want 400", code)
		}
		// Signed but hostile: a 10 kB name with invalid UTF-8, markup and SQL.
		name := strings.Repeat("\xff<script>'; DROP TABLE incidents; --", 280)[:10_000]
		res := h.call(sim.Script{CallerName: name, From: "+15555550199", Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		in := h.incident(res.CallSid)
		wantStatus(t, in, "answered", "alice")
		if !strings.Contains(in.CallerName, "'; DROP TABLE incidents; --") || strings.Contains(in.CallerName, "\xff") {
			t.Errorf("caller name not kept verbatim with bad bytes replaced: %.80q", in.CallerName)
		}
		// A non-E.164 caller number is recorded as it came, and the call goes on.
		odd := h.call(sim.Script{From: "anonymous", Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		wantStatus(t, h.incident(odd.CallSid), "answered", "alice")
		// A signed request tampered to name another call is refused.
		req := res.Requests[len(res.Requests)-1]
		form := url.Values(req.Params)
		sig := sim.Sign(testToken, req.URL, form)
		form.Set("CallSid", odd.CallSid)
		r, _ := http.NewRequest(http.MethodPost, h.base+req.Path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Twilio-Signature", sig)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a signature moved to another call: %d, want 403", resp.StatusCode)
		}
		logs := h.stderr.String()
		for _, secret := range []string{testToken, "+15555550199", "+15555550101"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log contains %q", secret)
			}
		}
	})
}

func TestMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.NoAnswer, bob: sim.Accept}})
		body := h.metrics()
		for _, want := range []string{
			`hotline_calls_total{outcome="answered"} 1`,
			`hotline_escalation_depth_bucket{le="2"} 1`,
			`hotline_webhook_duration_seconds_count{code="200",step="voice"} 1`,
			`hotline_spool_depth 0`,
			`hotline_stale_calls_closed_total 0`,
			`hotline_uncovered_seconds_next_24h{team="ops"} 0`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if t.Failed() {
			t.Logf("/metrics:\n%s", body)
		}
	})
}

// TestStaleCallClosedAtStart: a call left in progress five hours ago (its
// final status never came, e.g. hotline was down when Twilio sent it) is
// closed when serve starts, by what its events show, and counted.
func TestStaleCallClosedAtStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		if err := incident.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		inc := incident.NewIncidents(db)
		started := time.Now().Add(-5 * time.Hour)
		if _, _, err := inc.StartIncident(ctx, incident.Incident{CallSid: "CAstale", From: "+15555550123", To: "+18005550100", StartedAt: started, ConfigRevision: "r"},
			incident.Event{At: started, Type: "incoming", Key: "incoming"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inc.Record(ctx, "CAstale", incident.Update{Team: "ops"},
			incident.Event{At: started.Add(time.Second), Type: "ring", Engineer: "alice", Key: "ring:p0:s0"},
			incident.Event{At: started.Add(9 * time.Second), Type: "accepted", Engineer: "alice", Key: "whisper:p0:s0"}); err != nil {
			t.Fatal(err)
		}
		h := startHotline(t, dsn)
		deadline := time.Now().Add(10 * time.Second)
		in := h.incident("CAstale")
		for in.Status == incident.StatusInProgress && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			in = h.incident("CAstale")
		}
		wantStatus(t, in, "answered", "alice")
		if last := in.Events[len(in.Events)-1]; last.Type != "completed" || !strings.Contains(last.Detail, "never arrived") {
			t.Errorf("last event %+v, want hotline's completed", last)
		}
		body := h.metrics()
		for _, want := range []string{`hotline_stale_calls_closed_total 1`, `hotline_calls_total{outcome="answered"} 1`} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}
