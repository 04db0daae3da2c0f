package web

import (
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// do sends req and returns its status, reading the body to the end.
func do(t *testing.T, c *http.Client, req *http.Request) *http.Response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestMultipartSignInLeavesNoFile posts to /login, signed out, a multipart
// form whose file part is larger than what net/http keeps in memory (32
// MiB): it used to be written under the temp directory and never removed,
// so anyone could fill the disk. Forms are url-encoded only now.
func TestMultipartSignInLeavesNoFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := newTestSite(t, storetest.SQLite(t), "")
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			_ = mw.WriteField("username", "ann")
			part, _ := mw.CreateFormFile("upload", "big.bin")
			_, err := io.Copy(part, io.LimitReader(zeros{}, 40<<20))
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		req, _ := http.NewRequest(method, s.srv.URL+"/login", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := s.client().Do(req)
		pr.CloseWithError(io.ErrClosedPipe)
		if err != nil {
			t.Fatalf("%s multipart /login: %v", method, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType && resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s multipart /login: %d, want 415 or 413", method, resp.StatusCode)
		}
	}
	s.srv.Close() // every request has finished: nothing may be left
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		info, _ := e.Info()
		t.Errorf("a request left %s (%d bytes) in the temp directory", e.Name(), info.Size())
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestOversizedFormRefused sends url-encoded bodies over 64 KiB, signed out
// and signed in: each gets 413, and nothing of it is saved.
func TestOversizedFormRefused(t *testing.T) {
	s := newTestSite(t, storetest.SQLite(t), "")
	big := strings.Repeat("x", 70<<10)
	if resp := s.post(s.client(), "/login", url.Values{"username": {"ann"}, "password": {big}}); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB sign-in: %d, want 413", resp.StatusCode)
	}
	c := s.client()
	if resp := s.signIn(c, "ann"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	until := s.now.Add(3 * time.Hour).In(mustConfig(t).Hotline.Location).Format("2006-01-02T15:04")
	form := url.Values{"message": {"Outage " + big}, "until": {until}}
	if resp := s.post(c, "/announcements", form); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB announcement: %d, want 413", resp.StatusCode)
	}
	// A body of unknown length (chunked) is cut off at the limit too.
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/announcements", io.MultiReader(strings.NewReader("until="+until+"&message="), io.LimitReader(zeros{}, 1<<20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = -1
	if resp := do(t, c, req); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB chunked announcement: %d, want 413", resp.StatusCode)
	}
	if _, body, _ := s.get(c, "/announcements"); strings.Contains(body, "Outage") {
		t.Errorf("an oversized announcement was saved")
	}
	// A form of ordinary size still works.
	if resp := s.post(c, "/announcements", url.Values{"message": {"Outage in us-east"}, "until": {until}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("ordinary announcement: %d", resp.StatusCode)
	}
}
