package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "0123456789abcdef0123456789abcdef"
	testNumberSID  = "PN0123456789abcdef0123456789abcdef"
	accountPath    = "/2010-04-01/Accounts/" + testAccountSID
)

// oldNumber is the support number as a fresh Twilio number has it, pointed
// at Twilio's demo.
func oldNumber() map[string]any {
	return map[string]any{
		"sid": testNumberSID, "account_sid": testAccountSID, "phone_number": "+18005550100",
		"voice_url": "https://demo.twilio.com/welcome/voice/", "voice_method": "GET",
		"status_callback": "", "status_callback_method": "POST",
		"voice_fallback_url": "", "voice_fallback_method": "POST",
		"sms_url": "https://demo.twilio.com/welcome/sms/reply/", "sms_method": "POST",
		"voice_application_sid": "", "trunk_sid": nil, "voice_caller_id_lookup": false,
	}
}

// checkList asserts r is the lookup of +18005550100 with the test account,
// sent to the fake through HOTLINE_TWILIO_API_URL.
func checkList(t *testing.T, f *fakeTwilio, r fakeRequest) {
	t.Helper()
	if r.method != http.MethodGet || r.host != f.srv.Listener.Addr().String() || r.path != accountPath+"/IncomingPhoneNumbers.json" {
		t.Errorf("lookup: %s %s%s, want GET %s%s/IncomingPhoneNumbers.json", r.method, r.host, r.path, f.srv.Listener.Addr().String(), accountPath)
	}
	if want := (url.Values{"PhoneNumber": {"+18005550100"}, "PageSize": {"50"}}); !reflect.DeepEqual(r.query, want) {
		t.Errorf("lookup query %v, want %v", r.query, want)
	}
	if r.user != testAccountSID || r.password != testAuthToken {
		t.Errorf("lookup authenticated as %q/%q, want the account SID and auth token", r.user, r.password)
	}
}

func TestTwilioConfigure(t *testing.T) {
	f := newFakeTwilio(t, oldNumber())
	stdout, stderr, code := f.configure(nil, "--number", "+18005550100", "--public-url", "https://hotline.example.com/")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	reqs := f.taken()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want a lookup and an update: %+v", len(reqs), reqs)
	}
	checkList(t, f, reqs[0])
	up := reqs[1]
	if up.method != http.MethodPost || up.host != f.srv.Listener.Addr().String() || up.path != accountPath+"/IncomingPhoneNumbers/"+testNumberSID+".json" {
		t.Errorf("update: %s %s%s", up.method, up.host, up.path)
	}
	if up.contentType != "application/x-www-form-urlencoded" || up.user != testAccountSID || up.password != testAuthToken {
		t.Errorf("update: content type %q, auth %q/%q", up.contentType, up.user, up.password)
	}
	wantForm := url.Values{
		"VoiceUrl":             {"https://hotline.example.com/twilio/voice"},
		"VoiceMethod":          {"POST"},
		"StatusCallback":       {"https://hotline.example.com/twilio/status"},
		"StatusCallbackMethod": {"POST"},
		"VoiceFallbackUrl":     {"https://hotline.example.com/twilio/fallback"},
		"VoiceFallbackMethod":  {"POST"},
		"SmsUrl":               {"https://hotline.example.com/twilio/sms"},
		"SmsMethod":            {"POST"},
	}
	if !reflect.DeepEqual(up.form, wantForm) {
		t.Errorf("update form:\n%v\nwant\n%v", up.form, wantForm)
	}
	want := `+18005550100 (` + testNumberSID + `)
  VoiceUrl             https://demo.twilio.com/welcome/voice/ → https://hotline.example.com/twilio/voice
  VoiceMethod          GET → POST
  StatusCallback       (none) → https://hotline.example.com/twilio/status
  StatusCallbackMethod POST (unchanged)
  VoiceFallbackUrl     (none) → https://hotline.example.com/twilio/fallback
  VoiceFallbackMethod  POST (unchanged)
  SmsUrl               https://demo.twilio.com/welcome/sms/reply/ → https://hotline.example.com/twilio/sms
  SmsMethod            POST (unchanged)
updated: 5 of 8 settings changed
`
	if stdout != want {
		t.Errorf("printed:\n%s\nwant:\n%s", stdout, want)
	}

	// Run again: everything is in place, so only the lookup is sent.
	stdout, stderr, code = f.configure(nil, "--number", "+18005550100", "--public-url", "https://hotline.example.com")
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	if reqs := f.taken(); len(reqs) != 1 {
		t.Errorf("second run sent %d requests, want the lookup alone", len(reqs))
	}
	if !strings.Contains(stdout, "VoiceUrl             https://hotline.example.com/twilio/voice (unchanged)") ||
		!strings.HasSuffix(stdout, "already configured: nothing to change\n") {
		t.Errorf("second run printed:\n%s", stdout)
	}
}

func TestTwilioConfigureDryRun(t *testing.T) {
	f := newFakeTwilio(t, oldNumber())
	stdout, stderr, code := f.configure(nil, "--dry-run", "--number", "+18005550100", "--public-url", "https://hotline.example.com")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	reqs := f.taken()
	if len(reqs) != 1 {
		t.Fatalf("--dry-run sent %d requests, want the lookup alone", len(reqs))
	}
	checkList(t, f, reqs[0])
	if !strings.Contains(stdout, "VoiceMethod          GET → POST") || !strings.HasSuffix(stdout, "dry run: 5 of 8 settings would change; nothing was sent\n") {
		t.Errorf("printed:\n%s", stdout)
	}
	if f.numbers[0]["voice_url"] != "https://demo.twilio.com/welcome/voice/" {
		t.Errorf("--dry-run changed the number: %v", f.numbers[0])
	}
}

func TestTwilioConfigureNumberNotFound(t *testing.T) {
	// Twilio's filter matches +180055501001 too; it is not the number.
	other := oldNumber()
	other["phone_number"], other["sid"] = "+180055501001", "PN11111111111111111111111111111111"
	f := newFakeTwilio(t, other)
	_, stderr, code := f.configure(nil, "--number", "+18005550100", "--public-url", "https://hotline.example.com")
	if code != 1 || !strings.Contains(stderr, "+18005550100 is not a phone number of account "+testAccountSID) {
		t.Errorf("exit %d, want 1 saying the number is not the account's\n%s", code, stderr)
	}
	if reqs := f.taken(); len(reqs) != 1 {
		t.Errorf("%d requests, want the lookup alone", len(reqs))
	}
}

func TestTwilioConfigureRefusedCredentials(t *testing.T) {
	f := newFakeTwilio(t, oldNumber())
	f.status = http.StatusUnauthorized
	_, stderr, code := f.configure(nil, "--number", "+18005550100", "--public-url", "https://hotline.example.com")
	if code != 1 || !strings.Contains(stderr, "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN") {
		t.Errorf("exit %d, want 1 with a hint about the credentials\n%s", code, stderr)
	}
}

func TestTwilioConfigureApplicationOnNumber(t *testing.T) {
	n := oldNumber()
	n["voice_application_sid"] = "AP0123456789abcdef0123456789abcdef"
	f := newFakeTwilio(t, n)
	stdout, stderr, code := f.configure(nil, "--number", "+18005550100", "--public-url", "https://hotline.example.com")
	if code != 1 || !strings.Contains(stderr, "the voice application AP0123456789abcdef0123456789abcdef") || !strings.Contains(stderr, `"A call comes in" to "Webhook"`) {
		t.Errorf("exit %d, want 1 explaining the application\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "VoiceUrl") {
		t.Errorf("the changes were not printed:\n%s", stdout)
	}
	if reqs := f.taken(); len(reqs) != 1 {
		t.Errorf("%d requests, want the lookup alone (no update)", len(reqs))
	}
}

func TestTwilioConfigureRefusals(t *testing.T) {
	creds := map[string]string{"TWILIO_ACCOUNT_SID": testAccountSID, "TWILIO_AUTH_TOKEN": testAuthToken}
	for _, tc := range []refusal{
		{"no number", creds, []string{"--public-url", "https://h.example.com"}, 2, "--number is required"},
		{"not E.164", creds, []string{"--number", "800-555-0100", "--public-url", "https://h.example.com"}, 2, "is not E.164"},
		{"no public URL", creds, []string{"--number", "+18005550100"}, 2, "--public-url (or HOTLINE_PUBLIC_URL) is required"},
		{"http", creds, []string{"--number", "+18005550100", "--public-url", "http://h.example.com"}, 2, "--allow-http"},
		{"query", creds, []string{"--number", "+18005550100", "--public-url", "https://h.example.com/?a=b"}, 2, "query or fragment"},
		{"not a URL", creds, []string{"--number", "+18005550100", "--public-url", "h.example.com"}, 2, "is not an https:// URL"},
		{"stray argument", creds, []string{"--number", "+18005550100", "--public-url", "https://h.example.com", "extra"}, 2, "unexpected argument"},
		{"no credentials", map[string]string{}, []string{"--number", "+18005550100", "--public-url", "https://h.example.com"}, 1, "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"},
		{"no token", map[string]string{"TWILIO_ACCOUNT_SID": testAccountSID}, []string{"--number", "+18005550100", "--public-url", "https://h.example.com"}, 1, "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"},
		{"bad SID", map[string]string{"TWILIO_ACCOUNT_SID": "SK123", "TWILIO_AUTH_TOKEN": testAuthToken}, []string{"--number", "+18005550100", "--public-url", "https://h.example.com"}, 1, "is not an account SID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeTwilio(t, oldNumber())
			_, stderr, code := f.configure(tc.vars, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.says) {
				t.Errorf("exit %d, want %d saying %q\n%s", code, tc.code, tc.says, stderr)
			}
			if reqs := f.taken(); len(reqs) != 0 {
				t.Errorf("sent %d requests before refusing", len(reqs))
			}
		})
	}
}

func TestTwilioConfigureAllowHTTPAndEnvURL(t *testing.T) {
	f := newFakeTwilio(t, oldNumber())
	vars := map[string]string{"TWILIO_ACCOUNT_SID": testAccountSID, "TWILIO_AUTH_TOKEN": testAuthToken, "HOTLINE_PUBLIC_URL": "http://10.0.0.5:8080"}
	_, stderr, code := f.configure(vars, "--number", "+18005550100", "--allow-http")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	reqs := f.taken()
	if len(reqs) != 2 || reqs[1].form.Get("VoiceUrl") != "http://10.0.0.5:8080/twilio/voice" {
		t.Errorf("the update did not use HOTLINE_PUBLIC_URL: %+v", reqs)
	}
}

func TestTwilioUsage(t *testing.T) {
	for _, args := range [][]string{{"twilio"}, {"twilio", "frobnicate"}} {
		_, stderr, code := runCLI(t, nil, "", args...)
		if code != 2 || !strings.Contains(stderr, "usage: hotline twilio configure") {
			t.Errorf("hotline %v: exit %d, want 2 with usage\n%s", args, code, stderr)
		}
	}
}

// TestTwilioAPIURL: --twilio-api-url (or HOTLINE_TWILIO_API_URL) sends
// every REST request to its scheme and host at Twilio's path, an edge and
// region included; plain http anywhere but loopback is a usage error, for
// configure and for serve, before anything is sent.
func TestTwilioAPIURL(t *testing.T) {
	creds := func(extra ...string) map[string]string {
		v := map[string]string{"TWILIO_ACCOUNT_SID": testAccountSID, "TWILIO_AUTH_TOKEN": testAuthToken, twilioAPIEnv: ""}
		for i := 0; i+1 < len(extra); i += 2 {
			v[extra[i]] = extra[i+1]
		}
		return v
	}
	f := newFakeTwilio(t, oldNumber())
	local := strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1)
	_, stderr, code := f.configure(creds("TWILIO_EDGE", "dublin", "TWILIO_REGION", "ie1"), "--number", "+18005550100", "--public-url", "https://hotline.example.com", "--twilio-api-url", local)
	if code != 0 {
		t.Fatalf("configure --twilio-api-url %s: exit %d\n%s", local, code, stderr)
	}
	reqs := f.taken()
	if len(reqs) != 2 || reqs[0].path != accountPath+"/IncomingPhoneNumbers.json" || reqs[1].path != accountPath+"/IncomingPhoneNumbers/"+testNumberSID+".json" {
		t.Errorf("through --twilio-api-url with an edge and region: %+v, want the lookup and the update at Twilio's paths", reqs)
	}
	for _, bad := range []string{"http://api.twilio.com", "http://10.0.0.5:8080", "https://api.example.com/v1"} {
		for _, vars := range []map[string]string{creds(), creds(twilioAPIEnv, bad)} {
			args := []string{"--number", "+18005550100", "--public-url", "https://hotline.example.com"}
			if vars[twilioAPIEnv] == "" {
				args = append(args, "--twilio-api-url", bad)
			}
			_, stderr, code := f.configure(vars, args...)
			if code != 2 || !strings.Contains(stderr, "--twilio-api-url") {
				t.Errorf("configure with %s (env %q): exit %d, want 2 naming --twilio-api-url\n%s", bad, vars[twilioAPIEnv], code, stderr)
			}
			_, stderr, code = runCLI(t, map[string]string{"TWILIO_AUTH_TOKEN": testAuthToken, twilioAPIEnv: vars[twilioAPIEnv]},
				"", append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "x.db")}, args[4:]...)...)
			if code != 2 || !strings.Contains(stderr, "--twilio-api-url") {
				t.Errorf("serve with %s (env %q): exit %d, want 2 naming --twilio-api-url\n%s", bad, vars[twilioAPIEnv], code, stderr)
			}
		}
	}
	if reqs := f.taken(); len(reqs) != 0 {
		t.Errorf("sent %d requests to a refused API URL's fake", len(reqs))
	}
	if _, stderr, _ := f.configure(creds(twilioAPIEnv, "http://10.0.0.5:8080"), "--number", "+18005550100", "--public-url", "https://hotline.example.com"); !strings.Contains(stderr, "not loopback") {
		t.Errorf("the refusal of plain http does not say why: %s", stderr)
	}
}
