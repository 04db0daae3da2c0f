package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestSignatureMetricsAndStartURLs: serve logs the three URLs the Twilio
// number must be given; a forged webhook is refused and counted under its
// path on /metrics; an incoming call whose signature left out CallToken is
// answered and counted as relaxed.
func TestSignatureMetricsAndStartURLs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		logs := h.stderr.String()
		for _, want := range []string{
			`"voice_url":"` + h.base + `/twilio/voice"`,
			`"status_callback_url":"` + h.base + `/twilio/status"`,
			`"fallback_url":"` + h.base + `/twilio/fallback"`,
		} {
			if !strings.Contains(logs, want) {
				t.Errorf("start log lacks %s:\n%s", want, logs)
			}
		}
		post := func(path string, signed, sent url.Values, token string) int {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, h.base+path, strings.NewReader(sent.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", sim.Sign(token, h.base+path, signed))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		status := url.Values{"CallSid": {"CAforged"}, "CallStatus": {"completed"}}
		if code := post("/twilio/status", status, status, "not-the-token"); code != http.StatusForbidden {
			t.Errorf("forged status callback: %d, want 403", code)
		}
		signed := url.Values{"CallSid": {"CArelaxed"}, "AccountSid": {"AC1"}, "From": {"+15555550199"}, "To": {"+18005550100"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
		sent := url.Values{"CallToken": {"%7B%22parentCallInfoToken%22%7D"}}
		for k, v := range signed {
			sent[k] = v
		}
		if code := post("/twilio/voice", signed, sent, testToken); code != http.StatusOK {
			t.Errorf("call signed without CallToken: %d, want 200", code)
		}
		body := h.metrics()
		for _, want := range []string{
			`hotline_signature_failures_total{path="/twilio/status"} 1`,
			`hotline_signature_failures_total{path="/twilio/voice"} 0`,
			`hotline_signature_failures_total{path="other"} 0`,
			`hotline_signature_relaxed_total 1`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}
