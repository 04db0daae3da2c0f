package main

import (
	"context"
	"fmt"

	"github.com/hotline-dev/hotline/notify"
	"github.com/hotline-dev/hotline/routing"
)

// twilioCheckSynopsis is the usage of twilio check.
const twilioCheckSynopsis = "twilio check [--config F] [--public-url U] [--twilio-api-url U]"

// twilioCheck is the preflight: one line per finding, and exit 1 when any
// fails. It changes nothing on the account.
func twilioCheck(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "twilio check", twilioCheckSynopsis)
	var c common
	c.register(fs, e, false)
	public := fs.String("public-url", e.getenv("HOTLINE_PUBLIC_URL"), "the URL Twilio reaches hotline at, exactly as hotline serve is given it; without it the number's webhook URLs are not checked (env HOTLINE_PUBLIC_URL)")
	apiURL := fs.String("twilio-api-url", e.getenv(twilioAPIEnv), twilioAPIUsage)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	if *public != "" {
		// http is a warning here, not a refusal: the check reports what
		// serve would run with.
		if _, err := checkPublicURL(*public, true); err != nil {
			return badFlag(fs, "--public-url: %v", err)
		}
	}
	origin, err := notify.APIURL(*apiURL)
	if err != nil {
		return badFlag(fs, "--twilio-api-url: %v", err)
	}
	sid, token, err := twilioCredentials(e)
	if err != nil {
		return fmt.Errorf("twilio check: %w", err)
	}
	cfg, err := routing.LoadConfig(c.config)
	if err != nil {
		return err
	}
	found := twilioFindings(newTwilioClient(ctx, e, sid, token, origin), sid, cfg, *public)
	count := map[string]int{}
	for _, f := range found {
		fmt.Fprintln(e.stdout, f)
		count[f.level]++
	}
	fmt.Fprintf(e.stdout, "%d ok, %d warn, %d fail\n", count[levelOK], count[levelWarn], count[levelFail])
	if n := count[levelFail]; n > 0 {
		return fmt.Errorf("twilio check: %d of %d findings failed", n, len(found))
	}
	return nil
}
