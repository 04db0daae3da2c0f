package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// newFlags returns a flag set that reports errors instead of exiting, and
// prints its usage to e.stderr.
func newFlags(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: hotline %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args allowing flags before and after positional
// arguments, and returns the positionals in order.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErr("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// envOr returns the environment variable's value, or def when unset.
func envOr(e env, name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// badFlag prints the command's usage and returns a usage error.
func badFlag(fs *flag.FlagSet, format string, a ...any) error {
	fs.Usage()
	return usageErr("%s: %s", fs.Name(), fmt.Sprintf(format, a...))
}

// noPositional refuses stray arguments.
func noPositional(fs *flag.FlagSet, pos []string) error {
	if len(pos) > 0 {
		fs.Usage()
		return usageErr("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	return nil
}

// onePositional is the one positional argument a subcommand takes, what
// it is (e.g. "user NAME"); anything else is a usage error.
func onePositional(fs *flag.FlagSet, pos []string, what string) (string, error) {
	if len(pos) != 1 {
		fs.Usage()
		return "", usageErr("%s: give exactly one %s", fs.Name(), what)
	}
	return pos[0], nil
}

// oneID is the one positional argument of a subcommand that takes the ID
// of what (e.g. "incident"), a positive integer.
func oneID(fs *flag.FlagSet, pos []string, what string) (int64, error) {
	arg, err := onePositional(fs, pos, what+" ID")
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id < 1 {
		return 0, badFlag(fs, "%q is not an %s ID", arg, what)
	}
	return id, nil
}
