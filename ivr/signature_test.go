package ivr

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/twilio/twilio-go/client"
)

func sign(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestRequireSignature(t *testing.T) {
	reached := 0
	var seen string
	h := RequireSignature("12345", "https://hotline.example.com", zerolog.Nop(), nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		seen = r.PostForm.Get("CallerName")
	}))
	form := url.Values{"CallSid": {"CA1"}, "CallerName": {"Bad\xffName\x00"}}
	good := sign("12345", "https://hotline.example.com/twilio/voice?x=1", form)
	cases := []struct {
		name   string
		sig    string
		body   string
		status int
	}{
		{"valid", good, form.Encode(), http.StatusOK},
		{"missing", "", form.Encode(), http.StatusForbidden},
		{"wrong token", sign("other", "https://hotline.example.com/twilio/voice?x=1", form), form.Encode(), http.StatusForbidden},
		{"tampered field", good, url.Values{"CallSid": {"CA2"}, "CallerName": {"Bad\xffName\x00"}}.Encode(), http.StatusForbidden},
		{"malformed encoding", good, "CallSid=%zz", http.StatusBadRequest},
		{"too large", good, "CallSid=" + strings.Repeat("a", MaxBody), http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := reached
			req := httptest.NewRequest(http.MethodPost, "/twilio/voice?x=1", strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.sig != "" {
				req.Header.Set("X-Twilio-Signature", c.sig)
			}
			rr := httptest.NewRecorder()
			h.ServeHTTP(rr, req)
			if rr.Code != c.status {
				t.Fatalf("status %d, want %d", rr.Code, c.status)
			}
			if (c.status == http.StatusOK) != (reached == before+1) {
				t.Errorf("handler reached %d times", reached-before)
			}
		})
	}
	if seen != "Bad\uFFFDName\uFFFD" {
		t.Errorf("unreadable bytes not replaced: %q", seen)
	}
}

// TestSignedParamsMatchValidator checks that handing RequestValidator the
// parameters as one pre-sorted string accepts and refuses exactly what the
// library does given every parameter: for forms with Twilio's 30 fields,
// an empty name, names that are prefixes of others and values a URL parser
// would rewrite, over URLs with and without ports and query strings.
func TestSignedParamsMatchValidator(t *testing.T) {
	forms := []url.Values{
		{},
		{"Reason": {"r"}, "ReasonConferenceEnded": {"e"}},
		{"": {"empty name"}, "a": {"1", "second value ignored"}},
		{"CallerName": {"Zoë #1 & co %zz ?x=y"}, "Digits": {""}, "From": {"+15555550123"}},
	}
	twilio := url.Values{}
	for i := range 30 {
		twilio.Set(strings.Repeat("K", i%5)+string(rune('A'+i)), strings.Repeat("v", i))
	}
	forms = append(forms, twilio)
	urls := []string{
		"https://mycompany.com/myapp.php?foo=1&bar=2",
		"https://mycompany.com:443/myapp.php",
		"http://mycompany.com/twilio/voice",
		"https://mycompany.com:1234/twilio/dial?c=alice%7C%2B15555550101%7C25&step=0",
	}
	rv := client.NewRequestValidator("12345")
	for _, form := range forms {
		full := map[string]string{}
		for k, vs := range form {
			full[k] = vs[0]
		}
		for _, u := range urls {
			for _, signedOver := range urls {
				sig := sign("12345", signedOver, form)
				want := rv.Validate(u, full, sig)
				if got := rv.Validate(u, map[string]string{"": signedParams(form, nil)}, sig); got != want {
					t.Errorf("form %v, URL %s signed over %s: got %v, the library with every parameter says %v", form, u, signedOver, got, want)
				}
				if u == signedOver && !want {
					t.Errorf("form %v, URL %s: its own signature refused", form, u)
				}
			}
			if rv.Validate(u, map[string]string{"": signedParams(form, nil) + "x"}, sign("12345", u, form)) {
				t.Errorf("form %v, URL %s: a changed parameter string accepted", form, u)
			}
		}
	}
}

// TestSignatureWithoutLateParams: a request whose signature covers every
// parameter but CallToken or StirVerstat or both (what one report says
// Twilio does) is accepted and counted as relaxed; leaving those two out
// excuses nothing else, so a tampered field is still 403 and reaches no
// handler; and refusals are counted by path, any unknown path as "other".
func TestSignatureWithoutLateParams(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collectors()...)
	reached := 0
	h := RequireSignature("12345", "https://hotline.example.com", zerolog.Nop(), m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
	}))
	post := func(path, sig string, form url.Values) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		return rr.Code
	}
	call := url.Values{"CallSid": {"CA1"}, "From": {"+15555550123"}, "To": {"+18005550100"}}
	sent := url.Values{"CallToken": {"%7B%22parentCallInfoToken%22%3A%22eyJ%22%7D"}, "StirVerstat": {"TN-Validation-Passed-A"}}
	with := func(extra ...string) url.Values {
		v := url.Values{}
		for k, vs := range call {
			v[k] = vs
		}
		for _, k := range extra {
			v[k] = sent[k]
		}
		return v
	}
	sent = with("CallToken", "StirVerstat")
	const voice = "https://hotline.example.com/twilio/voice"

	if code := post("/twilio/voice", sign("12345", voice, with("StirVerstat")), sent); code != http.StatusOK || reached != 1 {
		t.Fatalf("signed without CallToken only: %d, handler reached %d times; want 200 once", code, reached)
	}
	if code := post("/twilio/voice", sign("12345", voice, with("CallToken")), sent); code != http.StatusOK || reached != 2 {
		t.Fatalf("signed without StirVerstat only: %d, handler reached %d times; want 200", code, reached)
	}
	if code := post("/twilio/voice", sign("12345", voice, call), sent); code != http.StatusOK || reached != 3 {
		t.Fatalf("signed without both: %d, handler reached %d times; want 200", code, reached)
	}
	if code := post("/twilio/voice", sign("12345", voice, sent), sent); code != http.StatusOK || reached != 4 {
		t.Fatalf("signed over every parameter: %d; want 200", code)
	}
	tampered := with("CallToken", "StirVerstat")
	tampered.Set("From", "+15555550999")
	if code := post("/twilio/voice", sign("12345", voice, with("CallToken")), tampered); code != http.StatusForbidden || reached != 4 {
		t.Errorf("signed without StirVerstat, From tampered: %d, handler reached %d times; want 403, not reached", code, reached-4)
	}
	withoutCallSid := with("CallToken", "StirVerstat")
	delete(withoutCallSid, "CallSid")
	if code := post("/twilio/voice", sign("12345", voice, withoutCallSid), sent); code != http.StatusForbidden {
		t.Errorf("signed without CallSid: %d, want 403", code)
	}
	forged := sign("other", voice, call)
	for _, path := range []string{"/twilio/status", "/twilio/status", "/twilio/no-such-step", "/twilio/../admin", "/elsewhere"} {
		if code := post(path, forged, call); code != http.StatusForbidden {
			t.Errorf("forged %s: %d, want 403", path, code)
		}
	}
	if reached != 4 {
		t.Errorf("refused requests reached the handler %d times", reached-4)
	}

	rr := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	metrics := rr.Body.String()
	for _, want := range []string{
		"hotline_signature_relaxed_total 3\n",
		`hotline_signature_failures_total{path="/twilio/voice"} 2` + "\n",
		`hotline_signature_failures_total{path="/twilio/status"} 2` + "\n",
		`hotline_signature_failures_total{path="other"} 3` + "\n",
		`hotline_signature_failures_total{path="/twilio/dial"} 0` + "\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if n := strings.Count(metrics, "hotline_signature_failures_total{"); n != len(knownSteps)+1 {
		t.Errorf("%d path labels, want the %d known paths and other:\n%s", n, len(knownSteps)+1, metrics)
	}
}
