package ivr

import (
	"context"
	"crypto/cipher"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
)

// Router is what the call flow needs from routing: the config in force and
// a team's chain at a moment.
type Router interface {
	Config() *config.Config
	Chain(ctx context.Context, team string, at time.Time) ([]routing.Step, error)
}

// Recorder is what the call flow needs from the incident log.
type Recorder interface {
	StartIncident(ctx context.Context, in incident.Incident, first incident.Event) (int64, bool, error)
	Record(ctx context.Context, callSid string, upd incident.Update, events ...incident.Event) (bool, error)
	// EventType is the type of the event with key on the call's incident,
	// "" when it has none.
	EventType(ctx context.Context, callSid, key string) (incident.EventType, error)
}

// Announcer gives the announcements to speak before the menu.
type Announcer interface {
	ActiveAnnouncements(ctx context.Context, t time.Time) ([]announce.Announcement, error)
}

// Flow holds the call flow's dependencies. Its handlers keep no per-call
// state in memory: everything a later webhook needs travels in the signed
// action URLs (sealed, see stateURL) or lives in the database, so any
// instance can take any webhook.
type Flow struct {
	router    Router
	incidents Recorder
	announcer Announcer
	publicURL string
	aead      cipher.AEAD // seals call states in URLs; see stateURL
	now       func() time.Time
	log       zerolog.Logger
	metrics   *Metrics

	mu         sync.Mutex
	lastChain  map[string][]routing.Step // last good resolution per team, for fail-open
	cachedCfg  *config.Config            // the config cachedDocs were rendered for
	cachedDocs map[string]string         // see writeCached
}

// FlowDeps is what the call flow is built from.
type FlowDeps struct {
	Router    Router    // who is on call, and the config
	Incidents Recorder  // where the call's events are written
	Announcer Announcer // announcements in force; nil: none
	// PublicURL is the base Twilio uses to reach hotline
	// (HOTLINE_PUBLIC_URL).
	PublicURL string
	// AuthToken is Twilio's (TWILIO_AUTH_TOKEN); the key sealing call
	// states in URLs is derived from it.
	AuthToken string
	Now       func() time.Time // the clock; nil: time.Now
	Log       zerolog.Logger
	Metrics   *Metrics // nil: none
}

// NewFlow returns the call flow.
func NewFlow(d FlowDeps) *Flow {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Flow{
		metrics:   d.Metrics,
		router:    d.Router,
		incidents: d.Incidents,
		announcer: d.Announcer,
		publicURL: strings.TrimRight(d.PublicURL, "/"),
		aead:      stateCipher(d.AuthToken),
		now:       d.Now,
		log:       d.Log,
		lastChain: map[string][]routing.Step{},
	}
}

// url builds an absolute hotline URL for TwiML attributes.
func (f *Flow) url(path string, q url.Values) string {
	if len(q) == 0 {
		return f.publicURL + path
	}
	return f.publicURL + path + "?" + q.Encode()
}

// writeTwiML renders verbs and writes them as text/xml.
func (f *Flow) writeTwiML(w http.ResponseWriter, verbs ...twiml.Element) {
	writeDoc(w, f.render(verbs))
}

// render renders verbs as a TwiML document. Rendering cannot fail for the
// verbs hotline builds; should it, the caller still hears something.
func (f *Flow) render(verbs []twiml.Element) string {
	doc, err := twiml.Voice(verbs)
	if err != nil {
		f.log.Error().Err(err).Msg("render twiml")
		doc = `<?xml version="1.0" encoding="UTF-8"?><Response><Say>We are sorry, please call again.</Say></Response>`
	}
	return doc
}

// writeCached writes a document that depends on nothing but the config in
// force and key (a hang-up, "connecting you now", the menu with the
// announcements named in key), rendered once per config under key.
func (f *Flow) writeCached(w http.ResponseWriter, key string, verbs func() []twiml.Element) {
	cfg := f.router.Config()
	f.mu.Lock()
	if f.cachedCfg != cfg || len(f.cachedDocs) >= maxCachedDocs {
		f.cachedCfg, f.cachedDocs = cfg, map[string]string{}
	}
	doc, ok := f.cachedDocs[key]
	f.mu.Unlock()
	if !ok {
		doc = f.render(verbs())
		f.mu.Lock()
		if f.cachedCfg == cfg {
			f.cachedDocs[key] = doc
		}
		f.mu.Unlock()
	}
	writeDoc(w, doc)
}

// maxCachedDocs bounds the rendered documents kept for one config: every
// new set of announcements adds a menu.
const maxCachedDocs = 256

// hangUp answers with a hang-up.
func (f *Flow) hangUp(w http.ResponseWriter) {
	f.writeCached(w, "hangup", func() []twiml.Element { return []twiml.Element{twiml.VoiceHangup{}} })
}

// writeEmpty answers with an empty document: nothing to do.
func (f *Flow) writeEmpty(w http.ResponseWriter) {
	f.writeCached(w, "empty", func() []twiml.Element { return nil })
}

func writeDoc(w http.ResponseWriter, doc string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, doc)
}

// sayIn speaks text in a caller's language ("" for the line's own), with
// that language's voice.
func (f *Flow) sayIn(lang, text string) twiml.VoiceSay {
	code, voice := f.router.Config().SayLanguage(lang)
	return twiml.VoiceSay{Message: text, Voice: voice, Language: code}
}

// sayLanguage is the language code for a Gather's speech settings.
func (f *Flow) sayLanguage(lang string) string {
	code, _ := f.router.Config().SayLanguage(lang)
	return code
}

// prompt is a catalogue prompt in lang, placeholders filled from pairs.
func (f *Flow) prompt(lang, key string, pairs ...string) twiml.VoiceSay {
	return f.sayIn(lang, f.router.Config().Prompt(lang, key, pairs...))
}

// parentSid is the CallSid of the customer's call: a whisper leg has its own
// CallSid and names the customer's call in ParentCallSid.
func parentSid(r *http.Request) string {
	if p := r.PostForm.Get("ParentCallSid"); p != "" {
		return p
	}
	return r.PostForm.Get("CallSid")
}

// record writes events and an update, logging (not failing on) errors: a
// database problem must never cost the caller the call.
func (f *Flow) record(ctx context.Context, callSid string, upd incident.Update, events ...incident.Event) bool {
	applied, err := f.incidents.Record(ctx, callSid, upd, events...)
	if err != nil {
		f.log.Error().Err(err).Str("call_sid", callSid).Msg("record incident event")
		return false
	}
	return applied
}

// engineerEvent returns an event about step's engineer, with the name and
// number as they are now copied onto it.
func (f *Flow) engineerEvent(typ incident.EventType, st routing.Step, detail string) incident.Event {
	name := st.Name
	if name == "" {
		if e, ok := f.router.Config().Engineer(st.Engineer); ok {
			name = e.Name
		}
	}
	return incident.Event{At: f.now(), Type: typ, Engineer: st.Engineer, EngineerName: name, EngineerPhone: st.Phone, Detail: detail}
}
