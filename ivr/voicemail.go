package ivr

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-dev/hotline/incident"
)

// Twilio's limits on recordings and transcription (README "The call"):
// silent recordings reach the Record action too, so one shorter than
// minMessage is no message; transcription is done only for American
// English recordings longer than 2 s and shorter than 120 s, so a
// transcribed Record lasts at most maxTranscribed seconds.
const (
	minMessage        = 2
	maxRecord         = 120
	maxTranscribed    = 119
	transcribeLang    = "en-US"
	minTranscribedSec = 3
)

// recordVerb is the voicemail's <Record>, its action carrying the sealed
// state q: transcribed only when Twilio can transcribe the caller's
// language, and then at most maxTranscribed s long.
func (f *Flow) recordVerb(st callState, q string) twiml.VoiceRecord {
	rec := twiml.VoiceRecord{
		Action:      f.stateURL("/twilio/recorded", q),
		MaxLength:   strconv.Itoa(maxRecord),
		Timeout:     "5",
		FinishOnKey: "#",
		PlayBeep:    "true",
	}
	if f.transcribes(st.Lang) {
		rec.MaxLength = strconv.Itoa(maxTranscribed)
		rec.Transcribe = "true"
		rec.TranscribeCallback = f.url("/twilio/transcript", nil)
	}
	return rec
}

// transcribes reports whether a voicemail in lang is sent for transcription:
// only when it is spoken in American English (the line's language unset is
// Twilio's default, en-US).
func (f *Flow) transcribes(lang string) bool {
	code := f.sayLanguage(lang)
	return code == "" || strings.EqualFold(code, transcribeLang)
}

// HandleRecorded is the Record action: a message was left (or the caller
// hung up during the prompt, Digits=hangup, with nothing recorded). A
// message replaces the abandoned of a final status callback that arrived
// first (Update.Supersedes). A recording shorter than minMessage is silence
// Twilio saved, no message: the call ends as an empty voicemail does.
// NoTranscript tells the texts that follow whether a transcript can still
// come.
func (f *Flow) HandleRecorded() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form := r.PostForm
		callSid := form.Get("CallSid")
		recording := form.Get("RecordingUrl")
		seconds, _ := strconv.Atoi(form.Get("RecordingDuration"))
		if recording == "" || (form.Get("Digits") == "hangup" && seconds == 0) {
			f.record(r.Context(), callSid, incident.Update{Status: incident.StatusAbandoned},
				incident.Event{At: f.now(), Type: incident.EventHangup, Detail: "caller hung up at the voicemail prompt", Key: "voicemail"})
			f.hangUp(w)
			return
		}
		st, _ := f.state(r)
		if seconds < minMessage {
			f.noMessage(w, r, st, "recording of "+strconv.Itoa(seconds)+" s: no message")
			return
		}
		upd := incident.Update{Status: incident.StatusVoicemail, RecordingURL: recording, Supersedes: hangupKey,
			NoTranscript: !f.transcribes(st.Lang) || seconds < minTranscribedSec || seconds > maxTranscribed}
		f.record(r.Context(), callSid, upd,
			incident.Event{At: f.now(), Type: incident.EventVoicemail, Detail: "message of " + strconv.Itoa(seconds) + " s", Key: "voicemail"})
		f.writeTwiML(w, f.prompt(st.Lang, "voicemail_done"), twiml.VoiceHangup{})
	})
}

// HandleNoMessage is reached when the recording came back empty: Twilio
// skips the Record action and falls through to the Redirect after it.
func (f *Flow) HandleNoMessage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, _ := f.state(r)
		f.noMessage(w, r, st, "empty voicemail")
	})
}

// noMessage ends a call whose voicemail holds no message: missed, and "We
// did not receive a message".
func (f *Flow) noMessage(w http.ResponseWriter, r *http.Request, st callState, detail string) {
	f.record(r.Context(), r.PostForm.Get("CallSid"), incident.Update{Status: incident.StatusMissed},
		incident.Event{At: f.now(), Type: incident.EventMissed, Detail: detail, Key: "voicemail"})
	f.writeTwiML(w, f.prompt(st.Lang, "no_message"), twiml.VoiceHangup{})
}

// HandleTranscript stores the voicemail's transcription when Twilio sends it.
func (f *Flow) HandleTranscript() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form := r.PostForm
		text := form.Get("TranscriptionText")
		detail := "transcription " + form.Get("TranscriptionStatus")
		f.record(r.Context(), form.Get("CallSid"), incident.Update{Transcript: text},
			incident.Event{At: f.now(), Type: incident.EventTranscript, Detail: detail, Key: "transcript"})
		f.writeEmpty(w)
	})
}

// hangupKey is the key of the hang-up HandleStatus writes when the call
// ends in progress; a later action's stronger evidence supersedes it.
const hangupKey = "hangup"

// HandleStatus is the call's status callback: it closes the incident with
// its duration. A call still in progress when it ends was abandoned: the
// caller hung up before anyone accepted.
func (f *Flow) HandleStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form := r.PostForm
		status := form.Get("CallStatus")
		if !finalStatus(status) || form.Get("ParentCallSid") != "" {
			f.writeEmpty(w)
			return
		}
		upd := incident.Update{Status: incident.StatusAbandoned, EndedAt: f.now()}
		if d, err := strconv.Atoi(form.Get("CallDuration")); err == nil && d >= 0 {
			upd.DurationS = &d
		}
		f.record(r.Context(), form.Get("CallSid"), upd,
			incident.Event{At: f.now(), Type: incident.EventHangup, Detail: "caller hung up before anyone accepted", Key: hangupKey, IfInProgress: true},
			incident.Event{At: f.now(), Type: incident.EventCompleted, Detail: "call ended: " + status, Key: "status"})
		f.writeEmpty(w)
	})
}

func finalStatus(s string) bool {
	switch s {
	case "completed", "busy", "no-answer", "failed", "canceled":
		return true
	}
	return false
}
