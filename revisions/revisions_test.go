package revisions

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T, dsn string) (*Store, *clock, *audit.Log) {
	t.Helper()
	db := storetest.Open(t, dsn)
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	return New(db, c.now), c, audit.NewLog(db)
}

func mustLive(t *testing.T, s *Store, instance, rev string, text []byte) {
	t.Helper()
	if err := s.Live(context.Background(), instance, rev, text); err != nil {
		t.Fatal(err)
	}
}

func list(t *testing.T, s *Store) []Revision {
	t.Helper()
	out, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRevisionsRecordedOnce: a revision served at start, beaten for and
// served again after a reload away and back is one revision, its text
// byte for byte; each instance's span runs from when it first served it to
// its last beat; a revision replaced was live until the reload; the list
// is newest first.
func TestRevisionsRecordedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, c, _ := open(t, dsn)
		start := c.t
		one := []byte("# é\r\nhotline:\n  number: \"+18005550100\"\n")
		two := []byte("# two\nhotline: {}\n")
		mustLive(t, s, "web-1:8080", "r1", one)
		c.t = start.Add(Beat)
		mustLive(t, s, "web-1:8080", "r1", one)
		c.t = start.Add(90 * time.Second)
		mustLive(t, s, "web-1:8080", "r2", two)
		c.t = start.Add(2 * time.Minute)
		mustLive(t, s, "web-2:8080", "r2", two)

		got := list(t, s)
		if len(got) != 2 || got[0].Revision != "r2" || got[1].Revision != "r1" {
			t.Fatalf("revisions %+v; want r2 then r1", got)
		}
		r1, r2 := got[1], got[0]
		if !r1.FirstLive.Equal(start) || !r1.LastLive.Equal(start.Add(90*time.Second)) || r1.Live {
			t.Errorf("r1 live %s – %s (live now %v); want %s – the reload at %s, not live", r1.FirstLive, r1.LastLive, r1.Live, start, start.Add(90*time.Second))
		}
		if !r2.FirstLive.Equal(start.Add(90*time.Second)) || !r2.LastLive.Equal(start.Add(2*time.Minute)) || !r2.Live || len(r2.Instances) != 2 {
			t.Errorf("r2 %+v; want live from the reload on two instances", r2)
		}
		if text, err := s.Text(context.Background(), "r1"); err != nil || !bytes.Equal(text, one) {
			t.Errorf("Text(r1) = %q, %v; want the file's bytes %q", text, err, one)
		}

		// Back to r1 on web-1: still one r1, its span extended.
		c.t = start.Add(3 * time.Minute)
		mustLive(t, s, "web-1:8080", "r1", one)
		got = list(t, s)
		if len(got) != 2 || got[1].Revision != "r1" || !got[1].Live || !got[1].FirstLive.Equal(start) || len(got[1].Instances) != 1 {
			t.Errorf("after going back to r1: %+v", got)
		}
		for _, in := range got[0].Instances {
			if in.Name == "web-1:8080" && (in.Live || !in.LastLive.Equal(c.t)) {
				t.Errorf("r2 on web-1 after it went back to r1: %+v", in)
			}
		}
	})
}

// TestRevisionsLiveNow: an instance that stops beating (a crash) no longer
// counts as serving its revision after LiveWithin, and on its restart
// with another revision the old one keeps its last beat as its end; one
// that stops cleanly ends at once.
func TestRevisionsLiveNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, c, _ := open(t, dsn)
		start := c.t
		mustLive(t, s, "a:1", "r1", []byte("1"))
		c.t = start.Add(LiveWithin - time.Second)
		if r := list(t, s); !r[0].Live {
			t.Fatalf("r1 not live %s after its last beat", LiveWithin-time.Second)
		}
		c.t = start.Add(LiveWithin + time.Second)
		if r := list(t, s); r[0].Live {
			t.Errorf("r1 still live %s after its last beat", LiveWithin+time.Second)
		}
		c.t = start.Add(time.Hour)
		mustLive(t, s, "a:1", "r2", []byte("2"))
		r := list(t, s)
		if r[1].Revision != "r1" || !r[1].LastLive.Equal(start) || r[1].Live {
			t.Errorf("r1 after a crash and a restart with r2: %+v; want it last live at its last beat %s", r[1], start)
		}
		c.t = start.Add(time.Hour + time.Second)
		if err := s.Stopped(context.Background(), "a:1", "r2"); err != nil {
			t.Fatal(err)
		}
		r = list(t, s)
		if r[0].Revision != "r2" || r[0].Live || !r[0].LastLive.Equal(c.t) {
			t.Errorf("r2 after a clean stop: %+v", r[0])
		}
	})
}

// TestRefusedReloadIsAudited: a refused reload is an audit entry naming
// the revision, the file and every error, on one line (an unreadable file
// has no revision, and says so); an unknown
// revision's text is NotFound.
func TestRefusedReloadIsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, _, log := open(t, dsn)
		ctx := context.Background()
		why := errors.New("hotline.yaml:3: menu.bogus: unknown key\nhotline.yaml:9: teams[0].id: required")
		if err := s.Refused(ctx, "a:1", "/etc/hotline.yaml", "0123456789abcdef", why); err != nil {
			t.Fatal(err)
		}
		entries, err := log.List(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := "revision 0123456789ab (/etc/hotline.yaml) refused, the running config kept: hotline.yaml:3: menu.bogus: unknown key; hotline.yaml:9: teams[0].id: required"
		if len(entries) != 1 || entries[0].Action != ActionRefused || entries[0].Actor != "hotline:a:1" || entries[0].Detail != want {
			t.Errorf("audit log %+v; want one %s entry %q", entries, ActionRefused, want)
		}
		if err := s.Refused(ctx, "a:1", "/gone.yaml", "", errors.New("open /gone.yaml: no such file or directory")); err != nil {
			t.Fatal(err)
		}
		entries, err = log.List(ctx, 1)
		if want := "/gone.yaml (unreadable) refused, the running config kept: open /gone.yaml: no such file or directory"; err != nil || len(entries) != 1 || entries[0].Detail != want {
			t.Errorf("an unreadable file's entry: %+v, %v; want %q", entries, err, want)
		}
		if _, err := s.Text(ctx, "nope"); err == nil {
			t.Error("the text of an unknown revision")
		} else if msg, ok := problem.Of(err, problem.NotFound); !ok || !strings.Contains(msg, "no config revision") {
			t.Errorf("Text(unknown) = %v; want NotFound", err)
		}
	})
}
