package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/examples"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/web"
)

func cmdDemo(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "demo", "demo [--addr H:P] [--dir D] [--exit]")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (a free port is picked if it is taken)")
	dir := fs.String("dir", "", "directory for the demo's config, database and log (default a new temporary directory)")
	exit := fs.Bool("exit", false, "exit after the simulated calls instead of serving until Ctrl-C")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	// A folder of the demo's own goes when it ends (after the server and
	// the log are closed: deferred first, it runs last); one given with
	// --dir is kept.
	kept := *dir != ""
	if !kept {
		if *dir, err = os.MkdirTemp("", "hotline-demo-"); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer func() {
			if err := os.RemoveAll(*dir); err != nil {
				fmt.Fprintf(e.stderr, "demo: remove %s: %v\n", *dir, err)
			}
		}()
	}
	cfgPath := filepath.Join(*dir, "hotline.yaml")
	if err := os.WriteFile(cfgPath, examples.Config, 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	logFile, err := os.Create(filepath.Join(*dir, "hotline.log"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer logFile.Close()
	if ln, err := net.Listen("tcp", *addr); err == nil {
		ln.Close()
	} else {
		*addr = "127.0.0.1:0"
	}
	pages := newDemoPager()
	opts := serveOptions{common: common{config: cfgPath, db: filepath.Join(*dir, "hotline.db")}, addr: *addr, authToken: randomHex(16),
		pageCaller: pages}
	s, err := startServer(ctx, opts, newLogger(logFile))
	if err != nil {
		return err
	}
	password := randomHex(8)
	if err := s.users.AddUser(ctx, "demo", web.RoleManager, password, "demo"); err != nil {
		s.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx) }()

	fmt.Fprintf(e.stdout, "hotline demo: config %s, database %s, log %s\n", cfgPath, opts.db, logFile.Name())
	if kept {
		fmt.Fprintf(e.stdout, "(kept in %s after the demo)\n\n", *dir)
	} else {
		fmt.Fprintf(e.stdout, "(a temporary folder, removed when the demo ends; --dir D keeps them)\n\n")
	}
	if err := demoCalls(ctx, e, s, pages); err != nil {
		fmt.Fprintf(e.stderr, "demo: %v\n", err)
	}
	base := "http://" + s.addr
	fmt.Fprintf(e.stdout, "\nThe web page:   %s/   (sign in as demo / %s)\n", base, password)
	fmt.Fprintf(e.stdout, "Live calls:     %s/live   (or curl -u demo:%s %s/api/v1/live)\n", base, password, base)
	fmt.Fprintf(e.stdout, "The call log:   curl -u demo:%s %s/api/v1/incidents\n", password, base)
	fmt.Fprintf(e.stdout, "On call now:    curl -u demo:%s %s/api/v1/oncall\n", password, base)
	fmt.Fprintf(e.stdout, "Another call:   TWILIO_AUTH_TOKEN=%s go run ./cmd/hotline call --url %s --config %s --press 1 --engineer <id>=accept\n", opts.authToken, base, cfgPath)
	if *exit {
		s.http.Close()
		<-served
		return nil
	}
	fmt.Fprintln(e.stdout, "\nServing until Ctrl-C.")
	return <-served
}

// demoCalls places the three calls of the quick start against s: answered
// at once, escalated past a voicemail pickup, and a voicemail.
func demoCalls(ctx context.Context, e env, s *server, pages *demoPager) error {
	cfg := s.router.Config()
	calls := demoScripts(cfg, func(team string) []routing.Step {
		steps, _ := s.router.Chain(ctx, team, time.Now())
		return steps
	})
	// The demo's number has caller-name lookup on: its callers are named.
	tw := &sim.Twilio{BaseURL: "http://" + s.addr, PublicURL: s.publicURL, AuthToken: s.authToken, CallerNameLookup: true}
	pages.mu.Lock()
	pages.tw = tw
	pages.mu.Unlock()
	for _, c := range calls {
		c.script.To = cfg.Hotline.Number
		res, err := tw.Call(ctx, c.script)
		fmt.Fprintf(e.stdout, "%s\n%s\n", c.title, strings.Repeat("-", len(c.title)))
		if res != nil {
			fmt.Fprint(e.stdout, res.Transcript())
			s.settle(ctx, 5*time.Second)
			if in, ierr := s.incidents.IncidentByCallSid(ctx, res.CallSid); ierr == nil {
				fmt.Fprintf(e.stdout, "=> incident %d: %s\n\n", in.ID, in.Status)
				if in.Status == incident.StatusVoicemail {
					pages.tellPage(ctx, e, s, in.ID)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// demoCall is one call of the quick start.
type demoCall struct {
	title  string
	script sim.Script
}

// demoScripts returns the quick start's three calls, given chain, each
// team's escalation chain at the moment of the calls.
func demoScripts(cfg *config.Config, chain func(team string) []routing.Step) []demoCall {
	first, second := cfg.Menu.Options[0], cfg.Menu.Options[len(cfg.Menu.Options)-1]
	firstChain, secondChain := chain(first.Team), chain(second.Team)
	return []demoCall{
		{"1. A production outage, answered at once by the primary", sim.Script{
			From: "+15555550123", CallerName: "Globex Corp", Presses: []string{first.Digit},
			Engineers: behave(firstChain, sim.Accept)}},
		{"2. The primary's own voicemail picks up: not bridged, the next engineer accepts", sim.Script{
			From: "+15555550124", CallerName: "Initech", Presses: []string{first.Digit},
			Engineers: behave(firstChain, sim.Voicemail, sim.Accept)}},
		{"3. Nobody answers: the caller leaves a voicemail", sim.Script{
			From: "+15555550125", CallerName: "Umbrella", Presses: []string{second.Digit},
			Engineers: behave(secondChain), Voicemail: "Hi, this is Sam from Umbrella. Our VPN is down, please call me back."}},
	}
}

// behave gives how[i] to the i-th distinct engineer of steps, in chain
// order, and NoAnswer to the rest. An engineer counts once: in the weeks
// one holds two steps (in the example config, the weekend rotation and its
// backup) the behaviours still go to different people, so each call shows
// the escalation its title promises whatever the date.
func behave(steps []routing.Step, how ...sim.Behaviour) map[string]sim.Behaviour {
	m := map[string]sim.Behaviour{}
	for _, st := range steps {
		if _, set := m[st.Phone]; set {
			continue
		}
		b := sim.NoAnswer
		if n := len(m); n < len(how) {
			b = how[n]
		}
		m[st.Phone] = b
	}
	return m
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
