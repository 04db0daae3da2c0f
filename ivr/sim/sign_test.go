package sim

import (
	"context"
	"net/url"
	"testing"

	"github.com/twilio/twilio-go/client"
)

// docs/twilio.md §1.4 parameter sets.
var (
	p7 = url.Values{
		"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"},
		"ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
	}
	p5 = url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
)

func TestSignVectors(t *testing.T) {
	for _, tc := range []struct {
		n      int
		url    string
		params url.Values
		want   string
	}{
		{1, "https://mycompany.com/myapp.php?foo=1&bar=2", p7, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
		{2, "http://mycompany.com/myapp.php?foo=1&bar=2", p7, "n2xBNyzSW7rfYStDtOFiFMv7qNo="},
		{8, "https://mycompany.com/myapp.php?foo=1&bar=2", p5, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{9, "https://mycompany.com:443/myapp.php?foo=1&bar=2", p7, "nlYDL9HO41xd+GBsch67HROPYMY="},
		{11, "https://example.com/myapp.php?foo=1&bar=2", p5, "vNe7KK2kJwCsxc9K3OLkkKB3qqI="},
	} {
		if got := Sign("12345", tc.url, tc.params); got != tc.want {
			t.Errorf("vector #%d: Sign = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestSignRejectsWrongOrder(t *testing.T) {
	// Vector #4 concatenates ReasonConferenceEnded before Reason; byte-wise
	// sorting puts Reason first, so the signatures must differ.
	const wrongOrder = "95+Bu0JVPi0r/SsESZCVf0dWAjw="
	u := "https://mycompany.com/myapp.php?foo=1&bar=2"
	if got := Sign("12345", u, p7); got == wrongOrder {
		t.Fatalf("Sign matched the wrong-order signature %s", got)
	}
	params := map[string]string{}
	for k, v := range p7 {
		params[k] = v[0]
	}
	rv := client.NewRequestValidator("12345")
	if rv.Validate(u, params, wrongOrder) {
		t.Fatal("twilio-go accepted the wrong-order signature")
	}
	if !rv.Validate(u, params, Sign("12345", u, p7)) {
		t.Fatal("twilio-go rejected Sign's signature")
	}
	if rv.Validate(u, params, Sign("54321", u, p7)) {
		t.Fatal("twilio-go accepted a signature made with another token")
	}
}

func TestPostAndReplay(t *testing.T) {
	f := newFake(t, map[string]route{"/twilio/voice": func(url.Values) string { return "<Hangup/>" }})
	tw := f.twilio()
	resp, body, err := tw.Post(context.Background(), "/twilio/voice?x=1&a=2", url.Values{"CallSid": {"CA1"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Post: %v %v", resp, err)
	}
	if want := `<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>`; string(body) != want {
		t.Errorf("body %q", body)
	}
	res := f.call(Script{From: "+15555550100", To: "+18005550199"})
	if _, _, err := tw.Replay(context.Background(), res.Requests[0]); err != nil {
		t.Fatal(err)
	}
	hs := f.find("/twilio/voice")
	if len(hs) != 3 {
		t.Fatalf("%d requests, want 3", len(hs))
	}
	if hs[0].token == hs[1].token {
		t.Error("two different webhooks share an idempotency token")
	}
	if hs[1].token != hs[2].token || hs[1].form.Encode() != hs[2].form.Encode() {
		t.Error("a replay differs from the original request")
	}
	if hs[0].uri != "/twilio/voice?x=1&a=2" {
		t.Errorf("query rewritten: %s", hs[0].uri)
	}
}
