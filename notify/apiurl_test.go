package notify

import "testing"

// TestAPIURL: HOTLINE_TWILIO_API_URL is a scheme and host; plain http only
// to a loopback host, so the account's credentials never cross a network
// in the clear.
func TestAPIURL(t *testing.T) {
	for raw, want := range map[string]string{
		"":                          "",
		"https://api.example.com":   "https://api.example.com",
		"https://api.example.com/":  "https://api.example.com",
		"https://fake.test:8443":    "https://fake.test:8443",
		"http://127.0.0.1:8080":     "http://127.0.0.1:8080",
		"http://127.9.8.7":          "http://127.9.8.7",
		"http://[::1]:9999":         "http://[::1]:9999",
		"http://localhost:1234":     "http://localhost:1234",
		"http://LOCALHOST":          "http://LOCALHOST",
		"http://[::ffff:127.0.0.1]": "http://[::ffff:127.0.0.1]",
	} {
		u, err := APIURL(raw)
		got := ""
		if u != nil {
			got = u.String()
		}
		if err != nil || got != want {
			t.Errorf("APIURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"http://api.twilio.com", "http://10.0.0.1:8080", "http://127.0.0.1.example.com", "http://[::ffff:10.0.0.1]",
		"http://localhost.example.com", "ftp://127.0.0.1", "127.0.0.1:8080", "/twilio", "https://",
		"https://api.example.com/v1", "https://user:pass@api.example.com", "https://api.example.com?x=1", "https://api.example.com#f",
	} {
		if u, err := APIURL(raw); err == nil {
			t.Errorf("APIURL(%q) = %v, want an error", raw, u)
		}
	}
	good := TwilioConfig{AccountSID: testSID, AuthToken: testToken, From: testFrom}
	for _, raw := range []string{"http://api.twilio.com", "https://api.example.com/base"} {
		c := good
		c.BaseURL = raw
		if _, err := NewTwilio(c); err == nil {
			t.Errorf("NewTwilio with BaseURL %q: accepted", raw)
		}
	}
}
