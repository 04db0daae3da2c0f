package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// bidiControls are the characters that reorder the text around them:
// the embeddings and overrides U+202A–202E, the isolates U+2066–2069, the
// marks U+200E, U+200F and the Arabic letter mark U+061C.
const bidiControls = "\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C"

// newLiveSite is newTestSite on a clock pinned at the real now, so the
// session cookie the site sets is live for a cookie jar on any date.
func newLiveSite(t *testing.T, dsn string) *site {
	t.Helper()
	s := newTestSite(t, dsn, "")
	s.now = time.Now().UTC().Truncate(time.Second)
	return s
}

func TestTextCellDefusesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"Acme":                 "Acme",
		"O'Brien":              "O'Brien",
		"a = b":                "a = b",
		"":                     "",
		"=1+1":                 "'=1+1",
		"+1":                   "'+1",
		"-1":                   "'-1",
		"@SUM(A1)":             "'@SUM(A1)",
		"|cmd /c calc":         "'|cmd /c calc",
		"%0Acmd":               "'%0Acmd",
		"＝1+1":                 "'＝1+1",
		"＋1":                   "'＋1",
		"－1":                   "'－1",
		"＠SUM(A1)":             "'＠SUM(A1)",
		"   =HYPERLINK(\"x\")": "'   =HYPERLINK(\"x\")",
		" \t @x":               "' \t @x",
		"\t=1":                 "'\t=1",
		"\tplain":              "'\tplain",
		"\r=1":                 "'\r=1",
		"\n=1":                 "'\n=1",
		"\u00a0=1":             "'\u00a0=1",
		"\u3000＝1":             "'\u3000＝1",
		"\u200b=1":             "'\u200b=1",
		"\ufeff+1":             "'\ufeff+1",
		"\u202egnp.exe":        "\ufffdgnp.exe",
		"\u2066=1\u2069":       "\ufffd=1\ufffd", // neutralised, so no longer a formula
		"call\u200fme":         "call\ufffdme",
	} {
		if got := textCell(in); got != want {
			t.Errorf("textCell(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"+15555550123": "+15555550123", "+1 555 0123": "'+1 555 0123",
		" =1": "' =1", "anonymous": "anonymous"} {
		if got := phoneCell(in); got != want {
			t.Errorf("phoneCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCallerTextBidiNeutralised stores a call whose caller name, number
// (and so the timeline's detail), transcript and note carry every bidi
// control, and checks that no page or CSV row shows one: each is replaced
// by U+FFFD.
func TestCallerTextBidiNeutralised(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newLiveSite(t, dsn)
		id := s.addCall("CAbidi", "+1555\u202E0123", "Invoice\u202Efdp.exe "+bidiControls, "call me \u2067back\u2069 "+bidiControls,
			s.now.Add(-time.Minute))
		c := s.client()
		s.signIn(c, "ann")
		if resp := s.post(c, "/incidents/"+itoa(id)+"/note", url.Values{"note": {"note \u202Edrow " + bidiControls}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("note: %d", resp.StatusCode)
		}
		for path, want := range map[string][]string{
			"/":                      {"Invoice\ufffdfdp.exe"},
			"/incidents/" + itoa(id): {"Invoice\ufffdfdp.exe", "call me \ufffdback\ufffd", "note \ufffddrow", "1555\ufffd0123"},
			"/calls.csv":             {"Invoice\ufffdfdp.exe", "call me \ufffdback\ufffd", "note \ufffddrow", "+1555\ufffd0123"},
		} {
			code, body, _ := s.get(c, path)
			if code != http.StatusOK {
				t.Fatalf("%s: %d", path, code)
			}
			if i := strings.IndexAny(body, bidiControls); i >= 0 {
				t.Errorf("%s shows a bidi control: %q", path, body[max(0, i-20):min(len(body), i+20)])
			}
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %q", path, w)
				}
			}
		}
	})
}

// TestNoteWithNULIsStored: a note carrying a NUL (PostgreSQL refuses the
// byte in text) and other control characters is saved with each replaced
// by U+FFFD, not refused with 503; newlines and tabs stay.
func TestNoteWithNULIsStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newLiveSite(t, dsn)
		id := s.addCall("CAnul", "+15555550123", "Globex", "", s.now.Add(-time.Minute))
		c := s.client()
		s.signIn(c, "ann")
		if resp := s.post(c, "/incidents/"+itoa(id)+"/note", url.Values{"note": {"called\x00back\x07 twice\n\tthen =1+1"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("note with NUL: %d, want 303", resp.StatusCode)
		}
		var note string
		if err := s.db.QueryRowContext(context.Background(), `SELECT note FROM incidents WHERE id = ?`, id).Scan(&note); err != nil {
			t.Fatal(err)
		}
		if want := "called\ufffdback\ufffd twice\n\tthen =1+1"; note != want {
			t.Errorf("stored note %q, want %q", note, want)
		}
		_, body, _ := s.get(c, "/calls.csv")
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 2 || recs[1][12] != "called\ufffdback\ufffd twice\n\tthen =1+1" {
			t.Errorf("csv %q %v", recs, err)
		}
	})
}
