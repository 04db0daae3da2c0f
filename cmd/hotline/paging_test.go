package main

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// waitCalls waits (10 s at most) until the fake Calls API was asked for n
// calls, and returns them.
func waitCalls(t *testing.T, api *messagesAPI, n int) []url.Values {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if calls := api.placed(); len(calls) >= n || time.Now().After(deadline) {
			return calls
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVoicemailPagedAndAcknowledged: a voicemail left at night pages the
// team's first step within 5 s of the call ending: a call from the support
// number to alice whose TwiML names the caller and offers the keys, and a
// text. Alice pressing 1 on that page call acknowledges the incident as
// hers, and nothing more is placed for it.
func TestVoicemailPagedAndAcknowledged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h, s, api := textingHotline(t, dsn)
		res := h.call(sim.Script{From: "+15555550123", To: "+18005550100", Presses: []string{"1"}, Voicemail: "The VPN is down, please call me."})
		ended := time.Now()
		calls := waitCalls(t, api, 1)
		if len(calls) != 1 || calls[0].Get("To") != alice || calls[0].Get("From") != "+18005550100" {
			t.Fatalf("page calls %v; want one to alice from the support number", calls)
		}
		// It rings for less than a mobile voicemail waits (docs/twilio.md §8.10).
		if calls[0].Get("Timeout") != "18" {
			t.Errorf("page call Timeout %q; want 18 (seconds)", calls[0].Get("Timeout"))
		}
		if took := time.Since(ended); took > 5*time.Second {
			t.Errorf("the page came %s after the call ended; want within 5 s", took)
		}
		pageURL, err := url.Parse(calls[0].Get("Url"))
		// The URL names the page, never the caller: no digits of the number
		// in its path or query (the port may hold any digits).
		if err != nil || pageURL.Path != "/twilio/page" || strings.Contains(pageURL.RawQuery, "555") {
			t.Fatalf("page Url %q", calls[0].Get("Url"))
		}
		// Twilio fetches the page's TwiML when alice answers.
		resp, body, err := h.twilio.Post(context.Background(), pageURL.RequestURI(), url.Values{"CallSid": {"CApage1"}, "CallStatus": {"in-progress"},
			"To": {alice}, "From": {"+18005550100"}, "Direction": {"outbound-api"}})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("page TwiML: %v %v", resp, err)
		}
		var doc struct {
			Gather struct {
				Action string   `xml:"action,attr"`
				Say    []string `xml:"Say"`
			} `xml:"Gather"`
		}
		if err := xml.Unmarshal(body, &doc); err != nil || doc.Gather.Action == "" || !strings.Contains(string(body), "VPN is down") {
			t.Fatalf("page TwiML has no key menu or message: %v\n%s", err, body)
		}
		action, _ := url.Parse(doc.Gather.Action)
		if resp, _, err := h.twilio.Post(context.Background(), action.RequestURI(), url.Values{"CallSid": {"CApage1"}, "Digits": {"1"}, "To": {alice}}); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("key 1: %v %v", resp, err)
		}
		in := h.incident(res.CallSid)
		if in.State != incident.StateAcknowledged || in.AcknowledgedBy == nil || *in.AcknowledgedBy != "alice" {
			t.Errorf("after key 1: state %q by %v; want acknowledged by alice", in.State, in.AcknowledgedBy)
		}
		var paged, texted bool
		for _, e := range in.Events {
			paged = paged || e.Type == incident.EventPaged
		}
		for _, m := range api.all() {
			texted = texted || m.Get("To") == alice && strings.Contains(m.Get("Body"), "1")
		}
		if !paged || !texted {
			t.Errorf("paged event %t, page text %t; want both", paged, texted)
		}
		if m := h.metrics(); !strings.Contains(m, "hotline_open_incidents 0\n") || !strings.Contains(m, `hotline_pages_total{channel="call",outcome="placed"} 1`) {
			t.Errorf("/metrics after the acknowledgement lacks hotline_open_incidents 0 or one placed page call")
		}
		// Nothing is placed for it again, even when a later page falls due.
		s.pager.Wake()
		if n, err := s.pager.RunOnce(context.Background()); err != nil || n != 0 || len(api.placed()) != 1 {
			t.Errorf("after the acknowledgement: RunOnce placed %d (%v); calls %d, want 1", n, err, len(api.placed()))
		}
	})
}

// TestPageAcknowledgedByText: alice's text reply "1" to her page
// acknowledges it and is answered; "resolve N" resolves incident N; a text
// from a number no engineer has changes nothing and gets no answer.
func TestPageAcknowledgedByText(t *testing.T) {
	h, _, api := textingHotline(t, storetest.SQLite(t))
	res := h.call(sim.Script{From: "+15555550123", To: "+18005550100", Presses: []string{"1"}, Voicemail: "The VPN is down, please call me."})
	waitCalls(t, api, 1)
	text := func(from, body string) string {
		t.Helper()
		resp, answer, err := h.twilio.Post(context.Background(), "/twilio/sms", url.Values{"From": {from}, "To": {"+15005550006"}, "Body": {body}, "MessageSid": {"SM1"}})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("text %q from %s: %v %v", body, from, resp, err)
		}
		return string(answer)
	}
	if answer := text("+15555550199", "1"); strings.Contains(answer, "<Message>") {
		t.Errorf("a stranger's 1 was answered: %s", answer)
	}
	if in := h.incident(res.CallSid); in.State != incident.StateOpen {
		t.Fatalf("a stranger's text changed the incident: %q", in.State)
	}
	id := strconv.FormatInt(h.incident(res.CallSid).ID, 10)
	if answer := text(alice, " 1 "); !strings.Contains(answer, "<Message>Incident "+id+" acknowledged") {
		t.Errorf("alice's 1 answered %s", answer)
	}
	if in := h.incident(res.CallSid); in.State != incident.StateAcknowledged || *in.AcknowledgedBy != "alice" {
		t.Errorf("after alice's 1: %q by %v", in.State, in.AcknowledgedBy)
	}
	if answer := text(alice, "resolve "+id); !strings.Contains(answer, "Incident "+id+" resolved") {
		t.Errorf("alice's resolve answered %s", answer)
	}
	if in := h.incident(res.CallSid); in.State != incident.StateResolved {
		t.Errorf("after resolve: %q", in.State)
	}
}

// TestTwoInstancesPageOnce: two hotline servers on one database, each
// running its pager, take voicemails in turn: every voicemail's first step
// is paged exactly once, whichever instance took the call, and the page
// calls' Url names every page once.
func TestTwoInstancesPageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		api := newMessagesAPI(t)
		a, sa := textingHotlineOn(t, dsn, api)
		b, sb := textingHotlineOn(t, dsn, api)
		const calls = 6
		var sids []string
		for i := range calls {
			h := a
			if i%2 == 1 {
				h = b
			}
			res := h.call(sim.Script{From: "+15555550123", To: "+18005550100", Presses: []string{"1"}, Voicemail: "Message " + strconv.Itoa(i) + "."})
			sids = append(sids, res.CallSid)
		}
		placed := waitCalls(t, api, calls)
		// Both pagers look once more: nothing is left to place.
		for _, s := range []*server{sa, sb} {
			if n, err := s.pager.RunOnce(context.Background()); err != nil || n != 0 {
				t.Errorf("a pager found %d more pages to place (%v)", n, err)
			}
		}
		if len(api.placed()) != calls {
			t.Fatalf("%d page calls for %d voicemails", len(api.placed()), calls)
		}
		pages := map[string]bool{}
		for _, c := range placed {
			if pages[c.Get("Url")] || c.Get("To") != alice {
				t.Errorf("page call %s to %s placed twice or to the wrong engineer", c.Get("Url"), c.Get("To"))
			}
			pages[c.Get("Url")] = true
		}
		for _, sid := range sids {
			n := 0
			for _, e := range a.incident(sid).Events {
				if e.Type == incident.EventPaged {
					n++
				}
			}
			if n != 1 {
				t.Errorf("call %s has %d paged events, want 1", sid, n)
			}
		}
	})
}
