package page

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/notify"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/store"
)

const (
	testSID     = "AC0123456789abcdef0123456789abcdef"
	testToken   = "0123456789abcdef0123456789abcdef"
	testPublic  = "https://hotline.example.com"
	support     = "+18005550100"
	alicePhone  = "+15555550101"
	bobPhone    = "+15555550102"
	emergency   = "+15555550199"
	callerPhone = "+15555550150"
)

// testConfig is a line whose team ops pages alice, then bob, twice over
// (repeat 1), every 5 minutes, then the emergency number.
const testConfig = `hotline:
  number: "+18005550100"
  timezone: "America/New_York"
  greeting: "Thanks for calling."
  emergency_number: "+15555550199"
  outbound_calls_per_second: 100
menu:
  options:
    - {digit: "1", label: "an outage", team: ops}
teams:
  - id: ops
    name: Operations
    repeat: 1
    follow_up: {ack_timeout: 5m}
    escalation:
      - engineer: alice
      - engineer: bob
engineers:
  - {id: alice, name: Alice Adams, phone: "+15555550101"}
  - {id: bob, name: Bob Brown, phone: "+15555550102"}
`

// clock is the tests' one clock; nothing in them reads the real one but
// the call rate limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// subjects is an in-memory Subjects.
type subjects struct {
	mu     sync.Mutex
	byID   map[int64]*Subject
	events map[int64][]incident.Event
	keys   map[string]bool
	how    map[int64]string // "by/how" of the last acknowledgement or resolution
}

func newSubjects() *subjects {
	return &subjects{byID: map[int64]*Subject{}, events: map[int64][]incident.Event{}, keys: map[string]bool{}, how: map[int64]string{}}
}

func (s *subjects) add(sub Subject) { s.mu.Lock(); defer s.mu.Unlock(); s.byID[sub.ID] = &sub }

func (s *subjects) Subject(_ context.Context, id int64) (Subject, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub, ok := s.byID[id]; ok {
		return *sub, nil
	}
	return Subject{}, fmt.Errorf("no incident %d", id)
}

func (s *subjects) set(id int64, state, by, how string, at time.Time) error {
	s.mu.Lock()
	sub, ok := s.byID[id]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("no incident %d", id)
	}
	sub.State, s.how[id] = state, by+"/"+how
	s.mu.Unlock()
	t := incident.EventAcknowledged
	if state == StateResolved {
		t = incident.EventResolved
	}
	return s.AddEvent(context.Background(), id, incident.Event{At: at, Type: t, Detail: by + " by " + how, Key: state})
}

func (s *subjects) Acknowledge(_ context.Context, id int64, by, how string, at time.Time) error {
	return s.set(id, StateAcknowledged, by, how, at)
}

func (s *subjects) Resolve(_ context.Context, id int64, by, how string, at time.Time) error {
	return s.set(id, StateResolved, by, how, at)
}

func (s *subjects) AddEvent(_ context.Context, id int64, ev incident.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fmt.Sprint(id, "|", ev.Key)
	if !s.keys[k] {
		s.keys[k] = true
		s.events[id] = append(s.events[id], ev)
	}
	return nil
}

// eventsOf returns the types of an incident's events, in order.
func (s *subjects) eventsOf(id int64, t incident.EventType) []incident.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []incident.Event
	for _, ev := range s.events[id] {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

// texter is an in-memory Texter.
type texter struct {
	mu   sync.Mutex
	msgs []notify.Message
	keys map[string]bool
}

func (x *texter) Enqueue(_ context.Context, m notify.Message) (bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.keys == nil {
		x.keys = map[string]bool{}
	}
	if x.keys[m.Key] {
		return false, nil
	}
	x.keys[m.Key] = true
	x.msgs = append(x.msgs, m)
	return true, nil
}

func (x *texter) sent() []notify.Message {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]notify.Message(nil), x.msgs...)
}

// fakeTwilio is a local stand-in for Twilio's Calls API, answering as
// Twilio does: 201 and the call resource's JSON, or an error's JSON.
type fakeTwilio struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []fakeCall
	refuse map[string]bool // numbers answered with error 21211
}

// fakeCall is one Calls.json request as the fake received it.
type fakeCall struct {
	path, user, password string
	form                 url.Values
	at                   time.Time
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{refuse: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	user, pass, _ := r.BasicAuth()
	w.Header().Set("Content-Type", "application/json")
	path := "/2010-04-01/Accounts/" + testSID + "/Calls.json"
	if r.Method != http.MethodPost || r.URL.Path != path {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"code": 20404, "message": "The requested resource " + r.URL.Path + " was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404})
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{path: r.URL.Path, user: user, password: pass, form: r.PostForm, at: time.Now()})
	n := len(f.calls)
	f.mu.Unlock()
	to := r.PostForm.Get("To")
	if f.refuse[to] {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"code": 21211, "message": "Invalid 'To' Phone Number: " + to, "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})
		return
	}
	sid := fmt.Sprintf("CA%032x", n)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"account_sid": testSID, "annotation": nil, "answered_by": nil, "api_version": "2010-04-01",
		"caller_name": nil, "date_created": nil, "date_updated": nil, "direction": "outbound-api",
		"duration": nil, "end_time": nil, "forwarded_from": nil, "from": r.PostForm.Get("From"),
		"from_formatted": "(800) 555-0100", "group_sid": nil, "parent_call_sid": nil,
		"phone_number_sid": "PN0123456789abcdef0123456789abcdef", "price": nil, "price_unit": "USD",
		"queue_time": "0", "sid": sid, "start_time": nil, "status": "queued", "to": to, "to_formatted": to,
		"trunk_sid": nil, "uri": "/2010-04-01/Accounts/" + testSID + "/Calls/" + sid + ".json",
		"subresource_uris": map[string]any{
			"notifications": "/2010-04-01/Accounts/" + testSID + "/Calls/" + sid + "/Notifications.json",
			"recordings":    "/2010-04-01/Accounts/" + testSID + "/Calls/" + sid + "/Recordings.json",
		},
	})
}

// called returns the To of every call placed so far.
func (f *fakeTwilio) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = c.form.Get("To")
	}
	return out
}

// env is one pager over a database, with its fakes.
type env struct {
	t      *testing.T
	db     *store.DB
	pager  *Pager
	subj   *subjects
	texts  *texter
	twilio *fakeTwilio
	clock  *clock
	cfg    *config.Config
}

// newEnv opens dsn, migrates it and builds a pager over it with fresh
// fakes, its clock at 2026-12-01 10:00 UTC.
func newEnv(t *testing.T, dsn string) *env {
	t.Helper()
	cfg, err := config.ParseConfig("page.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, subj: newSubjects(), texts: &texter{}, twilio: newFakeTwilio(t), cfg: cfg,
		clock: &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}}
	e.db = openDB(t, dsn)
	e.pager = e.newPager(e.db)
	return e
}

// openDB opens and migrates dsn, closed when the test ends.
func openDB(t *testing.T, dsn string) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// newPager is another pager of the same line over db, sharing the env's
// fakes and clock: a second instance, or the one after a restart.
func (e *env) newPager(db *store.DB) *Pager {
	caller, err := NewTwilioCaller(TwilioConfig{AccountSID: testSID, AuthToken: testToken, BaseURL: e.twilio.srv.URL, CallsPerSecond: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return New(Deps{DB: db, Subjects: e.subj, Chains: routing.NewRouter(e.cfg, nil), Texter: e.texts, Caller: caller,
		PublicURL: testPublic, Now: e.clock.now, Log: zerolog.Nop(), Lease: time.Minute})
}

// voicemail adds an open voicemail incident from `from`, left a minute ago.
func (e *env) voicemail(id int64, from string) {
	e.subj.add(Subject{ID: id, Kind: KindCall, State: StateOpen, Team: "ops", From: from, CallerName: "Globex",
		Transcript: "The API & the site are down since noon.", RecordingURL: "https://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Recordings/RE1",
		StartedAt: e.clock.now().Add(-3 * time.Minute)})
}

// run calls RunOnce, failing the test on an error, and returns how many
// pages it placed.
func (e *env) run(p *Pager) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := p.RunOnce(ctx)
	if err != nil {
		e.t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// node is a TwiML element, read generically: TwiML's attribute order
// varies, so tests assert on verbs and attributes, never bytes.
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

// find returns every element named name, depth first.
func (n node) find(name string) []node {
	var out []node
	if n.XMLName.Local == name {
		out = append(out, n)
	}
	for _, c := range n.Children {
		out = append(out, c.find(name)...)
	}
	return out
}

// said is everything the document says, joined.
func (n node) said() string {
	var b []string
	for _, s := range n.find("Say") {
		b = append(b, strings.TrimSpace(s.Text))
	}
	return strings.Join(b, " ")
}

// webhook posts form to one of the page call's handlers for page id and
// returns the parsed TwiML; every answer must be 200 text/xml.
func (e *env) webhook(h http.Handler, path string, id int64, form url.Values) node {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("%s?page=%d", path, id), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/xml") {
		e.t.Fatalf("%s: %d %q %s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var doc node
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		e.t.Fatalf("%s: %v\n%s", path, err, rec.Body)
	}
	return doc
}

// pageID is the id of the last page placed to `to`, from its call's URL.
func (e *env) pageID(to string) int64 {
	e.t.Helper()
	e.twilio.mu.Lock()
	defer e.twilio.mu.Unlock()
	for i := len(e.twilio.calls) - 1; i >= 0; i-- {
		c := e.twilio.calls[i]
		if c.form.Get("To") != to {
			continue
		}
		u, err := url.Parse(c.form.Get("Url"))
		if err != nil {
			e.t.Fatal(err)
		}
		var id int64
		fmt.Sscan(u.Query().Get("page"), &id)
		return id
	}
	e.t.Fatalf("no call to %s", to)
	return 0
}
