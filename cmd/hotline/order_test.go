package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// The final status callback and the last Dial or Record action are separate
// requests Twilio sends in no guaranteed order (README, "The call"); these
// tests play the main calls with the status callback last, first and at
// once, signed as Twilio signs them.
var statusOrders = []struct {
	name  string
	order sim.StatusOrder
}{{"status last", sim.StatusLast}, {"status first", sim.StatusFirst}, {"status concurrent", sim.StatusConcurrent}}

// startOrderServer serves testdata/e2e.yaml on 127.0.0.1 with the database
// at dsn; its texts are queued, not sent (no Twilio account).
func startOrderServer(t *testing.T, dsn string) (*server, *sim.Twilio) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hotline.yaml")
	if err := os.WriteFile(cfg, []byte(mustRead(t, "testdata/e2e.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := startServer(ctx, serveOptions{
		common: common{config: cfg, db: dsn, spool: filepath.Join(dir, "hotline.spool")}, addr: "127.0.0.1:0", authToken: testToken,
	}, zerolog.Nop())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	return s, &sim.Twilio{BaseURL: "http://" + s.addr, AuthToken: testToken}
}

// inEveryStatusOrder runs test on SQLite and PostgreSQL, against one
// server per database, once with each order of the last webhooks.
func inEveryStatusOrder(t *testing.T, test func(t *testing.T, s *server, tw *sim.Twilio, order sim.StatusOrder)) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, tw := startOrderServer(t, dsn)
		for _, o := range statusOrders {
			t.Run(o.name, func(t *testing.T) { test(t, s, tw, o.order) })
		}
	})
}

// orderCall places a call that must meet no protocol error and returns
// its incident, with its events.
func orderCall(t *testing.T, s *server, tw *sim.Twilio, script sim.Script) (*sim.Result, incident.Incident) {
	t.Helper()
	script.From, script.To = "+15555550123", "+18005550100"
	res, err := tw.Call(context.Background(), script)
	if err != nil {
		t.Fatalf("call: %v\n%s", err, transcript(res))
	}
	found, err := s.incidents.IncidentsByCallSid(context.Background(), []string{res.CallSid})
	if err != nil || found[res.CallSid].ID == 0 {
		t.Fatalf("no incident for %s: %v", res.CallSid, err)
	}
	in, err := s.incidents.Incident(context.Background(), found[res.CallSid].ID)
	if err != nil {
		t.Fatal(err)
	}
	return res, in
}

// queuedText waits (10 s at most) for the outbox row with key, as the
// writer's commits queue it, and returns its recipient and body.
func queuedText(t *testing.T, s *server, key string) (to, body string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.db.QueryRowContext(context.Background(), `SELECT to_number, body FROM outbox WHERE dedup_key = ?`, key).Scan(&to, &body)
		if err == nil {
			return to, body
		}
		if !errors.Is(err, sql.ErrNoRows) || time.Now().After(deadline) {
			t.Fatalf("no text %s queued: %v", key, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noEarlyHangup fails when the timeline still says the caller hung up
// before anyone accepted, or rang past the engineer who answered.
func noEarlyHangup(t *testing.T, in incident.Incident) {
	t.Helper()
	for _, e := range in.Events {
		if e.Type == incident.EventHangup {
			t.Errorf("timeline keeps a hang-up (%s): %v", e.Detail, eventTypes(in))
		}
	}
}

// TestVoicemailWhateverTheStatusOrder: a caller who leaves a message and
// hangs up makes the status callback race the Record action. Whichever
// lands first, the call is a voicemail with its recording, its timeline has
// no hang-up, and the voicemail text to the team's first step is queued.
func TestVoicemailWhateverTheStatusOrder(t *testing.T) {
	inEveryStatusOrder(t, func(t *testing.T, s *server, tw *sim.Twilio, order sim.StatusOrder) {
		_, in := orderCall(t, s, tw, sim.Script{Presses: []string{"1"}, Voicemail: "The VPN is down.", HangupAfter: "record", StatusOrder: order})
		wantStatus(t, in, incident.StatusVoicemail, "")
		if in.RecordingURL == nil || !strings.HasPrefix(*in.RecordingURL, "https://") || in.EndedAt == nil || in.DurationS == nil {
			t.Errorf("incident %+v", in)
		}
		noEarlyHangup(t, in)
		if to, body := queuedText(t, s, "voicemail:"+strconv.FormatInt(in.ID, 10)); to != alice || !strings.Contains(body, "voicemail") {
			t.Errorf("voicemail text to %s: %q", to, body)
		}
	})
}

// TestBridgedWhateverTheStatusOrder: a caller who hangs up on the engineer
// makes the status callback race the Dial action. Whichever lands first,
// the call is answered by the engineer who accepted, nobody else rang, and
// the engineer's text is queued.
func TestBridgedWhateverTheStatusOrder(t *testing.T) {
	inEveryStatusOrder(t, func(t *testing.T, s *server, tw *sim.Twilio, order sim.StatusOrder) {
		_, in := orderCall(t, s, tw, sim.Script{Presses: []string{"1"}, HangupAfter: "talk", StatusOrder: order,
			Engineers: map[string]sim.Behaviour{alice: sim.Accept, bob: sim.Accept}})
		wantStatus(t, in, incident.StatusAnswered, "alice")
		if in.AnsweredAt == nil || in.EndedAt == nil || in.DurationS == nil {
			t.Errorf("incident %+v", in)
		}
		noEarlyHangup(t, in)
		if ev := eventTypes(in); countPrefix(ev, "bridged:alice") != 1 || countPrefix(ev, "ring:bob") != 0 {
			t.Errorf("events %v", ev)
		}
		if to, body := queuedText(t, s, "answered:"+strconv.FormatInt(in.ID, 10)); to != alice || !strings.Contains(body, "you took a call") {
			t.Errorf("answered text to %s: %q", to, body)
		}
	})
}

// TestDialWithoutOptionalParameters: without DialBridged on the Dial action
// and without ParentCallSid on the whisper's requests, the engineer's
// accept still lands on the caller's incident (the CallSid travels in the
// sealed state) and decides the dial: answered by alice, bob never rung, no
// incident for the engineer's leg. With the status callback first too.
func TestDialWithoutOptionalParameters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, tw := startOrderServer(t, dsn)
		for _, tc := range []struct {
			name   string
			hangup string
			order  sim.StatusOrder
		}{{"engineer hangs up", "", sim.StatusLast}, {"caller hangs up, status first", "talk", sim.StatusFirst}} {
			t.Run(tc.name, func(t *testing.T) {
				res, in := orderCall(t, s, tw, sim.Script{Presses: []string{"1"}, HangupAfter: tc.hangup, StatusOrder: tc.order,
					OmitDialBridged: true, OmitParentCallSid: true, Engineers: map[string]sim.Behaviour{alice: sim.Accept, bob: sim.Accept}})
				wantStatus(t, in, incident.StatusAnswered, "alice")
				if ev := eventTypes(in); countPrefix(ev, "accepted:alice") != 1 || countPrefix(ev, "ring:bob") != 0 {
					t.Errorf("events %v", ev)
				}
				var legs []string
				for _, r := range res.Requests {
					if r.Kind == "whisper" || r.Leg == alice {
						if _, ok := r.Params["ParentCallSid"]; ok && r.Kind != "status" {
							t.Errorf("%s %s carried ParentCallSid", r.Kind, r.Path)
						}
						legs = append(legs, r.Params["CallSid"][0])
					}
				}
				found, err := s.incidents.IncidentsByCallSid(context.Background(), legs)
				if err != nil || len(legs) == 0 || len(found) != 0 {
					t.Errorf("the engineer's leg %v has incidents %v (%v)", legs, found, err)
				}
				if heard(res, bob, "") {
					t.Errorf("bob was dialled:\n%s", res.Transcript())
				}
			})
		}
	})
}

// TestEscalationPastPersonalVoicemail: alice's own voicemail picks up after
// 22 s of her 20 s step (Twilio rings 25 s), hears the whisper and presses
// nothing; hotline moves on and bob accepts. Whichever order the last
// webhooks take, the call is bob's, and alice's step is a missed key, not
// an accept.
func TestEscalationPastPersonalVoicemail(t *testing.T) {
	inEveryStatusOrder(t, func(t *testing.T, s *server, tw *sim.Twilio, order sim.StatusOrder) {
		res, in := orderCall(t, s, tw, sim.Script{Presses: []string{"1"}, HangupAfter: "talk", StatusOrder: order,
			Engineers: map[string]sim.Behaviour{alice: sim.Voicemail, bob: sim.Accept}})
		wantStatus(t, in, incident.StatusAnswered, "bob")
		ev := eventTypes(in)
		if countPrefix(ev, "no_key:alice") != 1 || countPrefix(ev, "accepted:alice") != 0 || countPrefix(ev, "bridged:bob") != 1 {
			t.Errorf("events %v", ev)
		}
		noEarlyHangup(t, in)
		if !heard(res, alice, "answers") {
			t.Errorf("alice's voicemail never answered:\n%s", res.Transcript())
		}
	})
}

// TestHangupWhileRingingWhateverTheStatusOrder: a caller who hangs up
// while alice's phone rings makes the status callback race the Dial
// action (DialCallStatus canceled): the call is abandoned, closed, and
// nobody after alice is rung.
func TestHangupWhileRingingWhateverTheStatusOrder(t *testing.T) {
	inEveryStatusOrder(t, func(t *testing.T, s *server, tw *sim.Twilio, order sim.StatusOrder) {
		res, in := orderCall(t, s, tw, sim.Script{Presses: []string{"1"}, HangupAfter: "ring:1", StatusOrder: order})
		wantStatus(t, in, incident.StatusAbandoned, "")
		if in.EndedAt == nil {
			t.Errorf("incident not closed: %+v", in)
		}
		if ev := eventTypes(in); countPrefix(ev, "ring:bob") != 0 || heard(res, bob, "") {
			t.Errorf("bob was rung after the caller hung up: %v", ev)
		}
	})
}

// TestCallTokenLeftOutOfTheSignature: a whole call whose incoming requests
// were signed without CallToken and StirVerstat (one report of what Twilio
// does) is routed and answered, and each such request is counted as
// relaxed.
func TestCallTokenLeftOutOfTheSignature(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	tw := *h.twilio
	tw.CallTokenUnsigned = true
	res, err := tw.Call(context.Background(), sim.Script{From: "+15555550123", To: "+18005550100", StirVerstat: "TN-Validation-Passed-A",
		Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
	if err != nil {
		t.Fatalf("call: %v\n%s", err, transcript(res))
	}
	wantStatus(t, h.incident(res.CallSid), incident.StatusAnswered, "alice")
	relaxed := 0
	for _, r := range res.Requests {
		if _, ok := r.Params["CallToken"]; ok {
			relaxed++
		}
	}
	if want := "hotline_signature_relaxed_total " + strconv.Itoa(relaxed); relaxed == 0 || !strings.Contains(h.metrics(), want+"\n") {
		t.Errorf("/metrics lacks %s", want)
	}
}
