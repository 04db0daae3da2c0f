package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// phoneWidth and phoneHeight are the screen of the phone test, in CSS
// pixels: an iPhone 12 to 15's.
const phoneWidth, phoneHeight = 390, 844

// axeScript is axe-core, vendored as a test asset (testdata/axe/README.md).
const axeScript = "testdata/axe/axe.min.js"

// phoneCheck measures the page as laid out on the phone and returns one line
// per problem: the page wider than the screen (naming the element that
// sticks out furthest and the outermost one that does), a link or form
// control outside the screen (hidden in a table that scrolls sideways),
// text drawn smaller than 11 CSS pixels, SVG chart labels included (their
// size is the font size times the chart's scale on screen), and chart labels
// that overlap each other or are cut off by the chart's edge.
var phoneCheck = `(vw => {
  const out = [];
  const name = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    for (const c of el.classList) s += "." + c;
    const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? s + ' ("' + text + '")' : s;
  };
  const inScroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  const shown = r => r.width > 1 && r.height > 1;
  // A phone widens its layout viewport to a page wider than the screen
  // (and zooms out), so innerWidth grows with the page: compare with vw.
  const sw = Math.max(document.documentElement.scrollWidth, window.innerWidth);
  if (sw > vw) {
    let outer = null, widest = null;
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (!shown(r) || r.right <= vw + 0.5 || inScroller(el)) continue;
      outer = outer || {el, r};
      if (!widest || r.right > widest.r.right) widest = {el, r};
    }
    out.push("the page is " + sw + " px wide on a " + vw + " px screen" +
      (widest ? ": " + name(widest.el) + " reaches " + Math.round(widest.r.right) + " px" : "") +
      (outer && outer.el !== widest.el ? ", inside " + name(outer.el) + " (" + Math.round(outer.r.width) + " px wide)" : ""));
  }
  for (const el of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")) {
    const r = el.getBoundingClientRect();
    if (el.matches(".skip") || !shown(r)) continue;
    if (r.left < -0.5 || r.right > vw + 0.5) out.push("off the screen (" + Math.round(r.left) + " to " + Math.round(r.right) + " px): " + name(el));
  }
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || !shown(el.getBoundingClientRect())) continue;
    let px = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement) {
      const m = el.getScreenCTM();
      px *= Math.hypot(m.a, m.b);
    }
    if (px < 11) out.push("text of " + px.toFixed(1) + " px: " + name(el));
  }
  for (const svg of document.querySelectorAll("svg")) {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")].map(el => ({el, r: el.getBoundingClientRect()})).filter(t => shown(t.r));
    texts.forEach((t, i) => {
      const r = t.r;
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5) {
        out.push("chart label cut off by the edge of its chart: " + name(t.el));
      }
      for (const u of texts.slice(i + 1)) {
        const q = u.r;
        if (Math.min(r.right, q.right) - Math.max(r.left, q.left) > 1 && Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top) > 1) {
          out.push("chart labels overlap: " + name(t.el) + " and " + name(u.el));
        }
      }
    });
  }
  return out;
})(` + fmt.Sprint(phoneWidth) + `)`

// axeRun runs axe-core on the page and returns its serious and critical
// violations: the rule, its help, and up to six of the elements it found.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => v.id + " (" + v.impact + "): " + v.help + "\n      " + v.nodes.slice(0, 6).map(n =>
    n.target.join(" ") + ": " + (n.failureSummary || "").split("\n").slice(1).join(" ").trim()).join("\n      ")))`

// phonePage opens path on the phone-sized browser and checks it
// (checkPhone).
func (b *browser) phonePage(axe, name, path string, status int64, want ...string) {
	b.t.Helper()
	if code := b.open(path); code != status {
		b.t.Errorf("%s: %s answered %d, want %d", name, path, code, status)
	}
	b.wantText(name, want...)
	b.checkPhone(axe, name)
}

// checkPhone opens every <details> of the page in the browser, so what it
// hides is measured too, and reports what phoneCheck and axe find on it.
func (b *browser) checkPhone(axe, name string) {
	b.t.Helper()
	path := b.path()
	problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`document.querySelectorAll("details").forEach(d => d.open = true); `+phoneCheck))
	if err != nil {
		b.t.Fatalf("%s: measuring the page: %v", name, err)
	}
	for _, p := range problems {
		b.t.Errorf("%s (%s) at %d×%d: %s", name, path, phoneWidth, phoneHeight, p)
	}
	// Runtime.evaluate runs the script whatever the page's CSP says, the
	// way a browser extension would: the pages themselves refuse scripts.
	if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
		b.t.Fatalf("%s: loading axe-core: %v", name, err)
	}
	violations, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: running axe-core: %v", name, err)
	}
	for _, v := range violations {
		b.t.Errorf("%s (%s): axe-core: %s", name, path, v)
	}
	if dir := os.Getenv("HOTLINE_SCREENSHOTS"); dir != "" {
		if shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "phone-"+strings.ReplaceAll(name, " ", "-")+".png"), shot, 0o644)
		}
	}
}

// TestWebFitsAPhoneAndPassesAxe opens every page on a 390×844 phone screen,
// with data of every kind and long caller text, and fails where a page
// scrolls sideways, a control sits off the screen, text is drawn under
// 11 px, chart labels collide, or axe-core reports a serious or critical
// accessibility violation (WCAG AA colour contrast among them).
func TestWebFitsAPhoneAndPassesAxe(t *testing.T) {
	if testing.Short() {
		// It checks what the browser draws; -short is CI's race pass,
		// which the full pass before it has already run this in.
		t.Skip("-short: the phone layout and axe audit run in the full pass")
	}
	axe, err := os.ReadFile(axeScript)
	if err != nil {
		t.Fatal(err)
	}
	h := startHotline(t, storetest.SQLite(t))
	h.mustRun(strings.NewReader(adminPassword+"\n"), "user", "add", adminUser, "--role", "admin", "--password-stdin", "--db", h.db)
	const longName = "Consolidated Intergalactic Widgets and Sprockets Holdings Incorporated"
	const longWords = "Our VPN concentrator at https://vpn-gateway-primary.eu-central-1.internal.example.com/status/healthcheck/details " +
		"is down since 03:00, every branch office is offline and the backup line does not come up either; please call back on the main number."
	answered := h.call(sim.Script{CallerName: "Globex", Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
	voicemail := h.call(sim.Script{CallerName: longName, Presses: []string{"1"}, Voicemail: longWords})
	missed := h.call(sim.Script{From: "+15555550777", CallerName: "Initech", Presses: []string{"2"}})
	abandoned := h.call(sim.Script{From: "+15555550778", CallerName: "Hooli", Presses: []string{"1"}, HangupAfter: "ring:1"})
	incidents := map[string]int64{}
	for name, res := range map[string]*sim.Result{"answered": answered, "voicemail": voicemail, "missed": missed, "abandoned": abandoned} {
		incidents[name] = h.incident(res.CallSid).ID
	}
	h.mustRun(nil, "ack", fmt.Sprint(incidents["voicemail"]), "--db", h.db)
	h.mustRun(nil, "resolve", fmt.Sprint(incidents["answered"]), "--db", h.db)
	// The missed call stays open: its page shows both buttons.
	now := time.Now()
	h.mustRun(nil, "override", "add", "--config", h.config, "--db", h.db, "--rotation", "ops-primary", "--engineer", "erin",
		"--from", now.Add(2*time.Hour).Format(time.RFC3339), "--to", now.Add(50*time.Hour).Format(time.RFC3339),
		"--reason", "Alice is at the customer's data centre in Frankfurt for the whole migration weekend")
	// A second override over part of the first: the page warns of the overlap.
	h.mustRun(nil, "override", "add", "--config", h.config, "--db", h.db, "--rotation", "ops-primary", "--engineer", "alice",
		"--from", now.Add(24*time.Hour).Format(time.RFC3339), "--to", now.Add(26*time.Hour).Format(time.RFC3339), "--reason", "back for a day")
	h.mustRun(nil, "announce", "--db", h.db, "--message", longWords, "--until", now.Add(4*time.Hour).Format(time.RFC3339))

	b := newBrowser(t, h)
	b.do(chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	a := string(axe)
	b.phonePage(a, "login", "/login", http.StatusOK, "Sign in to hotline")
	b.signIn(adminUser, adminPassword)
	b.phonePage(a, "calls", "/", http.StatusOK, "Calls", longName, "Globex", "Initech", "Hooli", "Download CSV")
	for _, name := range []string{"answered", "voicemail", "missed", "abandoned"} {
		b.phonePage(a, "incident "+name, fmt.Sprintf("/incidents/%d", incidents[name]), http.StatusOK, "Timeline", "Manager's note")
		if got := b.eval(`document.querySelector(".facts .status").className`); got != "status "+name {
			t.Errorf("incident %s: its status badge is %q", name, got)
		}
		if name == "missed" {
			b.wantText("open incident", "Acknowledge: I take it", "Resolve: nothing more to do")
		}
	}
	b.phonePage(a, "stats", "/stats", http.StatusOK, "Calls per day", "Per team", "Per engineer", "Alice Adams")
	b.phonePage(a, "schedules", "/schedules", http.StatusOK, "On call now", "Next 14 days", "Erin Evans", "Frankfurt", "Add an override",
		"Upcoming shifts", "Erin Evans, ops-primary (override: Alice is at the customer", "Overlapping overrides", "outlined: an override")
	// The filter, as a phone submits its form: only Erin's shifts.
	b.do(chromedp.SetValue(chromedp.ID("f-engineer"), "erin"))
	if code := b.submit(`form[action="/schedules"][method="get"] button`); code != http.StatusOK {
		t.Errorf("filtering the schedules ended on %d", code)
	}
	b.wantText("schedules of one engineer", "Upcoming shifts of Erin Evans", "someone else", "Show everyone")
	b.checkPhone(a, "schedules of one engineer")
	if code := b.submit(`form[action="/schedules/calendar"] button`); code != http.StatusOK {
		t.Errorf("making a calendar link ended on %d", code)
	}
	b.wantText("calendar link", "New calendar link (shown here for 15 minutes")
	b.checkPhone(a, "schedules with a new calendar link")
	b.phonePage(a, "announcements", "/announcements", http.StatusOK, "Announcements", "vpn-gateway-primary", "Expire now")
	// A refused form: the page again, with its error on top.
	b.do(chromedp.SetValue(chromedp.ID("a-message"), longWords), chromedp.SetValue(chromedp.ID("a-until"), "2001-01-01T00:00"))
	if code := b.submit(`form[action="/announcements"] button`); code != http.StatusBadRequest {
		t.Errorf("an announcement that ended in 2001 was answered %d, want 400", code)
	}
	b.checkPhone(a, "announcements with an error")
	if n := b.eval(`document.querySelectorAll("p.error").length`); n != float64(1) {
		t.Errorf("the refused announcement shows %v error messages", n)
	}
	b.phonePage(a, "live", "/live", http.StatusOK, "Live", "Waiting for someone")
	b.phonePage(a, "config", "/config", http.StatusOK, "Config")
	b.phonePage(a, "audit", "/audit", http.StatusOK, "Audit log", "override.add", "announcement.add")
	b.phonePage(a, "users", "/users", http.StatusOK, "Users", adminUser, testUser, "Add a user")
	b.phonePage(a, "error", "/incidents/999999", http.StatusNotFound, "Back to the call log")
	b.phonePage(a, "logout", "/logout", http.StatusOK, "Sign out now")
}
