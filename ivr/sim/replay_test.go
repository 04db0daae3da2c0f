package sim

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReplaySubstitutes replays a recorded screened call: every webhook is
// sent again, signed for its new parameters (the fake checks signatures
// with twilio-go), with fresh SIDs in place of the recorded ones wherever
// they occurred, and the parent and child legs still tied together.
func TestReplaySubstitutes(t *testing.T) {
	f := newFake(t, hotlineLike())
	res := f.call(Script{From: caller, To: support, Presses: []string{"1"}, Engineers: map[string]Behaviour{alice: Accept}})
	seq, err := NewSequence(res.Requests)
	if err != nil {
		t.Fatal(err)
	}
	sids := seq.SIDs()
	if len(sids) != 2 || sids[0] != res.CallSid {
		t.Fatalf("SIDs %v, want the parent %s then the child", sids, res.CallSid)
	}
	if seq.Len() != len(res.Requests) {
		t.Fatalf("Len %d, want %d", seq.Len(), len(res.Requests))
	}

	recorded := len(f.hits)
	var seen []string
	r := &Replayer{BaseURL: f.srv.URL, PublicURL: testPublic, AuthToken: testToken}
	n, err := r.Play(context.Background(), seq, func(p Played) bool {
		if p.Err != nil || p.Status != http.StatusOK || p.Latency <= 0 {
			t.Errorf("step %d %s: %+v", p.Step, p.Name, p)
		}
		seen = append(seen, p.Name)
		return true
	})
	if err != nil || n != seq.Len() {
		t.Fatalf("Play: %d webhooks, %v", n, err)
	}
	replayed := f.hits[recorded:]
	if len(replayed) != len(res.Requests) {
		t.Fatalf("%d requests replayed, want %d", len(replayed), len(res.Requests))
	}
	parent, child := replayed[0].form.Get("CallSid"), ""
	if parent == res.CallSid || len(parent) != 34 || !strings.HasPrefix(parent, "CA") {
		t.Fatalf("replayed parent CallSid %q", parent)
	}
	for i, h := range replayed {
		rec := res.Requests[i]
		if h.uri != rec.Path || h.method != rec.Method {
			t.Errorf("request %d: %s %s, want %s %s", i, h.method, h.uri, rec.Method, rec.Path)
		}
		if seen[i] != h.path {
			t.Errorf("observed %q, want %q", seen[i], h.path)
		}
		for k, vs := range h.form {
			for _, v := range vs {
				if strings.Contains(v, sids[0]) || strings.Contains(v, sids[1]) {
					t.Errorf("request %d: %s=%s still holds a recorded SID", i, k, v)
				}
			}
		}
		want := rec.Params["CallSid"][0]
		switch want {
		case sids[0]:
			if h.form.Get("CallSid") != parent {
				t.Errorf("request %d: CallSid %s, want the parent %s", i, h.form.Get("CallSid"), parent)
			}
		case sids[1]:
			if child == "" {
				child = h.form.Get("CallSid")
			}
			if h.form.Get("CallSid") != child || h.form.Get("ParentCallSid") != parent {
				t.Errorf("request %d: child leg %v, want CallSid %s ParentCallSid %s", i, h.form, child, parent)
			}
		}
		if d := rec.Params["DialCallSid"]; d != nil && h.form.Get("DialCallSid") != child {
			t.Errorf("request %d: DialCallSid %s, want the child %s", i, h.form.Get("DialCallSid"), child)
		}
		// Everything but the SIDs and the token is as recorded.
		for k, vs := range rec.Params {
			if !slices.Contains(sidParams, k) && !slices.Equal(h.form[k], vs) {
				t.Errorf("request %d: %s=%v, want %v", i, k, h.form[k], vs)
			}
		}
	}
	if child == "" || child == sids[1] {
		t.Errorf("child leg SID %q not replaced", child)
	}
}

// TestSubstituteSignature checks the pre-encoded fast path against Sign,
// including a parameter with several values, one holding a SID (whose sort
// order the substitution may change), and a SID in the path.
func TestSubstituteSignature(t *testing.T) {
	const old = "CAffffffffffffffffffffffffffffffff"
	reqs := []Request{
		{Method: http.MethodPost, Path: "/a?x=1", Status: 200, Params: map[string][]string{
			"CallSid": {old}, "From": {"+15555550123"}, "Note": {"zz", old + "-x"}}},
		{Method: http.MethodPost, Path: "/b/" + old + "?y=%2B1", Status: 200, Params: map[string][]string{
			"CallSid": {old}, "Digits": {"1"}}},
		{Method: http.MethodGet, Path: "/c", Status: 200, Params: map[string][]string{"CallSid": {old}}},
	}
	seq, err := NewSequence(reqs)
	if err != nil {
		t.Fatal(err)
	}
	fresh := "CA00000000000000000000000000000000"
	ws, err := seq.Substitute([]string{fresh})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range ws {
		if strings.Contains(w.Path+w.Body, old) {
			t.Errorf("webhook %d still holds the recorded SID: %s %s", i, w.Path, w.Body)
		}
		var want string
		if w.Method == http.MethodGet {
			if w.Path != "/c?CallSid="+fresh {
				t.Errorf("GET path %q", w.Path)
			}
			want = Sign("tok", testPublic+w.Path, nil)
		} else {
			body, err := url.ParseQuery(w.Body)
			if err != nil || !equalValues(body, w.Params) {
				t.Errorf("webhook %d: body %q does not encode %v", i, w.Body, w.Params)
			}
			want = Sign("tok", testPublic+w.Path, w.Params)
		}
		if got := w.Signature("tok", testPublic); got != want {
			t.Errorf("webhook %d: signature %s, want %s", i, got, want)
		}
	}
	if got := ws[0].Params["Note"]; !slices.Equal(got, []string{"zz", fresh + "-x"}) {
		t.Errorf("Note %v", got)
	}
	if ws[1].Path != "/b/"+fresh+"?y=%2B1" {
		t.Errorf("path %q", ws[1].Path)
	}
	if _, err := seq.Substitute(nil); err == nil {
		t.Error("Substitute accepted the wrong number of SIDs")
	}
	if _, err := NewSequence([]Request{{Path: "/a", Params: map[string][]string{"CallSid": {"CA1"}}}}); err == nil {
		t.Error("NewSequence accepted a request without a response")
	}
	if _, err := NewSequence([]Request{{Path: "/a", Status: 200, Params: map[string][]string{"CallSid": {"CA 1"}}}}); err == nil {
		t.Error("NewSequence accepted a SID with a space")
	}
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestPlayStops checks that a call ends at a failing webhook, when observe
// says so, and that Pause spaces the webhooks.
func TestPlayStops(t *testing.T) {
	f := newFake(t, hotlineLike())
	res := f.call(Script{From: caller, To: support, Presses: []string{"1"}, Engineers: map[string]Behaviour{alice: Accept}})
	seq, err := NewSequence(res.Requests)
	if err != nil {
		t.Fatal(err)
	}
	r := &Replayer{BaseURL: f.srv.URL, PublicURL: testPublic, AuthToken: testToken, Pause: 5 * time.Millisecond}
	start := time.Now()
	n, err := r.Play(context.Background(), seq, func(p Played) bool { return p.Step < 1 })
	if err != nil || n != 2 {
		t.Errorf("stopped after step 1: %d webhooks, %v", n, err)
	}
	if time.Since(start) < 5*time.Millisecond {
		t.Error("no pause between webhooks")
	}
	f.mu.Lock()
	f.raw["/twilio/menu"] = func(w http.ResponseWriter) { http.Error(w, "boom", http.StatusInternalServerError) }
	f.mu.Unlock()
	r.Pause = 0
	var last Played
	n, err = r.Play(context.Background(), seq, func(p Played) bool { last = p; return true })
	if err == nil || n != 1 || last.Status != http.StatusInternalServerError || last.Err == nil {
		t.Errorf("a 500 at the menu: %d webhooks, %v, last %+v", n, err, last)
	}
}
