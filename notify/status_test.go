package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

const (
	statusURL   = "https://hotline.example.com/twilio/text-status"
	testService = "MG0123456789abcdef0123456789abcdef"
)

// textOutbox is an outbox that asks for status callbacks and reports
// failures to the incidents of the same database, with one incident open.
type textOutbox struct {
	*Outbox
	db       *store.DB
	f        *fakeTwilio
	c        *clock
	incident int64
}

func newTextOutbox(t *testing.T, dsn string, cfg TwilioConfig) *textOutbox {
	t.Helper()
	ctx := context.Background()
	db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2026-12-02T01:00:00Z")
	if err := incident.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	cfg.AccountSID, cfg.AuthToken, cfg.BaseURL = testSID, testToken, f.URL
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		cfg.From = testFrom
	}
	sender, err := NewTwilio(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inc := incident.NewIncidents(db)
	id, _, err := inc.StartIncident(ctx, incident.Incident{CallSid: "CA0001", From: "+15555550123", To: testFrom, StartedAt: c.Now(), ConfigRevision: "r1"},
		incident.Event{At: c.Now(), Type: incident.EventIncoming})
	if err != nil {
		t.Fatal(err)
	}
	o := New(db, sender, c.Now, discard(), Options{})
	o.ReportTo(inc)
	return &textOutbox{Outbox: o, db: db, f: f, c: c, incident: id}
}

// newSentText is a textOutbox over dsn that has sent one text about its
// incident, with that text's row id and SID.
func newSentText(t *testing.T, dsn string) (*textOutbox, int64, string) {
	t.Helper()
	o := newTextOutbox(t, dsn, TwilioConfig{StatusCallback: statusURL})
	id := o.queue(t, alice, "answered:1")
	if n := runOnce(t, o.Outbox); n != 1 {
		t.Fatalf("sent %d, want 1", n)
	}
	sid, _, _ := o.textStatus(t, id)
	return o, id, sid
}

// queue enqueues a text about the outbox's incident and returns its row id.
func (o *textOutbox) queue(t *testing.T, to, key string) int64 {
	t.Helper()
	if _, err := o.Enqueue(context.Background(), Message{To: to, Body: "hotline: you took a call.", Key: key, IncidentID: o.incident}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := o.db.QueryRowContext(context.Background(), `SELECT id FROM outbox WHERE dedup_key = ?`, key).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// post sends a request to h as Twilio would (the signature is checked in
// front of it, by ivr.RequireSignature) and returns the recorder.
func post(h http.Handler, target string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// callback posts a status callback for row id (0: no id in the URL).
func (o *textOutbox) callback(t *testing.T, id int64, sid, status, code string) *httptest.ResponseRecorder {
	t.Helper()
	target := "/twilio/text-status"
	if id != 0 {
		target += "?sms=" + strconv.FormatInt(id, 10)
	}
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {testSID}, "To": {alice}, "From": {testFrom}, "ApiVersion": {"2010-04-01"}}
	if code != "" {
		form.Set("ErrorCode", code)
	}
	rec := post(o.HandleStatus(), target, form)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("status callback %s %s: %d %q, want 200 and no body", sid, status, rec.Code, rec.Body.String())
	}
	return rec
}

// textStatus reads the status columns of row id.
func (o *textOutbox) textStatus(t *testing.T, id int64) (sid, status, code string) {
	t.Helper()
	if err := o.db.QueryRowContext(context.Background(), `SELECT twilio_sid, status, error_code FROM outbox WHERE id = ?`, id).
		Scan(&sid, &status, &code); err != nil {
		t.Fatal(err)
	}
	return sid, status, code
}

// failures returns the details of the incident's text_failed events.
func (o *textOutbox) failures(t *testing.T) []string {
	t.Helper()
	rows, err := o.db.QueryContext(context.Background(), `SELECT detail FROM incident_events WHERE incident_id = ? AND type = ? ORDER BY id`,
		o.incident, string(incident.EventTextFailed))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestSendAsksForStatusCallback: each text names its row in the
// StatusCallback, and goes from sms_from's number or from the Messaging
// Service, never both.
func TestSendAsksForStatusCallback(t *testing.T) {
	for name, cfg := range map[string]TwilioConfig{
		"from":    {StatusCallback: statusURL, From: "+15555550199"},
		"service": {StatusCallback: statusURL, MessagingServiceSID: testService, From: "+15555550199"},
	} {
		t.Run(name, func(t *testing.T) {
			o := newTextOutbox(t, storetest.SQLite(t), cfg)
			id := o.queue(t, alice, "answered:1")
			if n := runOnce(t, o.Outbox); n != 1 {
				t.Fatalf("sent %d, want 1", n)
			}
			req := o.f.all()[0]
			if got, want := req.Form.Get("StatusCallback"), statusURL+"?sms="+strconv.FormatInt(id, 10); got != want {
				t.Errorf("StatusCallback = %q, want %q", got, want)
			}
			_, hasFrom := req.Form["From"]
			switch name {
			case "from":
				if req.Form.Get("From") != "+15555550199" || req.Form.Get("MessagingServiceSid") != "" {
					t.Errorf("From %q, MessagingServiceSid %q: want the SMS number only", req.Form.Get("From"), req.Form.Get("MessagingServiceSid"))
				}
			case "service":
				if req.Form.Get("MessagingServiceSid") != testService || hasFrom {
					t.Errorf("From %q, MessagingServiceSid %q: want the service only", req.Form.Get("From"), req.Form.Get("MessagingServiceSid"))
				}
			}
			if sid, _, _ := o.textStatus(t, id); !strings.HasPrefix(sid, "SM") {
				t.Errorf("SID %q not recorded from the 201", sid)
			}
		})
	}
	t.Run("no callback", func(t *testing.T) {
		o := newTextOutbox(t, storetest.SQLite(t), TwilioConfig{})
		o.queue(t, alice, "answered:1")
		runOnce(t, o.Outbox)
		if _, ok := o.f.all()[0].Form["StatusCallback"]; ok {
			t.Errorf("a StatusCallback was sent without a callback URL")
		}
	})
}

// TestStatusBeforeAndAfterSID: an undelivered status is kept on the row and
// adds one text_failed event to the incident with the code's meaning,
// whether the callback comes after the worker recorded the SID or before
// (while Twilio's 201 is still on its way), and however often it is
// retried.
func TestStatusBeforeAndAfterSID(t *testing.T) {
	for _, order := range []string{"after", "before"} {
		t.Run(order, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, dsn string) {
				o := newTextOutbox(t, dsn, TwilioConfig{StatusCallback: statusURL})
				id := o.queue(t, alice, "answered:1")
				var early string
				if order == "before" {
					o.f.beforeAnswer = func(form url.Values, sid string) {
						u, _ := url.Parse(form.Get("StatusCallback"))
						row, _ := strconv.ParseInt(u.Query().Get("sms"), 10, 64)
						// Not o.callback: this runs in the fake's goroutine,
						// where the test may not stop.
						rec := post(o.HandleStatus(), "/twilio/text-status?sms="+strconv.FormatInt(row, 10),
							url.Values{"MessageSid": {sid}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30032"}})
						if rec.Code != http.StatusOK {
							t.Errorf("early callback: %d", rec.Code)
						}
						var recorded string
						o.db.QueryRowContext(context.Background(), `SELECT status, twilio_sid FROM outbox WHERE id = ?`, id).Scan(&early, &recorded)
						if recorded != "" {
							t.Errorf("the SID was recorded before Twilio answered: the race is not played")
						}
					}
				}
				if n := runOnce(t, o.Outbox); n != 1 {
					t.Fatalf("sent %d, want 1: %+v", n, readRow(t, o.db, "answered:1"))
				}
				sid, _, _ := o.textStatus(t, id)
				if order == "after" {
					o.callback(t, id, sid, "undelivered", "30032")
				} else if early != "undelivered" {
					t.Fatalf("status before the SID was recorded: %q, want undelivered", early)
				}
				o.callback(t, id, sid, "undelivered", "30032") // Twilio retries
				o.callback(t, 0, sid, "undelivered", "30032")  // and a callback by SID alone
				gotSID, status, code := o.textStatus(t, id)
				if gotSID != sid || status != "undelivered" || code != "30032" {
					t.Errorf("row: sid %q status %q code %q, want %s undelivered 30032", gotSID, status, code, sid)
				}
				if got := o.failures(t); len(got) != 1 || got[0] != "30032: the toll-free number is not verified" {
					t.Errorf("text_failed events %q, want one with the code's meaning", got)
				}
			})
		})
	}
}

// TestStatusOnlyMovesForward: a late "sent" or "queued" leaves "delivered"
// alone, and a delivered text adds no event.
func TestStatusOnlyMovesForward(t *testing.T) {
	o, id, sid := newSentText(t, storetest.SQLite(t))
	for _, st := range []string{"queued", "delivered", "sent", "queued", "failed", "undelivered"} {
		o.callback(t, id, sid, st, "")
	}
	if _, status, _ := o.textStatus(t, id); status != "delivered" {
		t.Errorf("status %q, want delivered", status)
	}
	if got := o.failures(t); len(got) != 0 {
		t.Errorf("a delivered text added %q", got)
	}
}

// TestUnknownStatusChangesNothing: a callback for a message the outbox did
// not send, or one that names a row of another message, changes nothing
// and gets 200 with no body; no input gets a 500.
func TestUnknownStatusChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) { unknownStatusChangesNothing(t, dsn) })
}

func unknownStatusChangesNothing(t *testing.T, dsn string) {
	o, id, sid := newSentText(t, dsn)
	other := "SM" + strings.Repeat("f", 32)
	o.callback(t, 0, other, "failed", "30003")
	o.callback(t, id, other, "failed", "30003")
	o.callback(t, id+1000, other, "failed", "30003")
	if gotSID, status, _ := o.textStatus(t, id); gotSID != sid || status != "" {
		t.Errorf("row: sid %q status %q, want %s and no status", gotSID, status, sid)
	}
	if got := o.failures(t); len(got) != 0 {
		t.Errorf("unknown messages added %q", got)
	}
	for _, target := range []string{"/twilio/text-status", "/twilio/text-status?sms=abc", "/twilio/text-status?sms=-1",
		"/twilio/text-status?sms=99999999999999999999999", "/twilio/text-status?sms=" + strconv.FormatInt(id, 10)} {
		for _, form := range []url.Values{{}, {"MessageSid": {""}}, {"MessageSid": {sid}, "MessageStatus": {"\x00"}},
			{"MessageSid": {strings.Repeat("x", 5000)}, "MessageStatus": {"failed"}, "ErrorCode": {"-1"}},
			{"MessageSid": {sid}, "MessageStatus": {"receiving"}, "ErrorCode": {"abc"}},
			{"MessageSid": {"SM\x00" + sid[3:]}, "MessageStatus": {"failed"}}} {
			if rec := post(o.HandleStatus(), target, form); rec.Code != http.StatusOK {
				t.Errorf("%s %v: %d, want 200", target, form, rec.Code)
			}
		}
	}
	if _, status, _ := o.textStatus(t, id); status != "" {
		t.Errorf("status %q after malformed callbacks, want none", status)
	}
	// A status with an ErrorCode that is no number keeps the status only.
	o.callback(t, id, sid, "failed", "3\x0032")
	if _, status, code := o.textStatus(t, id); status != "failed" || code != "" {
		t.Errorf("status %q code %q, want failed and no code", status, code)
	}
	for _, from := range []string{"", "\x00", "12345", alice + "\x00"} {
		if rec := post(o.HandleReply(nil), "/twilio/sms", url.Values{"From": {from}, "Body": {"STOP"}}); rec.Code != http.StatusOK {
			t.Errorf("reply from %q: %d, want 200", from, rec.Code)
		}
	}
	if got, _ := o.OptedOut(context.Background()); len(got) != 0 {
		t.Errorf("opted out %q: no number was an engineer's", got)
	}
}

// TestFailedDetail: the common codes say what they mean; others their
// number.
func TestFailedDetail(t *testing.T) {
	for _, c := range []struct{ status, code, want string }{
		{"undelivered", "30003", "30003: the handset is unreachable"},
		{"failed", "30034", "30034: the number is not registered for A2P 10DLC"},
		{"failed", "21610", "21610: the recipient replied STOP"},
		{"failed", "30999", "error 30999"},
		{"undelivered", "", "the text was undelivered (no error code)"},
	} {
		if got := failedDetail(c.status, c.code); got != c.want {
			t.Errorf("failedDetail(%s, %q) = %q, want %q", c.status, c.code, got, c.want)
		}
	}
}

// TestTextMetrics: hotline_texts_total counts callbacks by status, and an
// unknown status as "other".
func TestTextMetrics(t *testing.T) {
	o, id, sid := newSentText(t, storetest.SQLite(t))
	for _, st := range []string{"queued", "sent", "delivered", "delivered", "read", "bogus"} {
		o.callback(t, id, sid, st, "")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(o.Collectors()...)
	families, err := reg.Gather()
	if err != nil || len(families) != 1 || families[0].GetName() != "hotline_texts_total" {
		t.Fatalf("Gather = %v, %v", families, err)
	}
	got := map[string]float64{}
	for _, m := range families[0].GetMetric() {
		got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	want := map[string]float64{"queued": 1, "sent": 1, "delivered": 2, "undelivered": 0, "failed": 0, "other": 2}
	if len(got) != len(want) {
		t.Errorf("hotline_texts_total = %v, want %v", got, want)
	}
	for status, n := range want {
		if got[status] != n {
			t.Errorf("hotline_texts_total{status=%q} = %v, want %v", status, got[status], n)
		}
	}
}

// TestNewTwilioSender: the sender is a Messaging Service SID or an E.164
// number, and the callback an absolute URL to which the row's id can be
// added.
func TestNewTwilioSender(t *testing.T) {
	for name, c := range map[string]struct {
		cfg TwilioConfig
		ok  bool
	}{
		"from":               {TwilioConfig{From: testFrom}, true},
		"service":            {TwilioConfig{MessagingServiceSID: testService}, true},
		"no sender":          {TwilioConfig{}, false},
		"bad service":        {TwilioConfig{MessagingServiceSID: "MG123", From: testFrom}, false},
		"callback":           {TwilioConfig{From: testFrom, StatusCallback: statusURL}, true},
		"relative callback":  {TwilioConfig{From: testFrom, StatusCallback: "/twilio/text-status"}, false},
		"callback has query": {TwilioConfig{From: testFrom, StatusCallback: statusURL + "?a=b"}, false},
	} {
		cfg := c.cfg
		cfg.AccountSID, cfg.AuthToken = testSID, testToken
		if _, err := NewTwilio(cfg); (err == nil) != c.ok {
			t.Errorf("%s: NewTwilio error %v, want ok %v", name, err, c.ok)
		}
	}
}
