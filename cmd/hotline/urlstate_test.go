package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// accessLog is a reverse proxy in front of hotline that keeps each request
// line, as nginx's or Caddy's access log would.
type accessLog struct {
	mu    sync.Mutex
	lines []string
}

func (a *accessLog) proxy(t *testing.T, base string) *httptest.Server {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.lines = append(a.lines, r.Method+" "+r.RequestURI)
		a.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// urlForms are the forms s could take in a URL: as it is, escaped, its
// digits, the national and subscriber numbers, hex and base64 at each
// alignment.
func urlForms(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), hex.EncodeToString([]byte(s))}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(digits) >= 10 {
		out = append(out, digits, digits[len(digits)-10:], digits[len(digits)-7:])
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		for pad := range 3 {
			e := enc.EncodeToString([]byte(strings.Repeat("\x00", pad) + s))
			out = append(out, e[(pad*8+5)/6:len(e)-3])
		}
	}
	return out
}

// TestCallURLsCarryNoPhoneNumbers plays whole calls through a logging proxy
// in front of `hotline serve`: neither the proxy's access log nor any URL in
// the TwiML hotline answered (action, url, Redirect, statusCallback,
// recordingStatusCallback, transcribeCallback) holds an engineer's number,
// the emergency number, the caller's number or name, or the support number,
// in any form; and the engineers are still rung in the chain's order.
func TestCallURLsCarryNoPhoneNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		var log accessLog
		tw := &sim.Twilio{BaseURL: log.proxy(t, h.base).URL, PublicURL: h.base, AuthToken: testToken}
		const callerNumber, callerName = "+15555550123", "Globex Ops"
		for _, c := range []struct {
			name    string
			script  sim.Script
			dialled []string
			status  string
			by      string
		}{
			{"escalation to the second engineer",
				sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.NoAnswer, bob: sim.Accept}},
				[]string{alice, bob}, "answered", "bob"},
			{"declined, then voicemail after both passes",
				sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Decline, bob: sim.Voicemail}, Voicemail: "Our VPN is down."},
				[]string{alice, bob, dana, alice, bob, dana}, "voicemail", ""},
			{"no key at the menu, an empty message",
				sim.Script{Presses: []string{"", "", ""}},
				[]string{alice, bob, dana, alice, bob, dana}, "missed", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				s := c.script
				s.From, s.To, s.CallerName = callerNumber, "+18005550100", callerName
				res, err := tw.Call(context.Background(), s)
				if err != nil {
					t.Fatalf("call: %v\n%s", err, transcript(res))
				}
				var dialled []string
				for _, l := range res.Heard {
					if rest, ok := strings.CutPrefix(l.Text, "dial +"); ok && l.Kind == "dial" {
						dialled = append(dialled, "+"+strings.Fields(rest)[0])
					}
				}
				if !slices.Equal(dialled, c.dialled) {
					t.Errorf("rang %v, want %v", dialled, c.dialled)
				}
				wantStatus(t, h.incident(res.CallSid), c.status, c.by)

				log.mu.Lock()
				urls := append(res.URLs(), log.lines...)
				log.mu.Unlock()
				if len(log.lines) < 5 {
					t.Fatalf("the access log has %d lines: the proxy saw no call", len(log.lines))
				}
				for _, secret := range []string{alice, bob, carol, dana, erin, "+15555550199", callerNumber, callerName, "+18005550100"} {
					for _, form := range urlForms(secret) {
						for _, u := range urls {
							if strings.Contains(u, form) {
								t.Errorf("%q holds %s as %q", u, secret, form)
							}
						}
					}
				}
			})
		}
	})
}
