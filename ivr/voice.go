package ivr

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
)

// caller is who is calling and in which language, as far as hotline knows;
// it travels in the menu's URLs.
type caller struct {
	Lang     string // "" is the line's own language
	Customer string // customer id, "" when unknown
}

func callerFrom(q url.Values) caller { return caller{Lang: q.Get("lang"), Customer: q.Get("cust")} }

func (c caller) add(q url.Values) url.Values {
	if c.Lang != "" {
		q.Set("lang", c.Lang)
	}
	if c.Customer != "" {
		q.Set("cust", c.Customer)
	}
	return q
}

// startIncident opens the call's incident; a database problem is logged,
// never passed on to the caller.
func (f *Flow) startIncident(r *http.Request, detail string) incident.Incident {
	form := r.PostForm
	in := incident.Incident{
		CallSid:    form.Get("CallSid"),
		From:       form.Get("From"),
		CallerName: form.Get("CallerName"),
		// StirVerstat is the carrier's STIR/SHAKEN verdict on From.
		CallerAttestation: form.Get("StirVerstat"),
		To:                form.Get("To"),
		StartedAt:         f.now(),
		ConfigRevision:    f.router.Config().Revision,
	}
	first := incident.Event{At: in.StartedAt, Type: incident.EventIncoming, Detail: detail, Key: "incoming"}
	if _, _, err := f.incidents.StartIncident(r.Context(), in, first); err != nil {
		f.log.Error().Err(err).Str("call_sid", in.CallSid).Msg("start incident")
	}
	return in
}

// HandleIncoming answers POST /twilio/voice: it opens the incident, greets
// the caller, identifies them if the line asks for it, and plays the menu.
func (f *Flow) HandleIncoming() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostForm.Get("CallSid") == "" {
			http.Error(w, "missing CallSid", http.StatusBadRequest)
			return
		}
		cfg := f.router.Config()
		who, _ := config.CallerWords(r.PostForm.Get("From"))
		f.startIncident(r, "call from "+who)
		switch cfg.Hotline.Identify {
		case config.IdentifyCallerID, config.IdentifyCallerIDOrPIN:
			if cu, ok := f.customerByCallerID(r); ok {
				f.identified(w, r, cu, "caller ID", true)
				return
			}
			if cfg.Hotline.Identify == config.IdentifyCallerID {
				f.unknownCaller(w, r, true)
				return
			}
			f.writeTwiML(w, append(f.greeting(caller{}), f.pinPrompt(1)...)...)
		case config.IdentifyPIN:
			f.writeTwiML(w, append(f.greeting(caller{}), f.pinPrompt(1)...)...)
		default:
			f.offerMenu(w, r, caller{}, "greeting", f.greeting)
		}
	})
}

// greeting is the line's greeting in the caller's language.
func (f *Flow) greeting(c caller) []twiml.Element {
	if g := f.router.Config().Greeting(c.Lang); g != "" {
		return []twiml.Element{f.sayIn(c.Lang, g)}
	}
	return nil
}

// offerMenu plays the menu (with announcements and language offers on its
// first play) after what opening(c) says. A line with a single option has no
// menu: the announcements and language offers are spoken inside a Gather
// (onlyOption) and any key, or none, then routes; with neither, it routes at
// once. The menu depends on nothing but the config, c, opening and the
// announcements in force, so it is rendered once for each: opened names what
// opening says, and an announcement's message never changes.
func (f *Flow) offerMenu(w http.ResponseWriter, r *http.Request, c caller, opened string, opening func(caller) []twiml.Element) {
	cfg := f.router.Config()
	list := f.activeAnnouncements(r.Context())
	offerLanguages := c.Lang == "" && len(cfg.Languages) > 0
	single := len(cfg.Menu.Options) == 1
	if single && len(list) == 0 && !offerLanguages {
		f.route(w, r, c, cfg.Menu.Options[0], "only option", opening(c)...)
		return
	}
	key := make([]byte, 0, 64)
	key = append(key, "menu|"+opened+"|"+c.Lang+"|"+c.Customer...)
	for _, a := range list {
		key = strconv.AppendInt(append(key, '|'), a.ID, 10)
	}
	f.writeCached(w, string(key), func() []twiml.Element {
		first := f.announcements(c, list)
		if offerLanguages {
			for _, l := range cfg.Languages {
				first = append(first, f.sayIn(l.Code, cfg.Prompt(l.Code, "language_offer", "digit", l.Digit)))
			}
		}
		if single {
			return append(opening(c), f.onlyOption(c, offerLanguages, first)...)
		}
		return append(opening(c), f.menu(c, 1, 1, first...)...)
	})
}

// onlyOption stands for the menu on a line with one option: what comes
// before the menu (the announcements, which 0 skips, and the language
// offers) inside a Gather, then a Redirect taken on silence. Both reach
// HandleMenu, which routes the option whatever was pressed, after switching
// language for a language's digit. With no language to offer there is
// nothing to wait for once the announcements end, so the Gather waits 1 s,
// not menu.timeout.
func (f *Flow) onlyOption(c caller, offerLanguages bool, says []twiml.Element) []twiml.Element {
	cfg := f.router.Config()
	q := c.add(url.Values{"attempt": {"1"}, "plays": {"1"}})
	timeout := 1
	if offerLanguages {
		timeout = int(cfg.Menu.Timeout / time.Second)
	}
	gather := twiml.VoiceGather{
		Input:         "dtmf",
		NumDigits:     "1",
		Timeout:       strconv.Itoa(timeout),
		Action:        f.url("/twilio/menu", q),
		Language:      f.sayLanguage(c.Lang),
		InnerElements: says,
	}
	return []twiml.Element{gather, twiml.VoiceRedirect{Url: f.url("/twilio/menu", q)}}
}

// menu is the Gather that offers the options, then a Redirect taken when the
// caller presses nothing (Gather falls through on silence). attempt counts
// plays that ended without a valid choice; plays counts all, `*` repeats
// included. first is spoken inside the Gather before the options, so a key
// press (0 to skip) cuts it short.
func (f *Flow) menu(c caller, attempt, plays int, first ...twiml.Element) []twiml.Element {
	cfg := f.router.Config()
	q := c.add(url.Values{"attempt": {strconv.Itoa(attempt)}, "plays": {strconv.Itoa(plays)}})
	says := first
	for _, o := range cfg.Menu.Options {
		says = append(says, f.sayIn(c.Lang, cfg.Prompt(c.Lang, "menu_option", "label", cfg.OptionLabel(c.Lang, o), "digit", o.Digit)))
	}
	says = append(says, f.sayIn(c.Lang, cfg.Prompt(c.Lang, "menu_repeat")))
	gather := twiml.VoiceGather{
		Input:         "dtmf",
		NumDigits:     "1",
		Timeout:       strconv.Itoa(int(cfg.Menu.Timeout / time.Second)),
		Action:        f.url("/twilio/menu", q),
		Language:      f.sayLanguage(c.Lang),
		InnerElements: says,
	}
	return []twiml.Element{gather, twiml.VoiceRedirect{Url: f.url("/twilio/menu", q)}}
}

// HandleMenu answers the menu's Gather action (and its no-input Redirect):
// a valid digit routes, a language digit switches language, `*` (and 0,
// which skips announcements) repeats, anything else replays the menu until
// menu.attempts plays, then the default option routes. On a line with one
// option every answer routes it (a language digit first switches language).
// The caller is never hung up on here.
func (f *Flow) HandleMenu() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := f.router.Config()
		q := r.URL.Query()
		c := callerFrom(q)
		attempt, plays := positive(q.Get("attempt")), positive(q.Get("plays"))
		digits := r.PostForm.Get("Digits")
		if len(cfg.Menu.Options) == 1 {
			f.routeOnly(w, r, c, digits)
			return
		}
		if o, ok := cfg.Option(digits); ok {
			f.route(w, r, c, o, "pressed "+digits)
			return
		}
		if l, ok := cfg.LanguageByDigit(digits); ok && c.Lang == "" {
			c.Lang = l.Code
			f.record(r.Context(), r.PostForm.Get("CallSid"), incident.Update{},
				incident.Event{At: f.now(), Type: incident.EventLanguage, Detail: l.Code, Key: "language"})
			f.writeTwiML(w, append(f.greeting(c), f.menu(c, 1, plays+1)...)...)
			return
		}
		if (digits == "*" || digits == skipKey) && plays < maxMenuPlays {
			f.writeTwiML(w, f.menu(c, attempt, plays+1)...)
			return
		}
		if attempt >= cfg.Menu.Attempts || plays >= maxMenuPlays {
			o, _ := cfg.Option(cfg.Menu.Default)
			f.route(w, r, c, o, "no valid choice after "+strconv.Itoa(attempt)+" plays: default "+o.Digit)
			return
		}
		var verbs []twiml.Element
		if digits != "" {
			verbs = append(verbs, f.sayIn(c.Lang, cfg.Prompt(c.Lang, "invalid_choice")))
		}
		f.record(r.Context(), r.PostForm.Get("CallSid"), incident.Update{}, incident.Event{
			At: f.now(), Type: incident.EventMenu, Detail: menuMiss(digits, attempt), Key: "menu:" + strconv.Itoa(attempt),
		})
		f.writeTwiML(w, append(verbs, f.menu(c, attempt+1, plays+1)...)...)
	})
}

// routeOnly routes a one-option line's caller once onlyOption's Gather has
// ended: with a language's digit, the greeting is said again in that
// language and the rest of the call is in it; any other key, or none, routes
// as it is.
func (f *Flow) routeOnly(w http.ResponseWriter, r *http.Request, c caller, digits string) {
	cfg := f.router.Config()
	o := cfg.Menu.Options[0]
	if l, ok := cfg.LanguageByDigit(digits); ok && c.Lang == "" {
		c.Lang = l.Code
		f.record(r.Context(), r.PostForm.Get("CallSid"), incident.Update{},
			incident.Event{At: f.now(), Type: incident.EventLanguage, Detail: l.Code, Key: "language"})
		f.route(w, r, c, o, "only option, in "+l.Code, f.greeting(c)...)
		return
	}
	detail := "only option"
	if digits != "" {
		detail = "pressed " + strconv.Quote(digits) + ": only option"
	}
	f.route(w, r, c, o, detail)
}

// activeAnnouncements are the announcements in force. A database problem
// skips them rather than the call.
func (f *Flow) activeAnnouncements(ctx context.Context) []announce.Announcement {
	if f.announcer == nil {
		return nil
	}
	list, err := f.announcer.ActiveAnnouncements(ctx, f.now())
	if err != nil {
		f.log.Error().Err(err).Msg("read announcements; skipping them")
		return nil
	}
	return list
}

// announcements are announcements as Say verbs, with how to skip them.
func (f *Flow) announcements(c caller, list []announce.Announcement) []twiml.Element {
	if len(list) == 0 {
		return nil
	}
	out := []twiml.Element{f.sayIn(c.Lang, f.router.Config().Prompt(c.Lang, "skip_announcement"))}
	for _, a := range list {
		out = append(out, f.sayIn(c.Lang, a.Message))
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
		detail := "fallback after Twilio error " + r.PostForm.Get("ErrorCode")
		f.startIncident(r, detail)
		o, _ := cfg.Option(cfg.Menu.Default)
		f.route(w, r, caller{}, o, detail, f.sayIn("", cfg.Prompt("", "sorry")))
	})
}
