package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestTextsAfterCalls drives calls through a server whose texts go to a
// local fake of the Twilio Messages API: the engineer who took a call gets
// one text with its link; a voicemail texts the team's first step once,
// with its transcript.
func TestTextsAfterCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		const smsToken = "0123456789abcdef0123456789abcdef" // shaped like a real auth token
		var mu sync.Mutex
		var sent []url.Values
		fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			mu.Lock()
			sent = append(sent, form)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"sid": "SM00000000000000000000000000000001", "status": "queued"}`)
		}))
		defer fake.Close()

		dir := t.TempDir()
		cfg := filepath.Join(dir, "hotline.yaml")
		// Paging off: this test is about the texts that follow a call
		// (TestVoicemailPagedAndAcknowledged pages).
		yaml := strings.Replace(mustRead(t, "testdata/e2e.yaml"), "    repeat: 1\n", "    repeat: 1\n    follow_up: {outcomes: []}\n", 1)
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s, err := startServer(ctx, serveOptions{
			common: common{config: cfg, db: dsn, spool: filepath.Join(dir, "hotline.spool")}, addr: "127.0.0.1:0",
			authToken: smsToken, accountSID: "AC11111111111111111111111111111111", twilioAPI: fake.URL,
		}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.serve(ctx) }()
		defer func() { cancel(); <-served }()

		tw := &sim.Twilio{BaseURL: "http://" + s.addr, AuthToken: smsToken}
		answered, err := tw.Call(ctx, sim.Script{From: "+15555550123", To: "+18005550100", Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		if err != nil {
			t.Fatal(err)
		}
		voicemail, err := tw.Call(ctx, sim.Script{From: "+15555550124", To: "+18005550100", Presses: []string{"1"}, Voicemail: "The VPN is down."})
		if err != nil {
			t.Fatal(err)
		}
		// Retried status callbacks queue nothing more.
		for _, res := range []*sim.Result{answered, voicemail} {
			last := res.Requests[len(res.Requests)-1]
			if _, _, err := tw.Replay(ctx, last); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(sent)
			mu.Unlock()
			if n >= 2 || time.Now().After(deadline) {
				break
			}
			s.outbox.Wake()
			time.Sleep(50 * time.Millisecond)
		}
		// Nothing else is due: one more pass sends nothing.
		if _, err := s.outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(sent) != 2 {
			t.Fatalf("%d texts sent, want 2: %v", len(sent), sent)
		}
		var took string
		for _, f := range sent {
			if f.Get("From") != "+18005550100" || f.Get("To") != alice {
				t.Errorf("text from %q to %q", f.Get("From"), f.Get("To"))
			}
			if strings.Contains(f.Get("Body"), "you took a call") {
				took = f.Get("Body")
			}
		}
		if !strings.Contains(took, "/incidents/1") || !strings.Contains(took, "+15555550123") {
			t.Errorf("text to the engineer who answered: %q", took)
		}
		// The voicemail text waits for the transcript, which arrives with the
		// call, and goes to the team's first step (alice, ops-primary).
		var vm string
		for _, f := range sent {
			if strings.Contains(f.Get("Body"), "voicemail") && f.Get("To") == alice {
				vm = f.Get("Body")
			}
		}
		if !strings.Contains(vm, "The VPN is down.") || !strings.Contains(vm, "/incidents/2/recording") {
			t.Errorf("voicemail text %q", vm)
		}
	})
}
