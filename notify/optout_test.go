package notify

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestStopThenStart: after STOP no text goes to the number (the row fails
// with the reason, and the incident says so); after START texts go again.
func TestStopThenStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		o := newTextOutbox(t, dsn, TwilioConfig{StatusCallback: statusURL})
		reply := func(body string) {
			rec := post(o.HandleReply(nil), "/twilio/sms", url.Values{"From": {alice}, "To": {testFrom}, "Body": {body}, "MessageSid": {"SM1"}})
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<Response/>") || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/xml") {
				t.Fatalf("reply %q: %d %q %q, want 200 and an empty TwiML response", body, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			}
		}
		reply("thanks")
		reply("  Stop\n")
		got, err := o.OptedOut(context.Background())
		if err != nil || got[alice] != "replied STOP on 2026-12-02" {
			t.Fatalf("OptedOut = %q, %v", got, err)
		}
		o.queue(t, alice, "answered:1")
		if n := runOnce(t, o.Outbox); n != 0 || len(o.f.all()) != 0 {
			t.Fatalf("sent %d (%d requests) to a number that replied STOP", n, len(o.f.all()))
		}
		r := readRow(t, o.db, "answered:1")
		if !r.Failed || !strings.Contains(r.LastError, "opted out of texts (replied STOP on 2026-12-02)") {
			t.Errorf("row %+v: want failed, opted out", r)
		}
		if got := o.failures(t); len(got) != 1 || !strings.Contains(got[0], "opted out of texts") {
			t.Errorf("text_failed events %q, want one saying the engineer opted out", got)
		}
		reply("START")
		if got, _ := o.OptedOut(context.Background()); len(got) != 0 {
			t.Errorf("still opted out after START: %q", got)
		}
		o.queue(t, alice, "answered:2")
		if n := runOnce(t, o.Outbox); n != 1 {
			t.Errorf("sent %d after START, want 1", n)
		}
	})
}

// TestRefusedWith21610OptsOut: Twilio refusing a text because the number
// replied STOP (where hotline did not see it) marks the number opted out,
// so the next text is not tried.
func TestRefusedWith21610OptsOut(t *testing.T) {
	o := newTextOutbox(t, storetest.SQLite(t), TwilioConfig{StatusCallback: statusURL})
	o.f.answer(alice, serverError(400, 21610, "Attempt to send to unsubscribed recipient"))
	o.queue(t, alice, "answered:1")
	runOnce(t, o.Outbox)
	if r := readRow(t, o.db, "answered:1"); !r.Failed {
		t.Fatalf("row %+v, want failed", r)
	}
	if got, _ := o.OptedOut(context.Background()); got[alice] != "Twilio refused a text with error 21610" {
		t.Errorf("OptedOut = %q", got)
	}
	if got := o.failures(t); len(got) != 1 || got[0] != "21610: the recipient replied STOP" {
		t.Errorf("text_failed events %q", got)
	}
	o.c.Advance(time.Minute)
	o.queue(t, alice, "answered:2")
	runOnce(t, o.Outbox)
	if n := len(o.f.all()); n != 1 {
		t.Errorf("%d requests, want the refused one only", n)
	}
}

// TestFailedCallbackOptsOut: a text that fails later with 21610 marks the
// number opted out too.
func TestFailedCallbackOptsOut(t *testing.T) {
	o, id, sid := newSentText(t, storetest.SQLite(t))
	o.callback(t, id, sid, "failed", "21610")
	if got, _ := o.OptedOut(context.Background()); got[alice] == "" {
		t.Errorf("not opted out after a 21610 failure")
	}
}
