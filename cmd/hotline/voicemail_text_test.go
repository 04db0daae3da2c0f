package main

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
	cfg, err := config.ParseConfig("e2e.yaml", []byte(mustRead(t, "testdata/e2e.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := &callTexts{router: routing.NewRouter(cfg, nil), publicURL: "https://hotline.example.com", now: func() time.Time { return now }}
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
	cfg, err := config.ParseConfig("e2e.yaml", []byte(mustRead(t, "testdata/e2e.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	c := &callTexts{router: routing.NewRouter(cfg, nil), publicURL: "https://hotline.example.com", now: time.Now}
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
