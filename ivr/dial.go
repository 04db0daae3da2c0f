package ivr

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/twiml"

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
func (f *Flow) route(w http.ResponseWriter, r *http.Request, c caller, o routing.Option, detail string, prefix ...twiml.Element) {
	chain := f.chain(r.Context(), o.Team)
	st := callState{Team: o.Team, Chain: chain, From: r.PostForm.Get("From"), caller: c}
	f.next(w, r, st, routing.Update{Team: o.Team, MenuDigit: o.Digit}, []routing.Event{
		{At: f.now(), Type: routing.EventMenu, Detail: detail, Key: "menu:choice"},
		{At: f.now(), Type: routing.EventRoute, Detail: routeDetail(o.Team, chain), Key: "route"},
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
func (f *Flow) next(w http.ResponseWriter, r *http.Request, st callState, upd routing.Update, events []routing.Event, prefix ...twiml.Element) {
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
		withKey(f.engineerEvent(routing.EventRing, step, fmt.Sprintf("step %d, pass %d, %ds", st.Step+1, st.Pass+1, int(step.Timeout/time.Second))), st.key("ring")))...)
	verbs := prefix
	if st.Step > 0 || st.Pass > 0 {
		verbs = append(verbs, f.prompt(st.Lang, "still_trying"))
	}
	q := st.query()
	verbs = append(verbs, twiml.VoiceDial{
		Action:   f.url("/twilio/dial", q),
		Timeout:  strconv.Itoa(int(step.Timeout / time.Second)),
		CallerId: cfg.Hotline.Number,
		InnerElements: []twiml.Element{twiml.VoiceNumber{
			PhoneNumber: step.Phone,
			Url:         f.url("/twilio/whisper", q),
		}},
	})
	f.writeTwiML(w, verbs...)
}

// endOfChain takes a voicemail when the team allows it, else apologises.
func (f *Flow) endOfChain(w http.ResponseWriter, r *http.Request, st callState, team *routing.Team, upd routing.Update, events []routing.Event, prefix ...twiml.Element) {
	if team == nil || team.Voicemail {
		if len(events) > 0 {
			f.record(r.Context(), parentSid(r), upd, events...)
		}
		q := st.query()
		f.writeTwiML(w, append(prefix,
			f.prompt(st.Lang, "voicemail"),
			twiml.VoiceRecord{
				Action:             f.url("/twilio/recorded", q),
				MaxLength:          "120",
				Timeout:            "5",
				FinishOnKey:        "#",
				PlayBeep:           "true",
				Transcribe:         "true",
				TranscribeCallback: f.url("/twilio/transcript", nil),
			},
			// An empty recording falls through to here.
			twiml.VoiceRedirect{Url: f.url("/twilio/no-message", q)},
		)...)
		return
	}
	upd.Status = routing.StatusMissed
	f.record(r.Context(), parentSid(r), upd, append(events,
		routing.Event{At: f.now(), Type: routing.EventMissed, Detail: "nobody accepted; the team takes no voicemail", Key: "missed"})...)
	f.writeTwiML(w, append(prefix, f.prompt(st.Lang, "apology"), twiml.VoiceHangup{})...)
}

// HandleWhisper answers the engineer's leg when it picks up: who is calling,
// and press 1 to accept; after a pause with no key, the instruction once
// more. A key in either Gather goes to HandleWhisperAnswer; no key at all (a
// personal voicemail) falls through to the hang-up, so the caller is never
// bridged into a voicemail box.
func (f *Flow) HandleWhisper() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, ok := parseState(r.URL.Query())
		if !ok {
			f.hangUp(w)
			return
		}
		cfg := f.router.Config()
		teamName := st.Team
		if t, ok := cfg.Team(st.Team); ok {
			teamName = t.Name
		}
		from := spokenNumber(st.From)
		if cu, ok := cfg.Customer(st.Customer); ok {
			from = cu.Name + ", " + from
		}
		action := f.url("/twilio/whisper/answer", st.query())
		gather := func(timeout int, say twiml.VoiceSay) twiml.VoiceGather {
			return twiml.VoiceGather{
				Input:         "dtmf",
				NumDigits:     "1",
				Timeout:       strconv.Itoa(timeout),
				Action:        action,
				InnerElements: []twiml.Element{say},
			}
		}
		f.writeTwiML(w,
			gather(whisperPause, f.prompt("", "whisper", "team", teamName, "caller", from)),
			gather(whisperTimeout, f.prompt("", "whisper_again")),
			twiml.VoiceHangup{},
		)
	})
}

// HandleWhisperAnswer takes the engineer's key: 1 ends the whisper normally,
// which bridges the call; any other key hangs the leg up.
func (f *Flow) HandleWhisperAnswer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, ok := parseState(r.URL.Query())
		if !ok || st.Step >= len(st.Chain) {
			f.hangUp(w)
			return
		}
		step := st.Chain[st.Step]
		digits := r.PostForm.Get("Digits")
		if digits == "1" {
			f.record(r.Context(), parentSid(r), routing.Update{},
				withKey(f.engineerEvent(routing.EventAccepted, step, "pressed 1"), st.key("whisper")))
			f.writeCached(w, "connecting", func() []twiml.Element { return []twiml.Element{f.prompt("", "connecting")} })
			return
		}
		f.record(r.Context(), parentSid(r), routing.Update{},
			withKey(f.engineerEvent(routing.EventDeclined, step, "pressed "+strconv.Quote(digits)), st.key("whisper")))
		f.writeTwiML(w, f.prompt("", "declined"), twiml.VoiceHangup{})
	})
}

// HandleDialDone is the Dial action: DialBridged=true means the engineer
// accepted and talked to the caller; anything else moves down the chain.
func (f *Flow) HandleDialDone() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		callSid := r.PostForm.Get("CallSid")
		st, ok := parseState(r.URL.Query())
		if !ok || st.Step >= len(st.Chain) {
			f.writeTwiML(w, f.prompt("", "sorry"), twiml.VoiceHangup{})
			return
		}
		step := st.Chain[st.Step]
		dialStatus := r.PostForm.Get("DialCallStatus")
		if r.PostForm.Get("DialBridged") == "true" {
			upd := routing.Update{Status: routing.StatusAnswered, AnsweredBy: step.Engineer, AnsweredAt: f.now(), AnsweredAtKey: st.key("whisper")}
			if f.record(ctx, callSid, upd,
				withKey(f.engineerEvent(routing.EventBridged, step, "talked to the caller"), st.key("dial"))) {
				f.metrics.escalated(st.Pass*len(st.Chain) + st.Step + 1)
			}
			f.hangUp(w)
			return
		}
		if r.PostForm.Get("CallStatus") == "completed" || dialStatus == "canceled" {
			// The caller hung up while we were ringing.
			f.record(ctx, callSid, routing.Update{Status: routing.StatusAbandoned},
				withKey(f.engineerEvent(routing.EventHangup, step, "caller hung up while ringing"), st.key("dial")))
			f.hangUp(w)
			return
		}
		events := []routing.Event{f.dialOutcome(st, step, dialStatus)}
		st.Step++
		f.next(w, r, st, routing.Update{}, events)
	})
}

// dialOutcome names why a step did not bridge. A leg that answered but was
// not bridged either declined (already recorded by the whisper, so the
// outcome is skipped) or pressed nothing: usually the engineer's own
// voicemail.
func (f *Flow) dialOutcome(st callState, step routing.Step, dialStatus string) routing.Event {
	var typ routing.EventType
	var detail string
	switch dialStatus {
	case "busy":
		typ, detail = routing.EventBusy, "line busy"
	case "no-answer":
		typ, detail = routing.EventNoAnswer, "no answer"
	case "failed":
		typ, detail = routing.EventFailed, "call failed"
	default:
		e := withKey(f.engineerEvent(routing.EventNoKey, step, "answered but no key pressed (voicemail?)"), st.key("dial"))
		e.UnlessKey = st.key("whisper")
		return e
	}
	return withKey(f.engineerEvent(typ, step, detail), st.key("dial"))
}

func withKey(e routing.Event, key string) routing.Event {
	e.Key = key
	return e
}
