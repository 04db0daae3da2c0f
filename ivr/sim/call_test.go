package sim

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	alice   = "+15555550101"
	bob     = "+15555550102"
	support = "+18005550199"
	caller  = "+15555550100"
)

// hotlineLike is a screened support flow in the shape hotline serves:
// menu, a screened <Dial>, voicemail when nobody is bridged.
func hotlineLike() map[string]route {
	return map[string]route{
		"/twilio/voice": func(url.Values) string {
			return `<Gather numDigits="1" action="menu?try=1"><Say>Thank you for calling. Press 1 for support.</Say></Gather>` +
				`<Say>Goodbye.</Say>`
		},
		"/twilio/menu": func(f url.Values) string {
			return `<Dial action="dial-done?step=1" timeout="20" callerId="` + support + `">` +
				`<Number url="./screen?eng=alice" statusCallback="/cb/leg" statusCallbackEvent="initiated ringing answered completed">` + alice + `</Number></Dial>` +
				`<Say>unreachable</Say>`
		},
		"/twilio/screen": func(url.Values) string {
			return `<Gather numDigits="1" timeout="4" action="screen-answer"><Say>Support call. Press 1 to accept, 2 to decline.</Say></Gather>` +
				`<Gather numDigits="1" timeout="4" action="screen-answer"><Say>Press 1 to accept the call, 2 to decline.</Say></Gather><Hangup/>`
		},
		"/twilio/screen-answer": func(f url.Values) string {
			if f.Get("Digits") == "1" {
				return ""
			}
			return `<Hangup/>`
		},
		"/twilio/dial-done": func(f url.Values) string {
			if f.Get("DialBridged") == "true" {
				return `<Hangup/>`
			}
			return `<Say>Please leave a message.</Say>` +
				`<Record action="/twilio/vm" maxLength="120" transcribe="true" transcribeCallback="/cb/transcript" recordingStatusCallback="/cb/rec"/>` +
				`<Say>We did not get a message.</Say>`
		},
		"/twilio/vm": func(url.Values) string { return `<Say>Thanks, goodbye.</Say><Hangup/>` },
	}
}

func TestScreenedCall(t *testing.T) {
	for _, tc := range []struct {
		b          Behaviour
		dialStatus string
		bridged    string
		whisper    bool // a whisper document is requested
		answerReq  bool // the whisper <Gather> action is requested
		repeat     bool // the whisper's second <Gather> (after silence) is heard
		legFinal   string
	}{
		{Accept, "completed", "true", true, true, false, "completed"},
		{Decline, "completed", "false", true, true, false, "completed"},
		{Voicemail, "completed", "false", true, false, true, "completed"},
		{Hangup, "completed", "false", true, false, false, "completed"},
		{Busy, "busy", "false", false, false, false, "busy"},
		{NoAnswer, "no-answer", "false", false, false, false, "no-answer"},
		{Failed, "failed", "false", false, false, false, "failed"},
	} {
		t.Run(string(tc.b), func(t *testing.T) {
			f := newFake(t, hotlineLike())
			res := f.call(Script{From: caller, To: support, Presses: []string{"1"},
				Engineers: map[string]Behaviour{alice: tc.b}})

			voice := f.one("/twilio/voice")
			wantParams(t, "voice", voice.form, map[string]string{
				"CallStatus": "ringing", "Direction": "inbound", "From": caller, "To": support,
				"Caller": caller, "Called": support, "ApiVersion": "2010-04-01",
				"AccountSid": DefaultAccountSid, "CallSid": res.CallSid,
			})
			menu := f.one("/twilio/menu")
			wantParams(t, "menu", menu.form, map[string]string{"Digits": "1", "CallStatus": "in-progress", "msg": "Gather End"})
			if menu.uri != "/twilio/menu?try=1" {
				t.Errorf("menu URI %s", menu.uri)
			}

			whisper := f.find("/twilio/screen")
			if (len(whisper) == 1) != tc.whisper {
				t.Fatalf("%d whisper requests, want %t", len(whisper), tc.whisper)
			}
			var child string
			if tc.whisper {
				w := whisper[0]
				child = w.form.Get("CallSid")
				if child == res.CallSid || len(child) != 34 || !strings.HasPrefix(child, "CA") {
					t.Errorf("child CallSid %q", child)
				}
				wantParams(t, "whisper", w.form, map[string]string{
					"ParentCallSid": res.CallSid, "Direction": "outbound-dial", "From": support,
					"To": alice, "CallStatus": "in-progress",
				})
				if w.uri != "/twilio/screen?eng=alice" {
					t.Errorf("whisper URI %s", w.uri)
				}
			}
			answers := f.find("/twilio/screen-answer")
			if (len(answers) == 1) != tc.answerReq {
				t.Fatalf("%d whisper answers, want %t", len(answers), tc.answerReq)
			}
			if tc.answerReq {
				wantParams(t, "screen-answer", answers[0].form, map[string]string{
					"CallSid": child, "ParentCallSid": res.CallSid,
					"Digits": map[Behaviour]string{Accept: "1", Decline: "2"}[tc.b],
				})
			}

			done := f.one("/twilio/dial-done")
			wantParams(t, "dial-done", done.form, map[string]string{
				"DialCallStatus": tc.dialStatus, "DialBridged": tc.bridged,
				"CallSid": res.CallSid, "CallStatus": "in-progress", "Direction": "inbound",
			})
			if done.uri != "/twilio/dial-done?step=1" {
				t.Errorf("dial action URI %s", done.uri)
			}
			if tc.whisper && done.form.Get("DialCallSid") != child {
				t.Errorf("DialCallSid %q, want %q", done.form.Get("DialCallSid"), child)
			}

			legs := f.find("/cb/leg")
			var statuses []string
			for _, h := range legs {
				statuses = append(statuses, h.form.Get("CallStatus"))
				if h.form.Get("ParentCallSid") != res.CallSid {
					t.Errorf("leg callback without ParentCallSid: %v", h.form)
				}
			}
			want := []string{"initiated", "ringing", tc.legFinal}
			if tc.whisper {
				want = []string{"initiated", "ringing", "in-progress", tc.legFinal}
			}
			if !slices.Equal(statuses, want) {
				t.Errorf("leg callbacks %v, want %v", statuses, want)
			}
			last := legs[len(legs)-1].form
			if last.Get("CallDuration") == "" || last.Get("SequenceNumber") != strconv.Itoa(len(want)-1) {
				t.Errorf("completed leg callback: %v", last)
			}
			if f.index("/cb/leg") > f.index("/twilio/screen") && tc.whisper {
				t.Error("leg callbacks did not start before the whisper")
			}
			if i := len(f.paths()) - 1 - slices.Index(reversed(f.paths()), "/cb/leg"); i > f.index("/twilio/dial-done") {
				t.Error("completed leg callback after the dial action")
			}

			var legHeard []string
			for _, l := range res.Heard {
				if l.Leg == alice && (l.Kind == "say" || l.Kind == "press" || l.Kind == "hangup") {
					legHeard = append(legHeard, l.Kind+": "+l.Text)
				}
			}
			repeated := slices.Contains(legHeard, "say: Press 1 to accept the call, 2 to decline.")
			if repeated != tc.repeat {
				t.Errorf("whisper repeat heard=%t, want %t: %q", repeated, tc.repeat, legHeard)
			}
			if tc.repeat {
				want := []string{"say: Support call. Press 1 to accept, 2 to decline.", "press: presses nothing",
					"say: Press 1 to accept the call, 2 to decline.", "press: presses nothing", "hangup: Hangup"}
				if !slices.Equal(legHeard, want) {
					t.Errorf("the leg heard %q, want %q", legHeard, want)
				}
			}

			prompted := slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Text == "Please leave a message." })
			if (tc.bridged == "true") == prompted {
				t.Errorf("bridged=%s but voicemail prompt heard=%t\n%s", tc.bridged, prompted, res.Transcript())
			}
			if n := len(f.find("/twilio/vm")); n != 0 {
				t.Errorf("%d voicemail actions without a message", n)
			}
			if res.Final != "completed" || f.one("/twilio/status").form.Get("CallStatus") != "completed" {
				t.Errorf("final status %q", res.Final)
			}
			if slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Text == "unreachable" }) {
				t.Error("a verb after <Dial action> ran")
			}
		})
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestVoicemailAndTranscription(t *testing.T) {
	f := newFake(t, hotlineLike())
	res := f.call(Script{From: caller, To: support, Presses: []string{"1"},
		Engineers: map[string]Behaviour{alice: Busy}, Voicemail: "The database is down again, please call back."})
	vm := f.one("/twilio/vm")
	wantParams(t, "record action", vm.form, map[string]string{"Digits": "#", "RecordingDuration": "4", "CallSid": res.CallSid})
	rurl := vm.form.Get("RecordingUrl")
	if !strings.HasPrefix(rurl, "https://api.twilio.com/2010-04-01/Accounts/"+DefaultAccountSid+"/Recordings/RE") {
		t.Errorf("RecordingUrl %q", rurl)
	}
	rec := f.one("/cb/rec")
	wantParams(t, "recording callback", rec.form, map[string]string{
		"RecordingStatus": "completed", "RecordingUrl": rurl, "RecordingSid": vm.form.Get("RecordingSid"), "CallSid": res.CallSid,
	})
	tr := f.one("/cb/transcript")
	wantParams(t, "transcription", tr.form, map[string]string{
		"TranscriptionText": "The database is down again, please call back.", "TranscriptionStatus": "completed",
		"RecordingUrl": rurl, "CallSid": res.CallSid, "From": caller,
	})
	if !strings.HasPrefix(tr.form.Get("TranscriptionSid"), "TR") {
		t.Errorf("TranscriptionSid %q", tr.form.Get("TranscriptionSid"))
	}
	order := []int{f.index("/twilio/vm"), f.index("/cb/rec"), f.index("/twilio/status"), f.index("/cb/transcript")}
	if !slices.IsSorted(order) {
		t.Errorf("order action, recording, status, transcription broken: %v", f.paths())
	}
	if slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Text == "We did not get a message." }) {
		t.Error("fell through a <Record> that got a message")
	}
}

func TestEmptyRecordingFallsThrough(t *testing.T) {
	f := newFake(t, hotlineLike())
	res := f.call(Script{From: caller, To: support, Presses: []string{"1"}, Engineers: map[string]Behaviour{alice: Decline}})
	for _, p := range []string{"/twilio/vm", "/cb/rec", "/cb/transcript"} {
		if n := len(f.find(p)); n != 0 {
			t.Errorf("%d requests to %s", n, p)
		}
	}
	if !slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Text == "We did not get a message." }) {
		t.Errorf("did not fall through:\n%s", res.Transcript())
	}
}

func TestGatherFallThroughAndActionOnEmpty(t *testing.T) {
	routes := map[string]route{
		"/twilio/voice": func(url.Values) string {
			return `<Gather action="/twilio/a" timeout="3"><Say>one</Say></Gather>` +
				`<Gather action="/twilio/b" finishOnKey="*" actionOnEmptyResult="true"><Say>two</Say></Gather>`
		},
		"/twilio/b": func(f url.Values) string {
			if f.Get("Digits") == "12" { // the default action is the document URL
				return `<Gather><Say>four</Say></Gather><Say>end</Say>`
			}
			return `<Gather numDigits="2"><Say>three</Say></Gather>`
		},
	}
	f := newFake(t, routes)
	res := f.call(Script{From: caller, To: support, Presses: []string{"", "*", "12345", "#"}})
	if n := len(f.find("/twilio/a")); n != 0 {
		t.Errorf("empty Gather requested its action %d times", n)
	}
	b := f.find("/twilio/b")
	if len(b) != 2 {
		t.Fatalf("%d requests to /twilio/b, want 2 (actionOnEmptyResult, then the default action)", len(b))
	}
	if v, ok := b[0].form["Digits"]; !ok || v[0] != "" {
		t.Errorf("actionOnEmptyResult Digits = %v", v)
	}
	if got := b[1].form.Get("Digits"); got != "12" {
		t.Errorf("numDigits=2 gave Digits %q", got)
	}
	var said []string
	for _, l := range res.Heard {
		if l.Kind == "say" {
			said = append(said, l.Text)
		}
	}
	// "#" alone is the finish key: nothing entered, fall through to "end".
	if want := []string{"one", "two", "three", "four", "end"}; !slices.Equal(said, want) {
		t.Errorf("heard %v, want %v", said, want)
	}
	// one: 1 s + 3 s timeout; two: 1 s + 1 key; three: 1 s + 5 keys;
	// four: 1 s + 1 key; end: 1 s.
	if res.Duration != 15 {
		t.Errorf("Duration %d, want 15\n%s", res.Duration, res.Transcript())
	}
}

func TestHangupDuringDial(t *testing.T) {
	f := newFake(t, hotlineLike())
	res := f.call(Script{From: caller, To: support, Presses: []string{"1"}, HangupAfter: "ring:1",
		Engineers: map[string]Behaviour{alice: Accept}})
	if n := len(f.find("/twilio/screen")); n != 0 {
		t.Errorf("whisper requested after the caller hung up")
	}
	done := f.one("/twilio/dial-done")
	wantParams(t, "dial action", done.form, map[string]string{
		"CallStatus": "completed", "DialCallStatus": "canceled", "DialBridged": "false",
	})
	legs := f.find("/cb/leg")
	if got := legs[len(legs)-1].form.Get("CallStatus"); got != "canceled" {
		t.Errorf("child leg ended %q", got)
	}
	// The action's voicemail TwiML must be ignored.
	if slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Text == "Please leave a message." }) {
		t.Error("TwiML ran on a dead call")
	}
	if res.Final != "completed" || f.paths()[len(f.paths())-1] != "/twilio/status" {
		t.Errorf("final %q, requests %v", res.Final, f.paths())
	}
}

func TestHangupDuringMenuAndRecord(t *testing.T) {
	f := newFake(t, hotlineLike())
	f.call(Script{From: caller, To: support, Presses: []string{"1"}, HangupAfter: "menu"})
	if got := f.paths(); !slices.Equal(got, []string{"/twilio/voice", "/twilio/status"}) {
		t.Errorf("requests %v", got)
	}

	f = newFake(t, hotlineLike())
	res := f.call(Script{From: caller, To: support, Presses: []string{"1"}, HangupAfter: "record",
		Engineers: map[string]Behaviour{alice: NoAnswer}})
	vm := f.one("/twilio/vm")
	wantParams(t, "record action", vm.form, map[string]string{"Digits": "hangup", "RecordingDuration": "0", "CallStatus": "completed"})
	if vm.form.Has("RecordingUrl") || len(f.find("/cb/rec")) != 0 || len(f.find("/cb/transcript")) != 0 {
		t.Errorf("a recording appeared without a message: %v", f.paths())
	}
	if slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Text == "Thanks, goodbye." }) {
		t.Error("TwiML ran on a dead call")
	}
}

func TestFinalStatusCallback(t *testing.T) {
	f := newFake(t, map[string]route{
		"/twilio/voice": func(url.Values) string {
			return `<Say language="en-GB" voice="Polly.Amy">one two three four five</Say><Pause length="3"/><Play>https://x/a.mp3</Play>`
		},
	})
	tw := f.twilio()
	tw.CallerNameLookup = true
	res, err := tw.Call(context.Background(), Script{From: caller, To: support, CallerName: "ACME CORP"})
	if err != nil {
		t.Fatal(err)
	}
	st := f.one("/twilio/status")
	wantParams(t, "status", st.form, map[string]string{
		"CallStatus": "completed", "CallDuration": "10", "Duration": "1", "CallSid": res.CallSid,
		"CallbackSource": "call-progress-events", "SequenceNumber": "0", "CallerName": "ACME CORP",
		"Direction": "inbound",
	})
	ts, err := time.Parse(time.RFC1123Z, st.form.Get("Timestamp"))
	if err != nil || !ts.Equal(time.Date(2026, 11, 29, 3, 0, 10, 0, time.UTC)) {
		t.Errorf("Timestamp %q: %v", st.form.Get("Timestamp"), err)
	}
	if res.Duration != 10 || res.Final != "completed" {
		t.Errorf("result %d %q", res.Duration, res.Final)
	}
	if l := res.Heard[0]; l.Language != "en-GB" || l.Voice != "Polly.Amy" {
		t.Errorf("Say attributes lost: %+v", l)
	}
	want := "caller   | (en-GB) one two three four five\ncaller   | [pause 3s]\ncaller   | [play https://x/a.mp3]\n"
	if got := res.Transcript(); got != want {
		t.Errorf("Transcript:\n%s\nwant:\n%s", got, want)
	}
}

func TestRelativeURLs(t *testing.T) {
	f := newFake(t, map[string]route{
		"/twilio/voice":   func(url.Values) string { return `<Redirect method="GET">ivr/a/b?x=1</Redirect>` },
		"/twilio/ivr/a/b": func(url.Values) string { return `<Redirect>../c#rc=2</Redirect>` },
		"/twilio/ivr/c":   func(url.Values) string { return `<Redirect>https://ivr.example.com/twilio/d?y=2&amp;z=3</Redirect>` },
		"/twilio/d":       func(url.Values) string { return `<Redirect>/twilio/e</Redirect>` },
		"/twilio/e":       func(url.Values) string { return `` },
	})
	f.call(Script{From: caller, To: support})
	got := f.paths()
	want := []string{"/twilio/voice", "/twilio/ivr/a/b", "/twilio/ivr/c", "/twilio/d", "/twilio/e", "/twilio/status"}
	if !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	get := f.one("/twilio/ivr/a/b")
	if get.method != http.MethodGet || get.form.Get("x") != "1" || get.form.Get("CallSid") == "" {
		t.Errorf("GET redirect: %s %s", get.method, get.uri)
	}
	if d := f.one("/twilio/d"); d.uri != "/twilio/d?y=2&z=3" {
		t.Errorf("absolute redirect URI %s", d.uri)
	}
}

func TestSimultaneousRing(t *testing.T) {
	f := newFake(t, map[string]route{
		"/twilio/voice": func(url.Values) string {
			return `<Dial><Number url="/w" statusCallback="/cb/a">` + alice + `</Number>` +
				`<Number url="/w" statusCallback="/cb/b">` + bob + `</Number></Dial><Say>after</Say>`
		},
		"/w": func(url.Values) string { return `<Say>hello</Say>` },
	})
	res := f.call(Script{From: caller, To: support, Talk: 30,
		Engineers: map[string]Behaviour{alice: NoAnswer, bob: Voicemail}})
	w := f.one("/w")
	if w.form.Get("To") != bob || w.form.Get("From") != caller {
		t.Errorf("whisper To=%s From=%s", w.form.Get("To"), w.form.Get("From"))
	}
	if got := f.one("/cb/a").form.Get("CallStatus"); got != "canceled" {
		t.Errorf("losing leg %q", got)
	}
	b := f.one("/cb/b").form
	wantParams(t, "winning leg", b, map[string]string{"CallStatus": "completed", "CallDuration": "31", "SequenceNumber": "0"})
	// The whisper ran out of verbs, so the voicemail leg was bridged; no
	// action, so the document falls through.
	if !slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Kind == "bridge" && strings.Contains(l.Text, bob) }) {
		t.Errorf("not bridged:\n%s", res.Transcript())
	}
	if res.Heard[len(res.Heard)-1].Text != "after" {
		t.Errorf("did not fall through after <Dial>:\n%s", res.Transcript())
	}
	if !strings.Contains(res.Transcript(), bob+" | hello\n") {
		t.Errorf("whisper not heard on bob's leg:\n%s", res.Transcript())
	}
}

func TestResultURLs(t *testing.T) {
	f := newFake(t, hotlineLike())
	res := f.call(Script{From: caller, To: support, Presses: []string{"1"}, Engineers: map[string]Behaviour{alice: NoAnswer}, Voicemail: "help"})
	got := res.URLs()
	// Named in the TwiML, as written, whether requested or not (alice
	// never answered, so ./screen was not).
	for _, want := range []string{"menu?try=1", "dial-done?step=1", "./screen?eng=alice", "/cb/leg", "/twilio/vm", "/cb/transcript", "/cb/rec"} {
		if !slices.Contains(got, want) {
			t.Errorf("URLs %q lack %q", got, want)
		}
	}
	// Requested, in full.
	for _, r := range res.Requests {
		if !slices.Contains(got, r.URL) || !strings.HasPrefix(r.URL, "http") {
			t.Errorf("URLs lack the requested %q", r.URL)
		}
	}
	if slices.Contains(got, "./screen-answer") || slices.Contains(got, alice) {
		t.Errorf("URLs %q hold what no TwiML of this call named as a URL", got)
	}

	f = newFake(t, map[string]route{
		"/twilio/voice": func(url.Values) string { return `<Redirect method="POST"> next?n=1 </Redirect>` },
		"/twilio/next":  func(url.Values) string { return `<Hangup/>` },
	})
	if got := f.call(Script{From: caller, To: support}).URLs(); !slices.Contains(got, "next?n=1") {
		t.Errorf("URLs %q lack the <Redirect>", got)
	}
}

// TestStatusOrder: the action Twilio requests after the caller hung up
// (on a bridged engineer, during a recording, while it rings) arrives
// after the final status callback with StatusFirst, before it with
// StatusLast, and at once with StatusConcurrent; either way both arrive
// once, and the recording's callback follows its action.
func TestStatusOrder(t *testing.T) {
	for _, tc := range []struct {
		name, hangup, action string
		engineer             Behaviour
		voicemail            string
	}{
		{"talk", "talk", "/twilio/dial-done", Accept, ""},
		{"record", "record", "/twilio/vm", NoAnswer, "The VPN is down."},
		{"ring", "ring:1", "/twilio/dial-done", Accept, ""},
	} {
		for _, order := range []StatusOrder{StatusLast, StatusFirst, StatusConcurrent} {
			t.Run(tc.name+"/"+strconv.Itoa(int(order)), func(t *testing.T) {
				f := newFake(t, hotlineLike())
				res := f.call(Script{From: caller, To: support, Presses: []string{"1"}, HangupAfter: tc.hangup,
					Voicemail: tc.voicemail, StatusOrder: order, Engineers: map[string]Behaviour{alice: tc.engineer}})
				action, status := f.index(tc.action), f.index("/twilio/status")
				if len(f.find(tc.action)) != 1 || len(f.find("/twilio/status")) != 1 {
					t.Fatalf("requests %v", f.paths())
				}
				switch order {
				case StatusLast:
					if action > status {
						t.Errorf("the action came after the status callback: %v", f.paths())
					}
				case StatusFirst:
					if status > action {
						t.Errorf("the status callback came after the action: %v", f.paths())
					}
				}
				if tc.voicemail != "" && f.index("/cb/rec") < action {
					t.Errorf("the recording's callback came before its action: %v", f.paths())
				}
				if got := f.one(tc.action).form.Get("CallStatus"); got != "completed" {
					t.Errorf("action CallStatus %q", got)
				}
				if tc.name == "talk" && !slices.ContainsFunc(res.Heard, func(l Line) bool { return l.Kind == "bridge" }) {
					t.Errorf("no bridge:\n%s", res.Transcript())
				}
			})
		}
	}
}

// TestOmittedOptionalParameters: OmitDialBridged leaves DialBridged out of
// the Dial action, OmitParentCallSid leaves ParentCallSid out of the
// whisper's requests but not the child leg's status callbacks.
func TestOmittedOptionalParameters(t *testing.T) {
	f := newFake(t, hotlineLike())
	f.call(Script{From: caller, To: support, Presses: []string{"1"}, OmitDialBridged: true, OmitParentCallSid: true,
		Engineers: map[string]Behaviour{alice: Accept}})
	if done := f.one("/twilio/dial-done"); done.form.Has("DialBridged") || done.form.Get("DialCallStatus") != "completed" {
		t.Errorf("dial action %v", done.form)
	}
	for _, path := range []string{"/twilio/screen", "/twilio/screen-answer"} {
		if h := f.find(path); len(h) == 0 || h[0].form.Has("ParentCallSid") {
			t.Errorf("%s: %v", path, h)
		}
	}
	if legs := f.find("/cb/leg"); len(legs) == 0 || !legs[0].form.Has("ParentCallSid") {
		t.Errorf("leg status callbacks lost ParentCallSid: %v", legs)
	}
}
