package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPagingSurvivesSIGKILL: an alert pages alice (step 1 of ops); hotline
// is killed with SIGKILL once that page is recorded, and started again on
// the same database. Step 2 (bob) is still paged when its ack_timeout falls
// due, exactly once, and the chain goes on to step 3 (dana) after it:
// pending pages live in the database, not in the process that scheduled
// them.
func TestPagingSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out two 5 s ack timeouts of a real server")
	}
	api := newMessagesAPI(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hotline.yaml")
	yaml := strings.Replace(mustRead(t, "testdata/e2e.yaml"), "    repeat: 1\n", "    repeat: 1\n    follow_up: {ack_timeout: 5s}\n", 1)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "hotline.db")
	out, stderr, code := runCLI(t, nil, "", "integration", "add", "--team", "ops", "--name", "nagios", "--config", cfg, "--db", db)
	if code != 0 {
		t.Fatalf("integration add: %d %s", code, stderr)
	}
	secret := strings.Fields(strings.SplitN(out, "\n", 3)[1])[0]
	// A REST client needs a token shaped like a real one.
	env := []string{"TWILIO_ACCOUNT_SID=AC11111111111111111111111111111111", "TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef",
		twilioAPIEnv + "=" + api.URL}

	p := startProcess(t, cfg, db, env...)
	(&hotline{t: t, base: p.base, stderr: &lockedBuffer{}}).waitReady()
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/alerts", strings.NewReader(`{"summary": "disk full on db1", "dedup_key": "db1-disk"}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var opened struct {
		IncidentID int64 `json:"incident_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&opened)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("alert: %d %v", resp.StatusCode, err)
	}

	// Kill it once step 1's page is recorded and step 2's is waiting.
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pages := func() string {
		rows, err := conn.Query(`SELECT step, state FROM pages WHERE incident_id = ? ORDER BY pass, step`, opened.IncidentID)
		if err != nil {
			return err.Error()
		}
		defer rows.Close()
		var states []string
		for rows.Next() {
			var step int
			var state string
			if err := rows.Scan(&step, &state); err != nil {
				return err.Error()
			}
			states = append(states, state)
		}
		return strings.Join(states, " ")
	}
	for deadline := time.Now().Add(10 * time.Second); pages() != "placed pending"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("step 1 not recorded as paged within 10 s: pages %q", pages())
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	p = startProcess(t, cfg, db, env...)
	defer func() { p.cmd.Process.Kill(); p.cmd.Wait() }()
	// Step 3's page comes 5 s after step 2's: any second page of step 2
	// would be placed before it.
	calls := waitCalls(t, api, 3)
	var to []string
	for _, c := range calls {
		to = append(to, c.Get("To"))
	}
	if want := alice + " " + bob + " " + dana; strings.Join(to, " ") != want {
		t.Fatalf("page calls to %v; want alice, bob (after the restart) and dana, each once", to)
	}
	if got := pages(); !strings.HasPrefix(got, "placed placed placed") {
		t.Errorf("pages after the restart: %q", got)
	}
}
