package ivr

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
)

// flowFrom is a flow over the config src.
func flowFrom(t *testing.T, src string) (*Flow, *fakeRecorder) {
	t.Helper()
	cfg, err := config.ParseConfig("flow.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rec := &fakeRecorder{}
	now := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	return NewFlow(FlowDeps{Router: routing.NewRouter(cfg, nil), Incidents: rec, PublicURL: "https://hotline.example.com", AuthToken: testToken, Now: now, Log: zerolog.Nop()}), rec
}

// voicemailRecord is the <Record> a caller in lang reaches once the ops
// chain is exhausted.
func voicemailRecord(t *testing.T, f *Flow, lang string) node {
	t.Helper()
	st := callState{Team: "ops", Chain: []routing.Step{{Engineer: "alice", Phone: "+15555550101", Timeout: 15 * time.Second}}, Pass: 9}
	st.Lang = lang
	doc := post(t, f.HandleDialDone(), "/twilio/dial?"+stateQuery(f, st), url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "DialCallStatus": {"no-answer"}})
	rec, ok := doc.find("Record")
	if !ok {
		t.Fatalf("no Record: %v", doc.verbs())
	}
	return rec
}

// TestTranscriptionWithinTwilioLimits: Twilio transcribes only American
// English recordings shorter than 120 s, so the voicemail asks for a
// transcript only from an en-US (or unset, Twilio's default) line or caller
// language, and then records at most 119 s; otherwise it records 120 s
// without transcription.
func TestTranscriptionWithinTwilioLimits(t *testing.T) {
	withLanguage := func(lang string) string {
		return strings.Replace(oneOptionConfig, `  timezone: "UTC"`, `  timezone: "UTC"
  language: "`+lang+`"`, 1)
	}
	cases := []struct {
		name, config, callerLang string
		transcribe               bool
	}{
		{"line language unset", oneOptionConfig, "", true},
		{"line in en-US", withLanguage("en-US"), "", true},
		{"line in en-GB", withLanguage("en-GB"), "", false},
		{"line in de-DE", withLanguage("de-DE"), "", false},
		{"caller chose Spanish", oneOptionConfig + spanishBlock, "es-MX", false},
		{"caller kept the line's English", oneOptionConfig + spanishBlock, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _ := flowFrom(t, c.config)
			rec := voicemailRecord(t, f, c.callerLang)
			maxLen := atoi(t, rec.attr("maxLength"))
			if c.transcribe {
				if rec.attr("transcribe") != "true" || rec.attr("transcribeCallback") == "" || maxLen > 119 || maxLen < 60 {
					t.Errorf("record %v: want transcription with maxLength <= 119", rec.Attrs)
				}
				return
			}
			if rec.attr("transcribe") == "true" || rec.attr("transcribeCallback") != "" || maxLen != 120 {
				t.Errorf("record %v: want 120 s with no transcription Twilio cannot do", rec.Attrs)
			}
		})
	}
}

// TestShortRecordingIsNoMessage: Twilio saves silent recordings and posts
// them to the Record action; one under 2 s is no message — the call is
// missed and the caller hears "We did not receive a message", as for an
// empty recording — while 2 s and more is a voicemail.
func TestShortRecordingIsNoMessage(t *testing.T) {
	for _, secs := range []int{0, 1, 2, 30} {
		t.Run(strconv.Itoa(secs)+"s", func(t *testing.T) {
			f, rec := newTestFlow(t)
			st := callState{Team: "ops"}
			doc := post(t, f.HandleRecorded(), "/twilio/recorded?"+stateQuery(f, st), url.Values{
				"CallSid": {"CA1"}, "RecordingUrl": {"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"},
				"RecordingDuration": {strconv.Itoa(secs)}, "Digits": {"#"},
			})
			said := strings.Join(texts(doc), " ")
			if len(rec.updates) != 1 || len(rec.events) != 1 {
				t.Fatalf("updates %+v events %+v", rec.updates, rec.events)
			}
			upd, ev := rec.updates[0], rec.events[0]
			if secs < 2 {
				if upd.Status != incident.StatusMissed || upd.RecordingURL != "" || ev.Type != incident.EventMissed || !strings.Contains(said, "We did not receive a message") {
					t.Errorf("a %d s recording: update %+v, event %+v, said %q; want missed, no recording, no message", secs, upd, ev, said)
				}
				return
			}
			if upd.Status != incident.StatusVoicemail || upd.RecordingURL == "" || ev.Type != incident.EventVoicemail || !strings.Contains(said, "Your message has been recorded") {
				t.Errorf("a %d s recording: update %+v, event %+v, said %q; want a voicemail", secs, upd, ev, said)
			}
		})
	}
}

// TestNoTranscriptToWaitFor: the voicemail's update says whether a
// transcript can still come, so its text waits for one only then: not for
// a caller in Spanish (none was asked for), nor a recording of 2 s (Twilio
// transcribes only longer ones); yes for 30 s in English.
func TestNoTranscriptToWaitFor(t *testing.T) {
	cases := []struct {
		lang string
		secs int
		none bool
	}{
		{"", 30, false},
		{"", 2, true},
		{"es-MX", 30, true},
	}
	for _, c := range cases {
		f, rec := flowFrom(t, oneOptionConfig+spanishBlock)
		st := callState{Team: "ops"}
		st.Lang = c.lang
		post(t, f.HandleRecorded(), "/twilio/recorded?"+stateQuery(f, st), url.Values{
			"CallSid": {"CA1"}, "RecordingUrl": {"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"},
			"RecordingDuration": {strconv.Itoa(c.secs)}, "Digits": {"#"},
		})
		if len(rec.updates) != 1 || rec.updates[0].Status != incident.StatusVoicemail || rec.updates[0].NoTranscript != c.none {
			t.Errorf("lang %q, %d s: updates %+v, want a voicemail with NoTranscript %v", c.lang, c.secs, rec.updates, c.none)
		}
	}
}
