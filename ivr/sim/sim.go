// Package sim is a small emulator of Twilio's voice engine. It places a
// simulated inbound call against a webhook server over real HTTP, exactly as
// Twilio would: signed form POSTs, TwiML interpretation, <Dial> child legs
// running a <Number url> whisper, DialBridged, <Record> callbacks and the
// final status callback, all on a manual clock (nothing sleeps).
//
// It speaks only HTTP and TwiML, so it can drive any server, not just
// hotline. The facts it reproduces are those of docs/twilio.md.
package sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultAccountSid is the account SID used when Twilio.AccountSid is empty.
const DefaultAccountSid = "AC00000000000000000000000000000000"

// Twilio is the simulated Twilio account and its connection to the server
// under test. The zero value of each optional field picks a default; a
// Twilio may place several calls at once.
type Twilio struct {
	// BaseURL is where requests are sent, e.g. http://127.0.0.1:8080.
	BaseURL string
	// PublicURL is the URL Twilio was configured with; signatures are
	// computed over it. Empty means BaseURL.
	PublicURL string
	// AuthToken keys X-Twilio-Signature.
	AuthToken string
	// AccountSid is sent as AccountSid; empty means DefaultAccountSid.
	AccountSid string
	// Client sends the requests; nil means a client with a 15 s timeout.
	Client *http.Client
	// VoicePath and StatusPath are the number's Voice URL and Status
	// Callback URL, relative to PublicURL; empty means /twilio/voice and
	// /twilio/status.
	VoicePath, StatusPath string
	// Now gives the wall-clock start of a call (the simulated clock runs
	// from it); nil means time.Now.
	Now func() time.Time
	// CallerNameLookup is the number's caller-name (CNAM) lookup: only
	// with it on does Twilio send CallerName (docs/twilio.md §8.6).
	CallerNameLookup bool
	// CallTokenUnsigned signs the incoming call's requests without
	// CallToken and StirVerstat, as one report says Twilio does
	// (docs/twilio.md §8.7).
	CallTokenUnsigned bool
	// Tidy turns off the ways Twilio differs from a tidy script: <Dial>
	// timeouts get no 5 s buffer, a personal voicemail picks up as fast
	// as a person, no CallToken is sent, and CallerName is sent whenever
	// the script has one. The zero value behaves like Twilio
	// (docs/twilio.md §8).
	Tidy bool
}

// Behaviour is how a dialled engineer's phone reacts to a <Dial>.
type Behaviour string

// Engineer behaviours. The answering ones (Accept, Decline, Voicemail,
// Hangup) get the whisper document; the others never answer.
const (
	Accept    Behaviour = "accept"    // answers, presses 1 at every whisper <Gather>
	Decline   Behaviour = "decline"   // answers, presses 2 at every whisper <Gather>
	Voicemail Behaviour = "voicemail" // a personal voicemail: answers after Script.VoicemailPickup of ringing, presses nothing, hangs up after 120 s
	Hangup    Behaviour = "hangup"    // answers, hangs up at the first whisper <Gather>
	NoAnswer  Behaviour = "no-answer" // rings until the <Dial> timeout
	Busy      Behaviour = "busy"      // busy signal
	Failed    Behaviour = "failed"    // cannot be routed
)

func (b Behaviour) answers() bool {
	return b == Accept || b == Decline || b == Voicemail || b == Hangup
}

// Script is what happens on one simulated call.
type Script struct {
	// From is the caller's number and To the dialled support number (E.164).
	From, To string
	// CallerName is the caller's CNAM name, sent as CallerName when set
	// and Twilio.CallerNameLookup (or Tidy) is on.
	CallerName string
	// StirVerstat is sent as StirVerstat, the carrier's STIR/SHAKEN
	// verification of From (e.g. TN-Validation-Passed-A), when set.
	StirVerstat string
	// Presses are the caller's input for successive caller-leg <Gather>s, in
	// order; "" presses nothing (timeout). Once exhausted the caller presses
	// nothing.
	Presses []string
	// Engineers maps a dialled number (E.164) to its behaviour; numbers not
	// listed do not answer.
	Engineers map[string]Behaviour
	// Voicemail is what the caller says at <Record>; "" records nothing, so
	// Twilio skips the action and falls through to the next verb.
	Voicemail string
	// HangupAfter makes the caller hang up: "menu" during the first caller
	// <Gather>, "ring:N" while the N-th <Dial> (1-based) rings, "record"
	// during <Record> (after saying Voicemail, if any), "talk" at the end of
	// a bridged conversation. After each but "menu", Twilio requests the
	// <Dial> or <Record> action and ignores its TwiML: that action races
	// the final status callback (StatusOrder).
	HangupAfter string
	// StatusOrder is when the final status callback arrives against the
	// action requested after the caller hung up (HangupAfter): Twilio sends
	// them as separate requests, in no guaranteed order.
	StatusOrder StatusOrder
	// OmitDialBridged leaves DialBridged, an optional parameter, out of
	// every <Dial> action.
	OmitDialBridged bool
	// OmitParentCallSid leaves ParentCallSid out of the whisper's requests
	// (its <Number url> and the actions of its <Gather>s); the child leg's
	// status callbacks keep it.
	OmitParentCallSid bool
	// VoicemailPickup is how many seconds an engineer's phone rings before
	// their personal voicemail (the Voicemail behaviour) answers: mobile
	// carriers take 20 to 30. 0 means 22; with Twilio.Tidy, 5.
	VoicemailPickup int
	// Talk is how many seconds a bridged conversation lasts; 0 means 60.
	Talk int
	// MaxSteps bounds the TwiML documents fetched; 0 means 200.
	MaxSteps int
	// BeforeRequest, when set, is called before each webhook is sent, with
	// the leg ("caller" or the engineer's number), the kind of request
	// (voice, action, redirect, whisper, status, recording, transcription)
	// and its path without the query. The call waits until it returns, so
	// a test can hold a call at a stage (ringing, talking) while it looks
	// at the server. Callbacks sent at once (StatusConcurrent) call it
	// from several goroutines.
	BeforeRequest func(leg, kind, path string)
}

// StatusOrder orders the final status callback and the action Twilio
// requests after the caller hung up.
type StatusOrder int

// Orders of the last webhooks of a call.
const (
	StatusLast       StatusOrder = iota // the action, then the status callback
	StatusFirst                         // the status callback, then the action
	StatusConcurrent                    // both at once
)

// Line is one thing a leg heard or did, in call order.
type Line struct {
	At       int    // simulated seconds since the call came in
	Leg      string // "caller" or the engineer's dialled number
	Kind     string // say, play, pause, press, dial, answer, bridge, record, hangup, reject, error
	Text     string // the words spoken, or a description of the event
	Language string // <Say language>, when set
	Voice    string // <Say voice>, when set
}

// Request is one webhook the simulator sent, with the server's answer.
type Request struct {
	At     int    // simulated seconds since the call came in
	Leg    string // "caller" or the engineer's number
	Kind   string // voice, action, redirect, whisper, status, recording, transcription
	Method string // POST or GET
	URL    string // the full signed URL (under PublicURL)
	Path   string // path and query of URL
	Params map[string][]string
	Token  string // I-Twilio-Idempotency-Token
	Status int    // HTTP status; 0 when no response arrived
	Body   string
	Err    string // what went wrong with this request, if anything
}

// Result is the record of one simulated call.
type Result struct {
	CallSid  string
	Heard    []Line
	Requests []Request
	Final    string // CallStatus of the final status callback
	Duration int    // simulated seconds
	Errors   []error
}

// Call places one simulated inbound call and plays it to the end. The
// Result is returned even on error; the error joins every protocol error
// met (bad status, content type or TwiML, unsupported verbs), each of which
// also ended the leg it happened on, as Twilio's "application error" would.
func (t *Twilio) Call(ctx context.Context, s Script) (*Result, error) {
	c, err := newCall(ctx, t, s)
	if err != nil {
		return nil, err
	}
	c.play()
	if c.abort != nil {
		return c.res, c.abort
	}
	return c.res, errors.Join(c.res.Errors...)
}

// hangupPoint is the parsed Script.HangupAfter.
type hangupPoint struct {
	menu, record, talk bool
	ring               int
}

func parseHangup(s string) (hangupPoint, error) {
	switch {
	case s == "":
		return hangupPoint{}, nil
	case s == "menu":
		return hangupPoint{menu: true}, nil
	case s == "record":
		return hangupPoint{record: true}, nil
	case s == "talk":
		return hangupPoint{talk: true}, nil
	case strings.HasPrefix(s, "ring:"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "ring:"))
		if err == nil && n >= 1 {
			return hangupPoint{ring: n}, nil
		}
	}
	return hangupPoint{}, fmt.Errorf("sim: HangupAfter %q: want menu, record, talk or ring:N", s)
}

// Transcript renders Heard as text, one line per Line, e.g.
// "caller   | Thank you for calling". Events other than speech are shown in
// brackets.
func (r *Result) Transcript() string {
	width := len("caller") + 2
	for _, l := range r.Heard {
		width = max(width, len(l.Leg))
	}
	var b strings.Builder
	for _, l := range r.Heard {
		text := l.Text
		if l.Kind != "say" {
			text = "[" + text + "]"
		} else if l.Language != "" {
			text = "(" + l.Language + ") " + text
		}
		fmt.Fprintf(&b, "%-*s | %s\n", width, l.Leg, text)
	}
	return b.String()
}
