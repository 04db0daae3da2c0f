package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// globexPIN and wrongPIN are 12 digits, the longest PIN a config accepts, so
// that the log's random call SIDs, latencies and temporary paths hold them by
// chance less than once in a billion runs (a 4-digit PIN was found in a SID).
const (
	globexPIN = "246813579024"
	wrongPIN  = "975318642097"
)

// callersConfig is the e2e config with customers, identification and a
// Spanish menu.
func callersConfig(t *testing.T, identify, unknown string) string {
	t.Helper()
	cfg := mustRead(t, "testdata/e2e.yaml")
	cfg = strings.Replace(cfg, `  emergency_number: "+15555550199"`, `  emergency_number: "+15555550199"
  identify: `+identify+`
  unknown_callers: `+unknown, 1)
	return cfg + `customers:
  - id: globex
    name: "Globex Corporation"
    numbers: ["+15555550150"]
    pin: "` + globexPIN + `"
languages:
  - code: es-MX
    digit: "9"
    voice: "Polly.Mia"
    greeting: "Gracias por llamar al soporte de Acme."
    prompts:
      language_offer: "Para español, oprima {digit}."
      menu_option: "Para {label}, oprima {digit}."
      menu_repeat: "Para escuchar de nuevo, oprima asterisco."
      still_trying: "Seguimos buscando a un ingeniero. Por favor, espere."
      voicemail: "Nadie puede atenderle ahora. Deje un mensaje después del tono."
      voicemail_done: "Gracias. Su mensaje ha sido grabado. Adiós."
    menu:
      "1": "una caída del servicio"
      "2": "una pregunta sobre un caso"
`
}

func TestKnownCallerByNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotlineWith(t, dsn, callersConfig(t, "callerid_or_pin", "route"))
		res := h.call(sim.Script{From: "+15555550150", StirVerstat: "TN-Validation-Passed-A", Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !heard(res, "caller", "Welcome, Globex Corporation.") || heard(res, "caller", "PIN") {
			t.Errorf("known caller not greeted by name without a PIN:\n%s", res.Transcript())
		}
		if !heard(res, alice, "from Globex Corporation, 1 5 5 5") {
			t.Errorf("the whisper does not name the customer:\n%s", res.Transcript())
		}
		in := h.incident(res.CallSid)
		wantStatus(t, in, "answered", "alice")
		if in.Customer == nil || *in.Customer != "globex" {
			t.Errorf("customer %v", in.Customer)
		}
	})
}

func TestPINRightOnSecondTry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotlineWith(t, dsn, callersConfig(t, "callerid_or_pin", "reject"))
		res := h.call(sim.Script{Presses: []string{wrongPIN, globexPIN, "1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !heard(res, "caller", "that PIN is not valid") || !heard(res, "caller", "Welcome, Globex Corporation.") {
			t.Errorf("transcript:\n%s", res.Transcript())
		}
		in := h.incident(res.CallSid)
		wantStatus(t, in, "answered", "alice")
		if in.Customer == nil || *in.Customer != "globex" {
			t.Errorf("customer %v", in.Customer)
		}
		for _, e := range in.Events {
			if strings.Contains(e.Detail, wrongPIN) || strings.Contains(e.Detail, globexPIN) {
				t.Errorf("a PIN is in the timeline: %+v", e)
			}
		}
		if log := h.stderr.String(); strings.Contains(log, wrongPIN) || strings.Contains(log, globexPIN) {
			t.Errorf("a PIN is in the log:\n%s", log)
		}
	})
}

func TestPINWrongThreeTimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		for _, c := range []struct {
			unknown, status, heard string
		}{
			{"reject", "missed", "could not verify your account"},
			{"voicemail", "voicemail", "leave a message"},
			{"route", "answered", "For a production outage"},
		} {
			t.Run(c.unknown, func(t *testing.T) {
				h := startHotlineWith(t, dsn, callersConfig(t, "pin", c.unknown))
				res := h.call(sim.Script{Presses: []string{"1", "22", "333", "1"}, Voicemail: "please call me back", Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
				if !heard(res, "caller", c.heard) {
					t.Errorf("unknown_callers %s: transcript:\n%s", c.unknown, res.Transcript())
				}
				in := h.incident(res.CallSid)
				if in.Status != c.status || in.Customer != nil {
					t.Errorf("status %s customer %v, want %s and none", in.Status, in.Customer, c.status)
				}
				if n := countPrefix(eventTypes(in), "pin_invalid"); n != 3 {
					t.Errorf("%d pin_invalid events", n)
				}
			})
		}
	})
}

func TestUnknownNumberRejectedAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotlineWith(t, dsn, callersConfig(t, "callerid", "reject"))
		res := h.call(sim.Script{From: "+15555550999"})
		if len(res.Heard) == 0 || res.Heard[0].Kind != "reject" {
			t.Errorf("a stranger should be rejected before anything is said:\n%s", res.Transcript())
		}
		wantStatus(t, h.incident(res.CallSid), "missed", "")
	})
}

func TestAnnouncementHeardAndSkipped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		// A call before: the menu without announcements is rendered
		// (and kept) first.
		if before := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}}); heard(before, "caller", "us-east") {
			t.Fatalf("an announcement before any was posted:\n%s", before.Transcript())
		}
		until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		out := h.mustRun(nil, "announce", "--db", h.db, "--message", "We are aware of the outage in us-east.", "--until", until)
		if !strings.HasPrefix(out, "announcement 1:") {
			t.Fatalf("announce: %s", out)
		}
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !heard(res, "caller", "We are aware of the outage in us-east.") {
			t.Errorf("announcement not heard:\n%s", res.Transcript())
		}
		skipped := h.call(sim.Script{Presses: []string{"0", "1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		plays := 0
		for _, l := range skipped.Heard {
			if strings.Contains(l.Text, "us-east") {
				plays++
			}
		}
		if plays != 1 {
			t.Errorf("after 0 the announcement played again (%d plays):\n%s", plays, skipped.Transcript())
		}
		wantStatus(t, h.incident(skipped.CallSid), "answered", "alice")
		h.mustRun(nil, "announce", "rm", "1", "--db", h.db)
		after := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if heard(after, "caller", "us-east") {
			t.Error("an ended announcement is still spoken")
		}
	})
}

func TestSpanishCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotlineWith(t, dsn, callersConfig(t, "none", "route"))
		// alice's own voicemail answers: she hears the whisper, nobody accepts.
		res := h.call(sim.Script{Presses: []string{"9", "1"}, Voicemail: "Hola, necesito ayuda.", Engineers: map[string]sim.Behaviour{alice: sim.Voicemail}})
		if !heard(res, "caller", "Para español, oprima 9.") {
			t.Fatalf("no language offer:\n%s", res.Transcript())
		}
		wantSpanishAfterNine(t, res, "Para una caída del servicio, oprima 1.", "Seguimos buscando a un ingeniero.", "Deje un mensaje", "Su mensaje ha sido grabado")
		if !heard(res, alice, "Support call for Operations") {
			t.Errorf("the engineer's whisper should stay in the line's language:\n%s", res.Transcript())
		}
		wantStatus(t, h.incident(res.CallSid), "voicemail", "")
	})
}

// wantSpanishAfterNine checks that everything the caller heard after
// pressing 9 was in es-MX, and that they heard each of want.
func wantSpanishAfterNine(t *testing.T, res *sim.Result, want ...string) {
	t.Helper()
	chose := -1
	for i, l := range res.Heard {
		if l.Leg == "caller" && l.Kind == "press" && strings.Contains(l.Text, "9") {
			chose = i
			break
		}
	}
	if chose < 0 {
		t.Fatalf("9 never pressed:\n%s", res.Transcript())
	}
	for _, l := range res.Heard[chose:] {
		if l.Leg == "caller" && l.Kind == "say" && l.Language != "es-MX" {
			t.Errorf("after choosing Spanish the caller heard %q in %q", l.Text, l.Language)
		}
	}
	for _, w := range want {
		if !heard(res, "caller", w) {
			t.Errorf("did not hear %q:\n%s", w, res.Transcript())
		}
	}
}

// TestCallerIDNeedsAttestation: a customer's number identifies the caller
// only with the STIR/SHAKEN attestation hotline.caller_id_attestation asks
// for (A by default); without it the caller is unidentified and, on a
// callerid_or_pin line, asked for the PIN. The incident keeps the
// StirVerstat it came with.
func TestCallerIDNeedsAttestation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		cases := []struct {
			attestation, verstat string
			identified           bool
		}{
			{"", "", false},
			{"", "TN-Validation-Passed-B", false},
			{"", "TN-Validation-Failed-A", false},
			{"", "TN-Validation-Passed-A", true},
			{"B", "TN-Validation-Passed-B", true},
			{"B", "TN-Validation-Passed-C", false},
			{"any", "", true},
		}
		for _, c := range cases {
			cfg := callersConfig(t, "callerid_or_pin", "route")
			if c.attestation != "" {
				cfg = strings.Replace(cfg, "  identify: ", "  caller_id_attestation: "+c.attestation+"\n  identify: ", 1)
			}
			h := startHotlineWith(t, dsn, cfg)
			res := h.call(sim.Script{From: "+15555550150", StirVerstat: c.verstat, Presses: []string{"", "", "", "1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
			in := h.incident(res.CallSid)
			if got := heard(res, "caller", "Welcome, Globex Corporation."); got != c.identified || heard(res, "caller", "PIN") == c.identified {
				t.Errorf("caller_id_attestation %q, StirVerstat %q: welcomed %v, want %v:\n%s", c.attestation, c.verstat, got, c.identified, res.Transcript())
			}
			if (in.Customer != nil) != c.identified || in.CallerAttestation != c.verstat {
				t.Errorf("caller_id_attestation %q, StirVerstat %q: customer %v, caller_attestation %q", c.attestation, c.verstat, in.Customer, in.CallerAttestation)
			}
		}
	})
}

// TestWithheldCallerIsNeverANumber: a withheld caller ID, as a word or as
// the keypad spelling that looks like E.164, is "a withheld number" in the
// whisper, never its digits; SIP and app callers are named as such.
func TestWithheldCallerIsNeverANumber(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	for from, want := range map[string]string{
		"anonymous": "a withheld number", "Restricted": "a withheld number", "+266696687": "a withheld number", "+7378742833": "a withheld number",
		"sip:alice@pbx.example.com": "a SIP caller", "client:support-widget": "an app caller",
	} {
		res := h.call(sim.Script{From: from, Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if !heard(res, alice, "from "+want+".") || heard(res, alice, "2 6 6") || heard(res, alice, "7 3 7 8") {
			t.Errorf("From %q: the whisper does not say %q:\n%s", from, want, res.Transcript())
		}
		wantStatus(t, h.incident(res.CallSid), "answered", "alice")
	}
}
