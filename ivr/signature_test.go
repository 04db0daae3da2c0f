package ivr

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

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
				if got := rv.Validate(u, map[string]string{"": signedParams(form)}, sig); got != want {
					t.Errorf("form %v, URL %s signed over %s: got %v, the library with every parameter says %v", form, u, signedOver, got, want)
				}
				if u == signedOver && !want {
					t.Errorf("form %v, URL %s: its own signature refused", form, u)
				}
			}
			if rv.Validate(u, map[string]string{"": signedParams(form) + "x"}, sign("12345", u, form)) {
				t.Errorf("form %v, URL %s: a changed parameter string accepted", form, u)
			}
		}
	}
}

// FuzzParseForm holds parseForm to url.ParseQuery: the same fields and
// values in the same order, and an error whenever it gives one; and a
// refusal of forms over maxFields fields, where it allows 10,000.
func FuzzParseForm(f *testing.F) {
	for _, seed := range []string{
		"", "CallSid=CA1&From=%2B15555550123&CallerName=Zo%C3%AB+%26+co",
		"a=1&a=2&b=&=x&&c", "a=1;b=2", "a=%zz", "%zz=1", "Digits=1&Digits=2&Digits=3&x=y",
		strings.Repeat("k=v&", 40),
	} {
		f.Add(seed)
	}
	f.Add(strings.Repeat("&", maxFields))
	f.Fuzz(func(t *testing.T, body string) {
		got, err := parseForm(body)
		if strings.Count(body, "&") >= maxFields {
			if err == nil {
				t.Fatalf("a form of more than %d fields accepted", maxFields)
			}
			return
		}
		want, wantErr := url.ParseQuery(body)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: error %v, url.ParseQuery's %v", body, err, wantErr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %v, url.ParseQuery gives %v", body, got, want)
		}
		for k, vs := range want {
			if !slices.Equal(got[k], vs) {
				t.Fatalf("%q: %s = %q, url.ParseQuery gives %q", body, k, got[k], vs)
			}
		}
	})
}
