package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// startHotlineArgs is startHotline (e2e config, a manager account) with
// more serve flags.
func startHotlineArgs(t *testing.T, dsn string, args ...string) *hotline {
	t.Helper()
	cfg, err := os.ReadFile("testdata/e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := &hotline{t: t, dir: dir, config: filepath.Join(dir, "hotline.yaml"), db: dsn, stderr: &lockedBuffer{}}
	if err := os.WriteFile(h.config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	h.mustRun(strings.NewReader(testPassword+"\n"), "user", "add", testUser, "--role", "manager", "--password-stdin", "--db", h.db)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--config", h.config, "--db", h.db, "--addr", "127.0.0.1:0"}, args...),
			testEnv(map[string]string{"TWILIO_AUTH_TOKEN": testToken, "HOTLINE_SPOOL": filepath.Join(dir, "hotline.spool")}), strings.NewReader(""), pw, h.stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v\n%s", err, h.stderr.String())
	}
	go io.Copy(io.Discard, pr)
	h.base = strings.Fields(strings.TrimPrefix(line, "hotline: listening on "))[0]
	h.twilio = &sim.Twilio{BaseURL: h.base, AuthToken: testToken}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return h
}

func TestTrustedProxiesUsage(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "hotline.yaml", mustRead(t, "testdata/e2e.yaml"))
	vars := map[string]string{"TWILIO_AUTH_TOKEN": testToken}
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0.1, 300.1.1.1"} {
		_, stderr, code := runCLI(t, vars, "", "serve", "--config", cfg, "--db", filepath.Join(dir, "h.db"), "--addr", "127.0.0.1:0", "--trusted-proxies", bad)
		if code != 2 || !strings.Contains(stderr, "--trusted-proxies") {
			t.Errorf("--trusted-proxies %q: exit %d, want 2 and a usage message:\n%s", bad, code, stderr)
		}
	}
	vars["HOTLINE_TRUSTED_PROXIES"] = "10.0.0.0/8,garbage"
	if _, stderr, code := runCLI(t, vars, "", "serve", "--config", cfg, "--db", filepath.Join(dir, "h.db"), "--addr", "127.0.0.1:0"); code != 2 {
		t.Errorf("HOTLINE_TRUSTED_PROXIES with garbage: exit %d, want 2:\n%s", code, stderr)
	}
}

// basicGet is a GET of the API with HTTP Basic, from client (sent as
// X-Forwarded-For; believed only from a trusted proxy).
func basicGet(t *testing.T, c *http.Client, h *hotline, client, user, password string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.base+"/api/v1/incidents?limit=1", nil)
	req.SetBasicAuth(user, password)
	if client != "" {
		req.Header.Set("X-Forwarded-For", client)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestAPIPasswordGuessesThrottled: HTTP Basic guesses on the API are
// throttled as sign-ins are (429 with Retry-After, even for the right
// password from that client), logged with the account and the client
// without the password, and counted with the sign-in form's failures.
func TestAPIPasswordGuessesThrottled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		for i := range 5 {
			if resp := basicGet(t, http.DefaultClient, h, "", testUser, fmt.Sprintf("guess-%d-of-mine", i)); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d, want 401", i+1, resp.StatusCode)
			}
		}
		resp := basicGet(t, http.DefaultClient, h, "", testUser, testPassword)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("the right password after 5 failures: %d Retry-After %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		form := url.Values{"username": {testUser}, "password": {testPassword}}
		if resp, err := http.PostForm(h.base+"/login", form); err != nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("the sign-in form from the same client: %v %v, want 429", resp.StatusCode, err)
		} else {
			resp.Body.Close()
		}
		logs := h.stderr.String()
		if n := strings.Count(logs, `"message":"api: failed sign-in"`); n != 5 {
			t.Errorf("%d failed API sign-ins logged, want 5:\n%s", n, logs)
		}
		if !strings.Contains(logs, `"user":"`+testUser+`"`) || !strings.Contains(logs, `"addr":"127.0.0.1"`) {
			t.Errorf("the failures do not name the account and the client:\n%s", logs)
		}
		if strings.Contains(logs, "-of-mine") {
			t.Errorf("the log holds a typed password:\n%s", logs)
		}
	})
}

// TestPasswordFloodLeavesWebhooksFast measures signed POST /twilio/voice
// (a new call: one incident written) idle, then while 64 goroutines guess
// HTTP Basic passwords on /api/v1/incidents as fast as they can: first as
// many clients behind a trusted proxy (a fresh X-Forwarded-For each, so
// the throttle never stops them and only the bound on concurrent hashing
// protects the call path), then as one client (throttled after 5 failures:
// refused without hashing). Before the bound, 64 concurrent bcrypt
// comparisons took the cores the webhooks need (p50 3 ms → 796 ms).
func TestPasswordFloodLeavesWebhooksFast(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a latency measurement of 15 to 30 s: skipped under -short, and under -race, whose instrumentation makes bcrypt and the handlers several times slower and the timings meaningless")
	}
	h := startHotlineArgs(t, storetest.SQLite(t), "--trusted-proxies", "127.0.0.1/32")
	hooks := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var seq atomic.Int64
	webhook := func() time.Duration {
		sid := fmt.Sprintf("CAflood%026d", seq.Add(1))
		form := url.Values{"AccountSid": {"AC00000000000000000000000000000000"}, "ApiVersion": {"2010-04-01"}, "CallSid": {sid},
			"CallStatus": {"ringing"}, "Direction": {"inbound"}, "From": {"+15555550123"}, "To": {"+18005550100"},
			"Caller": {"+15555550123"}, "Called": {"+18005550100"}}
		req, _ := http.NewRequest(http.MethodPost, h.base+"/twilio/voice", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sim.Sign(testToken, h.base+"/twilio/voice", form))
		start := time.Now()
		resp, err := hooks.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook: %d", resp.StatusCode)
		}
		return took
	}
	// measure sends webhooks one after another for d, and on until there
	// are 100 of them, but never for more than 3d.
	measure := func(d time.Duration) []time.Duration {
		var lat []time.Duration
		for start := time.Now(); (len(lat) < 100 || time.Since(start) < d) && time.Since(start) < 3*d; {
			lat = append(lat, webhook())
		}
		return lat
	}
	percentiles := func(lat []time.Duration) (p50, p99 time.Duration) {
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100]
	}
	for range 20 { // warm up: connections, prepared statements, pages
		webhook()
	}

	// flood runs 64 guessers until stop, and counts their answers by status.
	flood := func(client func(g, i int) string) (answered func() int, stop func() map[int]int) {
		ctx, cancel := context.WithCancel(context.Background())
		guessers := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
		var mu sync.Mutex
		codes := map[int]int{}
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/api/v1/incidents", nil)
					req.SetBasicAuth(testUser, fmt.Sprintf("guess %d/%d", g, i))
					req.Header.Set("X-Forwarded-For", client(g, i))
					resp, err := guessers.Do(req)
					if err != nil {
						continue // cancelled at the end
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					codes[resp.StatusCode]++
					mu.Unlock()
				}
			})
		}
		answered = func() int {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, c := range codes {
				n += c
			}
			return n
		}
		return answered, func() map[int]int {
			cancel()
			wg.Wait()
			guessers.CloseIdleConnections()
			return codes
		}
	}
	type floodRun struct {
		name   string
		client func(g, i int) string
		lat    []time.Duration
		codes  map[int]int
	}
	// attempt alternates idle and flooded windows, two rounds, so that the
	// other work on this machine weighs on both alike, and reports whether
	// every flood kept the webhooks' p99 within 2 × the idle p99 + 5 ms.
	// The 5 ms is slack for noise: the 2 cores are shared with other test
	// binaries, and a few slow fsyncs move a p99.
	attempt := func(n int) (ok bool, report []string) {
		floods := []floodRun{
			{name: "many clients", client: func(g, i int) string { return fmt.Sprintf("10.%d.%d.%d", g, i>>8&255, i&255) }, codes: map[int]int{}},
			{name: "one client", client: func(int, int) string { return "203.0.113.9" }, codes: map[int]int{}},
		}
		var idle []time.Duration
		for range 2 {
			idle = append(idle, measure(1500*time.Millisecond)...)
			for i := range floods {
				f := &floods[i]
				answered, stop := flood(f.client)
				// The window opens once every guesser has had an answer
				// (the first ones wait up to a second for a hasher).
				for deadline := time.Now().Add(5 * time.Second); answered() < 64 && time.Now().Before(deadline); {
					webhook()
				}
				f.lat = append(f.lat, measure(2*time.Second)...)
				for code, n := range stop() {
					f.codes[code] += n
				}
			}
		}
		idle50, idle99 := percentiles(idle)
		limit := 2*idle99 + 5*time.Millisecond
		report = append(report, fmt.Sprintf("attempt %d: idle: %d webhooks, p50 %.1f ms, p99 %.1f ms (GOMAXPROCS %d); limit %.1f ms",
			n, len(idle), millis(idle50), millis(idle99), runtime.GOMAXPROCS(0), millis(limit)))
		ok = true
		for _, f := range floods {
			p50, p99 := percentiles(f.lat)
			report = append(report, fmt.Sprintf("attempt %d: flooded by 64 guessers as %s: %d webhooks, p50 %.1f ms, p99 %.1f ms; guesses answered %v",
				n, f.name, len(f.lat), millis(p50), millis(p99), f.codes))
			ok = ok && p99 <= limit
			if f.codes[http.StatusOK] > 0 {
				t.Errorf("a wrong password was let in: %v", f.codes)
			}
		}
		return ok, report
	}
	// A second attempt is allowed for a noisy neighbour: before the fix the
	// flooded p99 was hundreds of times the idle one, which no retry hides.
	var all []string
	for n := 1; n <= 2; n++ {
		ok, report := attempt(n)
		all = append(all, report...)
		for _, line := range report {
			t.Log(line)
		}
		if ok {
			return
		}
	}
	t.Errorf("password guesses slowed the webhooks beyond 2 × idle p99 + 5 ms in both attempts:\n%s", strings.Join(all, "\n"))
}
