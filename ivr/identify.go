package ivr

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
)

// pinTries is how many PINs a caller may enter.
const pinTries = 3

// pinPrompt asks for the customer PIN, ended with #.
func (f *Flow) pinPrompt(try int) []twiml.Element {
	cfg := f.router.Config()
	q := url.Values{"try": {strconv.Itoa(try)}}
	return []twiml.Element{
		twiml.VoiceGather{
			Input:         "dtmf",
			FinishOnKey:   "#",
			NumDigits:     "12",
			Timeout:       "10",
			Action:        f.url("/twilio/pin", q),
			InnerElements: []twiml.Element{f.sayIn("", cfg.Prompt("", "pin_prompt"))},
		},
		twiml.VoiceRedirect{Url: f.url("/twilio/pin", q)},
	}
}

// customerByCallerID finds the customer a call's caller ID belongs to,
// provided its STIR/SHAKEN attestation (StirVerstat) is one
// hotline.caller_id_attestation trusts: a caller ID alone can be spoofed.
// A withheld number is no one's. A customer's number without that
// attestation is logged and the caller is treated as unidentified.
func (f *Flow) customerByCallerID(r *http.Request) (config.Customer, bool) {
	cfg := f.router.Config()
	form := r.PostForm
	cu, ok := cfg.CustomerByNumber(form.Get("From"))
	if !ok {
		return config.Customer{}, false
	}
	if verstat := form.Get("StirVerstat"); !cfg.AttestationPassed(verstat) {
		f.log.Info().Str("call_sid", form.Get("CallSid")).Str("customer", cu.ID).Str("stir_verstat", verstat).
			Str("caller_id_attestation", cfg.Hotline.CallerIDAttestation).
			Msg("caller ID of a customer without the STIR/SHAKEN attestation hotline.caller_id_attestation asks for; not identified by it")
		return config.Customer{}, false
	}
	return cu, true
}

// HandlePIN checks an entered PIN: a match identifies the customer, three
// misses make the caller unknown. The PIN itself is never recorded.
func (f *Flow) HandlePIN() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := f.router.Config()
		try := positive(r.URL.Query().Get("try"))
		if cu, ok := cfg.CustomerByPIN(r.PostForm.Get("Digits")); ok {
			f.identified(w, r, cu, "PIN", false)
			return
		}
		f.record(r.Context(), r.PostForm.Get("CallSid"), incident.Update{}, incident.Event{
			At: f.now(), Type: incident.EventPINInvalid, Detail: incident.PINTryDetail(try, pinTries), Key: "pin:" + strconv.Itoa(try),
		})
		if try >= pinTries {
			f.unknownCaller(w, r, false)
			return
		}
		f.writeTwiML(w, append([]twiml.Element{f.sayIn("", cfg.Prompt("", "pin_invalid"))}, f.pinPrompt(try+1)...)...)
	})
}

// identified records the customer on the incident, welcomes them by name
// (after the greeting, when greet) and plays the menu.
func (f *Flow) identified(w http.ResponseWriter, r *http.Request, cu config.Customer, how string, greet bool) {
	f.record(r.Context(), r.PostForm.Get("CallSid"), incident.Update{Customer: cu.ID},
		incident.Event{At: f.now(), Type: incident.EventIdentified, Detail: "customer " + cu.ID + " by " + how, Key: "identified"})
	opened := "welcome"
	if greet {
		opened = "greeting|welcome"
	}
	f.offerMenu(w, r, caller{Customer: cu.ID}, opened, func(caller) []twiml.Element {
		var out []twiml.Element
		if greet {
			out = f.greeting(caller{})
		}
		cfg := f.router.Config()
		return append(out, f.sayIn("", cfg.Prompt("", "welcome_customer", "customer", cu.Name)))
	})
}

// unknownCaller applies hotline.unknown_callers to a caller who could not be
// identified. first says whether nothing was played yet, so <Reject> (which
// never answers the call) is still possible.
func (f *Flow) unknownCaller(w http.ResponseWriter, r *http.Request, first bool) {
	cfg := f.router.Config()
	callSid := r.PostForm.Get("CallSid")
	switch cfg.Hotline.UnknownCallers {
	case config.UnknownReject:
		f.record(r.Context(), callSid, incident.Update{Status: incident.StatusMissed},
			incident.Event{At: f.now(), Type: incident.EventRejected, Detail: "unknown caller", Key: "rejected"})
		if first {
			f.writeTwiML(w, twiml.VoiceReject{Reason: "rejected"})
			return
		}
		f.writeTwiML(w, f.sayIn("", cfg.Prompt("", "unknown_caller")), twiml.VoiceHangup{})
	case config.UnknownVoicemail:
		st := callState{Team: cfg.DefaultTeam(), From: r.PostForm.Get("From")}
		f.endOfChain(w, r, st, nil, incident.Update{Team: st.Team},
			[]incident.Event{{At: f.now(), Type: incident.EventRoute, Detail: "unknown caller: straight to voicemail", Key: "route"}}, f.greeting(caller{})...)
	default:
		f.offerMenu(w, r, caller{}, "greeting", f.greeting)
	}
}
