package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// hold keeps a simulated call waiting at one webhook until released.
type hold struct {
	reached chan struct{} // closed when the call reaches the webhook
	release chan struct{}
	once    sync.Once
	free    sync.Once
}

func newHold(t *testing.T) *hold {
	h := &hold{reached: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(h.let) // a failed test never leaves the call waiting
	return h
}

// wait is called from the call: it reports the webhook reached and waits
// (the first time only).
func (h *hold) wait() {
	h.once.Do(func() {
		close(h.reached)
		<-h.release
	})
}

func (h *hold) let() { h.free.Do(func() { close(h.release) }) }

// await waits for the call to reach the hold, for at most 30 s.
func (h *hold) await(t *testing.T, what string) {
	t.Helper()
	select {
	case <-h.reached:
	case <-time.After(30 * time.Second):
		t.Fatalf("the call never reached %s", what)
	}
}

// waitLive polls the live tables of the open page until they show want
// (and not gone), for at most 10 s, and returns how long that took.
func (b *browser) waitLive(want, gone string) time.Duration {
	b.t.Helper()
	began := time.Now()
	deadline := began.Add(10 * time.Second)
	var text string
	for time.Now().Before(deadline) {
		text, _ = b.eval(`document.getElementById("live").innerText`).(string)
		if strings.Contains(text, want) && (gone == "" || !strings.Contains(text, gone)) {
			return time.Since(began)
		}
		time.Sleep(20 * time.Millisecond) // the next look at the DOM, not a wait for the server
	}
	b.t.Fatalf("/live never showed %q without %q; it shows:\n%s", want, gone, clipText(text, 1500))
	return 0
}

// wantLive checks GET /api/v1/live (HTTP Basic) holds one call, at stage
// with engineer at step 1 of pass 1.
func (h *hotline) wantLive(stage, engineer string) {
	h.t.Helper()
	var live struct {
		Calls []struct {
			IncidentID int64   `json:"incident_id"`
			CallSid    string  `json:"call_sid"`
			From       string  `json:"from"`
			Team       string  `json:"team"`
			Stage      string  `json:"stage"`
			Engineer   *string `json:"engineer"`
			Step       *int    `json:"step"`
			Pass       *int    `json:"pass"`
		} `json:"calls"`
	}
	h.getJSON("/api/v1/live", &live)
	if len(live.Calls) != 1 {
		h.t.Fatalf("/api/v1/live: %d calls, want 1", len(live.Calls))
	}
	c := live.Calls[0]
	if c.Stage != stage || c.Engineer == nil || *c.Engineer != engineer || c.Step == nil || *c.Step != 1 || c.Pass == nil || *c.Pass != 1 ||
		c.Team != "ops" || c.From != "+15555550123" || c.IncidentID == 0 || c.CallSid == "" {
		h.t.Errorf("/api/v1/live: %+v; want %s %s at step 1, pass 1", c, stage, engineer)
	}
}

// TestLiveViewFollowsACall: a manager's /live, opened once, shows a
// simulated call ringing Alice, then connected to Alice, then gone, each
// within 2 s of the webhook that moved it and without reloading.
func TestLiveViewFollowsACall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		b := newBrowser(t, h)
		b.signIn(testUser, testPassword)
		b.open("/live")
		b.waitLive("No call in progress.", "")
		// A reload would lose this.
		b.eval(`window.stillTheSamePage = "yes"`)

		ringing, talking := newHold(t), newHold(t)
		script := sim.Script{From: "+15555550123", To: "+18005550100", CallerName: "Globex", Presses: []string{"1"},
			Engineers: map[string]sim.Behaviour{alice: sim.Accept},
			BeforeRequest: func(leg, kind, path string) {
				switch {
				case leg == alice && kind == "whisper":
					ringing.wait() // alice's phone rings: the whisper is not fetched yet
				case leg == "caller" && kind == "action" && path == "/twilio/dial":
					talking.wait() // alice pressed 1 and talks to the caller until the Dial ends
				}
			}}
		type result struct {
			res *sim.Result
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := h.twilio.Call(context.Background(), script)
			done <- result{res, err}
		}()

		ringing.await(t, "alice's whisper")
		tookRinging := b.waitLive("ringing Alice Adams (step 1, pass 1)", "")
		b.wantText("the ringing call", "Globex", "Operations")
		h.wantLive("ringing", "alice")
		ringing.let()
		talking.await(t, "the Dial's action")
		tookConnected := b.waitLive("connected to Alice Adams (step 1, pass 1)", "ringing")
		h.wantLive("connected", "alice")
		// A keyboard user on the call's link stays on it through the
		// next update (its durations change every second).
		link := b.eval(`document.querySelector("#live tbody a").focus(); document.activeElement.getAttribute("href")`)
		shown := b.eval(`document.getElementById("live").innerText`)
		for deadline := time.Now().Add(10 * time.Second); b.eval(`document.getElementById("live").innerText`) == shown; {
			if time.Now().After(deadline) {
				t.Fatal("/live did not update while the call went on")
			}
			time.Sleep(20 * time.Millisecond) // the next look at the DOM
		}
		if got := b.eval(`document.activeElement.getAttribute("href")`); link == nil || got != link {
			t.Errorf("after an update the focus is on %v, want the call's link %v", got, link)
		}
		talking.let()
		var r result
		select {
		case r = <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the call never ended")
		}
		if r.err != nil {
			t.Fatalf("call: %v\n%s", r.err, transcript(r.res))
		}
		tookGone := b.waitLive("No call in progress.", "Alice")
		if same := b.eval(`window.stillTheSamePage`); same != "yes" {
			t.Errorf("the page was reloaded (marker %v): it should change by itself", same)
		}
		t.Logf("/live showed ringing after %v, connected after %v, gone after %v", tookRinging, tookConnected, tookGone)
		if !raceEnabled {
			for what, took := range map[string]time.Duration{"ringing": tookRinging, "connected": tookConnected, "gone": tookGone} {
				if took > 2*time.Second {
					t.Errorf("/live showed %s %v after the webhook; want within 2 s", what, took)
				}
			}
		}
	})
}
