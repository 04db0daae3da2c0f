package page

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestPagingWalksTheChain opens a voicemail and never acknowledges it:
// step 1 at once (a call and a text), step 2 after ack_timeout, the chain
// again for the team's repeat, the emergency number once, then nothing.
func TestPagingWalksTheChain(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	e.voicemail(1, callerPhone)
	if err := e.pager.Open(ctx, 1, "ops", e.clock.now()); err != nil {
		t.Fatal(err)
	}
	if err := e.pager.Open(ctx, 1, "ops", e.clock.now()); err != nil { // a retried Open pages once
		t.Fatal(err)
	}
	if n := e.run(e.pager); n != 1 || !slices.Equal(e.twilio.called(), []string{alicePhone}) {
		t.Fatalf("first run placed %d, called %v; want alice at once", n, e.twilio.called())
	}
	c := e.twilio.calls[0]
	id := e.pageID(alicePhone)
	if c.user != testSID || c.password != testToken || c.form.Get("From") != support ||
		c.form.Get("Url") != testPublic+PathCall+"?page="+itoa(id) || c.form.Get("StatusCallback") != testPublic+PathStatus+"?page="+itoa(id) ||
		c.form.Get("Method") != "POST" || c.form.Get("StatusCallbackMethod") != "POST" {
		t.Errorf("call request = %+v", c)
	}
	texts := e.texts.sent()
	if len(texts) != 1 || texts[0].To != alicePhone || texts[0].IncidentID != 1 ||
		!strings.Contains(texts[0].Body, testPublic+"/incidents/1") || !strings.Contains(texts[0].Body, "reply 1 to acknowledge") ||
		!strings.Contains(texts[0].Body, "voicemail for Operations from Globex, "+callerPhone) {
		t.Errorf("texts = %+v", texts)
	}
	paged := e.subj.eventsOf(1, incident.EventPaged)
	if len(paged) != 1 || paged[0].Engineer != "alice" || paged[0].EngineerName != "Alice Adams" || paged[0].EngineerPhone != alicePhone ||
		paged[0].Detail != "step 1, pass 1: page call placed; texted" {
		t.Errorf("paged events = %+v", paged)
	}

	e.clock.advance(5*time.Minute - time.Second)
	if n := e.run(e.pager); n != 0 {
		t.Fatalf("before ack_timeout placed %d", n)
	}
	want := []string{alicePhone, bobPhone, alicePhone, bobPhone, emergency}
	for i := 1; i < len(want); i++ {
		if i == 1 {
			e.clock.advance(time.Second)
		} else {
			e.clock.advance(5 * time.Minute)
		}
		if n := e.run(e.pager); n != 1 {
			t.Fatalf("page %d: placed %d", i+1, n)
		}
	}
	for range 3 {
		e.clock.advance(time.Hour)
		e.run(e.pager)
	}
	if got := e.twilio.called(); !slices.Equal(got, want) {
		t.Errorf("called %v, want %v", got, want)
	}
	if n := len(e.texts.sent()); n != 4 {
		t.Errorf("%d texts, want 4 (the emergency number is called, not texted)", n)
	}
	paged = e.subj.eventsOf(1, incident.EventPaged)
	if len(paged) != 5 || paged[3].Detail != "step 2, pass 2: page call placed; texted" ||
		paged[4].Detail != "the emergency number, after pass 2: page call placed" || paged[4].EngineerPhone != emergency {
		t.Errorf("paged events = %+v", paged)
	}
	if got := pagesTotal(t, e.pager)["call/placed"]; got != 5 {
		t.Errorf("hotline_pages_total{call,placed} = %v", got)
	}
}

// TestPagingStopsWhenClosed: an incident acknowledged or resolved
// elsewhere (the web page) gets no further page.
func TestPagingStopsWhenClosed(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	for id := int64(1); id <= 2; id++ {
		e.voicemail(id, callerPhone)
		if err := e.pager.Open(ctx, id, "ops", e.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.run(e.pager); n != 2 {
		t.Fatalf("placed %d", n)
	}
	if err := e.pager.Acknowledge(ctx, 1, "carol", "web"); err != nil {
		t.Fatal(err)
	}
	e.subj.Resolve(ctx, 2, "carol", "api", e.clock.now()) // behind the pager's back: the claim checks
	e.clock.advance(time.Hour)
	if n := e.run(e.pager); n != 0 || len(e.twilio.called()) != 2 {
		t.Errorf("after closing: placed %d, called %v", n, e.twilio.called())
	}
}

// TestPagingFailedCall: a call Twilio refuses is recorded and counted, and
// the chain moves on at ack_timeout.
func TestPagingFailedCall(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.twilio.refuse[alicePhone] = true
	e.voicemail(1, callerPhone)
	e.pager.Open(context.Background(), 1, "ops", e.clock.now())
	e.run(e.pager)
	paged := e.subj.eventsOf(1, incident.EventPaged)
	if len(paged) != 1 || paged[0].Detail != "step 1, pass 1: the page call could not be placed; texted" {
		t.Errorf("paged events = %+v", paged)
	}
	if got := pagesTotal(t, e.pager)["call/failed"]; got != 1 {
		t.Errorf("hotline_pages_total{call,failed} = %v", got)
	}
	e.clock.advance(5 * time.Minute)
	if e.run(e.pager); !slices.Equal(e.twilio.called(), []string{alicePhone, bobPhone}) {
		t.Errorf("called %v", e.twilio.called())
	}
}

// TestTwoPagersPlaceEachPageOnce runs two instances on one database, at
// the same moments: every page is placed by one of them, once.
func TestTwoPagersPlaceEachPageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		other := e.newPager(openDB(t, dsn))
		const incidents = 12
		for id := int64(1); id <= incidents; id++ {
			e.voicemail(id, callerPhone)
			if err := e.pager.Open(context.Background(), id, "ops", e.clock.now()); err != nil {
				t.Fatal(err)
			}
		}
		both := func() int {
			var wg sync.WaitGroup
			n := make([]int, 2)
			for i, p := range []*Pager{e.pager, other} {
				wg.Go(func() { n[i] = e.run(p) })
			}
			wg.Wait()
			return n[0] + n[1]
		}
		if n := both(); n != incidents {
			t.Errorf("first pages: placed %d, want %d", n, incidents)
		}
		e.clock.advance(5 * time.Minute)
		if n := both(); n != incidents {
			t.Errorf("second pages: placed %d, want %d", n, incidents)
		}
		count := map[string]int{}
		for _, to := range e.twilio.called() {
			count[to]++
		}
		if count[alicePhone] != incidents || count[bobPhone] != incidents || len(e.texts.sent()) != 2*incidents {
			t.Errorf("calls %v, %d texts; want each of alice and bob %d times", count, len(e.texts.sent()), incidents)
		}
		for id := int64(1); id <= incidents; id++ {
			if n := len(e.subj.eventsOf(id, incident.EventPaged)); n != 2 {
				t.Errorf("incident %d: %d paged events", id, n)
			}
		}
	})
}

// TestPageAfterCrash: a pager that claimed a page and died before placing
// it holds it only for its lease; a new pager on the database then places
// it once. A page due while no pager ran is placed when one starts.
func TestPageAfterCrash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.voicemail(1, callerPhone)
		if err := e.pager.Open(context.Background(), 1, "ops", e.clock.now()); err != nil {
			t.Fatal(err)
		}
		e.clock.advance(time.Hour) // due while down
		if _, ok, err := e.pager.claim(context.Background(), e.clock.now(), e.clock.now().Add(time.Minute)); err != nil || !ok {
			t.Fatalf("claim: %v, %v", ok, err)
		}
		// The first pager crashed here. A new one starts on the database.
		restarted := e.newPager(openDB(t, dsn))
		if n := e.run(restarted); n != 0 {
			t.Fatalf("placed %d while the lease held", n)
		}
		e.clock.advance(time.Minute)
		if n := e.run(restarted); n != 1 || !slices.Equal(e.twilio.called(), []string{alicePhone}) {
			t.Fatalf("after the lease: placed %d, called %v", n, e.twilio.called())
		}
		if n := e.run(restarted); n != 0 || len(e.twilio.called()) != 1 {
			t.Errorf("placed again: %d, called %v", n, e.twilio.called())
		}
		e.clock.advance(5 * time.Minute)
		if e.run(restarted); !slices.Equal(e.twilio.called(), []string{alicePhone, bobPhone}) {
			t.Errorf("next step: called %v", e.twilio.called())
		}
	})
}

// TestRunPlacesDuePages runs the loop itself, bounded, on the test clock.
func TestRunPlacesDuePages(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.voicemail(1, callerPhone)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.pager.Run(ctx) }()
	if err := e.pager.Open(ctx, 1, "ops", e.clock.now()); err != nil {
		t.Fatal(err)
	}
	for len(e.twilio.called()) == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond) // polls the fake, not the clock
	}
	cancel()
	if err := <-done; err != nil || !slices.Equal(e.twilio.called(), []string{alicePhone}) {
		t.Errorf("Run: %v, called %v", err, e.twilio.called())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pagesTotal reads hotline_pages_total through a registry, as the binary
// exposes it, by "channel/outcome".
func pagesTotal(t *testing.T, p *Pager) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(p.Collectors()...)
	families, err := reg.Gather()
	if err != nil || len(families) != 1 || families[0].GetName() != "hotline_pages_total" {
		t.Fatalf("metrics %v, %v", families, err)
	}
	out := map[string]float64{}
	for _, m := range families[0].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		out[labels["channel"]+"/"+labels["outcome"]] = m.GetCounter().GetValue()
	}
	if len(out) != 4 {
		t.Errorf("hotline_pages_total series %v, want call and text, placed and failed", out)
	}
	return out
}

// TestUnreadableIncidentWaits: a page whose incident cannot be read is
// retried after its lease, and never holds up the pages due after it.
func TestUnreadableIncidentWaits(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	e.pager.Open(ctx, 99, "ops", e.clock.now().Add(-time.Second)) // no such incident
	e.voicemail(1, callerPhone)
	e.pager.Open(ctx, 1, "ops", e.clock.now())
	n, err := e.pager.RunOnce(ctx)
	if n != 1 || err == nil || !slices.Equal(e.twilio.called(), []string{alicePhone}) {
		t.Fatalf("RunOnce = %d, %v; called %v", n, err, e.twilio.called())
	}
	if n, err := e.pager.RunOnce(ctx); n != 0 || err != nil {
		t.Errorf("within the lease: %d, %v", n, err)
	}
	e.voicemail(99, callerPhone) // readable again
	e.clock.advance(time.Minute)
	if n := e.run(e.pager); n != 1 || !slices.Equal(e.twilio.called(), []string{alicePhone, alicePhone}) {
		t.Errorf("after the lease: placed %d, called %v", n, e.twilio.called())
	}
}

// nobodyOnCall is a chain source whose chains are empty: a coverage gap.
type nobodyOnCall struct{ Chains }

func (nobodyOnCall) Chain(context.Context, string, time.Time) ([]routing.Step, error) {
	return nil, nil
}

// TestNobodyOnCallPagesEmergency: with nobody holding any step, nobody is
// waited for: the emergency number is called at once, and only it.
func TestNobodyOnCallPagesEmergency(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.pager.chains = nobodyOnCall{e.pager.chains}
	e.voicemail(1, callerPhone)
	e.pager.Open(context.Background(), 1, "ops", e.clock.now())
	if n := e.run(e.pager); n != 1 || !slices.Equal(e.twilio.called(), []string{emergency}) || len(e.texts.sent()) != 0 {
		t.Errorf("placed %d, called %v, texted %v", n, e.twilio.called(), e.texts.sent())
	}
	e.clock.advance(time.Hour)
	if n := e.run(e.pager); n != 0 {
		t.Errorf("placed %d more", n)
	}
}

// TestAlertPage: an alert is paged with its summary, spoken and texted,
// and offers no call back.
func TestAlertPage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.subj.add(Subject{ID: 7, Kind: KindAlert, State: StateOpen, Team: "ops", Summary: "Disk full on db-1",
		StartedAt: e.clock.now().Add(-10 * time.Minute)})
	e.pager.Open(context.Background(), 7, "ops", e.clock.now())
	e.run(e.pager)
	if texts := e.texts.sent(); len(texts) != 1 || !strings.HasPrefix(texts[0].Body, "An alert for Operations, 10 minutes ago: Disk full on db-1. "+testPublic+"/incidents/7") {
		t.Errorf("texts %+v", texts)
	}
	doc := e.webhook(e.pager.HandleCall(), PathCall, e.pageID(alicePhone), nil)
	if said := doc.said(); !strings.Contains(said, "An alert for Operations, 10 minutes ago: Disk full on db-1.") || strings.Contains(said, "4 to call") {
		t.Errorf("said %q", said)
	}
}

// TestStoppingLeavesThePage: a pager stopped while a call waits its turn
// places nothing and records nothing; the page goes after its lease.
func TestStoppingLeavesThePage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.voicemail(1, callerPhone)
	e.pager.Open(context.Background(), 1, "ops", e.clock.now())
	ctx, cancel := context.WithCancel(context.Background())
	real := e.pager.caller
	e.pager.caller = stopping{real, cancel}
	if n, err := e.pager.RunOnce(ctx); n != 0 || err == nil || len(e.twilio.called()) != 0 || len(e.subj.eventsOf(1, incident.EventPaged)) != 0 {
		t.Fatalf("stopped RunOnce = %d, %v; called %v", n, err, e.twilio.called())
	}
	e.pager.caller = real
	e.clock.advance(time.Minute)
	if n := e.run(e.pager); n != 1 || !slices.Equal(e.twilio.called(), []string{alicePhone}) {
		t.Errorf("after the lease: placed %d, called %v", n, e.twilio.called())
	}
}

// stopping is a Caller whose process is told to stop as a call is asked
// for: the rate limiter then lets no call go.
type stopping struct {
	Caller
	stop context.CancelFunc
}

func (s stopping) Call(ctx context.Context, to, from, url, statusCallback string) (string, error) {
	s.stop()
	return s.Caller.Call(ctx, to, from, url, statusCallback)
}
