package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/store/storetest"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.7 ,,fd00::/8,::ffff:172.16.0.1, 172.20.1.9/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "fd00::/8", "172.16.0.1/32", "172.20.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("item %d: %s, want %s", i, got[i], want[i])
		}
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0.1-10.0.0.9", "fe80::1%eth0", "10.0.0.0/8;"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClientAddr(t *testing.T) {
	trusted, _ := ParseTrustedProxies("10.0.0.0/8, 2001:db8:1::/48")
	for _, c := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy", "198.51.100.4:5123", nil, "198.51.100.4"},
		{"spoofed header from an untrusted peer is ignored", "198.51.100.4:5123", []string{"203.0.113.9"}, "198.51.100.4"},
		{"one trusted proxy", "10.0.0.2:80", []string{"203.0.113.9"}, "203.0.113.9"},
		{"the client's own entries left of the proxy's are not read", "10.0.0.2:80", []string{"1.2.3.4, 5.6.7.8, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", "10.0.0.2:80", []string{"6.6.6.6, 203.0.113.9, 10.1.1.1, 10.2.2.2"}, "203.0.113.9"},
		{"the chain over several header lines", "10.0.0.2:80", []string{"6.6.6.6, 203.0.113.9", "10.1.1.1"}, "203.0.113.9"},
		{"a trusted proxy with no header is the client", "10.0.0.2:80", nil, "10.0.0.2"},
		{"garbage after a trusted hop stops at that hop", "10.0.0.2:80", []string{"203.0.113.9, not-an-ip, 10.1.1.1"}, "10.1.1.1"},
		{"garbage alone", "10.0.0.2:80", []string{"<script>"}, "10.0.0.2"},
		{"an empty entry", "10.0.0.2:80", []string{"203.0.113.9, "}, "10.0.0.2"},
		{"ports and brackets", "[2001:db8:1::5]:443", []string{"[2001:db8:9::1]:5555"}, "2001:db8:9::1"},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:10.0.0.2]:80", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"every hop trusted", "10.0.0.2:80", []string{"10.9.9.9, 10.8.8.8"}, "10.9.9.9"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r, trusted); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// countingUsers counts the password checks that reach the account store,
// and can hold them until released.
type countingUsers struct {
	*Users
	checks, running, most atomic.Int32
	hold                  chan struct{}
}

func (c *countingUsers) Authenticate(ctx context.Context, name, password string) (User, error) {
	c.checks.Add(1)
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	if c.hold != nil {
		<-c.hold
	}
	return c.Users.Authenticate(ctx, name, password)
}

func fromClient(addr string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.RemoteAddr = "10.0.0.2:40000"
	r.Header.Set("X-Forwarded-For", addr)
	return r
}

// TestGuardThrottledGuessesAreNotHashed: after the free failures, further
// guesses from that client are refused without a password check, each held
// for RefusalPause, and the right password from another client still works.
func TestGuardThrottledGuessesAreNotHashed(t *testing.T) {
	s := newTestSite(t, storetest.SQLite(t), "")
	users := &countingUsers{Users: NewUsers(s.db, func() time.Time { return s.now })}
	trusted, _ := ParseTrustedProxies("10.0.0.0/8")
	g := NewGuard(users, GuardOptions{TrustedProxies: trusted, Now: func() time.Time { return s.now }, Log: zerolog.Nop(), RefusalPause: time.Millisecond})
	var throttled int
	start := time.Now()
	for range 100 {
		_, err := g.SignIn(fromClient("203.0.113.9"), "api", "ann", "a wrong guess")
		var te *ThrottledError
		if errors.As(err, &te) {
			throttled++
		} else if !errors.Is(err, ErrBadLogin) {
			t.Fatalf("guess: %v", err)
		}
	}
	if n := users.checks.Load(); n != 5 || throttled != 95 {
		t.Errorf("100 guesses: %d password checks, %d throttled; want 5 and 95", n, throttled)
	}
	if took := time.Since(start); took < 95*time.Millisecond {
		t.Errorf("95 throttled refusals took %s: each should be held for RefusalPause (1 ms)", took)
	}
	if _, err := g.SignIn(fromClient("198.51.100.20"), "web", "ann", "password-ann"); err != nil {
		t.Errorf("ann from another client: %v", err)
	}
}

// TestGuardBoundsConcurrentHashing: with one hasher, a second check waits
// at most SlotWait and is then refused with ErrBusy; never do two run at
// once.
func TestGuardBoundsConcurrentHashing(t *testing.T) {
	s := newTestSite(t, storetest.SQLite(t), "")
	users := &countingUsers{Users: NewUsers(s.db, func() time.Time { return s.now }), hold: make(chan struct{})}
	trusted, _ := ParseTrustedProxies("10.0.0.0/8")
	g := NewGuard(users, GuardOptions{TrustedProxies: trusted, Hashers: 1, SlotWait: 50 * time.Millisecond, Log: zerolog.Nop()})
	results := make(chan error)
	for i := range 8 {
		go func() {
			_, err := g.SignIn(fromClient(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}).String()), "api", "ann", "password-ann")
			results <- err
		}()
	}
	// While the first check holds the only slot, the seven others give up
	// after SlotWait; then the first finishes.
	for range 7 {
		if err := <-results; !errors.Is(err, ErrBusy) {
			t.Errorf("a check while the hasher is taken: %v, want ErrBusy", err)
		}
	}
	close(users.hold)
	if err := <-results; err != nil {
		t.Errorf("the check that held the slot: %v", err)
	}
	if n := users.most.Load(); n != 1 {
		t.Errorf("%d password checks ran at once, want 1", n)
	}
}
