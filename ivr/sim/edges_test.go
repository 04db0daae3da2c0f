package sim

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestReject(t *testing.T) {
	f := newFake(t, map[string]route{"/twilio/voice": func(url.Values) string { return `<Reject reason="busy"/><Say>x</Say>` }})
	res := f.call(Script{From: caller, To: support})
	if res.Final != "busy" || f.one("/twilio/status").form.Get("CallStatus") != "busy" {
		t.Errorf("final %q", res.Final)
	}
	f = newFake(t, map[string]route{"/twilio/voice": func(url.Values) string { return `<Say>hi</Say><Reject/>` }})
	if _, err := f.twilio().Call(context.Background(), Script{From: caller, To: support}); err == nil {
		t.Error("a <Reject> after another verb was accepted")
	}
}

func TestApplicationErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		raw  func(http.ResponseWriter)
		body string
		want string
	}{
		"500":          {raw: func(w http.ResponseWriter) { http.Error(w, "boom", 500) }, want: "HTTP status 500"},
		"content type": {raw: func(w http.ResponseWriter) { w.Write([]byte("<Response/>")) }, want: "Content-Type"},
		"root": {raw: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/xml")
			w.Write([]byte("<Reply/>"))
		}, want: "not <Response>"},
		"unclosed":      {body: `<Say>hi`, want: "does not parse"},
		"unknown verb":  {body: `<Sms>hi</Sms>`, want: "not supported"},
		"dial whisper":  {body: `<Dial><Number url="/twilio/dial">` + alice + `</Number></Dial>`, want: "not allowed in a whisper"},
		"bad attribute": {body: `<Pause length="x"/>`, want: "not a non-negative integer"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t, map[string]route{
				"/twilio/voice": func(url.Values) string { return `<Redirect>/twilio/x</Redirect>` },
				"/twilio/x":     func(url.Values) string { return tc.body },
				"/twilio/dial":  func(url.Values) string { return `<Dial>` + bob + `</Dial>` },
			})
			if tc.raw != nil {
				f.raw["/twilio/x"] = tc.raw
			}
			res, err := f.twilio().Call(context.Background(), Script{From: caller, To: support,
				Engineers: map[string]Behaviour{alice: Accept}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
			if len(res.Errors) != 1 || res.Final != "completed" || len(f.find("/twilio/status")) != 1 {
				t.Errorf("errors %v, final %q, requests %v", res.Errors, res.Final, f.paths())
			}
			if !slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Kind == "error" }) {
				t.Errorf("application error not heard:\n%s", res.Transcript())
			}
		})
	}
}

func TestMaxSteps(t *testing.T) {
	f := newFake(t, map[string]route{"/twilio/voice": func(url.Values) string { return `<Redirect/>` + `<Redirect>voice</Redirect>` }})
	_, err := f.twilio().Call(context.Background(), Script{From: caller, To: support, MaxSteps: 5})
	if err == nil || !strings.Contains(err.Error(), "no URL") {
		t.Fatalf("err %v", err)
	}
	f = newFake(t, map[string]route{"/twilio/voice": func(url.Values) string { return `<Redirect>voice</Redirect>` }})
	_, err = f.twilio().Call(context.Background(), Script{From: caller, To: support, MaxSteps: 5})
	if err == nil || !strings.Contains(err.Error(), "MaxSteps") || len(f.find("/twilio/voice")) != 5 {
		t.Fatalf("err %v after %d requests", err, len(f.find("/twilio/voice")))
	}
}

func TestScriptValidation(t *testing.T) {
	tw := &Twilio{BaseURL: "http://127.0.0.1:1"}
	for _, s := range []Script{
		{To: support},
		{From: caller, To: support, HangupAfter: "ring:0"},
		{From: caller, To: support, Engineers: map[string]Behaviour{alice: "maybe"}},
	} {
		if _, err := tw.Call(context.Background(), s); err == nil {
			t.Errorf("Script %+v accepted", s)
		}
	}
}

func TestVoicemailLegHangsUp(t *testing.T) {
	// A whisper that repeats its prompt forever: a personal voicemail never
	// presses anything and hangs up after 120 s, so the call is not bridged.
	f := newFake(t, map[string]route{
		"/twilio/voice": func(url.Values) string {
			return `<Dial action="/twilio/done"><Number url="/twilio/w">` + alice + `</Number></Dial>`
		},
		"/twilio/w": func(url.Values) string {
			return `<Gather timeout="10"><Say>Press 1.</Say></Gather><Redirect>w</Redirect>`
		},
		"/twilio/done": func(url.Values) string { return `<Hangup/>` },
	})
	res := f.call(Script{From: caller, To: support, Engineers: map[string]Behaviour{alice: Voicemail}})
	done := f.one("/twilio/done")
	wantParams(t, "dial action", done.form, map[string]string{"DialCallStatus": "completed", "DialBridged": "false", "DialCallDuration": "121"})
	if n := len(f.find("/twilio/w")); n != 11 {
		t.Errorf("%d whisper documents, want 11 (11 s each)", n)
	}
	if res.Duration != 143 {
		t.Errorf("Duration %d, want 143 (22 s ringing + 121 s)", res.Duration)
	}
}

func TestContextCancel(t *testing.T) {
	f := newFake(t, map[string]route{"/twilio/voice": func(url.Values) string { return `<Redirect/>` }})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := f.twilio().Call(ctx, Script{From: caller, To: support})
	if err == nil || res == nil || len(f.paths()) != 0 {
		t.Fatalf("err %v, requests %v", err, f.paths())
	}
}
