package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestNULInCallerTextIsStored: a NUL in what a caller controls (the CNAM
// caller name, the words Twilio transcribes) and in a manager's note
// reaches the database as U+FFFD on both databases (PostgreSQL refuses the
// byte in text): the call is logged whole and the note is saved.
func TestNULInCallerTextIsStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		res := h.call(sim.Script{CallerName: "ACME\x00CORP", Presses: []string{"1"}, Voicemail: "please call\x00back soon"})
		in := h.incident(res.CallSid)
		wantStatus(t, in, "voicemail", "")
		if in.CallerName != "ACME\uFFFDCORP" {
			t.Errorf("caller name %q", in.CallerName)
		}
		if in.Transcript == nil || *in.Transcript != "please call\uFFFDback soon" {
			t.Errorf("transcript %v", in.Transcript)
		}

		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.PostForm(h.base+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = c.PostForm(h.base+"/incidents/"+strconv.FormatInt(in.ID, 10)+"/note", url.Values{"note": {"rang\x00back"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "#note") {
			t.Fatalf("note with a NUL: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if in := h.incident(res.CallSid); in.Note != "rang\uFFFDback" {
			t.Errorf("note %q", in.Note)
		}
	})
}
