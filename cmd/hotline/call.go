package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/ivr/sim"
)

// statusOrderFlag holds the values of call --status-order.
var statusOrderFlag = map[string]sim.StatusOrder{"last": sim.StatusLast, "first": sim.StatusFirst, "concurrent": sim.StatusConcurrent}

var behaviours = map[string]sim.Behaviour{
	"accept": sim.Accept, "decline": sim.Decline, "no-answer": sim.NoAnswer,
	"busy": sim.Busy, "voicemail": sim.Voicemail, "failed": sim.Failed, "hangup": sim.Hangup,
}

func cmdCall(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "call", "call --url U [--from N] [--press 1] [--engineer ID=accept|decline|no-answer|busy|voicemail]...")
	base := fs.String("url", envOr(e, "HOTLINE_PUBLIC_URL", ""), "the running hotline's URL, e.g. http://127.0.0.1:8080 (required)")
	publicURL := fs.String("public-url", "", "the URL the server signs against, when it differs from --url")
	from := fs.String("from", "+15555550123", "the caller's number")
	to := fs.String("to", "", "the support number dialled (default hotline.number from --config)")
	name := fs.String("caller-name", "", "the caller's name (CNAM)")
	verstat := fs.String("stir-verstat", "TN-Validation-Passed-A", "the caller ID's STIR/SHAKEN verification Twilio sends as StirVerstat (\"\" for none)")
	configFile := fs.String("config", envOr(e, "HOTLINE_CONFIG", defaultConfig), "config file, to turn engineer ids into phone numbers")
	message := fs.String("voicemail", "Hello, this is a test message.", "what the caller says if asked for a voicemail (\"\" for nothing)")
	hangup := fs.String("hangup", "", "the caller hangs up: menu, ring:N, record or talk (on the bridged engineer)")
	order := fs.String("status-order", "last", "when the final status callback arrives against the action Twilio requests after the caller hung up: last, first or concurrent (real Twilio guarantees none)")
	pickup := fs.Int("voicemail-pickup", 0, "seconds of ringing before an engineer's personal voicemail answers (0: 22, as mobile carriers take 20 to 30)")
	tidy := fs.Bool("tidy", false, "a tidy Twilio: no 5 s added to Dial timeouts, personal voicemails pick up after 5 s like a person, no CallToken (not with --voicemail-pickup)")
	var presses, engineers repeated
	fs.Var(&presses, "press", "the caller's key at each menu, in order (repeatable; \"\" presses nothing)")
	fs.Var(&engineers, "engineer", "ID=behaviour (or +NUMBER=behaviour): accept, decline, no-answer, busy, voicemail, failed, hangup (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	if *base == "" {
		fs.Usage()
		return usageErr("call: --url is required")
	}
	if *tidy && *pickup != 0 {
		return badFlag(fs, "--voicemail-pickup and --tidy: a tidy Twilio's voicemails pick up as a person does, after 5 s")
	}
	statusOrder, known := statusOrderFlag[*order]
	if !known {
		return badFlag(fs, "--status-order %q: want last, first or concurrent", *order)
	}
	token := e.getenv("TWILIO_AUTH_TOKEN")
	if token == "" {
		return errors.New("call: set TWILIO_AUTH_TOKEN to the server's auth token so the requests are signed")
	}
	// A config that is missing matters only for engineer ids (below); one
	// that does not parse is said as the config package says it, with the
	// file and line.
	var cfg *config.Config
	var cfgErr error
	if _, statErr := os.Stat(*configFile); statErr == nil {
		if cfg, err = config.LoadConfig(*configFile); err != nil {
			return fmt.Errorf("call: --config %s (fix it, or name another with --config): %w", *configFile, err)
		}
	} else {
		cfgErr = statErr
	}
	script := sim.Script{From: *from, To: *to, CallerName: *name, StirVerstat: *verstat, Presses: presses,
		Voicemail: *message, HangupAfter: *hangup, StatusOrder: statusOrder, VoicemailPickup: *pickup,
		Engineers: map[string]sim.Behaviour{}}
	if script.To == "" && cfg != nil {
		script.To = cfg.Hotline.Number
	}
	for _, spec := range engineers {
		id, how, ok := strings.Cut(spec, "=")
		b, known := behaviours[how]
		if !ok || !known {
			return usageErr("call: --engineer %q: want ID=accept|decline|no-answer|busy|voicemail|failed|hangup", spec)
		}
		phone := id
		if !strings.HasPrefix(id, "+") {
			if cfg == nil {
				return fmt.Errorf("call: --engineer %s: cannot read %s to find %s's number (%v); name the config with --config, or give the number instead (+1555...=%s)", spec, *configFile, id, cfgErr, how)
			}
			eng, found := cfg.Engineer(id)
			if !found {
				return fmt.Errorf("call: --engineer %s: no engineer %q in %s", spec, id, *configFile)
			}
			phone = eng.Phone
		}
		script.Engineers[phone] = b
	}
	// A caller name given is a name Twilio's caller-name lookup found.
	tw := &sim.Twilio{BaseURL: *base, PublicURL: *publicURL, AuthToken: token, CallerNameLookup: *name != "", Tidy: *tidy}
	res, err := tw.Call(ctx, script)
	if res != nil {
		fmt.Fprint(e.stdout, res.Transcript())
		fmt.Fprintf(e.stdout, "call %s ended: %s after %d s\n", res.CallSid, res.Final, res.Duration)
	}
	if err != nil && refused(res) {
		signed := *base
		if *publicURL != "" {
			signed = *publicURL
		}
		return fmt.Errorf("call: the server refused the signature (HTTP 403): TWILIO_AUTH_TOKEN must be the server's auth token, "+
			"and the requests are signed for %s, which must be the server's public URL (its --public-url or HOTLINE_PUBLIC_URL): "+
			"the signature covers the URL, so give --public-url the server's when --url differs from it: %w", signed, err)
	}
	return err
}

// refused reports whether the server answered a request of the call with
// 403, hotline's answer to a bad signature.
func refused(res *sim.Result) bool {
	if res == nil {
		return false
	}
	for _, r := range res.Requests {
		if r.Status == http.StatusForbidden {
			return true
		}
	}
	return false
}
