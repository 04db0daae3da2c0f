package ivr

import (
	"net/http"
	"strconv"

	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-dev/hotline/routing"
)

// HandleRecorded is the Record action: a message was left (or the caller
// hung up during the prompt, Digits=hangup, with nothing recorded). A
// message replaces the abandoned of a final status callback that arrived
// first (Update.Supersedes).
func (f *Flow) HandleRecorded() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form := r.PostForm
		callSid := form.Get("CallSid")
		recording := form.Get("RecordingUrl")
		seconds, _ := strconv.Atoi(form.Get("RecordingDuration"))
		if recording == "" || (form.Get("Digits") == "hangup" && seconds == 0) {
			f.record(r.Context(), callSid, routing.Update{Status: routing.StatusAbandoned},
				routing.Event{At: f.now(), Type: routing.EventHangup, Detail: "caller hung up at the voicemail prompt", Key: "voicemail"})
			f.hangUp(w)
			return
		}
		f.record(r.Context(), callSid, routing.Update{Status: routing.StatusVoicemail, RecordingURL: recording, Supersedes: hangupKey},
			routing.Event{At: f.now(), Type: routing.EventVoicemail, Detail: "message of " + strconv.Itoa(seconds) + " s", Key: "voicemail"})
		st, _ := f.state(r)
		f.writeTwiML(w, f.prompt(st.Lang, "voicemail_done"), twiml.VoiceHangup{})
	})
}

// HandleNoMessage is reached when the recording came back empty: Twilio
// skips the Record action and falls through to the Redirect after it.
func (f *Flow) HandleNoMessage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.record(r.Context(), r.PostForm.Get("CallSid"), routing.Update{Status: routing.StatusMissed},
			routing.Event{At: f.now(), Type: routing.EventMissed, Detail: "empty voicemail", Key: "voicemail"})
		st, _ := f.state(r)
		f.writeTwiML(w, f.prompt(st.Lang, "no_message"), twiml.VoiceHangup{})
	})
}

// HandleTranscript stores the voicemail's transcription when Twilio sends it.
func (f *Flow) HandleTranscript() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form := r.PostForm
		text := form.Get("TranscriptionText")
		detail := "transcription " + form.Get("TranscriptionStatus")
		f.record(r.Context(), form.Get("CallSid"), routing.Update{Transcript: text},
			routing.Event{At: f.now(), Type: routing.EventTranscript, Detail: detail, Key: "transcript"})
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
		upd := routing.Update{Status: routing.StatusAbandoned, EndedAt: f.now()}
		if d, err := strconv.Atoi(form.Get("CallDuration")); err == nil && d >= 0 {
			upd.DurationS = &d
		}
		f.record(r.Context(), form.Get("CallSid"), upd,
			routing.Event{At: f.now(), Type: routing.EventHangup, Detail: "caller hung up before anyone accepted", Key: hangupKey, IfInProgress: true},
			routing.Event{At: f.now(), Type: routing.EventCompleted, Detail: "call ended: " + status, Key: "status"})
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
