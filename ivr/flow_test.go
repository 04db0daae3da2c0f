package ivr

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
)

const flowConfig = `
hotline:
  number: "+18005550100"
  timezone: "UTC"
  greeting: "Welcome to Acme."
menu:
  attempts: 2
  timeout: 5s
  default: "1"
  options:
    - digit: "1"
      label: "an outage"
      team: ops
    - digit: "2"
      label: "billing"
      team: billing
teams:
  - id: ops
    name: "Operations"
    escalation:
      - engineer: alice
        timeout: 15s
      - engineer: bob
  - id: billing
    voicemail: false
    escalation:
      - engineer: bob
engineers:
  - id: alice
    name: "Alice Adams"
    phone: "+15555550101"
  - id: bob
    name: "Bob Brown"
    phone: "+15555550102"
`

// node is a parsed TwiML element.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n node) verbs() []string {
	var out []string
	for _, c := range n.Children {
		out = append(out, c.XMLName.Local)
	}
	return out
}

func (n node) find(name string) (node, bool) {
	for _, c := range n.Children {
		if c.XMLName.Local == name {
			return c, true
		}
	}
	return node{}, false
}

// fakeRecorder keeps events in memory.
type fakeRecorder struct {
	mu      sync.Mutex
	events  []incident.Event
	updates []incident.Update
	started []incident.Incident
	err     error
}

func (f *fakeRecorder) StartIncident(_ context.Context, in incident.Incident, first incident.Event) (int64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, in)
	f.events = append(f.events, first)
	return 1, true, f.err
}

func (f *fakeRecorder) Record(_ context.Context, _ string, u incident.Update, evs ...incident.Event) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	f.updates = append(f.updates, u)
	f.events = append(f.events, evs...)
	return true, nil
}

// EventType finds the last recorded event with key, whatever the call.
func (f *fakeRecorder) EventType(_ context.Context, _, key string) (incident.EventType, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.events) - 1; i >= 0; i-- {
		if f.events[i].Key == key {
			return f.events[i].Type, nil
		}
	}
	return "", f.err
}

// testToken is the auth token of the flows under test: it keys their call
// states.
const testToken = "flow-test-token"

// stateQuery is the query of a hotline URL carrying st, as the flow writes it.
func stateQuery(f *Flow, st callState) string {
	return f.sealState(st)
}

func newTestFlow(t *testing.T) (*Flow, *fakeRecorder) {
	t.Helper()
	cfg, err := config.ParseConfig("flow.yaml", []byte(flowConfig))
	if err != nil {
		t.Fatal(err)
	}
	rec := &fakeRecorder{}
	now := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	return NewFlow(FlowDeps{Router: routing.NewRouter(cfg, nil), Incidents: rec, PublicURL: "https://hotline.example.com", AuthToken: testToken, Now: now, Log: zerolog.Nop()}), rec
}

// post calls h as the signature middleware would leave the request: forms
// parsed.
func post(t *testing.T, h http.Handler, target string, form url.Values) node {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := req.ParseForm(); err != nil {
		t.Fatal(err)
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	if rr.Code != http.StatusOK {
		t.Fatalf("%s: status %d", target, rr.Code)
	}
	if ct := rr.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("%s: content type %q", target, ct)
	}
	body, _ := io.ReadAll(rr.Body)
	var doc node
	if err := xml.Unmarshal(body, &doc); err != nil || doc.XMLName.Local != "Response" {
		t.Fatalf("%s: not TwiML: %v\n%s", target, err, body)
	}
	return doc
}

func TestIncomingGreetsAndOffersMenu(t *testing.T) {
	f, rec := newTestFlow(t)
	doc := post(t, f.HandleIncoming(), "/twilio/voice", url.Values{"CallSid": {"CA1"}, "From": {"+15555550123"}, "To": {"+18005550100"}})
	if got := strings.Join(doc.verbs(), ","); got != "Say,Gather,Redirect" {
		t.Fatalf("verbs %s, want Say,Gather,Redirect", got)
	}
	if doc.Children[0].Text != "Welcome to Acme." {
		t.Errorf("greeting %q", doc.Children[0].Text)
	}
	g := doc.Children[1]
	if g.attr("numDigits") != "1" || g.attr("timeout") != "5" || !strings.HasPrefix(g.attr("action"), "https://hotline.example.com/twilio/menu?") {
		t.Errorf("gather attrs %v", g.Attrs)
	}
	if len(g.Children) < 2 || g.Children[0].Text != "For an outage, press 1." || g.Children[1].Text != "For billing, press 2." {
		t.Errorf("menu options %+v", g.Children)
	}
	if len(rec.started) != 1 || rec.started[0].ConfigRevision == "" {
		t.Errorf("incident not started with a config revision: %+v", rec.started)
	}
}

func TestMenuDigitDialsFirstStepWithWhisper(t *testing.T) {
	f, rec := newTestFlow(t)
	doc := post(t, f.HandleMenu(), "/twilio/menu?attempt=1&plays=1", url.Values{"CallSid": {"CA1"}, "Digits": {"1"}, "From": {"+15555550123"}})
	dial, ok := doc.find("Dial")
	if !ok {
		t.Fatalf("no Dial: %v", doc.verbs())
	}
	if dial.attr("timeout") != "15" || dial.attr("callerId") != "+18005550100" || !strings.Contains(dial.attr("action"), "/twilio/dial?") {
		t.Errorf("dial attrs %v", dial.Attrs)
	}
	num, ok := dial.find("Number")
	if !ok || strings.TrimSpace(num.Text) != "+15555550101" || !strings.Contains(num.attr("url"), "/twilio/whisper?") {
		t.Errorf("number %+v", num)
	}
	var types []string
	for _, e := range rec.events {
		types = append(types, string(e.Type))
	}
	if strings.Join(types, ",") != "menu,route,ring" {
		t.Errorf("events %v", types)
	}
}

func TestMenuNoInputReplaysThenDefaults(t *testing.T) {
	f, _ := newTestFlow(t)
	doc := post(t, f.HandleMenu(), "/twilio/menu?attempt=1&plays=1", url.Values{"CallSid": {"CA1"}})
	if _, ok := doc.find("Gather"); !ok {
		t.Fatalf("first miss should replay the menu: %v", doc.verbs())
	}
	doc = post(t, f.HandleMenu(), "/twilio/menu?attempt=2&plays=2", url.Values{"CallSid": {"CA1"}})
	if _, ok := doc.find("Dial"); !ok {
		t.Fatalf("after menu.attempts plays the default team should ring: %v", doc.verbs())
	}
}

func TestWhisperOnlyBridgesOnOne(t *testing.T) {
	f, _ := newTestFlow(t)
	st := callState{Team: "ops", Chain: []routing.Step{{Engineer: "alice", Phone: "+15555550101", Timeout: 15 * time.Second}}, From: "+15555550123"}
	q := stateQuery(f, st)
	doc := post(t, f.HandleWhisper(), "/twilio/whisper?"+q, url.Values{"CallSid": {"CAchild"}, "ParentCallSid": {"CA1"}})
	if got := strings.Join(doc.verbs(), ","); got != "Gather,Gather,Hangup" {
		t.Fatalf("whisper verbs %s, want Gather,Gather,Hangup (the prompt, its repeat after a pause; silence must not bridge)", got)
	}
	first, again := doc.Children[0], doc.Children[1]
	if got := strings.Join(texts(first), " | "); !strings.HasPrefix(got, "Support call for Operations from 1 5 5 5") || strings.Count(got, "Press 1") != 1 {
		t.Errorf("before the first pause the engineer hears %q: want who is calling and the instruction once", got)
	}
	if got := strings.Join(texts(again), " | "); got != "Press 1 to accept the call, 2 to decline." {
		t.Errorf("after the pause the engineer hears %q, want the instruction repeated", got)
	}
	if first.attr("action") != again.attr("action") || !strings.Contains(first.attr("action"), "/twilio/whisper/answer?") {
		t.Errorf("a key in either Gather must reach the answer: %q, %q", first.attr("action"), again.attr("action"))
	}
	if first.attr("numDigits") != "1" || again.attr("numDigits") != "1" {
		t.Errorf("numDigits %q, %q, want 1", first.attr("numDigits"), again.attr("numDigits"))
	}
	if wait := atoi(t, first.attr("timeout")) + atoi(t, again.attr("timeout")); wait != 8 {
		t.Errorf("the engineer has %d s of silence in all to press a key, want 8", wait)
	}
	accept := post(t, f.HandleWhisperAnswer(), "/twilio/whisper/answer?"+q, url.Values{"CallSid": {"CAchild"}, "ParentCallSid": {"CA1"}, "Digits": {"1"}})
	if _, hung := accept.find("Hangup"); hung {
		t.Errorf("pressing 1 must end the whisper normally (bridge): %v", accept.verbs())
	}
	decline := post(t, f.HandleWhisperAnswer(), "/twilio/whisper/answer?"+q, url.Values{"CallSid": {"CAchild"}, "ParentCallSid": {"CA1"}, "Digits": {"2"}})
	if _, hung := decline.find("Hangup"); !hung {
		t.Errorf("pressing 2 must hang up the leg: %v", decline.verbs())
	}
}

func TestDialDoneUsesDialBridged(t *testing.T) {
	f, _ := newTestFlow(t)
	st := callState{Team: "ops", Chain: []routing.Step{
		{Engineer: "alice", Phone: "+15555550101", Timeout: 15 * time.Second},
		{Engineer: "bob", Phone: "+15555550102", Timeout: 20 * time.Second},
	}}
	q := stateQuery(f, st)
	// completed but not bridged: a voicemail answered; ring the next step.
	doc := post(t, f.HandleDialDone(), "/twilio/dial?"+q, url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "DialCallStatus": {"completed"}, "DialBridged": {"false"}})
	dial, ok := doc.find("Dial")
	if !ok {
		t.Fatalf("not bridged must escalate: %v", doc.verbs())
	}
	if num, _ := dial.find("Number"); strings.TrimSpace(num.Text) != "+15555550102" {
		t.Errorf("next step rings %q, want bob", num.Text)
	}
	if doc.Children[0].XMLName.Local != "Say" || !strings.Contains(doc.Children[0].Text, "Still trying") {
		t.Errorf("caller should hear 'still trying' between steps: %v", doc.verbs())
	}
	doc = post(t, f.HandleDialDone(), "/twilio/dial?"+q, url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "DialCallStatus": {"completed"}, "DialBridged": {"true"}})
	if got := strings.Join(doc.verbs(), ","); got != "Hangup" {
		t.Errorf("bridged call ends: %s", got)
	}
}

func TestEndOfChain(t *testing.T) {
	f, _ := newTestFlow(t)
	st := callState{Team: "ops", Chain: []routing.Step{{Engineer: "alice", Phone: "+15555550101", Timeout: 15 * time.Second}}}
	doc := post(t, f.HandleDialDone(), "/twilio/dial?"+stateQuery(f, st), url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "DialCallStatus": {"no-answer"}})
	rec, ok := doc.find("Record")
	if !ok {
		t.Fatalf("voicemail team should record: %v", doc.verbs())
	}
	if rec.attr("maxLength") != "119" || rec.attr("transcribe") != "true" || rec.attr("transcribeCallback") == "" {
		t.Errorf("record attrs %v", rec.Attrs)
	}
	st.Team = "billing"
	doc = post(t, f.HandleDialDone(), "/twilio/dial?"+stateQuery(f, st), url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "DialCallStatus": {"busy"}})
	if got := strings.Join(doc.verbs(), ","); got != "Say,Hangup" {
		t.Errorf("no-voicemail team: %s, want an apology and hang-up", got)
	}
}

func TestDatabaseErrorStillRings(t *testing.T) {
	f, rec := newTestFlow(t)
	rec.err = context.DeadlineExceeded
	doc := post(t, f.HandleMenu(), "/twilio/menu?attempt=1&plays=1", url.Values{"CallSid": {"CA1"}, "Digits": {"1"}})
	if _, ok := doc.find("Dial"); !ok {
		t.Fatalf("a failing database must not stop the call: %v", doc.verbs())
	}
}

// oneOptionConfig is a line with a single option and a Spanish block.
const oneOptionConfig = `
hotline:
  number: "+18005550100"
  timezone: "UTC"
  greeting: "Welcome to Acme."
menu:
  timeout: 6s
  options:
    - digit: "1"
      label: "an outage"
      team: ops
teams:
  - id: ops
    name: "Operations"
    escalation:
      - engineer: alice
        timeout: 15s
engineers:
  - id: alice
    name: "Alice Adams"
    phone: "+15555550101"
`

const spanishBlock = `
languages:
  - code: es-MX
    digit: "9"
    voice: "Polly.Mia"
    greeting: "Gracias por llamar a Acme."
    prompts:
      language_offer: "Para español, oprima {digit}."
      still_trying: "Seguimos buscando a un ingeniero."
    menu:
      "1": "una caída"
`

// fixedAnnouncer serves the same announcements at any time.
type fixedAnnouncer []announce.Announcement

func (a fixedAnnouncer) ActiveAnnouncements(context.Context, time.Time) ([]announce.Announcement, error) {
	return a, nil
}

func newOneOptionFlow(t *testing.T, languages bool, announcements ...string) (*Flow, *fakeRecorder) {
	t.Helper()
	src := oneOptionConfig
	if languages {
		src += spanishBlock
	}
	cfg, err := config.ParseConfig("one.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var list fixedAnnouncer
	for i, m := range announcements {
		list = append(list, announce.Announcement{ID: int64(i + 1), Message: m})
	}
	rec := &fakeRecorder{}
	now := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	return NewFlow(FlowDeps{Router: routing.NewRouter(cfg, nil), Incidents: rec, Announcer: list, PublicURL: "https://hotline.example.com", AuthToken: testToken, Now: now, Log: zerolog.Nop()}), rec
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

func texts(n node) []string {
	var out []string
	for _, c := range n.Children {
		out = append(out, strings.TrimSpace(c.Text))
	}
	return out
}

// relative turns an absolute hotline URL from TwiML into the path and query
// a handler is called with.
func relative(t *testing.T, abs string) string {
	t.Helper()
	u, err := url.Parse(abs)
	if err != nil || u.Host != "hotline.example.com" {
		t.Fatalf("URL %q is not hotline's", abs)
	}
	return u.RequestURI()
}

func TestOneOptionPlaysAnnouncementInGatherThenRoutes(t *testing.T) {
	f, rec := newOneOptionFlow(t, false, "We are aware of the outage in us-east.")
	doc := post(t, f.HandleIncoming(), "/twilio/voice", url.Values{"CallSid": {"CA1"}, "From": {"+15555550123"}})
	if got := strings.Join(doc.verbs(), ","); got != "Say,Gather,Redirect" {
		t.Fatalf("verbs %s, want the greeting, the announcement in a Gather, then a Redirect", got)
	}
	if doc.Children[0].Text != "Welcome to Acme." {
		t.Errorf("greeting %q", doc.Children[0].Text)
	}
	g := doc.Children[1]
	if got := strings.Join(texts(g), " | "); got != "An announcement. To skip it, press 0. | We are aware of the outage in us-east." {
		t.Errorf("gather says %q, want the skip prompt and the announcement (and no menu)", got)
	}
	if g.attr("numDigits") != "1" || g.attr("timeout") != "1" {
		t.Errorf("gather attrs %v: one key, and no long wait when there is nothing to choose", g.Attrs)
	}
	redirect := strings.TrimSpace(doc.Children[2].Text)
	if g.attr("action") != redirect || !strings.Contains(redirect, "/twilio/menu?") {
		t.Errorf("gather action %q and redirect %q should both reach the menu handler", g.attr("action"), redirect)
	}
	if _, ok := doc.find("Dial"); ok || len(rec.events) != 1 {
		t.Errorf("nothing is rung before the announcement is heard: events %+v", rec.events)
	}
	for _, c := range []struct{ name, digits string }{
		{"no key (the Redirect)", ""},
		{"0 skips", "0"},
		{"another key", "5"},
		{"star", "*"},
	} {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{"CallSid": {"CA1"}, "From": {"+15555550123"}}
			if c.digits != "" {
				form.Set("Digits", c.digits)
			}
			doc := post(t, f.HandleMenu(), relative(t, redirect), form)
			dial, ok := doc.find("Dial")
			if !ok {
				t.Fatalf("verbs %v, want the only option rung", doc.verbs())
			}
			if num, _ := dial.find("Number"); strings.TrimSpace(num.Text) != "+15555550101" {
				t.Errorf("rings %q, want alice", num.Text)
			}
			if _, ok := doc.find("Gather"); ok {
				t.Errorf("the announcement (or a menu) is offered again: %v", doc.verbs())
			}
		})
	}
}

func TestOneOptionOffersLanguage(t *testing.T) {
	f, rec := newOneOptionFlow(t, true)
	doc := post(t, f.HandleIncoming(), "/twilio/voice", url.Values{"CallSid": {"CA1"}, "From": {"+15555550123"}})
	g, ok := doc.find("Gather")
	if !ok {
		t.Fatalf("verbs %v: the language offer needs a Gather", doc.verbs())
	}
	if got := strings.Join(texts(g), " | "); got != "Para español, oprima 9." {
		t.Errorf("gather says %q, want only the language offer", got)
	}
	if g.Children[0].attr("language") != "es-MX" || g.attr("timeout") != "6" {
		t.Errorf("offer language %q, timeout %q: want es-MX and menu.timeout", g.Children[0].attr("language"), g.attr("timeout"))
	}
	doc = post(t, f.HandleMenu(), relative(t, g.attr("action")), url.Values{"CallSid": {"CA1"}, "From": {"+15555550123"}, "Digits": {"9"}})
	if got := strings.Join(doc.verbs(), ","); got != "Say,Dial" {
		t.Fatalf("after 9: %s, want the Spanish greeting then the ring", got)
	}
	if s := doc.Children[0]; s.Text != "Gracias por llamar a Acme." || s.attr("language") != "es-MX" {
		t.Errorf("after 9 heard %q in %q", s.Text, s.attr("language"))
	}
	dial, _ := doc.find("Dial")
	if st, ok := f.openState(strings.TrimPrefix(relative(t, dial.attr("action")), "/twilio/dial?s=")); !ok || st.Lang != "es-MX" {
		t.Errorf("the dial action %q does not carry the language (%+v, %t), so 'still trying' and voicemail would not be Spanish", dial.attr("action"), st, ok)
	}
	var types []string
	for _, e := range rec.events {
		types = append(types, string(e.Type)+":"+e.Detail)
	}
	if got := strings.Join(types, ","); !strings.Contains(got, "language:es-MX") || !strings.Contains(got, "route:") {
		t.Errorf("events %s, want the language then the route", got)
	}
}

func TestOneOptionWithNothingToSayRoutesAtOnce(t *testing.T) {
	f, _ := newOneOptionFlow(t, false)
	doc := post(t, f.HandleIncoming(), "/twilio/voice", url.Values{"CallSid": {"CA1"}, "From": {"+15555550123"}})
	if got := strings.Join(doc.verbs(), ","); got != "Say,Dial" {
		t.Fatalf("verbs %s, want the greeting then the ring (no needless Gather)", got)
	}
}

// TestDialDoneWithoutDialBridged: a Dial action without DialBridged (an
// optional parameter) is decided by the step's whisper key: an accept was
// bridged, so the call is answered and nobody else is rung; a decline, or
// no key at all, rings the next step.
func TestDialDoneWithoutDialBridged(t *testing.T) {
	st := callState{Team: "ops", Call: "CA1", Chain: []routing.Step{
		{Engineer: "alice", Phone: "+15555550101", Timeout: 15 * time.Second},
		{Engineer: "bob", Phone: "+15555550102", Timeout: 20 * time.Second},
	}}
	form := url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "DialCallStatus": {"completed"}}
	for _, tc := range []struct {
		name   string
		key    incident.EventType
		bridge bool
	}{{"accepted", incident.EventAccepted, true}, {"declined", incident.EventDeclined, false}, {"no key", "", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newTestFlow(t)
			if tc.key != "" {
				rec.events = append(rec.events, incident.Event{Type: tc.key, Key: st.key("whisper")})
			}
			doc := post(t, f.HandleDialDone(), "/twilio/dial?"+stateQuery(f, st), form)
			if !tc.bridge {
				if _, ok := doc.find("Dial"); !ok {
					t.Errorf("not bridged must escalate: %v", doc.verbs())
				}
				for _, u := range rec.updates {
					if u.Status == incident.StatusAnswered {
						t.Errorf("answered without an accept: %+v", u)
					}
				}
				return
			}
			if got := strings.Join(doc.verbs(), ","); got != "Hangup" {
				t.Errorf("an accepted step ends the call: %s", got)
			}
			if len(rec.updates) != 1 || rec.updates[0].Status != incident.StatusAnswered || rec.updates[0].AnsweredBy != "alice" || rec.updates[0].Supersedes != hangupKey {
				t.Errorf("updates %+v", rec.updates)
			}
		})
	}
}
