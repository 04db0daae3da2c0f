package ivr

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
)

// The engineer has 8 s of silence in all to press a key: whisperPause after
// the whisper, then its instruction is repeated, then whisperTimeout more;
// then the leg hangs up, so a personal voicemail never bridges.
const (
	whisperPause   = 4
	whisperTimeout = 4
)

// route resolves the option's team chain at this moment, records the
// choice and starts ringing. prefix verbs are spoken first.
func (f *Flow) route(w http.ResponseWriter, r *http.Request, c caller, o config.Option, detail string, prefix ...twiml.Element) {
	chain := f.chain(r.Context(), o.Team)
	st := callState{Team: o.Team, Chain: chain, From: r.PostForm.Get("From"), Call: r.PostForm.Get("CallSid"), caller: c}
	f.next(w, r, st, incident.Update{Team: o.Team, MenuDigit: o.Digit}, []incident.Event{
		{At: f.now(), Type: incident.EventMenu, Detail: detail, Key: "menu:choice"},
		{At: f.now(), Type: incident.EventRoute, Detail: routeDetail(o.Team, chain), Key: "route"},
	}, prefix...)
}

// chain resolves a team's chain now, falling back to the last good
// resolution when the schedule cannot be read, then to the emergency number.
func (f *Flow) chain(ctx context.Context, team string) []routing.Step {
	chain, err := f.router.Chain(ctx, team, f.now())
	if err == nil {
		f.mu.Lock()
		f.lastChain[team] = chain
		f.mu.Unlock()
	} else {
		f.log.Error().Err(err).Str("team", team).Msg("resolve chain; using the last known chain")
		f.mu.Lock()
		chain = f.lastChain[team]
		f.mu.Unlock()
		if len(chain) > 0 {
			f.metrics.failedOpen("last_known_chain")
		}
	}
	if len(chain) == 0 {
		if n := f.router.Config().Hotline.EmergencyNumber; n != "" {
			f.metrics.failedOpen("emergency_number")
			chain = []routing.Step{{Name: "emergency line", Phone: n, Timeout: 30 * time.Second, Source: "emergency"}}
		}
	}
	return chain
}

func routeDetail(team string, chain []routing.Step) string {
	if len(chain) == 0 {
		return "team " + team + ": nobody on call"
	}
	names := make([]string, len(chain))
	for i, s := range chain {
		names[i] = s.Engineer
		if names[i] == "" {
			names[i] = s.Name
		}
	}
	return "team " + team + ": " + strings.Join(names, ", ")
}

// next rings the step st points at, moving to the next pass when the chain
// is exhausted, and to voicemail or an apology when the passes are too. The
// caller's update and events are written together with next's own, so a
// webhook costs one commit.
func (f *Flow) next(w http.ResponseWriter, r *http.Request, st callState, upd incident.Update, events []incident.Event, prefix ...twiml.Element) {
	cfg := f.router.Config()
	team, _ := cfg.Team(st.Team)
	repeat := 0
	if team != nil {
		repeat = team.Repeat
	}
	if st.Step >= len(st.Chain) {
		st.Step, st.Pass = 0, st.Pass+1
	}
	if len(st.Chain) == 0 || st.Pass > repeat {
		f.endOfChain(w, r, st, team, upd, events, prefix...)
		return
	}
	step := st.Chain[st.Step]
	f.record(r.Context(), parentSid(r), upd, append(events,
		withKey(f.engineerEvent(incident.EventRing, step, fmt.Sprintf("step %d, pass %d, %ds", st.Step+1, st.Pass+1, int(step.Timeout/time.Second))), st.key("ring")))...)
	verbs := prefix
	if st.Step > 0 || st.Pass > 0 {
		verbs = append(verbs, f.prompt(st.Lang, "still_trying"))
	}
	// answerOnBridge keeps the caller hearing ringing, not silence, while
	// the engineer's leg is screened (README "The call").
	q := f.sealState(st)
	verbs = append(verbs, twiml.VoiceDial{
		Action:         f.stateURL("/twilio/dial", q),
		Timeout:        strconv.Itoa(int(step.Timeout / time.Second)),
		CallerId:       cfg.Hotline.Number,
		AnswerOnBridge: "true",
		InnerElements: []twiml.Element{twiml.VoiceNumber{
			PhoneNumber: step.Phone,
			Url:         f.stateURL("/twilio/whisper", q),
		}},
	})
	f.writeTwiML(w, verbs...)
}

// endOfChain takes a voicemail when the team allows it, else apologises.
func (f *Flow) endOfChain(w http.ResponseWriter, r *http.Request, st callState, team *config.Team, upd incident.Update, events []incident.Event, prefix ...twiml.Element) {
	if team == nil || team.Voicemail {
		if len(events) > 0 {
			f.record(r.Context(), parentSid(r), upd, events...)
		}
		q := f.sealState(st)
		f.writeTwiML(w, append(prefix,
			f.prompt(st.Lang, "voicemail"),
			f.recordVerb(st, q),
			// An empty recording falls through to here.
			twiml.VoiceRedirect{Url: f.stateURL("/twilio/no-message", q)},
		)...)
		return
	}
	upd.Status = incident.StatusMissed
	f.record(r.Context(), parentSid(r), upd, append(events,
		incident.Event{At: f.now(), Type: incident.EventMissed, Detail: "nobody accepted; the team takes no voicemail", Key: "missed"})...)
	f.writeTwiML(w, append(prefix, f.prompt(st.Lang, "apology"), twiml.VoiceHangup{})...)
}

// HandleWhisper answers the engineer's leg when it picks up: who is calling,
// and press 1 to accept; after a pause with no key, the instruction once
// more. A key in either Gather goes to HandleWhisperAnswer; no key at all (a
// personal voicemail) falls through to the hang-up, so the caller is never
// bridged into a voicemail box. With a state it cannot read (the auth token
// changed during the call) it still screens the leg, without saying who is
// calling: the engineer is on the line, and a hang-up would only make the
// caller wait for the chain to start over.
func (f *Flow) HandleWhisper() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, ok := f.state(r)
		if !ok {
			f.unreadableState(r)
			f.writeCached(w, "whisper|unreadable", func() []twiml.Element {
				return f.whisper(f.url("/twilio/whisper/answer", nil), f.prompt("", "whisper_again"))
			})
			return
		}
		cfg := f.router.Config()
		teamName := st.Team
		if t, ok := cfg.Team(st.Team); ok {
			teamName = t.Name
		}
		from := config.SpokenCaller(st.From)
		if cu, ok := cfg.Customer(st.Customer); ok {
			from = cu.Name + ", " + from
		}
		// The answer carries the state this whisper got, sealed as it came;
		// a state in the old plain format is sealed now.
		q := r.URL.RawQuery
		if _, sealed := sealedQuery(r); !sealed {
			q = f.sealState(st)
		}
		f.writeTwiML(w, f.whisper(f.stateURL("/twilio/whisper/answer", q), f.prompt("", "whisper", "team", teamName, "caller", from))...)
	})
}

// whisper is the screening of an engineer's leg: first, then after a pause
// the instruction again, each in a Gather whose key goes to action, then
// the hang-up that silence reaches.
func (f *Flow) whisper(action string, first twiml.VoiceSay) []twiml.Element {
	gather := func(timeout int, say twiml.VoiceSay) twiml.VoiceGather {
		return twiml.VoiceGather{
			Input:         "dtmf",
			NumDigits:     "1",
			Timeout:       strconv.Itoa(timeout),
			Action:        action,
			InnerElements: []twiml.Element{say},
		}
	}
	return []twiml.Element{
		gather(whisperPause, first),
		gather(whisperTimeout, f.prompt("", "whisper_again")),
		twiml.VoiceHangup{},
	}
}

// unreadableState logs and counts a webhook whose call state could not be
// read; the handler then fails open.
func (f *Flow) unreadableState(r *http.Request) {
	f.log.Warn().Str("path", r.URL.Path).Str("call_sid", r.PostForm.Get("CallSid")).
		Msg("call state in the URL unreadable (TWILIO_AUTH_TOKEN changed during the call, or a tampered URL); failing open")
	f.metrics.failedOpen("call_state")
}

// unknownEngineer ends the detail of an event whose engineer is unknown
// because the call state could not be read.
const unknownEngineer = " (call state unreadable: engineer unknown)"

// unreadableKey is the idempotency key of what a handler records when it
// cannot read the call's state: without it there is no step or pass.
func unreadableKey(kind string) string { return kind + ":unreadable" }

// HandleWhisperAnswer takes the engineer's key: 1 ends the whisper normally,
// which bridges the call; any other key hangs the leg up. The key is
// recorded on the caller's incident, named by the state (ParentCallSid
// when the state predates it). With a state it cannot read, the key still
// decides, recorded without the engineer.
func (f *Flow) HandleWhisperAnswer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, ok := f.state(r)
		call := st.Call
		if call == "" {
			call = parentSid(r)
		}
		key, unknown := st.key("whisper"), ""
		var step routing.Step
		if ok && st.Step < len(st.Chain) {
			step = st.Chain[st.Step]
		} else {
			f.unreadableState(r)
			key, unknown = unreadableKey("whisper"), unknownEngineer
		}
		digits := r.PostForm.Get("Digits")
		if digits == "1" {
			f.record(r.Context(), call, incident.Update{},
				withKey(f.engineerEvent(incident.EventAccepted, step, "pressed 1"+unknown), key))
			f.writeCached(w, "connecting", func() []twiml.Element { return []twiml.Element{f.prompt("", "connecting")} })
			return
		}
		f.record(r.Context(), call, incident.Update{},
			withKey(f.engineerEvent(incident.EventDeclined, step, "pressed "+strconv.Quote(digits)+unknown), key))
		f.writeTwiML(w, f.prompt("", "declined"), twiml.VoiceHangup{})
	})
}

// HandleDialDone is the Dial action: DialBridged=true means the engineer
// accepted and talked to the caller, and so does an action without
// DialBridged (an optional parameter) after the engineer pressed 1 for this
// step; anything else moves down the chain. A bridge replaces the abandoned
// of a final status callback that arrived first (Update.Supersedes).
// Without a readable state, see dialUnreadable.
func (f *Flow) HandleDialDone() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		callSid := r.PostForm.Get("CallSid")
		st, ok := f.state(r)
		if !ok || st.Step >= len(st.Chain) {
			f.dialUnreadable(w, r)
			return
		}
		step := st.Chain[st.Step]
		dialStatus := r.PostForm.Get("DialCallStatus")
		if f.bridged(r, callSid, st.key("whisper")) {
			upd := incident.Update{Status: incident.StatusAnswered, AnsweredBy: step.Engineer, AnsweredAt: f.now(), AnsweredAtKey: st.key("whisper"), Supersedes: hangupKey}
			if f.record(ctx, callSid, upd,
				withKey(f.engineerEvent(incident.EventBridged, step, "talked to the caller"), st.key("dial"))) {
				f.metrics.escalated(st.Pass*len(st.Chain) + st.Step + 1)
			}
			f.hangUp(w)
			return
		}
		if r.PostForm.Get("CallStatus") == "completed" || dialStatus == "canceled" {
			// The caller hung up while we were ringing.
			f.record(ctx, callSid, incident.Update{Status: incident.StatusAbandoned},
				withKey(f.engineerEvent(incident.EventHangup, step, "caller hung up while ringing"), st.key("dial")))
			f.hangUp(w)
			return
		}
		events := []incident.Event{f.dialOutcome(st, step, dialStatus)}
		st.Step++
		f.next(w, r, st, incident.Update{}, events)
	})
}

// dialUnreadable ends a Dial whose call state cannot be read (the auth token
// changed during the call, or the URL was tampered with), failing open: a
// bridged call or a caller who hung up ends as it would have; any other
// outcome starts the default option's team chain over, resolved now (or
// the last known chain, or the emergency number), after the "sorry"
// prompt. The restarted chain's URLs are sealed with the current key, and
// its events have keys of their own (Restart), so they do not collide
// with those of the chain that was lost.
func (f *Flow) dialUnreadable(w http.ResponseWriter, r *http.Request) {
	f.unreadableState(r)
	form := r.PostForm
	callSid := form.Get("CallSid")
	if f.bridged(r, callSid, unreadableKey("whisper")) {
		f.record(r.Context(), callSid, incident.Update{Status: incident.StatusAnswered, AnsweredAt: f.now(), AnsweredAtKey: unreadableKey("whisper"), Supersedes: hangupKey},
			withKey(f.engineerEvent(incident.EventBridged, routing.Step{}, "talked to the caller"+unknownEngineer), unreadableKey("dial")))
		f.hangUp(w)
		return
	}
	if form.Get("CallStatus") == "completed" || form.Get("DialCallStatus") == "canceled" {
		f.record(r.Context(), callSid, incident.Update{Status: incident.StatusAbandoned},
			withKey(f.engineerEvent(incident.EventHangup, routing.Step{}, "caller hung up while ringing"+unknownEngineer), unreadableKey("dial")))
		f.hangUp(w)
		return
	}
	team := f.router.Config().DefaultTeam()
	chain := f.chain(r.Context(), team)
	st := callState{Team: team, Chain: chain, From: form.Get("From"), Call: callSid, Restart: 1}
	f.next(w, r, st, incident.Update{}, []incident.Event{{
		At: f.now(), Type: incident.EventRoute, Key: unreadableKey("route"),
		Detail: "call state unreadable after a dial (" + form.Get("DialCallStatus") + "): starting over, " + routeDetail(team, chain),
	}}, f.prompt("", "sorry"))
}

// bridged reports whether a Dial action's engineer talked to the caller:
// DialBridged says so when Twilio sends it; without it, the step's whisper
// key (whisperKey) decides for a leg that answered (DialCallStatus
// completed or answered): an accept was bridged, as hotline's whisper ends normally on
// 1. A database that cannot answer counts as no accept,
// so the chain goes on rather than leaving the caller alone.
func (f *Flow) bridged(r *http.Request, callSid, whisperKey string) bool {
	if v, ok := r.PostForm["DialBridged"]; ok && len(v) > 0 {
		return v[0] == "true"
	}
	if ds := r.PostForm.Get("DialCallStatus"); ds != "completed" && ds != "answered" {
		// Busy, no answer, failed, canceled: the engineer's leg never
		// answered, so nothing was bridged and nothing need be read.
		return false
	}
	typ, err := f.incidents.EventType(r.Context(), callSid, whisperKey)
	if err != nil {
		f.log.Error().Err(err).Str("call_sid", callSid).Msg("read the whisper's key; taking the dial as not bridged")
		return false
	}
	return typ == incident.EventAccepted
}

// dialOutcome names why a step did not bridge. A leg that answered but was
// not bridged either declined (already recorded by the whisper, so the
// outcome is skipped) or pressed nothing: usually the engineer's own
// voicemail.
func (f *Flow) dialOutcome(st callState, step routing.Step, dialStatus string) incident.Event {
	var typ incident.EventType
	var detail string
	switch dialStatus {
	case "busy":
		typ, detail = incident.EventBusy, "line busy"
	case "no-answer":
		typ, detail = incident.EventNoAnswer, "no answer"
	case "failed":
		typ, detail = incident.EventFailed, "call failed"
	default:
		e := withKey(f.engineerEvent(incident.EventNoKey, step, "answered but no key pressed (voicemail?)"), st.key("dial"))
		e.UnlessKey = st.key("whisper")
		return e
	}
	return withKey(f.engineerEvent(typ, step, detail), st.key("dial"))
}

func withKey(e incident.Event, key string) incident.Event {
	e.Key = key
	return e
}
