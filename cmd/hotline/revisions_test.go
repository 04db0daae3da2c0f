package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// sighup sends this process SIGHUP (the in-process serve takes it) and
// waits for want in the server's log, its count grown.
func (h *hotline) sighup(want string) {
	h.t.Helper()
	before := strings.Count(h.stderr.String(), want)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		h.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); strings.Count(h.stderr.String(), want) == before; {
		if time.Now().After(deadline) {
			h.t.Fatalf("no new %q in the log:\n%s", want, h.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browse signs c in once and fetches a manager page's HTML.
func (h *hotline) browse(c *http.Client, path string) string {
	h.t.Helper()
	if c.Jar == nil {
		c.Jar, _ = cookiejar.New(nil)
		resp, err := c.PostForm(h.base+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
		if err != nil {
			h.t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := c.Get(h.base + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
	}
	return string(b)
}

// diffOnPage is the diff a /config page shows for the revision whose
// section starts at short, as `hotline diff` prints it: each heading with
// a colon, each line indented by two spaces.
func diffOnPage(t *testing.T, page, short string) string {
	t.Helper()
	_, section, ok := strings.Cut(page, `<h2 id="r-`+short+`">`)
	section, _, _ = strings.Cut(section, "</section>")
	_, diff, ok2 := strings.Cut(section, `<div class="diff">`)
	diff, _, _ = strings.Cut(diff, "</div>")
	if !ok || !ok2 {
		t.Fatalf("no diff for %s on the page:\n%s", short, page)
	}
	var b strings.Builder
	for _, m := range regexp.MustCompile(`<h4>(.*?)</h4>|<li>(.*?)</li>`).FindAllStringSubmatch(diff, -1) {
		if m[1] != "" {
			b.WriteString(html.UnescapeString(m[1]) + ":\n")
		} else {
			b.WriteString("  " + html.UnescapeString(m[2]) + "\n")
		}
	}
	return b.String()
}

// TestConfigHistory: a hotline serves a config, is sent a broken one and
// then a changed one by SIGHUP, and takes a call under each good one. The
// API lists both revisions, newest first, one call each; the refused file
// is in the audit log with its revision and error; the second call's
// incident carries the new revision and its page links there; /config
// shows the diff `hotline diff` prints for the two files over the 14 days
// from when the new one went live, and the revision's page its file.
func TestConfigHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		good := mustRead(t, h.config)
		first := h.incident(h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}}).CallSid)

		bad := strings.Replace(good, "menu:", "menu:\n  bogus: 1", 1)
		if err := os.WriteFile(h.config, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		h.sighup("config reload refused")
		changed := strings.Replace(good, "      - rotation: ops-primary\n", "      - engineer: erin\n      - rotation: ops-primary\n", 1)
		if err := os.WriteFile(h.config, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		h.sighup("config reloaded")
		second := h.incident(h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{erin: sim.Accept}}).CallSid)
		oldRev, newRev := config.RevisionOf([]byte(good)), config.RevisionOf([]byte(changed))
		if first.ConfigRevision != oldRev || second.ConfigRevision != newRev {
			t.Fatalf("the calls' config_revision: %s and %s; want %s then %s", first.ConfigRevision, second.ConfigRevision, oldRev, newRev)
		}

		var api struct {
			Revisions []struct {
				Revision  string    `json:"revision"`
				FirstLive time.Time `json:"first_live"`
				LastLive  time.Time `json:"last_live"`
				Calls     int64     `json:"calls"`
			} `json:"revisions"`
		}
		h.getJSON("/api/v1/config/revisions", &api)
		if r := api.Revisions; len(r) != 2 || r[0].Revision != newRev || r[1].Revision != oldRev || r[0].Calls != 1 || r[1].Calls != 1 {
			t.Fatalf("GET /api/v1/config/revisions: %+v; want %.12s then %.12s with one call each", r, newRev, oldRev)
		}
		if r := api.Revisions; r[1].LastLive.Before(first.StartedAt) || r[1].LastLive.After(r[0].FirstLive) || r[0].FirstLive.After(second.StartedAt) {
			t.Errorf("the old revision live %s – %s, the new one from %s; the calls at %s and %s", r[1].FirstLive, r[1].LastLive, r[0].FirstLive, first.StartedAt, second.StartedAt)
		}

		c := &http.Client{}
		audit := h.browse(c, "/audit")
		if !strings.Contains(audit, "config.refused") || !strings.Contains(audit, "revision "+config.RevisionOf([]byte(bad))[:12]) || !strings.Contains(audit, "menu.bogus") {
			t.Errorf("the refused reload is not in the audit log with its revision and error:\n%s", audit)
		}
		if in := h.browse(c, "/incidents/"+strconv.FormatInt(second.ID, 10)); !strings.Contains(in, `href="/config/`+newRev+`"`) {
			t.Errorf("the incident page does not link its config revision:\n%s", in)
		}

		dir := t.TempDir()
		oldFile, newFile := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
		if err := os.WriteFile(oldFile, []byte(good), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(newFile, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		at := api.Revisions[0].FirstLive.Truncate(time.Minute).UTC().Format(time.RFC3339)
		want := h.mustRun(nil, "diff", oldFile, newFile, "--at", at, "--days", "14")
		list := h.browse(c, "/config")
		if got := diffOnPage(t, list, newRev[:12]); got != want {
			t.Errorf("/config shows the diff\n%s\nwant, as hotline diff --at %s prints it:\n%s", got, at, want)
		}
		if !strings.Contains(want, "erin") || !strings.Contains(list, "--at "+at) {
			t.Errorf("the diff does not name erin, or the page not its span (--at %s):\n%s", at, want)
		}
		one := h.browse(c, "/config/"+newRev)
		if got := diffOnPage(t, one, newRev[:12]); got != want {
			t.Errorf("/config/%.12s shows the diff\n%s\nwant\n%s", newRev, got, want)
		}
		if !strings.Contains(html.UnescapeString(one), changed) {
			t.Errorf("/config/%.12s does not show its file", newRev)
		}
		cmp := h.browse(c, "/config/compare?from="+oldRev+"&to="+newRev)
		if !strings.Contains(cmp, "<li>") || !strings.Contains(cmp, "erin") {
			t.Errorf("/config/compare shows no diff:\n%s", cmp)
		}
	})
}
