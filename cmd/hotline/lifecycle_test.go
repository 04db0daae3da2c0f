package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// settled waits (10 s at most) for a call's incident to leave the state
// open that every call starts in, or to be open once it has ended.
func (h *hotline) settled(callSid string, want string) incident.Incident {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in := h.incident(callSid)
		if in.State == want && in.EndedAt != nil || time.Now().After(deadline) {
			return in
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// post sends a POST to the JSON API as the test manager and returns the
// status and body.
func (h *hotline) post(path string) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.base+path, nil)
	req.SetBasicAuth(testUser, testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestCallsSettleAndArePickedUp: when a call ends its incident is
// acknowledged by the engineer who answered, left open when it was a
// voicemail, resolved by hotline when the caller hung up in the menu. The
// open voicemail is found with ?state=open, acknowledged through the API
// (which answers its JSON), then resolved with hotline resolve; the page
// shows who has it; each step is in the timeline and the audit log, and
// what cannot be done is refused.
func TestCallsSettleAndArePickedUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		answered := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		voicemail := h.call(sim.Script{Presses: []string{"1"}, Voicemail: "The VPN is down, call me back."})
		hungUp := h.call(sim.Script{HangupAfter: "menu"})
		if in := h.settled(answered.CallSid, incident.StateAcknowledged); in.State != incident.StateAcknowledged || in.AcknowledgedBy == nil || *in.AcknowledgedBy != "alice" {
			t.Errorf("answered call: state %q by %v; want acknowledged by alice", in.State, in.AcknowledgedBy)
		}
		if in := h.settled(hungUp.CallSid, incident.StateResolved); in.State != incident.StateResolved || in.ResolvedBy == nil || *in.ResolvedBy != "hotline" {
			t.Errorf("call hung up in the menu: state %q by %v; want resolved by hotline", in.State, in.ResolvedBy)
		}
		vm := h.settled(voicemail.CallSid, incident.StateOpen)
		if vm.State != incident.StateOpen || vm.Kind != incident.KindCall {
			t.Fatalf("voicemail: %q %q; want an open call", vm.State, vm.Kind)
		}
		var open struct{ Incidents []incident.Incident }
		h.getJSON("/api/v1/incidents?state=open", &open)
		if len(open.Incidents) != 1 || open.Incidents[0].ID != vm.ID {
			t.Errorf("?state=open lists %d incidents; want the voicemail only", len(open.Incidents))
		}
		id := strconv.FormatInt(vm.ID, 10)
		code, body := h.post("/api/v1/incidents/" + id + "/acknowledge")
		var got incident.Incident
		if err := json.Unmarshal(body, &got); code != http.StatusOK || err != nil || got.State != incident.StateAcknowledged || got.AcknowledgedBy == nil || *got.AcknowledgedBy != "web:"+testUser {
			t.Errorf("acknowledge: %d %s", code, body)
		}
		if page := h.page("/incidents/" + id); !strings.Contains(page, ">acknowledged</span> · "+testUser) || strings.Contains(page, "/acknowledge\"") || !strings.Contains(page, "/resolve\"") {
			t.Errorf("the incident page does not show it acknowledged by %s with only Resolve left", testUser)
		}
		if out := h.mustRun(nil, "resolve", id, "--db", h.db); !strings.Contains(out, "incident "+id+" resolved") {
			t.Errorf("hotline resolve: %q", out)
		}
		if code, body := h.post("/api/v1/incidents/" + id + "/acknowledge"); code != http.StatusConflict || !strings.Contains(string(body), "resolved already") {
			t.Errorf("acknowledging a resolved incident: %d %s; want 409", code, body)
		}
		if code, _ := h.post("/api/v1/incidents/99999/resolve"); code != http.StatusNotFound {
			t.Errorf("resolving a missing incident: %d; want 404", code)
		}
		req, _ := http.NewRequest(http.MethodGet, h.base+"/api/v1/incidents?state=sleeping", nil)
		req.SetBasicAuth(testUser, testPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("?state=sleeping: %d; want 400", resp.StatusCode)
		}
		final := h.incident(voicemail.CallSid)
		var steps []string
		for _, e := range final.Events {
			if e.Type == incident.EventAcknowledged || e.Type == incident.EventResolved {
				steps = append(steps, e.Detail)
			}
		}
		if strings.Join(steps, "; ") != "web:"+testUser+" (api); cli:tester (cli)" {
			t.Errorf("timeline %q", steps)
		}
		if audit := h.page("/audit"); !strings.Contains(audit, "incident.acknowledge") || !strings.Contains(audit, "incident.resolve") {
			t.Error("the audit page lacks the acknowledgement or the resolution")
		}
	})
}

// TestIntegrationAlertsEndToEnd: hotline integration add prints a secret
// once; with it a running hotline takes an alert (202) that the API lists
// as an open alert of the integration's team; list shows the integration,
// rm ends its secret; a bad team is a usage error.
func TestIntegrationAlertsEndToEnd(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	if _, stderr, code := runCLI(t, nil, "", "integration", "add", "--team", "nope", "--name", "x", "--config", h.config, "--db", h.db); code != 2 {
		t.Errorf("integration add to an unknown team: exit %d, want 2\n%s", code, stderr)
	}
	out := h.mustRun(nil, "integration", "add", "--team", "ops", "--name", "prometheus", "--config", h.config, "--db", h.db)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], `integration 1 "prometheus" pages team ops`) {
		t.Fatalf("integration add printed %q", out)
	}
	secret := strings.TrimSpace(lines[1])
	alertPost := func(secret, body string) int {
		req, _ := http.NewRequest(http.MethodPost, h.base+"/api/v1/alerts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := alertPost(secret, `{"summary": "queue depth over 10,000", "dedup_key": "queue"}`); code != http.StatusAccepted {
		t.Fatalf("alert: %d, want 202", code)
	}
	if code := alertPost("not-it", `{"summary": "x"}`); code != http.StatusUnauthorized {
		t.Errorf("alert with a wrong secret: %d, want 401", code)
	}
	var list struct{ Incidents []incident.Incident }
	h.getJSON("/api/v1/incidents?kind=alert&state=open", &list)
	if len(list.Incidents) != 1 || list.Incidents[0].Summary != "queue depth over 10,000" || list.Incidents[0].Team != "ops" {
		t.Errorf("open alerts %+v", list.Incidents)
	}
	if out := h.mustRun(nil, "integration", "list", "--db", h.db); !strings.Contains(out, "prometheus") || strings.Contains(out, secret) {
		t.Errorf("integration list %q: want the name, never the secret", out)
	}
	h.mustRun(nil, "integration", "rm", "1", "--db", h.db)
	if code := alertPost(secret, `{"summary": "x"}`); code != http.StatusUnauthorized {
		t.Errorf("alert after rm: %d, want 401", code)
	}
}
