package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
)

// TestVoicemailTextWaitsOnlyForATranscriptThatCanCome: the voicemail text
// waits voicemailWait for its transcript when one was asked for, and goes at
// once when none can come (incident.Update.NoTranscript: a caller in a
// language Twilio does not transcribe, or a recording too short for it).
func TestVoicemailTextWaitsOnlyForATranscriptThatCanCome(t *testing.T) {
	cfg := callTextsConfig(t)
	now := time.Now()
	c := &CallTexts{router: routing.NewRouter(cfg, nil), publicURL: "https://hotline.example.com", now: func() time.Time { return now }}
	in := incident.Incident{ID: 7, CallSid: "CA1", From: "+15555550124", Team: "ops", Status: incident.StatusVoicemail}
	for _, none := range []bool{false, true} {
		w := incident.Committed{CallSid: "CA1", Closed: incident.StatusVoicemail,
			Update: incident.Update{Status: incident.StatusVoicemail, RecordingURL: "https://api.twilio.com/r", NoTranscript: none}}
		msgs := c.messages(context.Background(), w, in)
		if len(msgs) != 1 {
			t.Fatalf("NoTranscript %v: %d texts, want 1", none, len(msgs))
		}
		want := now.Add(voicemailWait)
		if none {
			want = time.Time{}
		}
		if !msgs[0].NotBefore.Equal(want) {
			t.Errorf("NoTranscript %v: the text is due at %v, want %v", none, msgs[0].NotBefore, want)
		}
	}
}

// TestTextsNeverGiveAWithheldNumber: a voicemail text names a withheld
// caller ID (a word, or a keypad spelling that looks like a number) as "a
// withheld number", and SIP and app callers as such, never as a number to
// call back.
func TestTextsNeverGiveAWithheldNumber(t *testing.T) {
	cfg := callTextsConfig(t)
	c := &CallTexts{router: routing.NewRouter(cfg, nil), publicURL: "https://hotline.example.com", now: time.Now}
	for from, want := range map[string]string{"anonymous": "from a withheld number", "+266696687": "from a withheld number",
		"": "from a withheld number", "sip:bob@pbx.example.com": "from a SIP caller", "+15555550124": "from +15555550124"} {
		in := incident.Incident{ID: 7, CallSid: "CA1", From: from, Team: "ops", Status: incident.StatusVoicemail}
		w := incident.Committed{CallSid: "CA1", Closed: incident.StatusVoicemail, Update: incident.Update{Status: incident.StatusVoicemail, RecordingURL: "https://api.twilio.com/r"}}
		msgs := c.messages(context.Background(), w, in)
		if len(msgs) != 1 || !strings.Contains(msgs[0].Body, want) || (from == "+266696687" && strings.Contains(msgs[0].Body, "266696687")) {
			t.Errorf("From %q: texts %+v, want one saying %q", from, msgs, want)
		}
	}
}

// TestAnsweredTextWhicheverWriteEndsIt: the engineer's text follows the
// write that completes "answered and ended", whichever it is: the status
// callback's end after the Dial action's bridge, or the bridge after an end
// that arrived first (the text's key keeps the two to one text). Before
// both, nothing.
func TestAnsweredTextWhicheverWriteEndsIt(t *testing.T) {
	cfg := callTextsConfig(t)
	c := &CallTexts{router: routing.NewRouter(cfg, nil), publicURL: "https://hotline.example.com", now: time.Now}
	who, ended := "alice", time.Now()
	in := incident.Incident{ID: 7, Team: "ops", From: "+15555550123", Status: incident.StatusAnswered, AnsweredBy: &who, EndedAt: &ended}
	bridge := incident.Committed{CallSid: "CA1", Update: incident.Update{Status: incident.StatusAnswered}, Closed: incident.StatusAnswered}
	end := incident.Committed{CallSid: "CA1", Update: incident.Update{Status: incident.StatusAbandoned, EndedAt: ended}}
	for name, w := range map[string]incident.Committed{"bridge after the end": bridge, "end after the bridge": end} {
		if msgs := c.messages(context.Background(), w, in); len(msgs) != 1 || msgs[0].To != alice || msgs[0].Key != "answered:7" {
			t.Errorf("%s: texts %+v", name, msgs)
		}
	}
	in.EndedAt = nil
	if msgs := c.messages(context.Background(), bridge, in); len(msgs) != 0 {
		t.Errorf("a bridge before the end texted %+v", msgs)
	}
}

// callTextsConfig has one team, ops, whose first step is alice at any
// time (the engineer step, not a rotation), so the texts' recipients do
// not depend on the day the tests run.
func callTextsConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.ParseConfig("calltexts.yaml", []byte(`
hotline:
  number: "+18005550100"
  timezone: "America/New_York"
  greeting: "Hello."
menu:
  options:
    - digit: "1"
      label: "an outage"
      team: ops
teams:
  - id: ops
    name: "Operations"
    escalation:
      - engineer: alice
      - engineer: bob
engineers:
  - {id: alice, name: "Alice Adams", phone: "+15555550101"}
  - {id: bob, name: "Bob Brown", phone: "+15555550102"}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
