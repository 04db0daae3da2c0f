package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/ivr/sim"
)

// buildHotline compiles the binary once for the tests that run it as a
// subprocess.
var buildHotline = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hotline-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hotline")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// process is `hotline serve` running as a child process.
type process struct {
	cmd  *exec.Cmd
	base string
}

// startProcess starts `hotline serve` on config and db, with env (each
// NAME=value) added to its environment, and waits until it listens.
func startProcess(t *testing.T, config, db string, env ...string) *process {
	t.Helper()
	bin, err := buildHotline()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", config, "--db", db, "--addr", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), "TWILIO_AUTH_TOKEN="+testToken), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("hotline did not start: %v\n%s", err, stderr)
	}
	go io.Copy(io.Discard, stdout)
	return &process{cmd: cmd, base: strings.Fields(strings.TrimPrefix(line, "hotline: listening on "))[0]}
}

// TestCrashLosesNothing kills the server with SIGKILL in the middle of a
// bounded load of concurrent calls on 127.0.0.1, restarts it on the same
// database, and checks that every webhook that got a 2xx left its record:
// an acknowledged event is on disk before its answer.
func TestCrashLosesNothing(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "hotline.yaml")
	if err := os.WriteFile(config, []byte(mustRead(t, "testdata/e2e.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "hotline.db")
	var acked []ackedRequest
	for round, killAfter := range []time.Duration{150, 300, 450, 600, 800} {
		p := startProcess(t, config, db)
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		var wg sync.WaitGroup
		for worker := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tw := &sim.Twilio{BaseURL: p.base, AuthToken: testToken}
				behaviours := []sim.Behaviour{sim.Accept, sim.NoAnswer, sim.Voicemail, sim.Decline, sim.Busy}
				for i := 0; i < 200 && ctx.Err() == nil; i++ {
					res, _ := tw.Call(ctx, sim.Script{
						From: fmt.Sprintf("+1555%07d", round*10000+worker*1000+i), To: "+18005550100",
						Presses:   []string{"1"},
						Engineers: map[string]sim.Behaviour{alice: behaviours[(worker+i)%5], bob: sim.Accept},
						Voicemail: "help",
					})
					if res == nil {
						continue
					}
					mu.Lock()
					dials := 0
					for _, r := range res.Requests {
						if r.Status >= 200 && r.Status < 300 {
							acked = append(acked, ackedRequest{r, dials})
						}
						if strings.HasPrefix(r.Path, "/twilio/dial?") {
							dials++
						}
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(killAfter * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		cancel()
		wg.Wait()
	}
	// Restart once more: the spool, if any, is replayed at start.
	p := startProcess(t, config, db)
	defer func() { p.cmd.Process.Kill(); p.cmd.Wait() }()
	h := &hotline{t: t, base: p.base}
	h.waitReady()

	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	missing, checked := 0, 0
	for _, a := range acked {
		r := a.Request
		sid, key := expectedRecord(a)
		if sid == "" {
			continue
		}
		checked++
		var n int
		q := `SELECT COUNT(*) FROM incidents i LEFT JOIN incident_events e ON e.incident_id = i.id AND (? = '' OR e.dedup_key = ?)
			WHERE i.call_sid = ? AND (? = '' OR e.id IS NOT NULL)`
		if err := conn.QueryRow(q, key, key, sid, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged %s %s (call %s) left no %q record", r.Kind, r.Path, sid, key)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged webhooks lost", missing, checked)
	}
	if checked < 50 {
		t.Fatalf("only %d acknowledged webhooks: the load did not run", checked)
	}
	t.Logf("%d acknowledged webhooks over 5 kills, none lost", checked)
}

// ackedRequest is a webhook that got a 2xx, with the number of Dial actions
// its call had sent before it.
type ackedRequest struct {
	sim.Request
	dials int
}

// expectedRecord names what an acknowledged webhook must have left: the
// call's incident and, for most steps, the event with its idempotency key.
// The step and pass are sealed in the URL, so they are counted instead: the
// n-th Dial of a call (and the whisper before its action) is step n mod 3,
// pass n / 3 of testdata/e2e.yaml's ops chain.
func expectedRecord(a ackedRequest) (callSid, key string) {
	r := a.Request
	form := url.Values(r.Params)
	u, err := url.Parse(r.Path)
	if err != nil {
		return "", ""
	}
	stepKey := func(kind string) string { return fmt.Sprintf("%s:p%d:s%d", kind, a.dials/3, a.dials%3) }
	switch u.Path {
	case "/twilio/voice":
		return form.Get("CallSid"), "incoming"
	case "/twilio/status":
		if form.Get("ParentCallSid") != "" {
			return "", ""
		}
		return form.Get("CallSid"), "status"
	case "/twilio/menu":
		if d := form.Get("Digits"); d == "1" || d == "2" {
			return form.Get("CallSid"), "route"
		}
		return "", ""
	case "/twilio/whisper/answer":
		return form.Get("ParentCallSid"), stepKey("whisper")
	case "/twilio/dial":
		if form.Get("DialCallStatus") == "completed" && form.Get("DialBridged") != "true" {
			return form.Get("CallSid"), "" // declined or no key: either record will do
		}
		return form.Get("CallSid"), stepKey("dial")
	case "/twilio/recorded":
		return form.Get("CallSid"), "voicemail"
	case "/twilio/transcript":
		return form.Get("CallSid"), "transcript"
	}
	return "", ""
}
