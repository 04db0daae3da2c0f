package page

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store/storetest"
)

// paged opens a voicemail from `from` and places its first page, to
// alice, returning the env and the page's id.
func paged(t *testing.T, from string) (*env, int64) {
	t.Helper()
	e := newEnv(t, storetest.SQLite(t))
	e.voicemail(1, from)
	if err := e.pager.Open(context.Background(), 1, "ops", e.clock.now()); err != nil {
		t.Fatal(err)
	}
	if n := e.run(e.pager); n != 1 {
		t.Fatalf("placed %d", n)
	}
	return e, e.pageID(alicePhone)
}

func press(digit string) url.Values {
	return url.Values{"CallSid": {"CA00000000000000000000000000000001"}, "Digits": {digit}, "CallStatus": {"in-progress"}}
}

// TestPageCallSays: the engineer hears what it is, the transcript, and a
// one-key Gather whose action names only the page; with no key the call
// ends, acknowledging nothing, and the next page still comes.
func TestPageCallSays(t *testing.T) {
	e, id := paged(t, callerPhone)
	doc := e.webhook(e.pager.HandleCall(), PathCall, id, url.Values{"CallSid": {"CA1"}})
	said := doc.said()
	for _, want := range []string{"A voicemail for Operations from Globex, 1 5 5 5 5 5 5 0 1 5 0, 3 minutes ago",
		"The message: The API & the site are down since noon.", "Press 1 to acknowledge", "4 to call the caller back", "9 to resolve"} {
		if !strings.Contains(said, want) {
			t.Errorf("said %q, want %q in it", said, want)
		}
	}
	gathers := doc.find("Gather")
	if len(gathers) != 2 || gathers[0].attr("numDigits") != "1" || gathers[0].attr("action") != testPublic+PathKey+"?page="+itoa(id) {
		t.Fatalf("gathers = %+v", gathers)
	}
	if last := doc.Children[len(doc.Children)-1]; last.XMLName.Local != "Hangup" {
		t.Errorf("no key ends with %s, want Hangup", last.XMLName.Local)
	}
	// No key: nothing is acknowledged, and the next page comes on time.
	e.clock.advance(5 * time.Minute)
	if e.run(e.pager); !slices.Equal(e.twilio.called(), []string{alicePhone, bobPhone}) {
		t.Errorf("called %v", e.twilio.called())
	}
}

// TestPageCallWithheldAndRecording: a withheld caller is never read out
// nor offered a call back; a voicemail without transcript is played.
func TestPageCallWithheldAndRecording(t *testing.T) {
	e, id := paged(t, "+266696687")
	e.subj.mu.Lock()
	e.subj.byID[1].Transcript, e.subj.byID[1].CallerName = "", ""
	e.subj.mu.Unlock()
	doc := e.webhook(e.pager.HandleCall(), PathCall, id, nil)
	said := doc.said()
	if !strings.Contains(said, "from a withheld number") || strings.Contains(said, "2 6 6") || strings.Contains(said, "4 to call") {
		t.Errorf("said %q", said)
	}
	if plays := doc.find("Play"); len(plays) != 1 || strings.TrimSpace(plays[0].Text) != "https://api.twilio.com/2010-04-01/Accounts/"+testSID+"/Recordings/RE1" {
		t.Errorf("plays = %+v", plays)
	}
	doc = e.webhook(e.pager.HandleKey(), PathKey, id, press("4"))
	if len(doc.find("Dial")) != 0 || !strings.Contains(doc.said(), "cannot be called back: a withheld number") {
		t.Errorf("4 for a withheld caller: %+v", doc)
	}
	if n := len(e.subj.eventsOf(1, incident.EventCalledBack)); n != 0 {
		t.Errorf("%d called_back events", n)
	}
}

// TestPageKeyCloses: 1 acknowledges and 9 resolves, by that engineer on
// the page call, and nothing more is placed; the page call after that
// says so.
func TestPageKeyCloses(t *testing.T) {
	for _, tc := range []struct{ digit, said, state string }{
		{"1", "Acknowledged", StateAcknowledged},
		{"9", "Resolved", StateResolved},
	} {
		t.Run(tc.state, func(t *testing.T) {
			e, id := paged(t, callerPhone)
			if doc := e.webhook(e.pager.HandleKey(), PathKey, id, press(tc.digit)); !strings.Contains(doc.said(), tc.said) {
				t.Errorf("said %q", doc.said())
			}
			if s, _ := e.subj.Subject(context.Background(), 1); s.State != tc.state || e.subj.how[1] != "alice/page call" {
				t.Errorf("state %s by %q", s.State, e.subj.how[1])
			}
			e.clock.advance(time.Hour)
			if n := e.run(e.pager); n != 0 || len(e.twilio.called()) != 1 {
				t.Errorf("after %s: placed %d, called %v", tc.digit, n, e.twilio.called())
			}
			if doc := e.webhook(e.pager.HandleCall(), PathCall, id, nil); !strings.Contains(doc.said(), "already "+tc.state) {
				t.Errorf("the page call again: said %q", doc.said())
			}
			if doc := e.webhook(e.pager.HandleKey(), PathKey, id, press("3")); !strings.Contains(doc.said(), "already "+tc.state) {
				t.Errorf("3 after %s: said %q", tc.digit, doc.said())
			}
		})
	}
}

// TestPageKeyRepeats: 2 plays the page again.
func TestPageKeyRepeats(t *testing.T) {
	e, id := paged(t, callerPhone)
	doc := e.webhook(e.pager.HandleKey(), PathKey, id, press("2"))
	if r := doc.find("Redirect"); len(r) != 1 || strings.TrimSpace(r[0].Text) != testPublic+PathCall+"?page="+itoa(id) {
		t.Errorf("2: %+v", doc)
	}
}

// TestPageKeyEscalates: 3 pages the next step at once.
func TestPageKeyEscalates(t *testing.T) {
	e, id := paged(t, callerPhone)
	doc := e.webhook(e.pager.HandleKey(), PathKey, id, press("3"))
	if !strings.Contains(doc.said(), "Paging the next engineer now") {
		t.Errorf("said %q", doc.said())
	}
	if n := e.run(e.pager); n != 1 || !slices.Equal(e.twilio.called(), []string{alicePhone, bobPhone}) {
		t.Errorf("after 3: placed %d, called %v", n, e.twilio.called())
	}
	if ev := e.subj.eventsOf(1, incident.EventEscalated); len(ev) != 1 || ev[0].Engineer != "alice" {
		t.Errorf("escalated events %+v", ev)
	}
}

// TestPageKeyCallsBack: 4 dials the caller from the support number, the
// caller hearing it ring, and logs called_back.
func TestPageKeyCallsBack(t *testing.T) {
	e, id := paged(t, callerPhone)
	doc := e.webhook(e.pager.HandleKey(), PathKey, id, press("4"))
	dials := doc.find("Dial")
	if len(dials) != 1 || dials[0].attr("callerId") != support || dials[0].attr("answerOnBridge") != "true" {
		t.Fatalf("dials = %+v", dials)
	}
	if n := dials[0].find("Number"); len(n) != 1 || strings.TrimSpace(n[0].Text) != callerPhone {
		t.Errorf("numbers = %+v", n)
	}
	if ev := e.subj.eventsOf(1, incident.EventCalledBack); len(ev) != 1 || ev[0].Engineer != "alice" {
		t.Errorf("called_back events %+v", ev)
	}
	if s, _ := e.subj.Subject(context.Background(), 1); s.State != StateAcknowledged {
		t.Errorf("state after the call back %s, want acknowledged", s.State)
	}
}

// TestPageStatus: a page call nobody answered says so on the timeline.
func TestPageStatus(t *testing.T) {
	e, id := paged(t, callerPhone)
	e.webhook(e.pager.HandleStatus(), PathStatus, id, url.Values{"CallSid": {"CA1"}, "CallStatus": {"no-answer"}})
	e.webhook(e.pager.HandleStatus(), PathStatus, id, url.Values{"CallSid": {"CA1"}, "CallStatus": {"no-answer"}})
	if ev := e.subj.eventsOf(1, incident.EventNoAnswer); len(ev) != 1 || ev[0].Detail != "page call: no-answer" || ev[0].Engineer != "alice" {
		t.Errorf("no_answer events %+v", ev)
	}
	if pg, err := e.pager.find(context.Background(), id); err != nil || pg.callStatus != "no-answer" || pg.state != rowPlaced {
		t.Errorf("page %+v, %v", pg, err)
	}
}

// TestPageWebhooksNeverFail: an unknown page or a database that cannot
// answer still gets TwiML, saying paging goes on.
func TestPageWebhooksNeverFail(t *testing.T) {
	e, id := paged(t, callerPhone)
	if doc := e.webhook(e.pager.HandleCall(), PathCall, id+100, nil); !strings.Contains(doc.said(), "You will be paged again") {
		t.Errorf("unknown page: said %q", doc.said())
	}
	e.db.Close()
	for _, h := range []struct {
		path string
		do   func() node
	}{
		{PathCall, func() node { return e.webhook(e.pager.HandleCall(), PathCall, id, nil) }},
		{PathKey, func() node { return e.webhook(e.pager.HandleKey(), PathKey, id, press("1")) }},
		{PathStatus, func() node {
			return e.webhook(e.pager.HandleStatus(), PathStatus, id, url.Values{"CallStatus": {"busy"}})
		}},
	} {
		doc := h.do()
		if h.path != PathStatus && !strings.Contains(doc.said(), "You will be paged again") {
			t.Errorf("%s with the database closed: said %q", h.path, doc.said())
		}
	}
}
