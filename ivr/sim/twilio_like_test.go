package sim

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// screenedDial is a one-engineer <Dial> with a whisper that waits for a key
// and hangs up the engineer's leg when none comes, as hotline screens.
func screenedDial(timeout string) map[string]route {
	return map[string]route{
		"/twilio/voice": func(url.Values) string {
			return `<Dial action="/twilio/done" timeout="` + timeout + `" answerOnBridge="true"><Number url="/twilio/w">` + alice + `</Number></Dial>`
		},
		"/twilio/w":    func(url.Values) string { return `<Gather timeout="4"><Say>Press 1.</Say></Gather><Hangup/>` },
		"/twilio/done": func(url.Values) string { return `<Hangup/>` },
	}
}

// TestDialTimeoutBuffer: Twilio rings 5 s past every <Dial timeout>
// (docs/twilio.md §8.5); Tidy rings the timeout exactly.
func TestDialTimeoutBuffer(t *testing.T) {
	for _, c := range []struct {
		tidy bool
		want int
	}{{false, 25}, {true, 20}} {
		f := newFake(t, screenedDial("20"))
		tw := f.twilio()
		tw.Tidy = c.tidy
		res, err := tw.Call(context.Background(), Script{From: caller, To: support, Engineers: map[string]Behaviour{alice: NoAnswer}})
		if err != nil {
			t.Fatal(err)
		}
		wantParams(t, "dial action", f.one("/twilio/done").form, map[string]string{"DialCallStatus": "no-answer"})
		if res.Duration != c.want {
			t.Errorf("tidy %t: a 20 s <Dial> to a phone nobody answers lasted %d s, want %d", c.tidy, res.Duration, c.want)
		}
	}
}

// TestPersonalVoicemailPicksUpLate: an engineer's own voicemail answers
// after 20–30 s of ringing, so within a 20 s <Dial> (25 s with Twilio's
// buffer) it answers at 22 s and hears the whisper, and within a 15 s one
// (20 s) it never answers.
func TestPersonalVoicemailPicksUpLate(t *testing.T) {
	for _, c := range []struct {
		timeout, status string
		whispers        int
	}{{"20", "completed", 1}, {"15", "no-answer", 0}} {
		f := newFake(t, screenedDial(c.timeout))
		res := f.call(Script{From: caller, To: support, Engineers: map[string]Behaviour{alice: Voicemail}})
		wantParams(t, "dial action "+c.timeout, f.one("/twilio/done").form, map[string]string{"DialCallStatus": c.status})
		if n := len(f.find("/twilio/w")); n != c.whispers {
			t.Errorf("timeout %s: %d whispers, want %d", c.timeout, n, c.whispers)
		}
		if c.whispers == 1 && !strings.Contains(res.Transcript(), "answers") {
			t.Errorf("no answer heard:\n%s", res.Transcript())
		}
		for _, l := range res.Heard {
			if l.Kind == "answer" && l.At != 22 {
				t.Errorf("the voicemail answered at %d s, want 22", l.At)
			}
		}
	}
	// An engineer who answers at 5 s beats a voicemail ringing beside them.
	f := newFake(t, map[string]route{
		"/twilio/voice": func(url.Values) string {
			return `<Dial action="/twilio/done" timeout="20"><Number>` + alice + `</Number><Number>` + bob + `</Number></Dial>`
		},
		"/twilio/done": func(url.Values) string { return `<Hangup/>` },
	})
	res := f.call(Script{From: caller, To: support, Engineers: map[string]Behaviour{alice: Voicemail, bob: Accept}})
	for _, l := range res.Heard {
		if l.Kind == "answer" && (l.Leg != bob || l.At != 5) {
			t.Errorf("%s answered at %d s; want bob at 5 s:\n%s", l.Leg, l.At, res.Transcript())
		}
	}
	wantParams(t, "dial action", f.one("/twilio/done").form, map[string]string{"DialCallStatus": "completed", "DialBridged": "true"})
}

// TestCallerNameAndCallToken: CallerName comes only with caller-name
// lookup on; every request of the incoming call carries a CallToken, and
// none of the engineer's leg does.
func TestCallerNameAndCallToken(t *testing.T) {
	f := newFake(t, hotlineLike())
	f.call(Script{From: caller, To: support, CallerName: "ACME CORP", Presses: []string{"1"}, Engineers: map[string]Behaviour{alice: Accept}})
	for _, h := range f.hits {
		if h.form.Has("CallerName") {
			t.Errorf("%s: CallerName without caller-name lookup", h.path)
		}
		child := h.form.Get("ParentCallSid") != "" || h.path == "/twilio/screen" || strings.HasPrefix(h.path, "/cb/leg")
		if got := h.form.Get("CallToken"); child == (got != "") && h.method == http.MethodPost {
			t.Errorf("%s: CallToken %q on the %s leg", h.path, got, map[bool]string{true: "engineer's", false: "caller's"}[child])
		}
	}
	if tok, _ := url.QueryUnescape(f.one("/twilio/voice").form.Get("CallToken")); !strings.HasPrefix(tok, `{"parentCallInfoToken":"eyJ`) {
		t.Errorf("CallToken %q is not Twilio's shape", tok)
	}
}

// TestCallTokenUnsigned: with CallTokenUnsigned the signature covers every
// parameter but CallToken and StirVerstat, and only those two.
func TestCallTokenUnsigned(t *testing.T) {
	var mu sync.Mutex
	var sig string
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		sig, form = r.Header.Get("X-Twilio-Signature"), r.PostForm
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<Response><Hangup/></Response>`))
	}))
	defer srv.Close()
	tw := &Twilio{BaseURL: srv.URL, AuthToken: testToken, CallTokenUnsigned: true}
	if _, _, err := tw.Post(context.Background(), "/twilio/voice", url.Values{"CallSid": {"CA1"}, "CallToken": {"x"}, "StirVerstat": {"TN-Validation-Passed-A"}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	without := maps.Clone(form)
	delete(without, "CallToken")
	delete(without, "StirVerstat")
	if sig != Sign(testToken, srv.URL+"/twilio/voice", without) || sig == Sign(testToken, srv.URL+"/twilio/voice", form) {
		t.Errorf("signature %q is not over the parameters without CallToken and StirVerstat", sig)
	}
}

// TestTidyAtTheShortestTimeout: with Tidy a phone that answers after 5 s
// still answers a <Dial> of the shortest timeout hotline allows, 5 s.
func TestTidyAtTheShortestTimeout(t *testing.T) {
	f := newFake(t, map[string]route{
		"/twilio/voice": func(url.Values) string {
			return `<Dial action="/twilio/done" timeout="5"><Number>` + alice + `</Number></Dial>`
		},
		"/twilio/done": func(url.Values) string { return `<Hangup/>` },
	})
	tw := f.twilio()
	tw.Tidy = true
	if _, err := tw.Call(context.Background(), Script{From: caller, To: support, Engineers: map[string]Behaviour{alice: Accept}}); err != nil {
		t.Fatal(err)
	}
	wantParams(t, "dial action", f.one("/twilio/done").form, map[string]string{"DialCallStatus": "completed", "DialBridged": "true"})
}
