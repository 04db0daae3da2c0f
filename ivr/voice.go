package ivr

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-dev/hotline/routing"
)

// HandleIncoming answers POST /twilio/voice: it opens the incident, greets
// the caller and plays the menu.
func (f *Flow) HandleIncoming() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := f.router.Config()
		form := r.PostForm
		in := routing.Incident{
			CallSid:        form.Get("CallSid"),
			From:           form.Get("From"),
			CallerName:     form.Get("CallerName"),
			To:             form.Get("To"),
			StartedAt:      f.now(),
			ConfigRevision: cfg.Revision,
		}
		if in.CallSid == "" {
			http.Error(w, "missing CallSid", http.StatusBadRequest)
			return
		}
		first := routing.Event{At: in.StartedAt, Type: "incoming", Detail: "call from " + in.From, Key: "incoming"}
		if _, _, err := f.incidents.StartIncident(r.Context(), in, first); err != nil {
			f.log.Error().Err(err).Str("call_sid", in.CallSid).Msg("start incident")
		}
		verbs := []twiml.Element{}
		if cfg.Hotline.Greeting != "" {
			verbs = append(verbs, f.say(cfg.Hotline.Greeting))
		}
		if len(cfg.Menu.Options) == 1 {
			// One option: no menu to offer, route at once.
			f.route(w, r, cfg.Menu.Options[0], "only option", verbs...)
			return
		}
		verbs = append(verbs, f.menu(1, 1, f.announcements(r.Context())...)...)
		f.writeTwiML(w, verbs...)
	})
}

// menu is the Gather that offers the options, then a Redirect taken when the
// caller presses nothing (Gather falls through on silence).
// attempt counts plays that ended without a valid choice; plays counts all,
// `*` repeats included. first is spoken inside the Gather before the
// options, so a key press (0 to skip) cuts it short.
func (f *Flow) menu(attempt, plays int, first ...twiml.Element) []twiml.Element {
	cfg := f.router.Config()
	q := url.Values{"attempt": {strconv.Itoa(attempt)}, "plays": {strconv.Itoa(plays)}}
	says := first
	for _, o := range cfg.Menu.Options {
		says = append(says, f.say(menuOption(o.Label, o.Digit)))
	}
	says = append(says, f.say(prompts.MenuRepeat))
	gather := twiml.VoiceGather{
		Input:         "dtmf",
		NumDigits:     "1",
		Timeout:       strconv.Itoa(int(cfg.Menu.Timeout / time.Second)),
		Action:        f.url("/twilio/menu", q),
		InnerElements: says,
	}
	return []twiml.Element{gather, twiml.VoiceRedirect{Url: f.url("/twilio/menu", q)}}
}

// HandleMenu answers the menu's Gather action (and its no-input Redirect):
// a valid digit routes, `*` repeats, anything else replays the menu until
// menu.attempts plays, then the default option routes. The caller is never
// hung up on here.
func (f *Flow) HandleMenu() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := f.router.Config()
		attempt := positive(r.URL.Query().Get("attempt"))
		plays := positive(r.URL.Query().Get("plays"))
		digits := r.PostForm.Get("Digits")
		if o, ok := cfg.Option(digits); ok {
			f.route(w, r, o, "pressed "+digits)
			return
		}
		if (digits == "*" || digits == skipKey) && plays < maxMenuPlays {
			f.writeTwiML(w, f.menu(attempt, plays+1)...)
			return
		}
		if attempt >= cfg.Menu.Attempts || plays >= maxMenuPlays {
			o, _ := cfg.Option(cfg.Menu.Default)
			f.route(w, r, o, "no valid choice after "+strconv.Itoa(attempt)+" plays: default "+o.Digit)
			return
		}
		var verbs []twiml.Element
		if digits != "" {
			verbs = append(verbs, f.say(prompts.InvalidChoice))
		}
		f.record(r.Context(), r.PostForm.Get("CallSid"), routing.Update{}, routing.Event{
			At: f.now(), Type: "menu", Detail: menuMiss(digits, attempt), Key: "menu:" + strconv.Itoa(attempt),
		})
		f.writeTwiML(w, append(verbs, f.menu(attempt+1, plays+1)...)...)
	})
}

// announcements are the active announcements as Say verbs, with how to skip
// them. A database problem skips them rather than the call.
func (f *Flow) announcements(ctx context.Context) []twiml.Element {
	if f.announcer == nil {
		return nil
	}
	list, err := f.announcer.ActiveAnnouncements(ctx, f.now())
	if err != nil {
		f.log.Error().Err(err).Msg("read announcements; skipping them")
		return nil
	}
	if len(list) == 0 {
		return nil
	}
	out := []twiml.Element{f.say(prompts.SkipAnnouncement)}
	for _, a := range list {
		out = append(out, f.say(a.Message))
	}
	return out
}

// skipKey skips the announcements (it is not a menu digit).
const skipKey = "0"

// maxMenuPlays bounds replays, including `*` repeats, so a stuck keypad
// cannot loop a call forever.
const maxMenuPlays = 10

// positive parses a counter from a URL written by hotline; anything else is 1.
func positive(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func menuMiss(digits string, attempt int) string {
	if digits == "" {
		return "no key (play " + strconv.Itoa(attempt) + ")"
	}
	return "invalid key " + strconv.Quote(digits) + " (play " + strconv.Itoa(attempt) + ")"
}

// HandleFallback answers POST /twilio/fallback, Twilio's Voice Fallback URL,
// called when a webhook failed: no menu, it rings the default team's chain
// at once (the last known one if schedules cannot be read), then the
// emergency number.
func (f *Flow) HandleFallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := f.router.Config()
		form := r.PostForm
		in := routing.Incident{
			CallSid:        form.Get("CallSid"),
			From:           form.Get("From"),
			CallerName:     form.Get("CallerName"),
			To:             form.Get("To"),
			StartedAt:      f.now(),
			ConfigRevision: cfg.Revision,
		}
		detail := "fallback after Twilio error " + form.Get("ErrorCode")
		if _, _, err := f.incidents.StartIncident(r.Context(), in, routing.Event{At: in.StartedAt, Type: "incoming", Detail: detail, Key: "incoming"}); err != nil {
			f.log.Error().Err(err).Str("call_sid", in.CallSid).Msg("fallback: start incident")
		}
		o, _ := cfg.Option(cfg.Menu.Default)
		f.route(w, r, o, detail, f.say(prompts.Sorry))
	})
}
