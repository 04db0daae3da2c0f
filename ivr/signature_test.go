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

	"github.com/rs/zerolog"
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
	h := RequireSignature("12345", "https://hotline.example.com", zerolog.Nop())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
