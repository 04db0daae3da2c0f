package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkConfig is a config whose numbers can all be dialled: a toll-free
// support number, engineers in the US, Canada and the United Kingdom.
const checkConfig = "testdata/twilio-check.yaml"

const checkNumber = "+18889000100"

// liveNumber is checkConfig's support number as `twilio configure` leaves
// it for https://hotline.example.com, with caller-name lookup on.
func liveNumber() map[string]any {
	n := oldNumber()
	n["phone_number"] = checkNumber
	n["voice_url"], n["voice_method"] = "https://hotline.example.com/twilio/voice", "POST"
	n["status_callback"] = "https://hotline.example.com/twilio/status"
	n["voice_fallback_url"] = "https://hotline.example.com/twilio/fallback"
	n["sms_url"] = "https://hotline.example.com/twilio/sms"
	n["voice_caller_id_lookup"] = true
	return n
}

// verification is a toll-free verification of the support number as
// Twilio's JSON has it.
func verification(status string) map[string]any {
	return map[string]any{
		"sid": "HH0123456789abcdef0123456789abcdef", "account_sid": testAccountSID,
		"customer_profile_sid": "BU0123456789abcdef0123456789abcdef", "trust_product_sid": "BU1123456789abcdef0123456789abcdef",
		"date_created": "2026-11-02T14:18:35Z", "date_updated": "2026-11-03T09:01:12Z",
		"regulated_item_sid": nil, "business_name": "Acme", "tollfree_phone_number_sid": testNumberSID,
		"status": status, "rejection_reason": nil, "error_code": nil, "external_reference_id": nil,
		"url": "https://messaging.twilio.com/v1/Tollfree/Verifications/HH0123456789abcdef0123456789abcdef",
	}
}

// newLiveFake is an account on which everything checkConfig needs is in
// place.
func newLiveFake(t *testing.T) *fakeTwilio {
	f := newFakeTwilio(t, liveNumber())
	f.countries = map[string]bool{"US": true, "CA": true, "GB": true}
	f.verifications = []map[string]any{verification("TWILIO_REJECTED"), verification("TWILIO_APPROVED")}
	return f
}

// wantCheckRequests asserts the fake saw exactly these requests, in order:
// method and path, each with the account's credentials.
func wantCheckRequests(t *testing.T, f *fakeTwilio, want ...string) {
	t.Helper()
	var got []string
	for _, r := range f.taken() {
		got = append(got, r.method+" "+r.path)
		if r.user != testAccountSID || r.password != testAuthToken {
			t.Errorf("%s %s authenticated as %q/%q", r.method, r.path, r.user, r.password)
		}
		if r.path == "/v1/Tollfree/Verifications" && r.query.Get("TollfreePhoneNumberSid") != testNumberSID {
			t.Errorf("toll-free verifications asked for %v, want TollfreePhoneNumberSid=%s", r.query, testNumberSID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The requests of a check of checkConfig: the number, one per country
// (three engineers and the emergency number are in the US), the toll-free
// verification.
var checkRequests = []string{
	"GET " + accountPath + "/IncomingPhoneNumbers.json",
	"GET /v1/DialingPermissions/Countries/CA",
	"GET /v1/DialingPermissions/Countries/GB",
	"GET /v1/DialingPermissions/Countries/US",
	"GET /v1/Tollfree/Verifications",
}

func TestTwilioCheckAllInPlace(t *testing.T) {
	f := newLiveFake(t)
	stdout, stderr, code := f.check(nil, "--config", checkConfig, "--public-url", "https://hotline.example.com/")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := `ok   number: hotline.number is ` + testNumberSID + ` of account ` + testAccountSID + `
ok   webhooks: Voice URL, Status Callback and Voice Fallback URL point at https://hotline.example.com with POST
ok   caller_name: callers' names come from the config's customers for known callers, else from Twilio's caller-name (CNAM) lookup, for US callers, billed per call
ok   dialing: Canada (CA) is enabled in Voice dialing permissions, for engineer dana (Dana Diaz)
ok   dialing: United Kingdom (GB) is enabled in Voice dialing permissions, for engineer carol (Carol Chen)
ok   dialing: United States/Canada (US) is enabled in Voice dialing permissions, for engineer alice (Alice Adams), engineer bob (Bob Brown), engineer erin (Erin Evans), hotline.emergency_number
ok   texts: texts are sent from hotline.number, a toll-free number Twilio has verified
7 ok, 0 warn, 0 fail
`
	if stdout != want {
		t.Errorf("printed:\n%s\nwant:\n%s", stdout, want)
	}
	wantCheckRequests(t, f, checkRequests...)
}

func TestTwilioCheckNotTheAccountsNumber(t *testing.T) {
	f := newLiveFake(t)
	f.numbers = nil
	stdout, stderr, code := f.check(nil, "--config", checkConfig, "--public-url", "https://hotline.example.com")
	if code != 1 || !strings.Contains(stdout, "fail number: hotline.number "+checkNumber+" is not a phone number of account "+testAccountSID+"; to fix: set hotline.number") {
		t.Errorf("exit %d, want 1 naming the number and the account\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "twilio check: 1 of 4 findings failed") {
		t.Errorf("the error does not count the failures: %s", stderr)
	}
	// The number's own checks are skipped; the others still run.
	wantCheckRequests(t, f, checkRequests[:4]...)
}

func TestTwilioCheckDialingPermission(t *testing.T) {
	f := newLiveFake(t)
	f.countries["GB"] = false
	stdout, stderr, code := f.check(nil, "--config", checkConfig, "--public-url", "https://hotline.example.com")
	want := "fail dialing: engineer carol (Carol Chen): calls to United Kingdom (GB) are not enabled in Voice dialing permissions, so every call to this number fails; to fix: enable United Kingdom in the Twilio console's Voice > Settings > Geo permissions\n"
	if code != 1 || !strings.Contains(stdout, want) {
		t.Errorf("exit %d, want 1 with\n%s\n%s\n%s", code, want, stdout, stderr)
	}
	wantCheckRequests(t, f, checkRequests...)
}

func TestTwilioCheckTollFreePending(t *testing.T) {
	f := newLiveFake(t)
	f.verifications = []map[string]any{verification("TWILIO_REJECTED"), verification("PENDING_REVIEW")}
	stdout, stderr, code := f.check(nil, "--config", checkConfig, "--public-url", "https://hotline.example.com")
	want := "warn texts: the toll-free verification of " + checkNumber + " (hotline.number) is pending (PENDING_REVIEW): its texts are blocked (error 30032) until Twilio approves it"
	if code != 0 || !strings.Contains(stdout, want) || !strings.HasSuffix(stdout, "6 ok, 1 warn, 0 fail\n") {
		t.Errorf("exit %d, want 0 with\n%s\n%s\n%s", code, want, stdout, stderr)
	}

	f.verifications = nil
	stdout, _, code = f.check(nil, "--config", checkConfig, "--public-url", "https://hotline.example.com")
	if code != 1 || !strings.Contains(stdout, "fail texts: texts from this number, "+checkNumber+" (hotline.number), are blocked (error 30032): it has no toll-free verification; to fix: verify it in the console") {
		t.Errorf("without a verification: exit %d\n%s", code, stdout)
	}
}

// TestTwilioCheckExampleConfig: the example's fictional 555 numbers cannot
// be dialled, and are never asked about; the number's URLs are wrong, its
// caller-name lookup off.
func TestTwilioCheckExampleConfig(t *testing.T) {
	n := oldNumber()
	f := newFakeTwilio(t, n)
	f.verifications = []map[string]any{verification("IN_REVIEW")}
	stdout, _, code := f.check(map[string]string{"TWILIO_ACCOUNT_SID": testAccountSID, "TWILIO_AUTH_TOKEN": testAuthToken, "HOTLINE_PUBLIC_URL": "https://h.example.com"},
		"--config", "../../examples/hotline.yaml")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"fail webhooks: VoiceUrl is https://demo.twilio.com/welcome/voice/, not https://h.example.com/twilio/voice; VoiceMethod is GET, not POST; StatusCallback is (none), not https://h.example.com/twilio/status; VoiceFallbackUrl is (none), not https://h.example.com/twilio/fallback; SmsUrl is https://demo.twilio.com/welcome/sms/reply/, not https://h.example.com/twilio/sms; to fix: run hotline twilio configure --number +18005550100 --public-url https://h.example.com\n",
		"warn caller_name: caller-name lookup (VoiceCallerIdLookup) is off",
		"fail dialing: hotline.emergency_number: the number is in the US 555 exchange, which Twilio cannot dial (error 13224)",
		"warn texts: the toll-free verification of +18005550100 (hotline.number) is pending (IN_REVIEW)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in\n%s", want, stdout)
		}
	}
	if got := strings.Count(stdout, "the number is in the US 555 exchange"); got != 9 {
		t.Errorf("%d lines about 555 numbers, want one per engineer (8) and the emergency number\n%s", got, stdout)
	}
	wantCheckRequests(t, f, "GET "+accountPath+"/IncomingPhoneNumbers.json", "GET /v1/Tollfree/Verifications")
}

func TestTwilioCheckWithoutPublicURL(t *testing.T) {
	f := newLiveFake(t)
	stdout, _, code := f.check(nil, "--config", checkConfig)
	if code != 0 || !strings.Contains(stdout, "warn webhooks: the number's Voice URL, Status Callback and Voice Fallback URL were not checked: no public URL; to fix: give --public-url") {
		t.Errorf("exit %d, want 0 warning the URLs were not checked\n%s", code, stdout)
	}
}

// TestTwilioCheckSMSFromAndService: hotline.sms_from is looked up as a
// number of the account; a local US number needs 10DLC; a Messaging
// Service is fetched.
func TestTwilioCheckSMSFromAndService(t *testing.T) {
	local := liveNumber()
	local["sid"], local["phone_number"] = "PN1123456789abcdef0123456789abcdef", "+12129890000"
	f := newFakeTwilio(t, liveNumber(), local)
	f.countries = map[string]bool{"US": true, "CA": true, "GB": true}
	f.services = []map[string]any{{"sid": "MG0123456789abcdef0123456789abcdef", "account_sid": testAccountSID, "friendly_name": "Hotline texts", "url": "https://messaging.twilio.com/v1/Services/MG0123456789abcdef0123456789abcdef"}}
	dir := t.TempDir()
	raw, err := os.ReadFile(checkConfig)
	if err != nil {
		t.Fatal(err)
	}
	base := string(raw)
	for _, tc := range []struct {
		line, want, request string
		code                int
	}{
		{`  sms_from: "+12129890000"`, "warn texts: texts are sent from +12129890000 (hotline.sms_from), a local US number: it needs A2P 10DLC registration", "GET " + accountPath + "/IncomingPhoneNumbers.json", 0},
		{`  sms_from: "+12129890001"`, "fail texts: hotline.sms_from +12129890001 is not a phone number of account " + testAccountSID, "GET " + accountPath + "/IncomingPhoneNumbers.json", 1},
		{`  messaging_service_sid: "MG0123456789abcdef0123456789abcdef"`, "ok   texts: texts go through Messaging Service MG0123456789abcdef0123456789abcdef (Hotline texts)", "GET /v1/Services/MG0123456789abcdef0123456789abcdef", 0},
		{`  messaging_service_sid: "MG9923456789abcdef0123456789abcdef"`, "fail texts: hotline.messaging_service_sid MG9923456789abcdef0123456789abcdef is not a Messaging Service of account " + testAccountSID, "GET /v1/Services/MG9923456789abcdef0123456789abcdef", 1},
	} {
		cfg := writeFile(t, dir, "hotline.yaml", strings.Replace(base, "hotline:\n", "hotline:\n"+tc.line+"\n", 1))
		stdout, stderr, code := f.check(nil, "--config", cfg, "--public-url", "https://hotline.example.com")
		if code != tc.code || !strings.Contains(stdout, tc.want) {
			t.Errorf("%s: exit %d, want %d with %q\n%s\n%s", tc.line, code, tc.code, tc.want, stdout, stderr)
		}
		wantCheckRequests(t, f, append(slices.Clone(checkRequests[:4]), tc.request)...)
	}
}

func TestTwilioCheckRefusals(t *testing.T) {
	creds := map[string]string{"TWILIO_ACCOUNT_SID": testAccountSID, "TWILIO_AUTH_TOKEN": testAuthToken}
	for _, tc := range []refusal{
		{"stray argument", creds, []string{"--config", checkConfig, "extra"}, 2, "unexpected argument"},
		{"unknown flag", creds, []string{"--config", checkConfig, "--number", "+18889000100"}, 2, "flag provided but not defined: -number"},
		{"bad public URL", creds, []string{"--config", checkConfig, "--public-url", "hotline.example.com"}, 2, "--public-url: "},
		{"bad API URL", creds, []string{"--config", checkConfig, "--twilio-api-url", "http://10.0.0.5"}, 2, "--twilio-api-url: "},
		{"no credentials", map[string]string{}, []string{"--config", checkConfig}, 1, "twilio check: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"},
		{"bad SID", map[string]string{"TWILIO_ACCOUNT_SID": "SK123", "TWILIO_AUTH_TOKEN": testAuthToken}, []string{"--config", checkConfig}, 1, "is not an account SID"},
		{"no config", creds, []string{"--config", "testdata/none.yaml"}, 1, "none.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newLiveFake(t)
			_, stderr, code := f.check(tc.vars, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.says) {
				t.Errorf("exit %d, want %d saying %q\n%s", code, tc.code, tc.says, stderr)
			}
			if code == 2 && !strings.Contains(stderr, "usage: hotline "+twilioCheckSynopsis) {
				t.Errorf("misuse without the usage:\n%s", stderr)
			}
			wantCheckRequests(t, f)
		})
	}
}

func TestTwilioCheckRefusedCredentials(t *testing.T) {
	f := newLiveFake(t)
	f.status = http.StatusUnauthorized
	stdout, _, code := f.check(nil, "--config", checkConfig)
	if code != 1 || !strings.Contains(stdout, "(check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: Twilio refused them)") || !strings.HasSuffix(stdout, "0 ok, 0 warn, 1 fail\n") {
		t.Errorf("exit %d, want 1 with one failure about the credentials\n%s", code, stdout)
	}
	wantCheckRequests(t, f, checkRequests[0])
}

// signalWriter is a log that closes done once a line containing until is
// written, so a test waits for it without polling.
type signalWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	until string
	done  chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.done != nil && strings.Contains(w.buf.String(), w.until) {
		close(w.done)
		w.done = nil
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestServeLogsTwilioCheck: with the account's credentials serve runs the
// checks in the background and logs each finding at its level. It listens
// before Twilio has answered anything: the fake holds every request until
// serve has said it listens.
func TestServeLogsTwilioCheck(t *testing.T) {
	f := newLiveFake(t)
	f.countries["GB"] = false
	f.hold = make(chan struct{})
	done := make(chan struct{})
	logs := &signalWriter{until: "twilio check done", done: done}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--config", checkConfig, "--db", filepath.Join(t.TempDir(), "h.db"), "--addr", "127.0.0.1:0", "--public-url", "https://hotline.example.com"},
			testEnv(map[string]string{"TWILIO_ACCOUNT_SID": testAccountSID, "TWILIO_AUTH_TOKEN": testAuthToken, twilioAPIEnv: f.srv.URL}),
			strings.NewReader(""), pw, logs)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "hotline: listening on http://127.0.0.1:") {
		t.Fatalf("serve did not start: %q %v\n%s", line, err, logs.String())
	}
	go io.Copy(io.Discard, pr)
	close(f.hold)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("no twilio check in serve's log:\n%s", logs.String())
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
	type entry struct{ Level, Check, Fix, Message string }
	var found []entry
	for l := range strings.Lines(logs.String()) {
		var e entry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if e.Check != "" {
			found = append(found, e)
		}
	}
	want := []entry{
		{"info", "number", "", "hotline.number is " + testNumberSID + " of account " + testAccountSID},
		{"info", "webhooks", "", "Voice URL, Status Callback and Voice Fallback URL point at https://hotline.example.com with POST"},
		{"info", "caller_name", "", "callers' names come from the config's customers for known callers, else from Twilio's caller-name (CNAM) lookup, for US callers, billed per call"},
		{"info", "dialing", "", "Canada (CA) is enabled in Voice dialing permissions, for engineer dana (Dana Diaz)"},
		{"error", "dialing", "enable United Kingdom in the Twilio console's Voice > Settings > Geo permissions", "engineer carol (Carol Chen): calls to United Kingdom (GB) are not enabled in Voice dialing permissions, so every call to this number fails"},
		{"info", "dialing", "", "United States/Canada (US) is enabled in Voice dialing permissions, for engineer alice (Alice Adams), engineer bob (Bob Brown), engineer erin (Erin Evans), hotline.emergency_number"},
		{"info", "texts", "", "texts are sent from hotline.number, a toll-free number Twilio has verified"},
	}
	if !slices.Equal(found, want) {
		t.Errorf("logged findings:\n%+v\nwant:\n%+v", found, want)
	}
	if !strings.Contains(logs.String(), `"ok":6,"warn":0,"fail":1`) {
		t.Errorf("no summary of the findings:\n%s", logs.String())
	}
	wantCheckRequests(t, f, checkRequests...)
}
