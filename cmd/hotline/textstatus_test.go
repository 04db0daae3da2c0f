package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
	"github.com/hotline-dev/hotline/web"
)

// messagesAPI is a local fake of Twilio's Messages and Calls APIs: it keeps
// each posted form and answers 201 with the JSON of a queued Message, or of
// a queued Call for Calls.json, a new SID each time.
type messagesAPI struct {
	*httptest.Server
	mu    sync.Mutex
	sent  []url.Values
	calls []url.Values
}

func newMessagesAPI(t *testing.T) *messagesAPI {
	m := &messagesAPI{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		m.mu.Lock()
		var b []byte
		if strings.HasSuffix(r.URL.Path, "/Calls.json") {
			m.calls = append(m.calls, form)
			b, _ = json.Marshal(map[string]any{"sid": fmt.Sprintf("CA%032x", len(m.calls)), "account_sid": "AC11111111111111111111111111111111",
				"to": form.Get("To"), "from": form.Get("From"), "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01"})
		} else {
			m.sent = append(m.sent, form)
			b, _ = json.Marshal(map[string]any{"sid": fmt.Sprintf("SM%032x", len(m.sent)), "account_sid": "AC11111111111111111111111111111111", "to": form.Get("To"),
				"from": form.Get("From"), "body": form.Get("Body"), "status": "queued", "direction": "outbound-api",
				"api_version": "2010-04-01", "num_segments": "1", "error_code": nil, "error_message": nil, "price": nil})
		}
		m.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(b)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *messagesAPI) all() []url.Values {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]url.Values(nil), m.sent...)
}

// placed are the calls Calls.json was asked to start.
func (m *messagesAPI) placed() []url.Values {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]url.Values(nil), m.calls...)
}

// textingHotline is a hotline serving with a Twilio account whose texts go
// to a messagesAPI, with the e2e config, hotline.sms_from set, and the
// manager account of the other end-to-end tests.
func textingHotline(t *testing.T, dsn string) (*hotline, *server, *messagesAPI) {
	t.Helper()
	api := newMessagesAPI(t)
	h, s := textingHotlineOn(t, dsn, api)
	return h, s, api
}

// textingHotlineOn is textingHotline with its Twilio API at api, which
// several instances on one database may share.
func textingHotlineOn(t *testing.T, dsn string, api *messagesAPI) (*hotline, *server) {
	t.Helper()
	const token = "0123456789abcdef0123456789abcdef" // shaped like a real auth token
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hotline.yaml")
	yaml := strings.Replace(mustRead(t, "testdata/e2e.yaml"), `  number: "+18005550100"`, "  number: \"+18005550100\"\n  sms_from: \"+15005550006\"", 1)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := startServer(ctx, serveOptions{
		common: common{config: cfg, db: dsn, spool: filepath.Join(dir, "hotline.spool")}, addr: "127.0.0.1:0",
		authToken: token, accountSID: "AC11111111111111111111111111111111", twilioAPI: api.URL,
	}, zerolog.Nop())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// A second server on the same database finds the account made already.
	if err := s.users.AddUser(ctx, testUser, web.RoleManager, testPassword, "test"); err != nil && !errors.Is(err, web.ErrUserExists) {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	base := "http://" + s.addr
	return &hotline{t: t, base: base, twilio: &sim.Twilio{BaseURL: base, AuthToken: token}, stderr: &lockedBuffer{}}, s
}

// waitText waits until the outbox has given up or sent the text with key.
func waitText(t *testing.T, s *server, key string) (sent bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var at, failed *int64
		err := s.db.QueryRowContext(context.Background(), `SELECT sent_at, failed_at FROM outbox WHERE dedup_key = ?`, key).Scan(&at, &failed)
		if err == nil && (at != nil || failed != nil) {
			return at != nil
		}
		s.outbox.Wake()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("text %s neither sent nor failed after 10 s", key)
	return false
}

// textFailures are the details of an incident's text_failed events.
func textFailures(in incident.Incident) []string {
	var out []string
	for _, e := range in.Events {
		if e.Type == incident.EventTextFailed {
			out = append(out, e.Detail)
		}
	}
	return out
}

// TestTextStatusCallback: the engineer's text goes from hotline.sms_from
// with a StatusCallback under /twilio; a forged callback gets 403 and
// changes nothing; a signed "undelivered" adds text_failed with the code's
// meaning to the call's incident and is counted in hotline_texts_total.
func TestTextStatusCallback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h, s, api := textingHotline(t, dsn)
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		in := h.incident(res.CallSid)
		if !waitText(t, s, fmt.Sprintf("answered:%d", in.ID)) {
			t.Fatal("the engineer's text was not sent")
		}
		sent := api.all()
		if len(sent) != 1 {
			t.Fatalf("%d texts sent, want 1", len(sent))
		}
		callback := fmt.Sprintf("%s/twilio/text-status?sms=1", h.base)
		if got := sent[0].Get("StatusCallback"); got != callback {
			t.Errorf("StatusCallback %q, want %q", got, callback)
		}
		if got := sent[0].Get("From"); got != "+15005550006" {
			t.Errorf("From %q, want hotline.sms_from", got)
		}
		form := url.Values{"MessageSid": {"SM" + fmt.Sprintf("%032x", 1)}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30032"},
			"AccountSid": {"AC11111111111111111111111111111111"}, "To": {alice}, "From": {"+15005550006"}, "ApiVersion": {"2010-04-01"}}

		req, _ := http.NewRequest(http.MethodPost, callback, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sim.Sign("not-the-token", callback, form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("forged status callback: %d, want 403", resp.StatusCode)
		}
		var status string
		if err := s.db.QueryRowContext(context.Background(), `SELECT status FROM outbox WHERE id = 1`).Scan(&status); err != nil || status != "" {
			t.Errorf("after a forged callback the text's status is %q (%v), want none", status, err)
		}
		if got := textFailures(h.incident(res.CallSid)); len(got) != 0 {
			t.Errorf("a forged callback added %q", got)
		}

		for range 2 { // Twilio may send it twice
			resp, body, err := h.twilio.Post(context.Background(), "/twilio/text-status?sms=1", form)
			if err != nil || resp.StatusCode != http.StatusOK || len(body) != 0 {
				t.Fatalf("status callback: %v %v %q, want 200 and no body", resp.StatusCode, err, body)
			}
		}
		if got := textFailures(h.incident(res.CallSid)); len(got) != 1 || got[0] != "30032: the toll-free number is not verified" {
			t.Errorf("text_failed events %q, want one with the meaning of 30032", got)
		}
		if m := h.metrics(); !strings.Contains(m, `hotline_texts_total{status="undelivered"} 2`) || !strings.Contains(m, `hotline_texts_total{status="delivered"} 0`) {
			t.Errorf("metrics lack the callbacks counted by status:\n%s", grepLines(m, "hotline_texts_total"))
		}
	})
}

// TestTextStopAndStart: an engineer who replies STOP is shown opted out on
// the schedules page and the text of their next call is not sent (the
// incident says why); START opts them back in.
func TestTextStopAndStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h, s, api := textingHotline(t, dsn)
		reply := func(body string) {
			t.Helper()
			resp, out, err := h.twilio.Post(context.Background(), "/twilio/sms",
				url.Values{"From": {alice}, "To": {"+15005550006"}, "Body": {body}, "MessageSid": {"SM" + strings.Repeat("a", 32)}})
			if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(out), "<Response/>") {
				t.Fatalf("reply %q: %v %v %q, want 200 and an empty TwiML response", body, resp.StatusCode, err, out)
			}
		}
		reply(" stop ")
		if page := h.page("/schedules"); !strings.Contains(page, "opted out of texts (replied STOP on 20") {
			t.Errorf("the schedules page does not show alice opted out")
		}
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		in := h.incident(res.CallSid)
		if waitText(t, s, fmt.Sprintf("answered:%d", in.ID)) || len(api.all()) != 0 {
			t.Fatalf("a text went to a number that replied STOP")
		}
		if got := textFailures(h.incident(res.CallSid)); len(got) != 1 || !strings.Contains(got[0], "opted out of texts") {
			t.Errorf("text_failed events %q, want one saying the engineer opted out", got)
		}
		reply("Start")
		if page := h.page("/schedules"); strings.Contains(page, "opted out of texts") {
			t.Errorf("alice still shown opted out after START")
		}
		res = h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !waitText(t, s, fmt.Sprintf("answered:%d", h.incident(res.CallSid).ID)) {
			t.Errorf("no text after START")
		}
	})
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
