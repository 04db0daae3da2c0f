// Command hotline is a 24x7 support phone line: it answers Twilio's
// webhooks, rings whoever is on call, and keeps a log managers can review.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hotline-dev/hotline/problem"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hotline:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `usage: hotline <command> [flags]

commands:
  serve      run the webhook server and the web page
  demo       the quick start: example config, simulated calls, the web page
  call       place a simulated call against a running server, as Twilio would
  check      validate the config and list coverage gaps
  diff       what changes for callers and engineers between two configs (diff OLD NEW)
  oncall     print who is on call for each team
  override   add, list or remove run-time overrides (add|list|rm)
  user       web accounts: add NAME --role manager|admin --password-stdin [--update], rm, disable, enable NAME
  announce   post an announcement callers hear (announce add --message S --until T), list, rm ID
  ack        take an open incident (ack ID), as cli:$USER
  resolve    close an incident (resolve ID), as cli:$USER
  integration a machine that raises alerts (integration add --team T --name N), list, rm ID
  bench      the call-storm benchmark: webhooks/s, latency and memory against a bare ceiling
  seed       fill the call log with N realistic calls (seed --incidents N), for demos and benchmarks
  twilio     point a Twilio number at hotline (twilio configure --number N --public-url U [--dry-run]),
             or check the account is ready: number, webhooks, dialing permissions, texts (twilio check)
  version    print the version, VCS revision and commit time of this build (also --version)
  healthcheck probe a running hotline's /healthz, for container health checks (exit 0 when healthy)

Run 'hotline <command> -h' for a command's flags.
`

// env carries the process's surroundings into commands, so tests can run
// them in-process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageErr("no command given")
	}
	err := dispatch(ctx, e, args[0], args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	// A refusal is said as its store wrote it for a person, after the
	// command, without the packages' error chain.
	for _, code := range []problem.Code{problem.Invalid, problem.NotFound} {
		if msg, ok := problem.Of(err, code); ok {
			return fmt.Errorf("%s: %s", args[0], msg)
		}
	}
	return err
}

func dispatch(ctx context.Context, e env, cmd string, rest []string) error {
	switch cmd {
	case "serve":
		return cmdServe(ctx, e, rest)
	case "demo":
		return cmdDemo(ctx, e, rest)
	case "call":
		return cmdCall(ctx, e, rest)
	case "check":
		return cmdCheck(ctx, e, rest)
	case "diff":
		return cmdDiff(ctx, e, rest)
	case "oncall":
		return cmdOncall(ctx, e, rest)
	case "override":
		return cmdOverride(ctx, e, rest)
	case "user":
		return cmdUser(ctx, e, rest)
	case "announce":
		return cmdAnnounce(ctx, e, rest)
	case "ack", "resolve":
		return cmdLifecycle(ctx, e, cmd, rest)
	case "integration":
		return cmdIntegration(ctx, e, rest)
	case "seed":
		return cmdSeed(ctx, e, rest)
	case "bench":
		return cmdBench(ctx, e, rest)
	case "twilio":
		return cmdTwilio(ctx, e, rest)
	case "healthcheck":
		return cmdHealthcheck(ctx, e, rest)
	case "version", "--version":
		return cmdVersion(e, rest)
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return nil
	default:
		fmt.Fprint(e.stderr, usage)
		return usageErr("unknown command %q", cmd)
	}
}

// usageError is a misuse of the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErr(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// exitCode maps an error to the documented exit codes: 2 for usage, 1 for a
// failure the user can fix.
func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}
