package config

import (
	"strings"
	"testing"
)

// TestWithheldCallerIDs: every form a withheld caller ID arrives in is
// withheld and named "a withheld number", never a number; SIP and app
// callers are named as such; a real number stays a number.
func TestWithheldCallerIDs(t *testing.T) {
	cases := map[string]string{
		"": "a withheld number", "anonymous": "a withheld number", "Anonymous": "a withheld number",
		"Restricted": "a withheld number", "unknown": "a withheld number", "UNAVAILABLE": "a withheld number",
		"+266696687": "a withheld number", "+7378742833": "a withheld number", "+8656696": "a withheld number",
		"+86282452253": "a withheld number", "+2562533": "a withheld number",
		"sip:alice@pbx.example.com": "a SIP caller", "client:widget": "an app caller", "garbage": "an unknown number",
	}
	for from, want := range cases {
		words, number := CallerWords(from)
		if number || words != want {
			t.Errorf("CallerWords(%q) = %q, %v; want %q, not a number", from, words, number, want)
		}
	}
	if words, number := CallerWords("+15555550150"); !number || words != "+15555550150" || Withheld("+15555550150") {
		t.Errorf("a real number: %q %v", words, number)
	}
	// Even a config built without the parser's check matches no customer
	// to a withheld number.
	cfg := &Config{Customers: []Customer{{ID: "x", Numbers: []string{"+266696687", "anonymous", ""}}}}
	for _, from := range []string{"+266696687", "anonymous", ""} {
		if _, ok := cfg.CustomerByNumber(from); ok {
			t.Errorf("%q matched a customer", from)
		}
	}
}

// TestCallerIDAttestation: hotline.caller_id_attestation A (the default)
// trusts only a passed A attestation, B also a passed B, any everything.
func TestCallerIDAttestation(t *testing.T) {
	verstats := []string{"", "No-TN-Validation", "TN-Validation-Failed-A", "TN-Validation-Passed-C", "TN-Validation-Passed-B", "TN-Validation-Passed-A"}
	cases := []struct {
		setting string
		trusted int // how many of verstats, from the end, it trusts
	}{
		{"", 1}, {"caller_id_attestation: A", 1}, {"caller_id_attestation: B", 2}, {"caller_id_attestation: any", len(verstats)},
	}
	for _, c := range cases {
		src := strings.Replace(callersBase, "unknown_callers: voicemail", "unknown_callers: voicemail\n  "+c.setting, 1)
		cfg, err := ParseConfig("callers.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range verstats {
			if want := i >= len(verstats)-c.trusted; cfg.AttestationPassed(v) != want {
				t.Errorf("%q: StirVerstat %q trusted %v, want %v", c.setting, v, !want, want)
			}
		}
	}
}
