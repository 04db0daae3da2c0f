package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fakeTwilio is a local stand-in for the part of Twilio's REST API that
// `twilio configure` and `twilio check` use, answering with Twilio's JSON
// shapes: incoming phone numbers (list, update), Voice dialing permissions
// by country, toll-free verifications and Messaging Services. Through
// HOTLINE_TWILIO_API_URL it gets the requests for api., voice. and
// messaging.twilio.com alike, at their paths.
type fakeTwilio struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	numbers  []map[string]any // resources as Twilio's JSON has them
	requests []fakeRequest
	status   int // when set, every request gets this error status
	// countries are the Voice dialing permissions: ISO code → whether
	// calls to its low-risk numbers are enabled; a code not here is 404.
	countries map[string]bool
	// verifications are the toll-free verifications, as Twilio's JSON.
	verifications []map[string]any
	// services are the Messaging Services, as Twilio's JSON.
	services []map[string]any
	// hold, when set, keeps every request waiting until it is closed.
	hold chan struct{}
}

// fakeRequest is one request as the fake received it.
type fakeRequest struct {
	method, host, path string
	query, form        url.Values
	user, password     string
	contentType        string
}

func newFakeTwilio(t *testing.T, numbers ...map[string]any) *fakeTwilio {
	f := &fakeTwilio{t: t, numbers: numbers}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// countryNames are the names Twilio gives the countries the tests use.
var countryNames = map[string]string{"US": "United States/Canada", "CA": "Canada", "GB": "United Kingdom", "JM": "Jamaica"}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	if f.hold != nil {
		<-f.hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("fake twilio: %v", err)
	}
	user, pass, _ := r.BasicAuth()
	f.requests = append(f.requests, fakeRequest{
		method: r.Method, host: r.Host, path: r.URL.Path,
		query: r.URL.Query(), form: r.PostForm, user: user, password: pass,
		contentType: r.Header.Get("Content-Type"),
	})
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		json.NewEncoder(w).Encode(map[string]any{"code": 20003, "message": "Authenticate", "status": f.status, "more_info": "https://www.twilio.com/docs/errors/20003"})
		return
	}
	const countries, services = "/v1/DialingPermissions/Countries/", "/v1/Services/"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == accountPath+"/IncomingPhoneNumbers.json":
		// Like Twilio, the filter matches partial numbers.
		list := []map[string]any{}
		for _, n := range f.numbers {
			if strings.Contains(n["phone_number"].(string), r.URL.Query().Get("PhoneNumber")) {
				list = append(list, n)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"incoming_phone_numbers": list, "page": 0, "page_size": 50, "next_page_uri": nil})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, accountPath+"/IncomingPhoneNumbers/"):
		sid := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, accountPath+"/IncomingPhoneNumbers/"), ".json")
		for _, n := range f.numbers {
			if n["sid"] == sid {
				for k, field := range map[string]string{"VoiceUrl": "voice_url", "VoiceMethod": "voice_method", "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method", "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method", "SmsUrl": "sms_url", "SmsMethod": "sms_method"} {
					if v, ok := r.PostForm[k]; ok {
						n[field] = v[0]
					}
				}
				json.NewEncoder(w).Encode(n)
				return
			}
		}
		notFound(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, countries):
		iso := strings.TrimPrefix(r.URL.Path, countries)
		enabled, ok := f.countries[iso]
		if !ok {
			notFound(w, r)
			return
		}
		self := "https://voice.twilio.com" + r.URL.Path
		json.NewEncoder(w).Encode(map[string]any{
			"iso_code": iso, "name": countryNames[iso], "continent": "NORTH AMERICA", "country_codes": []string{"+1"},
			"low_risk_numbers_enabled": enabled, "high_risk_special_numbers_enabled": false, "high_risk_tollfraud_numbers_enabled": false,
			"url": self, "links": map[string]any{"highrisk_special_prefixes": self + "/HighRiskSpecialPrefixes"},
		})
	case r.Method == http.MethodGet && r.URL.Path == "/v1/Tollfree/Verifications":
		list := []map[string]any{}
		for _, v := range f.verifications {
			if pn := r.URL.Query().Get("TollfreePhoneNumberSid"); pn == "" || v["tollfree_phone_number_sid"] == pn {
				list = append(list, v)
			}
		}
		page := "https://messaging.twilio.com/v1/Tollfree/Verifications?" + r.URL.RawQuery
		json.NewEncoder(w).Encode(map[string]any{"verifications": list, "meta": map[string]any{
			"page": 0, "page_size": 50, "first_page_url": page, "previous_page_url": nil, "url": page, "next_page_url": nil, "key": "verifications",
		}})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, services):
		for _, s := range f.services {
			if s["sid"] == strings.TrimPrefix(r.URL.Path, services) {
				json.NewEncoder(w).Encode(s)
				return
			}
		}
		notFound(w, r)
	default:
		f.t.Errorf("fake twilio: unexpected %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

// notFound answers as Twilio does for a resource it does not have.
func notFound(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNotFound)
	json.NewEncoder(w).Encode(map[string]any{"code": 20404, "message": "The requested resource " + r.URL.Path + " was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404})
}

// configure runs `hotline twilio configure` in-process against the fake,
// which it reaches through HOTLINE_TWILIO_API_URL unless vars set it.
func (f *fakeTwilio) configure(vars map[string]string, args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	return f.twilio(vars, append([]string{"configure"}, args...)...)
}

// check runs `hotline twilio check` as configure runs configure.
func (f *fakeTwilio) check(vars map[string]string, args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	return f.twilio(vars, append([]string{"check"}, args...)...)
}

func (f *fakeTwilio) twilio(vars map[string]string, args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	if vars == nil {
		vars = map[string]string{"TWILIO_ACCOUNT_SID": testAccountSID, "TWILIO_AUTH_TOKEN": testAuthToken}
	}
	vars = maps.Clone(vars)
	if _, ok := vars[twilioAPIEnv]; !ok {
		vars[twilioAPIEnv] = f.srv.URL
	}
	var out, errOut bytes.Buffer
	e := env{getenv: testEnv(vars), stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	err := cmdTwilio(context.Background(), e, args)
	if err != nil {
		code = exitCode(err)
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func (f *fakeTwilio) taken() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

// refusal is a command line a twilio subcommand refuses: the exit code it
// gives and what its message says.
type refusal struct {
	name string
	vars map[string]string
	args []string
	code int
	says string
}
