package page

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
)

// webhookTimeout bounds a page webhook's database work, well inside
// Twilio's 15 s wait for TwiML.
const webhookTimeout = 5 * time.Second

// keyWait is how long the page call waits for a key after its menu.
const keyWait = 6

// HandleCall answers the page call when the engineer picks up: what the
// incident is, then the menu of keys (HandleKey). No key at all (a
// personal voicemail took the call) is no acknowledgement: the call ends
// and the next page comes at the team's ack_timeout. It answers TwiML
// whatever fails, never 500.
func (p *Pager) HandleCall() http.Handler { return p.pageWebhook(p.answerCall) }

// HandleKey acts on the key pressed on the page call: 1 acknowledges, 2
// plays the page again, 3 pages the next step now, 4 calls the caller
// back (a call with a number to call), 9 resolves.
func (p *Pager) HandleKey() http.Handler { return p.pageWebhook(p.answerKey) }

// pageWebhook is a webhook of the page call: it reads the page, its
// incident and the config (load) under a deadline, then answers with fn.
func (p *Pager) pageWebhook(fn func(ctx context.Context, w http.ResponseWriter, r *http.Request, pg row, s Subject, cfg *config.Config)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), webhookTimeout)
		defer cancel()
		if pg, s, cfg, ok := p.load(ctx, w, r); ok {
			fn(ctx, w, r, pg, s, cfg)
		}
	})
}

// answerCall says what the incident is, then offers the keys.
func (p *Pager) answerCall(_ context.Context, w http.ResponseWriter, _ *http.Request, pg row, s Subject, cfg *config.Config) {
	if s.State != StateOpen {
		p.write(w, say(cfg, "This is hotline. This incident was already "+s.State+". Goodbye."), twiml.VoiceHangup{})
		return
	}
	intro := []twiml.Element{say(cfg, "This is hotline, paging you. "+headline(s, teamName(cfg, pg.team), p.now(), true)+".")}
	switch {
	case s.Kind == KindCall && s.Transcript != "":
		intro = append(intro, say(cfg, "The message: "+clip(s.Transcript, maxSpoken)))
	case s.Kind == KindCall && s.RecordingURL != "":
		intro = append(intro, say(cfg, "The message:"), twiml.VoicePlay{Url: s.RecordingURL})
	}
	p.write(w, p.menu(cfg, pg, s, intro...), p.menu(cfg, pg, s),
		say(cfg, "No key was pressed. You will be paged again. Goodbye."), twiml.VoiceHangup{})
}

// answerKey acts on the key pressed.
func (p *Pager) answerKey(ctx context.Context, w http.ResponseWriter, r *http.Request, pg row, s Subject, cfg *config.Config) {
	by, now := pg.engineer, p.now()
	if by == "" {
		by = pg.name // the emergency number has no engineer id
	}
	switch digit := r.PostForm.Get("Digits"); {
	case digit == "2":
		p.write(w, twiml.VoiceRedirect{Url: p.pageURL(PathCall, pg.id)})
	case s.State == StateResolved || s.State == StateAcknowledged && digit != "9":
		p.write(w, say(cfg, "This incident was already "+s.State+". Goodbye."), twiml.VoiceHangup{})
	case digit == "1":
		if err := p.Acknowledge(ctx, s.ID, by, "page call"); err != nil {
			p.sorry(w, cfg, err, "acknowledge")
			return
		}
		p.write(w, say(cfg, "Acknowledged. Thank you. Goodbye."), twiml.VoiceHangup{})
	case digit == "9":
		if err := p.Resolve(ctx, s.ID, by, "page call"); err != nil {
			p.sorry(w, cfg, err, "resolve")
			return
		}
		p.write(w, say(cfg, "Resolved. Goodbye."), twiml.VoiceHangup{})
	case digit == "3":
		p.escalate(ctx, w, cfg, pg, s, now)
	case digit == "4" && callable(s):
		p.callBack(ctx, w, cfg, pg, s, by, now)
	case digit == "4":
		p.write(w, p.menu(cfg, pg, s, say(cfg, "This caller cannot be called back: "+caller(s, true)+".")), twiml.VoiceHangup{})
	default:
		p.write(w, p.menu(cfg, pg, s, say(cfg, "That key does nothing.")), twiml.VoiceHangup{})
	}
}

// escalate pages the incident's next step at once.
func (p *Pager) escalate(ctx context.Context, w http.ResponseWriter, cfg *config.Config, pg row, s Subject, now time.Time) {
	next, err := p.hurry(ctx, s.ID, now)
	if err != nil {
		p.sorry(w, cfg, err, "escalate")
		return
	}
	if !next {
		p.write(w, p.menu(cfg, pg, s, say(cfg, "There is nobody further to page.")), twiml.VoiceHangup{})
		return
	}
	p.event(ctx, pg, incident.EventEscalated, now, "pressed 3 on the page call: the next step is paged now", "escalated")
	p.Wake()
	p.write(w, say(cfg, "Paging the next engineer now. Goodbye."), twiml.VoiceHangup{})
}

// callBack connects the engineer to the caller, from the support number,
// and acknowledges the incident for them: they have taken it.
func (p *Pager) callBack(ctx context.Context, w http.ResponseWriter, cfg *config.Config, pg row, s Subject, by string, now time.Time) {
	if err := p.Acknowledge(ctx, s.ID, by, "page call (called the caller back)"); err != nil {
		p.sorry(w, cfg, err, "acknowledge before calling back")
		return
	}
	p.event(ctx, pg, incident.EventCalledBack, now, "pressed 4 on the page call", "called-back")
	// answerOnBridge: the engineer hears the caller's phone ring, as the
	// caller hears an engineer's (README "The call").
	p.write(w, say(cfg, "Calling the caller back now."), twiml.VoiceDial{
		CallerId:       cfg.Hotline.Number,
		AnswerOnBridge: "true",
		InnerElements:  []twiml.Element{twiml.VoiceNumber{PhoneNumber: s.From}},
	})
}

// callable reports whether the incident is a call from a number one can
// call back.
func callable(s Subject) bool {
	_, number := config.CallerWords(s.From)
	return s.Kind == KindCall && number && config.IsE164(s.From)
}

// HandleStatus records the page call's final status: a call that was not
// answered (no-answer, busy, failed) adds an event saying so. It always
// answers 200, so Twilio does not retry.
func (p *Pager) HandleStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), webhookTimeout)
		defer cancel()
		defer func() { w.Header().Set("Content-Type", "text/xml"); fmt.Fprint(w, "<Response/>") }()
		if err := r.ParseForm(); err != nil {
			return
		}
		id, err := strconv.ParseInt(r.URL.Query().Get("page"), 10, 64)
		if err != nil {
			return
		}
		pg, err := p.find(ctx, id)
		if err != nil {
			p.log.Warn().Err(err).Int64("page", id).Msg("page call status")
			return
		}
		status := r.PostForm.Get("CallStatus")
		if err := p.setCallStatus(ctx, id, status); err != nil {
			p.log.Error().Err(err).Int64("page", id).Msg("page call status")
		}
		types := map[string]incident.EventType{"no-answer": incident.EventNoAnswer, "busy": incident.EventBusy, "failed": incident.EventFailed}
		if t, ok := types[status]; ok {
			p.event(ctx, pg, t, p.now(), "page call: "+status, "status")
		}
	})
}

// load reads the page a webhook is for, its incident and the config; on
// failure it has answered TwiML and reports false.
func (p *Pager) load(ctx context.Context, w http.ResponseWriter, r *http.Request) (row, Subject, *config.Config, bool) {
	cfg := p.chains.Config()
	if err := r.ParseForm(); err != nil {
		p.sorry(w, cfg, err, "read the request")
		return row{}, Subject{}, nil, false
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("page"), 10, 64)
	if err != nil {
		p.sorry(w, cfg, fmt.Errorf("%w: %q", ErrNoPage, r.URL.Query().Get("page")), "read the page")
		return row{}, Subject{}, nil, false
	}
	pg, err := p.find(ctx, id)
	if err != nil {
		p.sorry(w, cfg, err, "read the page")
		return row{}, Subject{}, nil, false
	}
	s, err := p.subjects.Subject(ctx, pg.incident)
	if err != nil {
		p.sorry(w, cfg, err, "read the incident")
		return row{}, Subject{}, nil, false
	}
	return pg, s, cfg, true
}

// menu is a Gather of the keys, after `first`.
func (p *Pager) menu(cfg *config.Config, pg row, s Subject, first ...twiml.Element) twiml.VoiceGather {
	keys := "Press 1 to acknowledge, 2 to hear it again, 3 to page the next engineer now, "
	if callable(s) {
		keys += "4 to call the caller back, "
	}
	return twiml.VoiceGather{
		Input:         "dtmf",
		NumDigits:     "1",
		Timeout:       strconv.Itoa(keyWait),
		Action:        p.pageURL(PathKey, pg.id),
		InnerElements: append(first, say(cfg, keys+"or 9 to resolve.")),
	}
}

// event adds one event of the page to its incident's timeline, once per
// page and name.
func (p *Pager) event(ctx context.Context, pg row, t incident.EventType, at time.Time, detail, name string) {
	ev := incident.Event{At: at, Type: t, Engineer: pg.engineer, EngineerName: pg.name, EngineerPhone: pg.phone,
		Detail: detail, Key: "page-" + strconv.FormatInt(pg.id, 10) + "-" + name}
	if err := p.subjects.AddEvent(ctx, pg.incident, ev); err != nil {
		p.log.Error().Err(err).Int64("incident", pg.incident).Str("event", string(t)).Msg("record page event")
	}
}

// sorry answers a webhook that failed inside: the engineer hears that
// paging goes on, never an error page.
func (p *Pager) sorry(w http.ResponseWriter, cfg *config.Config, err error, what string) {
	p.log.Error().Err(err).Str("doing", what).Msg("page call webhook")
	p.write(w, say(cfg, "Sorry, hotline could not "+what+" just now. You will be paged again."), twiml.VoiceHangup{})
}

// say speaks English text; the line's voice is used when its language is
// English (or unset), since the page's words are English.
func say(cfg *config.Config, text string) twiml.VoiceSay {
	s := twiml.VoiceSay{Message: text}
	if cfg != nil && (cfg.Hotline.Language == "" || strings.HasPrefix(cfg.Hotline.Language, "en")) {
		s.Voice, s.Language = cfg.Hotline.Voice, cfg.Hotline.Language
	}
	return s
}

// write renders verbs as TwiML; should rendering fail, the engineer still
// hears something.
func (p *Pager) write(w http.ResponseWriter, verbs ...twiml.Element) {
	doc, err := twiml.Voice(verbs)
	if err != nil {
		p.log.Error().Err(err).Msg("render page twiml")
		doc = `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, hotline could not read this page.</Say></Response>`
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, doc)
}
