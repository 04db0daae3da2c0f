package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHealthcheck(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select { // far longer than the probe waits, unless it hangs up
			case <-time.After(30 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()

	stdout, stderr, code := runCLI(t, nil, "", "healthcheck", "--url", srv.URL+"/healthz")
	if code != 0 || !strings.Contains(stdout, "200 OK") {
		t.Errorf("healthy: exit %d\n%s%s", code, stdout, stderr)
	}
	status.Store(http.StatusServiceUnavailable)
	_, stderr, code = runCLI(t, nil, "", "healthcheck", "--url", srv.URL+"/healthz")
	if code != 1 || !strings.Contains(stderr, "503") {
		t.Errorf("503: exit %d, want 1\n%s", code, stderr)
	}
	start := time.Now()
	_, stderr, code = runCLI(t, nil, "", "healthcheck", "--url", srv.URL+"/slow")
	// The slack is for a loaded machine; a probe that did not give up
	// would wait the server's 30 s.
	if code != 1 || time.Since(start) > healthcheckTimeout+5*time.Second {
		t.Errorf("a hung server: exit %d after %v, want 1 within %v\n%s", code, time.Since(start), healthcheckTimeout, stderr)
	}

	// Nothing listening: a closed server's port.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, _, code = runCLI(t, nil, "", "healthcheck", "--url", closed.URL+"/healthz"); code != 1 {
		t.Errorf("nothing listening: exit %d, want 1", code)
	}
	if _, _, code = runCLI(t, nil, "", "healthcheck", "--url", "://x"); code != 2 {
		t.Errorf("a malformed URL: exit %d, want 2", code)
	}
	if _, _, code = runCLI(t, nil, "", "healthcheck", "extra"); code != 2 {
		t.Errorf("a stray argument: exit %d, want 2", code)
	}
}

func TestHealthcheckDefaultURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/healthz",
		"[::]:9000":      "http://127.0.0.1:9000/healthz",
		"127.0.0.1:7000": "http://127.0.0.1:7000/healthz",
		"[::1]:7000":     "http://[::1]:7000/healthz",
		"garbage":        "http://127.0.0.1:8080/healthz",
	} {
		if got := defaultHealthURL(addr); got != want {
			t.Errorf("defaultHealthURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
