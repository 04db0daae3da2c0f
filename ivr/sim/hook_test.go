package sim

import (
	"net/url"
	"testing"
)

// TestBeforeRequest: the hook sees every webhook of the call, in the order
// sent, before the server gets it, so a test can hold a call there.
func TestBeforeRequest(t *testing.T) {
	f := newFake(t, hotlineLike())
	type seen struct {
		leg, kind, path string
		served          int // requests the server had received when the hook ran
	}
	var hooks []seen
	res := f.call(Script{From: caller, To: support, Presses: []string{"1"}, Engineers: map[string]Behaviour{alice: Accept},
		BeforeRequest: func(leg, kind, path string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			hooks = append(hooks, seen{leg, kind, path, len(f.hits)})
		}})
	if len(hooks) != len(res.Requests) {
		t.Fatalf("the hook ran %d times for %d requests", len(hooks), len(res.Requests))
	}
	for i, r := range res.Requests {
		u, _ := url.Parse(r.URL)
		h := hooks[i]
		if h.leg != r.Leg || h.kind != r.Kind || h.path != u.Path {
			t.Errorf("hook %d saw %s %s %s; request %d was %s %s %s", i, h.leg, h.kind, h.path, i, r.Leg, r.Kind, u.Path)
		}
		if h.served != i {
			t.Errorf("hook %d (%s) ran after the server had %d requests, want %d", i, h.path, h.served, i)
		}
	}
	var kinds []string
	for _, h := range hooks {
		kinds = append(kinds, h.leg+" "+h.kind+" "+h.path)
	}
	for _, want := range []string{"caller voice /twilio/voice", alice + " whisper /twilio/screen", "caller action /twilio/dial-done"} {
		found := false
		for _, k := range kinds {
			found = found || k == want
		}
		if !found {
			t.Errorf("the hook never saw %q; it saw %q", want, kinds)
		}
	}
}
