package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/notify"
)

// twilioCheckSynopsis is the usage of twilio check.
const twilioCheckSynopsis = "twilio check [--config F] [--public-url U] [--twilio-api-url U]"

// twilioCheckTimeout bounds serve's check at start, all requests together:
// past it the findings so far are logged and serving goes on regardless.
const twilioCheckTimeout = time.Minute

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
	rest, sid, err := twilioFromFlags(ctx, e, fs, *apiURL)
	if err != nil {
		return err
	}
	cfg, err := config.LoadConfig(c.config)
	if err != nil {
		return err
	}
	found := twilioFindings(rest, sid, cfg, *public)
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

// checkTwilioAtStart runs twilio check's findings in the background when
// serve has the account's credentials, logging each at the level it
// deserves. It neither delays nor stops serving: a line that cannot dial
// out still answers calls, and the log says what to fix. cfg is the config
// at start (a reload does not run it again).
func checkTwilioAtStart(ctx context.Context, e env, o serveOptions, cfg *config.Config, log zerolog.Logger) {
	if o.accountSID == "" {
		return // no account: no texts, no REST API to ask
	}
	sid, token, err := twilioCredentials(e)
	if err != nil {
		log.Warn().Err(err).Msg("twilio check not run")
		return
	}
	// serve has already refused a bad --twilio-api-url.
	origin, err := notify.APIURL(o.twilioAPI)
	if err != nil {
		return
	}
	go func() {
		check, cancel := context.WithTimeout(ctx, twilioCheckTimeout)
		defer cancel()
		found := twilioFindings(newTwilioClient(check, e, sid, token, origin), sid, cfg, o.publicURL)
		if ctx.Err() != nil {
			return // serve is stopping: the requests were cut short, not refused
		}
		count := map[string]int{}
		for _, f := range found {
			level := zerolog.InfoLevel
			switch f.level {
			case levelWarn:
				level = zerolog.WarnLevel
			case levelFail:
				level = zerolog.ErrorLevel
			}
			ev := log.WithLevel(level).Str("check", f.check)
			if f.fix != "" {
				ev = ev.Str("fix", f.fix)
			}
			ev.Msg(f.what)
			count[f.level]++
		}
		log.Info().Int("ok", count[levelOK]).Int("warn", count[levelWarn]).Int("fail", count[levelFail]).
			Msg("twilio check done ('hotline twilio check' runs it again)")
	}()
}
