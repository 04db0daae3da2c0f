package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchJSON runs a short bench through run and checks the shape of its
// JSON (README "Commands"): one run per level with non-zero rates, no failed webhook, the
// sampled incidents read back answered, and the database's size at the start.
func TestBenchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("drives load for a few seconds")
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"bench", "--duration", "1s", "--connections", "2", "--seed", "25", "--json"},
		func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, errb.String(), out.String())
	}
	// The README's fields, decoded strictly by name.
	var spec struct {
		Runs []struct {
			Connections  *int     `json:"connections"`
			WebhooksPerS *float64 `json:"webhooks_per_s"`
			CeilingPerS  *float64 `json:"ceiling_per_s"`
			Ratio        *float64 `json:"ratio"`
			P50MS        *float64 `json:"p50_ms"`
			P99MS        *float64 `json:"p99_ms"`
			CallsPerS    *float64 `json:"calls_per_s"`
		} `json:"runs"`
		PeakRSSMB *float64 `json:"peak_rss_mb"`
	}
	if err := json.Unmarshal(out.Bytes(), &spec); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if len(spec.Runs) != 1 {
		t.Fatalf("%d runs, want 1:\n%s", len(spec.Runs), out.String())
	}
	r := spec.Runs[0]
	for name, v := range map[string]*float64{"webhooks_per_s": r.WebhooksPerS, "ceiling_per_s": r.CeilingPerS,
		"ratio": r.Ratio, "p50_ms": r.P50MS, "p99_ms": r.P99MS, "calls_per_s": r.CallsPerS, "peak_rss_mb": spec.PeakRSSMB} {
		if v == nil || *v <= 0 {
			t.Errorf("%s missing or not positive:\n%s", name, out.String())
		}
	}
	if r.Connections == nil || *r.Connections != 2 {
		t.Errorf("connections %v, want 2", r.Connections)
	}
	if *r.P99MS < *r.P50MS {
		t.Errorf("p99 %v below p50 %v", *r.P99MS, *r.P50MS)
	}

	var full benchReport
	if err := json.Unmarshal(out.Bytes(), &full); err != nil {
		t.Fatal(err)
	}
	if full.Incidents != 25 {
		t.Errorf("incidents_at_start %d, want the 25 seeded", full.Incidents)
	}
	run := full.Runs[0]
	if run.Errors != 0 || run.CeilingErrors != 0 || run.Unverified != 0 || run.Verified == 0 {
		t.Errorf("errors %d, ceiling errors %d, incidents verified %d, unverified %d (%s)",
			run.Errors, run.CeilingErrors, run.Verified, run.Unverified, run.FirstError)
	}
	want := []string{"/twilio/voice", "/twilio/menu", "/twilio/whisper", "/twilio/whisper/answer", "/twilio/dial", "/twilio/status"}
	if strings.Join(full.Steps, " ") != strings.Join(want, " ") || len(run.StepStats) != len(want) {
		t.Errorf("steps %v (%d with latencies), want %v", full.Steps, len(run.StepStats), want)
	}
	for _, s := range run.StepStats {
		if s.Count == 0 || s.P50MS <= 0 || s.MaxMS < s.P99MS {
			t.Errorf("step %+v", s)
		}
	}
	if run.Calls == 0 || run.Webhooks < run.Calls*len(want) || run.Allocs <= 0 || run.CeilingAllocs <= 0 {
		t.Errorf("calls %d, webhooks %d, allocs %v / ceiling %v", run.Calls, run.Webhooks, run.Allocs, run.CeilingAllocs)
	}
}

// TestBenchInProgress holds a few paced calls in progress at once.
func TestBenchInProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("drives load for a second")
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"bench", "--duration", "1s", "--calls-in-progress", "20", "--pause", "20ms"},
		func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, errb.String(), out.String())
	}
	for _, want := range []string{"0 incidents in the database at the start", "20 calls in progress", " 0 errors", "peak RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBenchFlags checks that the bounds are usage errors.
func TestBenchFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--duration", "10m"}, {"--connections", "0"}, {"--connections", "4,x"}, {"--connections", "5000"},
		{"--calls-in-progress", "-1"}, {"--seed", "-3"}, {"--pause", "1h"}, {"stray"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"bench"}, args...), func(string) string { return "" }, strings.NewReader(""), &out, &errb)
		if exitCode(err) != 2 {
			t.Errorf("bench %v: %v, want a usage error", args, err)
		}
	}
}
