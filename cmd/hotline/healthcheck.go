package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheckTimeout bounds the whole probe: a container runtime counts a
// probe that hangs as a failure anyway, and a hung one would pile up.
const healthcheckTimeout = 2 * time.Second

// cmdHealthcheck probes a running hotline, for images without curl
// (Docker's HEALTHCHECK): GET the URL, exit 0 on 200 and 1 otherwise.
func cmdHealthcheck(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "healthcheck", "healthcheck [--url U]")
	target := fs.String("url", defaultHealthURL(envOr(e, "HOTLINE_ADDR", defaultAddr)), "the URL to probe; the default is /healthz on 127.0.0.1 at the port of HOTLINE_ADDR")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return badFlag(fs, "--url: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *target, resp.Status)
	}
	fmt.Fprintf(e.stdout, "ok: %s answered %s\n", *target, resp.Status)
	return nil
}

// defaultHealthURL is /healthz on the loopback address of the port hotline
// listens on: inside a container the probe runs beside the server, and a
// wildcard listen address (":8080", "0.0.0.0:8080", "[::]:8080") is reached
// on 127.0.0.1.
func defaultHealthURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "", "8080"
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}
