package main

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// twimlNode is a parsed TwiML element.
type twimlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr  `xml:",any,attr"`
	Text     string      `xml:",chardata"`
	Children []twimlNode `xml:",any"`
}

func (n twimlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n twimlNode) verbs() string {
	var out []string
	for _, c := range n.Children {
		out = append(out, c.XMLName.Local)
	}
	return strings.Join(out, ",")
}

// says lists the text of n's <Say> children.
func (n twimlNode) says() []string {
	var out []string
	for _, c := range n.Children {
		if c.XMLName.Local == "Say" {
			out = append(out, strings.TrimSpace(c.Text))
		}
	}
	return out
}

// answered parses the TwiML hotline answered to the first request of kind
// on leg.
func answered(t *testing.T, res *sim.Result, leg, kind string) twimlNode {
	t.Helper()
	for _, r := range res.Requests {
		if r.Leg == leg && r.Kind == kind {
			var doc twimlNode
			if err := xml.Unmarshal([]byte(r.Body), &doc); err != nil {
				t.Fatalf("%s %s: %v", kind, r.Path, err)
			}
			return doc
		}
	}
	t.Fatalf("no %s request on the %s leg:\n%s", kind, leg, res.Transcript())
	return twimlNode{}
}

// oneOptionConfig is the e2e config with only the outage option.
func oneOptionConfig(t *testing.T) string {
	t.Helper()
	cfg := mustRead(t, "testdata/e2e.yaml")
	two := `    - digit: "2"
      label: "a question about an existing ticket"
      team: desk
`
	if !strings.Contains(cfg, two) {
		t.Fatal("testdata/e2e.yaml no longer has the option this test removes")
	}
	return strings.Replace(cfg, two, "", 1)
}

const spanishOneOption = `languages:
  - code: es-MX
    digit: "9"
    voice: "Polly.Mia"
    greeting: "Gracias por llamar al soporte de Acme."
    prompts:
      language_offer: "Para español, oprima {digit}."
      still_trying: "Seguimos buscando a un ingeniero. Por favor, espere."
      voicemail: "Nadie puede atenderle ahora. Deje un mensaje después del tono."
      voicemail_done: "Gracias. Su mensaje ha sido grabado. Adiós."
    menu:
      "1": "una caída del servicio"
`

func TestOneOptionAnnouncement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotlineWith(t, dsn, oneOptionConfig(t))
		const message = "We are aware of the outage in us-east."
		until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		h.mustRun(nil, "announce", "--db", h.db, "--message", message, "--until", until)
		for _, c := range []struct {
			name    string
			presses []string
		}{
			{"no key", nil},
			{"0 skips", []string{"0"}},
			{"another key", []string{"5"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				res := h.call(sim.Script{Presses: c.presses, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
				doc := answered(t, res, "caller", "voice")
				if doc.verbs() != "Say,Gather,Redirect" {
					t.Fatalf("incoming call answered %s, want the greeting, a Gather, a Redirect", doc.verbs())
				}
				if strings.TrimSpace(doc.Children[0].Text) != "Thank you for calling Acme 24x7 support." {
					t.Errorf("first verb %q, want the greeting", doc.Children[0].Text)
				}
				g := doc.Children[1]
				says := strings.Join(g.says(), " | ")
				if says != "An announcement. To skip it, press 0. | "+message {
					t.Errorf("the Gather says %q, want how to skip and the announcement, and no menu", says)
				}
				if g.attr("numDigits") != "1" {
					t.Errorf("Gather numDigits %q", g.attr("numDigits"))
				}
				docs := callerDocs(t, res)
				if len(docs) < 2 || docs[1].verbs() != "Dial" {
					t.Fatalf("after the Gather the caller's next document is not the ring:\n%s", res.Transcript())
				}
				for _, d := range docs[1:] {
					if strings.Contains(d.verbs(), "Gather") {
						t.Errorf("a second Gather (%s) after the announcement:\n%s", d.verbs(), res.Transcript())
					}
				}
				in := h.incident(res.CallSid)
				wantStatus(t, in, "answered", "alice")
				if in.Team != "ops" || in.MenuDigit != "1" {
					t.Errorf("team %q digit %q, want ops 1", in.Team, in.MenuDigit)
				}
			})
		}
	})
}

// callerDocs parses, in order, every TwiML document the caller's leg was
// given.
func callerDocs(t *testing.T, res *sim.Result) []twimlNode {
	t.Helper()
	var out []twimlNode
	for _, r := range res.Requests {
		if r.Leg != "caller" || (r.Kind != "voice" && r.Kind != "action" && r.Kind != "redirect") {
			continue
		}
		var doc twimlNode
		if err := xml.Unmarshal([]byte(r.Body), &doc); err != nil {
			t.Fatalf("%s %s: %v", r.Kind, r.Path, err)
		}
		out = append(out, doc)
	}
	return out
}

func TestOneOptionLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotlineWith(t, dsn, oneOptionConfig(t)+spanishOneOption)
		t.Run("9 switches to Spanish, then routes", func(t *testing.T) {
			res := h.call(sim.Script{Presses: []string{"9"}, Voicemail: "Hola, necesito ayuda.", Engineers: map[string]sim.Behaviour{alice: sim.Voicemail}})
			g := answered(t, res, "caller", "voice").Children[1]
			if g.XMLName.Local != "Gather" || strings.Join(g.says(), " | ") != "Para español, oprima 9." {
				t.Fatalf("the language is not offered in a Gather: <%s> says %q", g.XMLName.Local, g.says())
			}
			wantSpanishAfterNine(t, res, "Gracias por llamar al soporte de Acme.", "Seguimos buscando a un ingeniero.", "Deje un mensaje", "Su mensaje ha sido grabado")
			in := h.incident(res.CallSid)
			wantStatus(t, in, "voicemail", "")
			ev := eventTypes(in)
			if countPrefix(ev, "language") != 1 || countPrefix(ev, "no_key:alice") != 2 || countPrefix(ev, "ring:bob") != 2 {
				t.Errorf("events %v: want the language, then alice's voicemail as no_key on both passes, escalating to bob", ev)
			}
		})
		t.Run("no key routes in the line's language", func(t *testing.T) {
			res := h.call(sim.Script{Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
			if !heard(res, "caller", "Para español, oprima 9.") {
				t.Errorf("no language offer:\n%s", res.Transcript())
			}
			wantStatus(t, h.incident(res.CallSid), "answered", "alice")
			for _, l := range res.Heard {
				if l.Leg == "caller" && l.Kind == "say" && l.Language == "es-MX" && !strings.HasPrefix(l.Text, "Para español") {
					t.Errorf("heard %q in Spanish without choosing it", l.Text)
				}
			}
		})
	})
}

func TestOneOptionNothingToOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotlineWith(t, dsn, oneOptionConfig(t))
		res := h.call(sim.Script{Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if got := answered(t, res, "caller", "voice").verbs(); got != "Say,Dial" {
			t.Errorf("incoming call answered %s, want the greeting then the ring at once", got)
		}
		wantStatus(t, h.incident(res.CallSid), "answered", "alice")
	})
}
