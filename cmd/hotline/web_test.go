package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

const (
	evilCaller    = `<img src=x onerror=alert(1)>`
	adminUser     = "admin"
	adminPassword = "admin password 1"
)

// findChromium returns Debian's Chromium (or another Chrome) for the
// browser tests. Without one the tests skip locally, and fail in CI, where
// .ci/run installs the chromium package.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HOTLINE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found: install Debian's chromium package (apt-get install chromium) or set HOTLINE_CHROMIUM to run the browser tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is a headless Chromium tab on a running hotline.
type browser struct {
	t       *testing.T
	ctx     context.Context
	h       *hotline
	dialogs atomic.Int32 // alert/confirm/prompt dialogs opened: script ran
}

func newBrowser(t *testing.T, h *hotline) *browser {
	t.Helper()
	exe := findChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, h: h}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			b.dialogs.Add(1)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open navigates to a path and returns the HTTP status of the page.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.h.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// submit clicks a button that posts a form and waits for the next page.
func (b *browser) submit(sel string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
	return resp.Status
}

// text is what a person sees in the page's main area.
func (b *browser) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		b.t.Fatalf("read page: %v", err)
	}
	return s
}

func (b *browser) eval(js string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

func (b *browser) path() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.h.base)
}

func (b *browser) wantText(what string, want ...string) {
	b.t.Helper()
	got := b.text()
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Errorf("%s: the page does not show %q; it shows:\n%s", what, w, clipText(got, 1500))
		}
	}
}

// signIn uses the form with the keyboard only: type, Tab, type, Enter.
func (b *browser) signIn(user, password string) {
	b.t.Helper()
	if code := b.open("/login"); code != http.StatusOK {
		b.t.Fatalf("/login: %d", code)
	}
	b.do(chromedp.WaitVisible(chromedp.ID("username")), chromedp.Focus(chromedp.ID("username")),
		chromedp.KeyEvent(user), chromedp.KeyEvent("\t"), chromedp.KeyEvent(password))
	if _, err := chromedp.RunResponse(b.ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		b.t.Fatalf("sign in: %v", err)
	}
	if p := b.path(); p != "/" {
		b.t.Fatalf("after sign-in the browser is at %q: %s", p, clipText(b.text(), 500))
	}
}

// screenshot takes a full-page screenshot of path and fails on a blank or
// broken page: the status, the page's own words and a picture that is not
// one flat colour. HOTLINE_SCREENSHOTS=dir keeps the PNGs for a person.
func (b *browser) screenshot(name, path string, want ...string) {
	b.t.Helper()
	if code := b.open(path); code != http.StatusOK {
		b.t.Errorf("screenshot %s: %s answered %d", name, path, code)
	}
	b.wantText(name, want...)
	if css := b.eval(`getComputedStyle(document.querySelector("header.top")).display`); css == "inline" {
		b.t.Errorf("screenshot %s: the stylesheet did not load", name)
	}
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if n := colours(img); n < 8 {
		b.t.Errorf("screenshot %s is nearly blank: %d colours", name, n)
	}
	if dir := os.Getenv("HOTLINE_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644)
	}
}

// colours counts the distinct colours of a sample of the image's pixels.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 7 {
		for x := r.Min.X; x < r.Max.X; x += 7 {
			c1, c2, c3, c4 := img.At(x, y).RGBA()
			seen[[4]uint32{c1, c2, c3, c4}] = true
		}
	}
	return len(seen)
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TestWebManagerJourney drives the pages as a manager would: sign in, find
// a simulated call, filter, open its timeline, add an override and see it,
// post an announcement, sign out.
func TestWebManagerJourney(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		answered := h.call(sim.Script{CallerName: "Globex", Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		h.call(sim.Script{From: "+15555550777", CallerName: "Initech", Presses: []string{"2"}})
		b := newBrowser(t, h)

		// Signed out, a page sends the browser to sign in, and back after.
		b.open("/stats")
		if p := b.path(); !strings.HasPrefix(p, "/login?next=") {
			t.Fatalf("signed out /stats went to %q", p)
		}
		b.signIn(testUser, testPassword)
		b.wantText("call log", "Calls", "Globex", "+15555550123", "Initech", "Alice Adams", "Answered", "Missed", "Operations", "Service Desk")

		// Filter: the desk team only.
		b.do(chromedp.SetValue(chromedp.ID("f-team"), "desk"))
		b.submit(`form.filters button[type=submit]`)
		if p := b.path(); p != "/?team=desk" && !strings.Contains(p, "team=desk") {
			t.Errorf("filtering went to %q", p)
		}
		if got := b.text(); !strings.Contains(got, "Initech") || strings.Contains(got, "Globex") {
			t.Errorf("team=desk shows:\n%s", clipText(got, 1500))
		}
		// Search by caller name, then open the call's timeline.
		b.open("/?q=globex")
		if got := b.text(); !strings.Contains(got, "Globex") || strings.Contains(got, "Initech") {
			t.Errorf("q=globex shows:\n%s", clipText(got, 1500))
		}
		b.submit(`table.calls tbody tr:first-child td a`)
		in := h.incident(answered.CallSid)
		if p := b.path(); p != fmt.Sprintf("/incidents/%d", in.ID) {
			t.Errorf("the row opened %q", p)
		}
		b.wantText("timeline", "Timeline", "Call came in", "Ringing", "Accepted", "Connected", "Alice Adams", "+0:00")

		// An override: Erin covers ops-primary from now for a day.
		b.open("/schedules")
		b.do(chromedp.SetValue(chromedp.ID("o-rotation"), "ops-primary"), chromedp.SetValue(chromedp.ID("o-engineer"), "erin"),
			chromedp.SetValue(chromedp.ID("o-reason"), "alice is ill"))
		if code := b.submit(`form[action="/schedules/overrides"] button`); code != http.StatusOK {
			t.Errorf("adding the override ended on %d", code)
		}
		now, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("section.team ol.chain")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(strings.TrimSpace(now), "Erin Evans") || !strings.Contains(now, "override:") {
			t.Errorf("Operations on call now: %q, want Erin Evans by override", now)
		}
		b.wantText("overrides", "alice is ill", "web:manager")

		// An announcement.
		b.open("/announcements")
		b.do(chromedp.SetValue(chromedp.ID("a-message"), "We are aware of the outage in us-east."))
		b.submit(`form[action="/announcements"] button`)
		b.wantText("announcements", "We are aware of the outage in us-east.", "active")
		b.open("/audit")
		b.wantText("audit", "override.add", "announcement.add", "web:manager")

		// Sign out with the button in the header.
		b.submit(`form.signout button`)
		if p := b.path(); p != "/login" {
			t.Errorf("after sign-out the browser is at %q", p)
		}
		b.open("/")
		if p := b.path(); !strings.HasPrefix(p, "/login") {
			t.Errorf("signed out, / stayed at %q", p)
		}
	})
}

// TestWebCallerNameIsText: a caller name made of markup shows as text and
// runs nothing, in the log and on the incident page.
func TestWebCallerNameIsText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{CallerName: evilCaller, Presses: []string{"1"}, Voicemail: evilCaller + " <script>alert(2)</script>"})
		in := h.incident(res.CallSid)
		b := newBrowser(t, h)
		b.signIn(testUser, testPassword)
		for _, path := range []string{"/", fmt.Sprintf("/incidents/%d", in.ID), "/calls.csv"} {
			if path == "/calls.csv" {
				break
			}
			b.open(path)
			b.wantText(path, evilCaller)
			if n := b.eval(`document.querySelectorAll("img, script").length`); n != float64(0) {
				t.Errorf("%s: %v img/script elements: the caller name became markup", path, n)
			}
			if got, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(".caller-name"))); err != nil || got != evilCaller {
				t.Errorf("%s: caller name text %q %v", path, got, err)
			}
		}
		b.wantText("transcript", "<script>alert(2)</script>")
		time.Sleep(200 * time.Millisecond) // an onerror would have fired by now
		if n := b.dialogs.Load(); n != 0 {
			t.Errorf("%d dialogs opened: caller text ran as script", n)
		}
	})
}

// TestWebCrossOriginPostRefused: a page on another origin that posts a form
// to hotline with the manager's cookie gets 403 and writes nothing.
func TestWebCrossOriginPostRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<form method="post" action="%s/announcements"><input name="message" value="pwned by evil">
<input name="until" value="2099-01-01T00:00"><button id="go">go</button></form>`, h.base)
		}))
		defer evil.Close()
		b := newBrowser(t, h)
		b.signIn(testUser, testPassword)
		if _, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(evil.URL)); err != nil {
			t.Fatal(err)
		}
		resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.ID("go")))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusForbidden {
			t.Errorf("cross-origin form post answered %d, want 403", resp.Status)
		}
		b.open("/announcements")
		if strings.Contains(b.text(), "pwned by evil") {
			t.Errorf("the cross-origin post was written")
		}
	})
}

// TestWebScreenshots renders every page in the browser, checks each shows
// its own content, and that the call log fits a phone's screen.
func TestWebScreenshots(t *testing.T) {
	h := startHotline(t, storetest.SQLite(t))
	h.mustRun(strings.NewReader(adminPassword+"\n"), "user", "add", adminUser, "--role", "admin", "--password-stdin", "--db", h.db)
	res := h.call(sim.Script{CallerName: "Globex", Presses: []string{"1"}, Voicemail: "Our VPN is down, please call back."})
	h.call(sim.Script{CallerName: "Hooli", Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.NoAnswer, bob: sim.Accept}})
	in := h.incident(res.CallSid)
	b := newBrowser(t, h)
	b.screenshot("login", "/login", "Sign in to hotline", "User name", "Password")
	b.signIn(adminUser, adminPassword)
	b.screenshot("calls", "/", "Calls", "Globex", "Hooli", "Download CSV", "Bob Brown")
	b.screenshot("incident", fmt.Sprintf("/incidents/%d", in.ID), "Timeline", "Voicemail", "Transcript", "Our VPN is down", "Manager's note")
	if n := b.eval(`document.querySelectorAll('audio[src$="/recording"]').length`); n != float64(1) {
		t.Errorf("incident page has %v recording players", n)
	}
	b.screenshot("live", "/live", "Live", "No call in progress.", "Waiting for someone", "Globex", "Voicemail", "nobody yet")
	b.screenshot("stats", "/stats", "answer rate", "Calls per day", "Per team", "Per menu option", "Per engineer", "Operations")
	if n := b.eval(`document.querySelectorAll("svg.chart rect").length`); n.(float64) < 2 {
		t.Errorf("stats charts have %v bars", n)
	}
	b.screenshot("schedules", "/schedules", "On call now", "Next 14 days", "Alice Adams", "Add an override")
	b.screenshot("announcements", "/announcements", "Announcements", "Post announcement")
	b.screenshot("audit", "/audit", "Audit log")
	b.screenshot("users", "/users", "Users", adminUser, testUser, "Add a user")
	b.screenshot("logout", "/logout", "Sign out now")

	// A phone: the call log must not scroll sideways.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.screenshot("calls-phone", "/", "Globex")
	if wide := b.eval(`Math.max(document.documentElement.scrollWidth, window.innerWidth) > 390`); wide != false {
		t.Errorf("on a 390 px screen the call log scrolls sideways")
	}
}

// TestSeedCommand writes incidents with `hotline seed` and reads them back
// through the API and the pages' queries.
func TestSeedCommand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		out := h.mustRun(nil, "seed", "--incidents", "2000", "--days", "30", "--db", h.db, "--config", h.config)
		if !strings.Contains(out, "wrote 2000 incidents") {
			t.Errorf("seed said %q", out)
		}
		var list struct{ Incidents []incident.Incident }
		h.getJSON("/api/v1/incidents?limit=1000", &list)
		if len(list.Incidents) != 1000 {
			t.Fatalf("%d incidents listed", len(list.Incidents))
		}
		full := h.incident(list.Incidents[0].CallSid)
		if len(full.Events) < 4 || full.Team == "" || full.EndedAt == nil {
			t.Errorf("a seeded incident is thin: %+v", full)
		}
		var errOut bytes.Buffer
		err := run(context.Background(), []string{"seed", "--db", h.db, "--config", h.config}, testEnv(nil), nil, &bytes.Buffer{}, &errOut)
		if exitCode(err) != 2 {
			t.Errorf("seed without --incidents: %v (exit %d)", err, exitCode(err))
		}
	})
}

// TestWebPagesAtScale measures the server time of the heaviest pages on a
// big database, against the same pages on an empty one started in the same
// run. It is a measurement, not part of the normal suite: it runs only with
// HOTLINE_BENCH_DB=file (a database filled by `hotline seed`), e.g.
//
//	hotline seed --incidents 1000000 --db /tmp/h1m.db --config cmd/hotline/testdata/e2e.yaml
//	HOTLINE_BENCH_DB=/tmp/h1m.db go test ./cmd/hotline -run TestWebPagesAtScale -v
func TestWebPagesAtScale(t *testing.T) {
	big := os.Getenv("HOTLINE_BENCH_DB")
	if big == "" {
		t.Skip("set HOTLINE_BENCH_DB to a seeded database to measure the pages at scale")
	}
	runs := 9
	loc, _ := time.LoadLocation("America/New_York")
	today := time.Now().In(loc)
	from90 := today.AddDate(0, 0, -89).Format(time.DateOnly)
	pages := []struct {
		name, path string
		target     time.Duration
	}{
		{"call log, first page", "/", 100 * time.Millisecond},
		{"call log, second page", "", 100 * time.Millisecond}, // filled in from the first page's Older link
		{"call log, newer page", "", 100 * time.Millisecond},  // filled in from the second page's Newer link
		{"call log, team=desk&status=missed", "/?team=desk&status=missed", 100 * time.Millisecond},
		{"call log, from/to one week, team=ops", "/?team=ops&from=" + today.AddDate(0, 0, -7).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), 100 * time.Millisecond},
		{"call log, caller=+15551000042", "/?caller=%2B15551000042", 100 * time.Millisecond},
		{"call log, q=VPN (search, common)", "/?q=VPN", 100 * time.Millisecond},
		{"call log, q=VPN&team=ops (search and a filter)", "/?q=VPN&team=ops", 100 * time.Millisecond},
		{"call log, q=no-such-words (search that matches nothing)", "/?q=no-such-words", 100 * time.Millisecond},
		{"stats, 90 days", "/stats?from=" + from90 + "&to=" + today.Format(time.DateOnly), 100 * time.Millisecond},
		{"API stats, 90 days", "/api/v1/stats?from=" + from90 + "&to=" + today.Format(time.DateOnly), 100 * time.Millisecond},
		{"stats, 400 days", "/stats?from=" + today.AddDate(0, 0, -399).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), 0},
	}
	measure := func(db string) map[string][2]time.Duration {
		c := serveForBench(t, db)
		out := map[string][2]time.Duration{}
		// link is the href of a page's link that starts so, "" if none.
		link := func(path, start string) string {
			_, body := c.get(t, path)
			j := strings.Index(body, `href="`+start)
			if j < 0 {
				return ""
			}
			return strings.ReplaceAll(body[j+6:j+6+strings.Index(body[j+6:], `"`)], "&amp;", "&")
		}
		for i, p := range pages {
			if p.path == "" {
				switch p.name {
				case "call log, second page":
					pages[i].path = link("/", "/?before=")
				case "call log, newer page": // the third page's Newer link
					pages[i].path = link(link(link("/", "/?before="), "/?before="), "/?after=")
				}
				if pages[i].path == "" {
					out[p.name] = [2]time.Duration{}
					continue
				}
				p = pages[i]
			}
			var server, wall []time.Duration
			for r := 0; r <= runs; r++ {
				start := time.Now()
				h, _ := c.get(t, p.path)
				el := time.Since(start)
				var ms float64
				fmt.Sscanf(strings.TrimPrefix(h.Get("Server-Timing"), "app;dur="), "%g", &ms)
				if r > 0 { // the first run warms the page cache
					server, wall = append(server, time.Duration(ms*float64(time.Millisecond))), append(wall, el)
				}
			}
			out[p.name] = [2]time.Duration{medianDuration(server), medianDuration(wall)}
		}
		return out
	}
	empty := measure(filepath.Join(t.TempDir(), "empty.db"))
	full := measure(big)
	var report strings.Builder
	fmt.Fprintf(&report, "| page | empty db: server | %s: server | %s: client wall | target |\n|---|---|---|---|---|\n", filepath.Base(big), filepath.Base(big))
	for _, p := range pages {
		target := "–"
		if p.target > 0 {
			target = "< " + p.target.String()
		}
		fmt.Fprintf(&report, "| %s | %.1f ms | %.1f ms | %.1f ms | %s |\n", p.name, millis(empty[p.name][0]), millis(full[p.name][0]), millis(full[p.name][1]), target)
		if p.target > 0 && full[p.name][0] > p.target {
			t.Errorf("%s: %v server time, target %v", p.name, full[p.name][0], p.target)
		}
	}
	t.Logf("median of %d runs each:\n%s", runs, report.String())
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchClient is a signed-in HTTP client of a server started for a benchmark.
type benchClient struct {
	base   string
	client *http.Client
}

func (c benchClient) get(t *testing.T, path string) (http.Header, string) {
	t.Helper()
	resp, err := c.client.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, clipText(string(body), 300))
	}
	return resp.Header, string(body)
}

// serveForBench runs `hotline serve` on db with the e2e config and returns a
// client signed in as a manager.
func serveForBench(t *testing.T, db string) benchClient {
	t.Helper()
	h := &hotline{t: t, dir: t.TempDir(), stderr: &lockedBuffer{}}
	h.config, h.db = filepath.Join(h.dir, "hotline.yaml"), db
	cfg, err := os.ReadFile("testdata/e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	// The bench account, new or (a database measured before) updated.
	add := []string{"user", "add", "bench", "--role", "manager", "--password-stdin", "--db", db}
	if err := run(context.Background(), add, testEnv(nil), strings.NewReader(testPassword+"\n"), io.Discard, io.Discard); err != nil {
		h.mustRun(strings.NewReader(testPassword+"\n"), append(add, "--update")...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", h.config, "--db", db, "--addr", "127.0.0.1:0"},
			testEnv(map[string]string{"TWILIO_AUTH_TOKEN": testToken}), strings.NewReader(""), pw, h.stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v\n%s", err, h.stderr.String())
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() { cancel(); <-done })
	// A database without the stats' roll-ups gets them in the background:
	// measure once they are there.
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		var ready int
		if err := conn.QueryRow(`SELECT COUNT(*) FROM stats_zone WHERE ready = 1`).Scan(&ready); err == nil && ready == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stats' roll-ups were not rebuilt within 10 min:\n%s", h.stderr.String())
		}
	}
	if i := strings.Index(h.stderr.String(), `"message":"stats roll-ups rebuilt"`); i >= 0 {
		t.Logf("%s: %s", filepath.Base(db), h.stderr.String()[strings.LastIndex(h.stderr.String()[:i], "{"):i])
	}
	base := strings.Fields(strings.TrimPrefix(line, "hotline: listening on "))[0]
	jar, _ := cookiejar.New(nil)
	c := benchClient{base: base, client: &http.Client{Jar: jar}}
	resp, err := c.client.PostForm(base+"/login", url.Values{"username": {"bench"}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("bench sign-in ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
	return c
}
