package notify

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "f00dfeedf00dfeedf00dfeedf00dfeed"
	testFrom  = "+18005550100"
)

// openDB opens and migrates the database at dsn (see storetest.Each).
func openDB(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dsn)
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s string) *clock {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &clock{t: t}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// request is one request the fake Messages API received.
type request struct {
	Method, Path, ContentType string
	User, Password            string
	HasAuth                   bool
	Form                      url.Values
}

// reply is one scripted answer of the fake.
type reply struct {
	status     int
	body       string
	retryAfter string
}

// fakeTwilio plays the Messages API: it records each request and answers
// with the next scripted reply for the request's To number (201 with a new
// SID once the script runs out).
type fakeTwilio struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	script   map[string][]reply
	created  map[string]int // To → messages accepted
	arrived  chan request
	// beforeAnswer, when set, runs with each accepted message's form and
	// SID before the 201 is written: a status callback that wins the race
	// with Twilio's answer.
	beforeAnswer func(form url.Values, sid string)
}

func newFakeTwilio(t testing.TB) *fakeTwilio {
	f := &fakeTwilio{script: map[string][]reply{}, created: map[string]int{}, arrived: make(chan request, 100)}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// answer scripts the replies to messages for to.
func (f *fakeTwilio) answer(to string, replies ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[to] = append(f.script[to], replies...)
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	user, pass, ok := r.BasicAuth()
	req := request{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
		User: user, Password: pass, HasAuth: ok, Form: form}
	to := form.Get("To")

	f.mu.Lock()
	f.requests = append(f.requests, req)
	rep := reply{status: http.StatusCreated}
	if s := f.script[to]; len(s) > 0 {
		rep, f.script[to] = s[0], s[1:]
	}
	var sid string
	if rep.status == http.StatusCreated {
		f.created[to]++
		sid = fmt.Sprintf("SM%032d", len(f.requests))
		// The fields of Twilio's answer to a create (its Message resource).
		var from, service any
		if v := form.Get("From"); v != "" {
			from = v
		}
		if v := form.Get("MessagingServiceSid"); v != "" {
			service = v
		}
		b, _ := json.Marshal(map[string]any{"sid": sid, "to": to, "from": from, "messaging_service_sid": service,
			"body": form.Get("Body"), "status": "queued", "account_sid": testSID, "api_version": "2010-04-01",
			"date_created": "Wed, 02 Dec 2026 01:00:00 +0000", "date_updated": "Wed, 02 Dec 2026 01:00:00 +0000",
			"date_sent": nil, "direction": "outbound-api", "error_code": nil, "error_message": nil,
			"num_media": "0", "num_segments": "1", "price": nil, "price_unit": "USD",
			"uri":              "/2010-04-01/Accounts/" + testSID + "/Messages/" + sid + ".json",
			"subresource_uris": map[string]string{"media": "/2010-04-01/Accounts/" + testSID + "/Messages/" + sid + "/Media.json"}})
		rep.body = string(b)
	}
	hook := f.beforeAnswer
	f.mu.Unlock()
	if hook != nil && sid != "" {
		hook(form, sid)
	}

	w.Header().Set("Content-Type", "application/json")
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
	select {
	case f.arrived <- req:
	default: // nobody is waiting on that many
	}
}

func (f *fakeTwilio) all() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

func (f *fakeTwilio) accepted(to string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.created[to]
}

// serverError is Twilio's JSON error body.
func serverError(status, code int, msg string) reply {
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
	return reply{status: status, body: string(b)}
}

// newOutbox returns an outbox sending to f, with its log captured in logs.
func newOutbox(t testing.TB, db *store.DB, f *fakeTwilio, c *clock, opts Options) (*Outbox, *bytes.Buffer) {
	t.Helper()
	sender, err := NewTwilio(TwilioConfig{AccountSID: testSID, AuthToken: testToken, From: testFrom, BaseURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	return New(db, sender, c.Now, zerolog.New(&syncWriter{w: logs}), opts), logs
}

// syncWriter lets concurrent workers share one log buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// row is an outbox row as the tests read it.
type row struct {
	To, Body, LastError, SID string
	Attempts                 int
	SendAfter                time.Time
	Sent, Failed             bool
}

// readRow reads the row with key.
func readRow(t testing.TB, db *store.DB, key string) row {
	t.Helper()
	var r row
	var after int64
	var sent, failed sql.NullInt64
	err := db.QueryRowContext(context.Background(), `SELECT to_number, body, last_error, twilio_sid, attempts,
		send_after, sent_at, failed_at FROM outbox WHERE dedup_key = ?`, key).
		Scan(&r.To, &r.Body, &r.LastError, &r.SID, &r.Attempts, &after, &sent, &failed)
	if err != nil {
		t.Fatalf("read outbox row %s: %v", key, err)
	}
	r.SendAfter = time.UnixMilli(after).UTC()
	r.Sent, r.Failed = sent.Valid, failed.Valid
	return r
}

// count returns the number of outbox rows.
func count(t testing.TB, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// runOnce calls RunOnce and fails the test on an error.
func runOnce(t testing.TB, o *Outbox) int {
	t.Helper()
	n, err := o.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// discard is a logger that drops everything.
func discard() zerolog.Logger { return zerolog.Nop() }
