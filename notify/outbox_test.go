package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

const alice = "+15555550101"

// TestRetriesThenSendsOnce is the acceptance case: the API answers 500
// twice, then 201. One SMS is delivered after three attempts, spaced by the
// backoff, and calling RunOnce again sends nothing more.
func TestRetriesThenSendsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T12:00:00Z")
		o, logs := newOutbox(t, db, f, c, Options{})
		f.answer(alice, serverError(500, 20500, "Internal Server Error"), reply{status: 500, body: "<html>oops</html>"})
		start := c.Now()

		m := Message{To: alice, Body: "hotline: you took a call for Operations.", Key: "answered:1"}
		if queued, err := o.Enqueue(context.Background(), m); err != nil || !queued {
			t.Fatalf("Enqueue = %v, %v", queued, err)
		}

		if n := runOnce(t, o); n != 0 {
			t.Fatalf("first attempt sent %d, want 0 (500)", n)
		}
		r := readRow(t, db, "answered:1")
		if r.Attempts != 1 || r.Sent || r.Failed || !r.SendAfter.Equal(start.Add(10*time.Second)) {
			t.Fatalf("after one 500: %+v, want attempts 1, retry at +10s", r)
		}
		if !strings.Contains(r.LastError, "500") {
			t.Errorf("last_error %q does not give the status", r.LastError)
		}

		// Not due yet: nothing goes, however often the worker looks.
		c.Advance(9 * time.Second)
		runOnce(t, o)
		runOnce(t, o)
		if got := len(f.all()); got != 1 {
			t.Fatalf("%d requests before the backoff elapsed, want 1", got)
		}

		c.Advance(time.Second)
		runOnce(t, o)
		if r := readRow(t, db, "answered:1"); r.Attempts != 2 || !r.SendAfter.Equal(c.Now().Add(30*time.Second)) {
			t.Fatalf("after two 500s: %+v, want attempts 2, retry at +30s", r)
		}

		c.Advance(30 * time.Second)
		if n := runOnce(t, o); n != 1 {
			t.Fatalf("third attempt sent %d, want 1", n)
		}
		for range 5 {
			c.Advance(time.Hour)
			runOnce(t, o)
		}

		r = readRow(t, db, "answered:1")
		if !r.Sent || r.Failed || r.Attempts != 3 || r.SID != "SM00000000000000000000000000000003" || r.LastError != "" {
			t.Fatalf("final row %+v, want sent after 3 attempts with the SID", r)
		}
		reqs := f.all()
		if len(reqs) != 3 || f.accepted(alice) != 1 {
			t.Fatalf("%d requests, %d accepted; want 3 and 1", len(reqs), f.accepted(alice))
		}
		for i, req := range reqs {
			assertMessageRequest(t, i, req, alice, m.Body)
		}
		for _, secret := range []string{testToken, alice, "15555550101"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("log shows %q:\n%s", secret, logs)
			}
		}
	})
}

// assertMessageRequest checks one request is exactly a Messages API create.
func assertMessageRequest(t *testing.T, i int, req request, to, body string) {
	t.Helper()
	if req.Method != http.MethodPost || req.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Errorf("request %d: %s %s", i, req.Method, req.Path)
	}
	if !req.HasAuth || req.User != testSID || req.Password != testToken {
		t.Errorf("request %d: basic auth %q/%q (present %v)", i, req.User, req.Password, req.HasAuth)
	}
	if req.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("request %d: content type %q", i, req.ContentType)
	}
	want := map[string]string{"To": to, "From": testFrom, "Body": body}
	if len(req.Form) != len(want) {
		t.Errorf("request %d: form fields %v, want exactly To, From, Body", i, req.Form)
	}
	for k, v := range want {
		if got := req.Form[k]; len(got) != 1 || got[0] != v {
			t.Errorf("request %d: %s = %q, want %q", i, k, got, v)
		}
	}
}

// TestConcurrentWorkersSendEachOnce runs several RunOnce calls at once
// while every message fails twice: each is still delivered exactly once.
func TestConcurrentWorkersSendEachOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T12:00:00Z")
		o, _ := newOutbox(t, db, f, c, Options{Batch: 2})
		other, _ := newOutbox(t, db, f, c, Options{Batch: 3}) // a second instance
		var numbers []string
		for i := range 6 {
			to := fmt.Sprintf("+1555555020%d", i)
			numbers = append(numbers, to)
			f.answer(to, serverError(500, 20500, "boom"), serverError(503, 20503, "busy"))
			if _, err := o.Enqueue(context.Background(), Message{To: to, Body: "hello " + to, Key: "k" + to}); err != nil {
				t.Fatal(err)
			}
		}
		for range 12 {
			var wg sync.WaitGroup
			for _, w := range []*Outbox{o, o, o, other, other, other} {
				wg.Go(func() {
					if _, err := w.RunOnce(context.Background()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			c.Advance(time.Minute)
		}
		for _, to := range numbers {
			if got := f.accepted(to); got != 1 {
				t.Errorf("%s: %d messages delivered, want 1", to, got)
			}
			if r := readRow(t, db, "k"+to); !r.Sent || r.Attempts != 3 {
				t.Errorf("%s: %+v, want sent after 3 attempts", to, r)
			}
		}
		if got := len(f.all()); got != 3*len(numbers) {
			t.Errorf("%d requests, want %d", got, 3*len(numbers))
		}
	})
}

// TestClientErrorIsPermanent: a 400 (a bad number) is recorded as a
// failure and never tried again.
func TestClientErrorIsPermanent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T12:00:00Z")
		o, logs := newOutbox(t, db, f, c, Options{})
		bad := "+15555550999"
		f.answer(bad, serverError(400, 21211, "The 'To' number "+bad+" is not a valid phone number."))
		if _, err := o.Enqueue(context.Background(), Message{To: bad, Body: "hi", Key: "x"}); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			runOnce(t, o)
			c.Advance(time.Hour)
		}
		r := readRow(t, db, "x")
		if !r.Failed || r.Sent || r.Attempts != 1 || !strings.Contains(r.LastError, "21211") {
			t.Fatalf("row %+v, want failed after 1 attempt with Twilio's code", r)
		}
		if strings.Contains(r.LastError, bad) || strings.Contains(logs.String(), bad) {
			t.Errorf("the full number leaked: %q / %s", r.LastError, logs)
		}
		if got := len(f.all()); got != 1 {
			t.Fatalf("%d requests, want 1", got)
		}
	})
}

// TestRetryAfterAndGivingUp: a 429's Retry-After stretches the wait, and a
// message that keeps failing is marked failed after MaxAttempts.
func TestRetryAfterAndGivingUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T12:00:00Z")
		o, _ := newOutbox(t, db, f, c, Options{MaxAttempts: 3})
		tooMany := serverError(429, 20429, "Too Many Requests")
		tooMany.retryAfter = "90"
		f.answer(alice, tooMany, serverError(502, 0, "bad gateway"), serverError(500, 0, "down"))
		if _, err := o.Enqueue(context.Background(), Message{To: alice, Body: "hi", Key: "y"}); err != nil {
			t.Fatal(err)
		}
		runOnce(t, o)
		if r := readRow(t, db, "y"); !r.SendAfter.Equal(c.Now().Add(90 * time.Second)) {
			t.Fatalf("after a 429 with Retry-After 90: retry at %v, want +90s", r.SendAfter.Sub(c.Now()))
		}
		for range 6 {
			c.Advance(time.Hour)
			runOnce(t, o)
		}
		r := readRow(t, db, "y")
		if !r.Failed || r.Attempts != 3 || !strings.Contains(r.LastError, "gave up after 3 attempts") {
			t.Fatalf("row %+v, want failed after 3 attempts", r)
		}
		if f.accepted(alice) != 0 || len(f.all()) != 3 {
			t.Fatalf("%d requests, %d accepted; want 3, 0", len(f.all()), f.accepted(alice))
		}
	})
}

// TestNetworkErrorIsRetried: no answer at all is a transient failure.
func TestNetworkErrorIsRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, c := openDB(t, dsn), newClock("2027-03-01T12:00:00Z")
		sender, err := NewTwilio(TwilioConfig{AccountSID: testSID, AuthToken: testToken, From: testFrom,
			BaseURL: "http://127.0.0.1:1", Transport: failing{}})
		if err != nil {
			t.Fatal(err)
		}
		o := New(db, sender, c.Now, discard(), Options{})
		if _, err := o.Enqueue(context.Background(), Message{To: alice, Body: "hi", Key: "z"}); err != nil {
			t.Fatal(err)
		}
		runOnce(t, o)
		r := readRow(t, db, "z")
		if r.Failed || r.Sent || r.Attempts != 1 || !r.SendAfter.Equal(c.Now().Add(10*time.Second)) {
			t.Fatalf("row %+v, want a retry in 10s", r)
		}
	})
}

// failing is a transport with no network.
type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// TestEnqueueIsIdempotent: the same key twice queues one message; a
// Replace rewrites a waiting message but not a sent one.
func TestEnqueueIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T12:00:00Z")
		o, _ := newOutbox(t, db, f, c, Options{})
		ctx := context.Background()
		m := Message{To: alice, Body: "first", Key: "answered:7"}
		if q, err := o.Enqueue(ctx, m); !q || err != nil {
			t.Fatalf("first Enqueue = %v, %v", q, err)
		}
		m.Body = "second"
		if q, err := o.Enqueue(ctx, m); q || err != nil {
			t.Fatalf("second Enqueue = %v, %v; want false, nil", q, err)
		}
		if n := count(t, db); n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}

		vm := Message{To: alice, Body: "no transcript yet", Key: "voicemail:7", NotBefore: c.Now().Add(3 * time.Minute), Replace: true}
		o.Enqueue(ctx, vm)
		vm.Body, vm.NotBefore = "with transcript", time.Time{}
		if q, err := o.Enqueue(ctx, vm); !q || err != nil {
			t.Fatalf("replacing Enqueue = %v, %v", q, err)
		}
		if n := runOnce(t, o); n != 2 {
			t.Fatalf("sent %d, want 2", n)
		}
		vm.Body = "late"
		if q, _ := o.Enqueue(ctx, vm); q {
			t.Fatal("a sent message was replaced")
		}
		reqs := f.all()
		if len(reqs) != 2 || reqs[0].Form.Get("Body") != "first" || reqs[1].Form.Get("Body") != "with transcript" {
			t.Fatalf("sent %v", reqs)
		}
	})
}

// TestEnqueueRefusesBadMessages: no key, no text or a non-E.164 number.
func TestEnqueueRefusesBadMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T12:00:00Z")
		o, _ := newOutbox(t, db, f, c, Options{})
		for _, m := range []Message{
			{To: alice, Body: "x"},
			{To: alice, Key: "k"},
			{To: "5555550101", Body: "x", Key: "k"},
			{To: "+1555-555", Body: "x", Key: "k"},
			{To: alice, Body: strings.Repeat("x", 1601), Key: "k"},
		} {
			if _, err := o.Enqueue(context.Background(), m); !errors.Is(err, ErrInvalid) {
				t.Errorf("Enqueue(%+v) = %v, want ErrInvalid", m, err)
			}
		}
		if n := count(t, db); n != 0 {
			t.Fatalf("%d rows queued", n)
		}
	})
}

// TestEnqueueAllTx: a storm's texts go in a few multi-row statements and
// end up as one EnqueueTx each would leave them: a key already queued is
// not queued again (nor twice within the batch), an invalid message is
// reported and skipped, a replacing message replaces, a delayed one waits.
func TestEnqueueAllTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T12:00:00Z")
		o, _ := newOutbox(t, db, f, c, Options{})
		ctx := context.Background()
		if _, err := o.Enqueue(ctx, Message{To: alice, Body: "queued before", Key: "answered:0"}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Enqueue(ctx, Message{To: alice, Body: "no transcript yet", Key: "voicemail:1", Replace: true}); err != nil {
			t.Fatal(err)
		}
		var msgs []Message
		for i := range 70 {
			msgs = append(msgs, Message{To: alice, Body: fmt.Sprintf("call %d", i), Key: fmt.Sprintf("answered:%d", i)})
			if i == 10 {
				msgs = append(msgs, Message{To: alice, Body: "twice in one statement", Key: "answered:5"})
			}
		}
		msgs = append(msgs,
			Message{To: "555", Body: "bad number", Key: "bad"},
			Message{To: alice, Body: "with transcript", Key: "voicemail:1", Replace: true},
			Message{To: alice, Body: "later", Key: "later", NotBefore: c.Now().Add(3 * time.Minute)},
		)
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ex := &countingExecer{Execer: tx}
		err = o.EnqueueAllTx(ctx, ex, msgs)
		if cerr := tx.Commit(); cerr != nil {
			t.Fatal(cerr)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("EnqueueAllTx = %v, want the bad number reported", err)
		}
		// 72 valid texts that replace nothing: INSERTs of 32, 32 and 8
		// rows; the replacing one on its own.
		if ex.n != 4 {
			t.Errorf("%d statements, want 4", ex.n)
		}
		if n := count(t, db); n != 72 { // answered:0…69, voicemail:1, later
			t.Errorf("%d rows, want 72", n)
		}
		for key, want := range map[string]string{"answered:0": "queued before", "answered:5": "call 5", "answered:69": "call 69", "voicemail:1": "with transcript"} {
			if r := readRow(t, db, key); r.Body != want || r.To != alice {
				t.Errorf("%s: %+v, want %q", key, r, want)
			}
		}
		if r := readRow(t, db, "later"); !r.SendAfter.Equal(c.Now().Add(3 * time.Minute)) {
			t.Errorf("a delayed text is due at %v", r.SendAfter)
		}
	})
}

// countingExecer counts the statements run through it.
type countingExecer struct {
	Execer
	n int
}

func (c *countingExecer) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.n++
	return c.Execer.ExecContext(ctx, q, args...)
}

// TestRunIsWokenByEnqueue: with an hour-long poll, only Enqueue's wake-up
// can make the worker send.
func TestRunIsWokenByEnqueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T12:00:00Z")
		o, _ := newOutbox(t, db, f, c, Options{Poll: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- o.Run(ctx) }()
		if _, err := o.Enqueue(ctx, Message{To: alice, Body: "wake up", Key: "w"}); err != nil {
			t.Fatal(err)
		}
		select {
		case req := <-f.arrived:
			if req.Form.Get("Body") != "wake up" {
				t.Errorf("sent %q", req.Form.Get("Body"))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Enqueue did not wake the worker")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		if !readRow(t, db, "w").Sent {
			t.Error("not recorded as sent")
		}
	})
}

// TestNoSender: an outbox without credentials queues but does not run.
func TestNoSender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, c := openDB(t, dsn), newClock("2027-03-01T12:00:00Z")
		o := New(db, nil, c.Now, discard(), Options{})
		if q, err := o.Enqueue(context.Background(), Message{To: alice, Body: "x", Key: "k"}); !q || err != nil {
			t.Fatalf("Enqueue = %v, %v", q, err)
		}
		if err := o.Run(context.Background()); !errors.Is(err, ErrNoSender) {
			t.Fatalf("Run = %v, want ErrNoSender", err)
		}
	})
}

// TestNewTwilioChecksConfig: credentials twilio-go would refuse, a bad
// sender or a bad base URL fail at start-up.
func TestNewTwilioChecksConfig(t *testing.T) {
	good := TwilioConfig{AccountSID: testSID, AuthToken: testToken, From: testFrom}
	for name, mod := range map[string]func(*TwilioConfig){
		"no sid":       func(c *TwilioConfig) { c.AccountSID = "" },
		"bad token":    func(c *TwilioConfig) { c.AuthToken = "abc def" },
		"bad from":     func(c *TwilioConfig) { c.From = "18005550100" },
		"relative url": func(c *TwilioConfig) { c.BaseURL = "/twilio" },
	} {
		c := good
		mod(&c)
		if _, err := NewTwilio(c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: error shows the token", name)
		}
	}
	if _, err := NewTwilio(good); err != nil {
		t.Fatal(err)
	}
}
