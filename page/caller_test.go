package page

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTwilioCallerRate: calls over outbound_calls_per_second wait their
// turn, whoever makes them, and each is Twilio's Calls API request.
func TestTwilioCallerRate(t *testing.T) {
	fake := newFakeTwilio(t)
	c, err := NewTwilioCaller(TwilioConfig{AccountSID: testSID, AuthToken: testToken, BaseURL: fake.srv.URL, CallsPerSecond: 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := c.Call(ctx, alicePhone, support, testPublic+PathCall+"?page=1", testPublic+PathStatus+"?page=1")
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	first, last := fake.calls[0].at, fake.calls[0].at
	for _, call := range fake.calls {
		if call.at.Before(first) {
			first = call.at
		}
		if call.at.After(last) {
			last = call.at
		}
	}
	// Four calls at 20 a second are three intervals of 50 ms apart.
	if spread := last.Sub(first); spread < 140*time.Millisecond {
		t.Errorf("4 calls within %s at 20 a second", spread)
	}
}

// TestTwilioCallerErrors: Twilio's refusal is an error naming its code; a
// bad origin or credentials are refused at start.
func TestTwilioCallerErrors(t *testing.T) {
	fake := newFakeTwilio(t)
	fake.refuse[bobPhone] = true
	c, err := NewTwilioCaller(TwilioConfig{AccountSID: testSID, AuthToken: testToken, BaseURL: fake.srv.URL, CallsPerSecond: 1000})
	if err != nil {
		t.Fatal(err)
	}
	sid, err := c.Call(context.Background(), alicePhone, support, "https://x/a", "https://x/b")
	if err != nil || !strings.HasPrefix(sid, "CA") || len(sid) != 34 {
		t.Errorf("Call = %q, %v", sid, err)
	}
	if _, err := c.Call(context.Background(), bobPhone, support, "https://x/a", "https://x/b"); err == nil || !strings.Contains(err.Error(), "21211") {
		t.Errorf("refused call: %v", err)
	}
	for _, cfg := range []TwilioConfig{
		{AccountSID: testSID, AuthToken: testToken, BaseURL: "http://example.com"},
		{AccountSID: "", AuthToken: testToken},
	} {
		if _, err := NewTwilioCaller(cfg); err == nil {
			t.Errorf("NewTwilioCaller(%+v) accepted", cfg)
		}
	}
}
