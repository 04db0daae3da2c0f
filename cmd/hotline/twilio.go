package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/notify"
)

// twilioTimeout bounds each request to Twilio's REST API.
const twilioTimeout = 30 * time.Second

var accountSIDRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)

// twilioAPIEnv and twilioAPIUsage are the setting that sends every Twilio
// REST request hotline makes to another origin, for local fakes and tests.
const (
	twilioAPIEnv   = "HOTLINE_TWILIO_API_URL"
	twilioAPIUsage = "send every Twilio REST request to this scheme and host instead, keeping the path, e.g. a local fake at http://127.0.0.1:8081; http only to a loopback host (env " + twilioAPIEnv + ")"
)

// twilioSynopsis is the usage of the twilio commands.
const twilioSynopsis = "twilio configure --number +1… --public-url https://… [--dry-run] [--allow-http] [--twilio-api-url U]\n       hotline " + twilioCheckSynopsis

// cmdTwilio runs the Twilio account commands against https://api.twilio.com
// (or the edge and region named by TWILIO_EDGE and TWILIO_REGION), or the
// origin --twilio-api-url names.
func cmdTwilio(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: hotline %s\n", twilioSynopsis)
		return usageErr("twilio: no subcommand given (configure, check)")
	}
	switch args[0] {
	case "configure":
		return twilioConfigure(ctx, e, args[1:])
	case "check":
		return twilioCheck(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "usage: hotline %s\n", twilioSynopsis)
		return nil
	default:
		fmt.Fprintf(e.stderr, "usage: hotline %s\n", twilioSynopsis)
		return usageErr("twilio: unknown subcommand %q (configure, check)", args[0])
	}
}

// setting is one voice setting of a phone number, by its name in Twilio's
// REST API.
type setting struct {
	name, value string
}

// wantedSettings are the settings that send a number's calls to hotline at
// base (a public URL without a trailing slash), in the order printed.
func wantedSettings(base string) []setting {
	return []setting{
		{"VoiceUrl", base + "/twilio/voice"},
		{"VoiceMethod", http.MethodPost},
		{"StatusCallback", base + "/twilio/status"},
		{"StatusCallbackMethod", http.MethodPost},
		{"VoiceFallbackUrl", base + "/twilio/fallback"},
		{"VoiceFallbackMethod", http.MethodPost},
		// Texts back to the number (STOP, an engineer's "1" to a page).
		{"SmsUrl", base + "/twilio/sms"},
		{"SmsMethod", http.MethodPost},
	}
}

// currentSettings are the same settings as the number has them now.
func currentSettings(n *openapi.ApiV2010IncomingPhoneNumber) []setting {
	return []setting{
		{"VoiceUrl", deref(n.VoiceUrl)},
		{"VoiceMethod", deref(n.VoiceMethod)},
		{"StatusCallback", deref(n.StatusCallback)},
		{"StatusCallbackMethod", deref(n.StatusCallbackMethod)},
		{"VoiceFallbackUrl", deref(n.VoiceFallbackUrl)},
		{"VoiceFallbackMethod", deref(n.VoiceFallbackMethod)},
		{"SmsUrl", deref(n.SmsUrl)},
		{"SmsMethod", deref(n.SmsMethod)},
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// twilioConfigure points a phone number's Voice URL, Status Callback URL
// and Voice Fallback URL at hotline, printing each setting's old and new
// value. Nothing is sent when nothing differs, or with --dry-run.
func twilioConfigure(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "twilio configure", "twilio configure --number +1… --public-url https://… [--dry-run] [--allow-http] [--twilio-api-url U]")
	apiURL := fs.String("twilio-api-url", e.getenv(twilioAPIEnv), twilioAPIUsage)
	number := fs.String("number", "", "the Twilio phone number to configure, E.164 (e.g. +18005550100)")
	public := fs.String("public-url", e.getenv("HOTLINE_PUBLIC_URL"), "the URL Twilio reaches hotline at, exactly as hotline serve is given it (env HOTLINE_PUBLIC_URL)")
	dryRun := fs.Bool("dry-run", false, "print what would change without changing it")
	allowHTTP := fs.Bool("allow-http", false, "accept an http:// public URL (Twilio would send webhooks, signed with your auth token, unencrypted)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	switch {
	case *number == "":
		return badFlag(fs, "--number is required")
	case !config.IsE164(*number):
		return badFlag(fs, "--number %q is not E.164: write it as + and the country code and number, digits only, e.g. +18005550100", *number)
	case *public == "":
		return badFlag(fs, "--public-url (or HOTLINE_PUBLIC_URL) is required")
	}
	base, err := checkPublicURL(*public, *allowHTTP)
	if err != nil {
		return badFlag(fs, "--public-url: %v", err)
	}
	rest, sid, err := twilioFromFlags(ctx, e, fs, *apiURL)
	if err != nil {
		return err
	}
	api := rest.Api

	n, err := findNumber(api, sid, *number)
	if errors.Is(err, errNotAccountNumber) {
		return fmt.Errorf("twilio configure: %w: check --number against the console's Phone Numbers > Active numbers, and that TWILIO_ACCOUNT_SID is the account (or subaccount) that owns it", err)
	}
	if err != nil {
		return fmt.Errorf("twilio configure: %w", err)
	}
	want := wantedSettings(base)
	changed := printChanges(e.stdout, n, want)
	// With an application or a trunk on the number Twilio ignores its voice
	// URLs: updating them would look like success and route nothing.
	if handler := numberHandler(n); handler != "" {
		return fmt.Errorf("twilio configure: calls to %s go to %s, so Twilio ignores its Voice URL: in the Twilio console, set the number's \"A call comes in\" to \"Webhook\", then run this again", *number, handler)
	}
	switch {
	case changed == 0:
		fmt.Fprintln(e.stdout, "already configured: nothing to change")
		return nil
	case *dryRun:
		fmt.Fprintf(e.stdout, "dry run: %d of %d settings would change; nothing was sent\n", changed, len(want))
		return nil
	}
	updated, err := api.UpdateIncomingPhoneNumber(deref(n.Sid), updateParams(want))
	if err != nil {
		return fmt.Errorf("twilio configure: update %s: %w%s", *number, err, authHint(err))
	}
	for i, s := range currentSettings(updated) {
		if s.value != want[i].value {
			return fmt.Errorf("twilio configure: Twilio accepted the update but %s reads %q, not %q: check the number in the Twilio console", s.name, s.value, want[i].value)
		}
	}
	fmt.Fprintf(e.stdout, "updated: %d of %d settings changed\n", changed, len(want))
	return nil
}

// checkPublicURL returns the public URL without its trailing slash, or why
// Twilio could not use it.
func checkPublicURL(raw string, allowHTTP bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	switch {
	case u.Scheme == "http" && !allowHTTP:
		return "", fmt.Errorf("%q is not https: Twilio would send every webhook, signed with your auth token, in the clear (--allow-http if you really mean it)", raw)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("%q is not an https:// URL", raw)
	case u.Host == "":
		return "", fmt.Errorf("%q has no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("%q carries credentials: hotline checks Twilio's signature instead", raw)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return "", fmt.Errorf("%q has a query or fragment: give the base URL only, as hotline serve is given it", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// twilioCredentials are the account SID and auth token from the
// environment, or why they cannot be used.
func twilioCredentials(e env) (sid, token string, err error) {
	sid, token = e.getenv("TWILIO_ACCOUNT_SID"), e.getenv("TWILIO_AUTH_TOKEN")
	switch {
	case sid == "" || token == "":
		return "", "", errors.New("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to your account's SID (AC…) and auth token, from the Twilio console's Account Info")
	case !accountSIDRe.MatchString(sid):
		return "", "", fmt.Errorf("TWILIO_ACCOUNT_SID %q is not an account SID: it is AC followed by 32 hex digits, from the Twilio console's Account Info", sid)
	}
	return sid, token, nil
}

// twilioFromFlags returns the REST client and the account SID a twilio
// subcommand runs with: its --twilio-api-url (a usage error when refused)
// and the credentials from the environment.
func twilioFromFlags(ctx context.Context, e env, fs *flag.FlagSet, apiURL string) (*twilio.RestClient, string, error) {
	origin, err := notify.APIURL(apiURL)
	if err != nil {
		return nil, "", badFlag(fs, "--twilio-api-url: %v", err)
	}
	sid, token, err := twilioCredentials(e)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", fs.Name(), err)
	}
	return newTwilioClient(ctx, e, sid, token, origin), sid, nil
}

// newTwilioClient returns twilio-go's REST client (the 2010-04-01 API,
// voice and messaging among others), giving up when ctx ends. Like
// twilio-go itself it honours TWILIO_EDGE and TWILIO_REGION, read here
// through e so tests control them; a non-nil origin (notify.APIURL)
// replaces the scheme and host of every request, whichever Twilio host
// (api., voice., messaging.) it was for.
func newTwilioClient(ctx context.Context, e env, sid, token string, origin *url.URL) *twilio.RestClient {
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient: &http.Client{
			Transport: ctxTransport{ctx: ctx, origin: origin, next: http.DefaultTransport},
			Timeout:   twilioTimeout,
			// As twilio-go's default client: a redirect is an answer, not
			// something to follow with the credentials attached.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(sid)
	rest := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
	rest.Edge, rest.Region = e.getenv("TWILIO_EDGE"), e.getenv("TWILIO_REGION")
	return rest
}

// ctxTransport ties every request to ctx (twilio-go builds its requests
// without a context, so without this Ctrl-C would wait out the timeout),
// and sends it to origin's scheme and host when origin is set.
type ctxTransport struct {
	ctx    context.Context
	origin *url.URL
	next   http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(t.ctx)
	if t.origin != nil {
		r.URL.Scheme, r.URL.Host, r.Host = t.origin.Scheme, t.origin.Host, ""
	}
	return t.next.RoundTrip(r)
}

// errNotAccountNumber is findNumber's answer for a number the account
// does not have.
var errNotAccountNumber = errors.New("not a phone number of account")

// findNumber returns the account's incoming phone number that is exactly
// number, or an error wrapping errNotAccountNumber.
func findNumber(api *openapi.ApiService, sid, number string) (*openapi.ApiV2010IncomingPhoneNumber, error) {
	found, err := api.ListIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PhoneNumber: &number})
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w%s", number, err, authHint(err))
	}
	// The PhoneNumber filter also matches partial numbers.
	for i := range found {
		if deref(found[i].PhoneNumber) == number && deref(found[i].Sid) != "" {
			return &found[i], nil
		}
	}
	return nil, fmt.Errorf("%s is %w %s", number, errNotAccountNumber, sid)
}

// printChanges prints the number and, for each setting, its old and new
// value, and returns how many differ.
func printChanges(w io.Writer, n *openapi.ApiV2010IncomingPhoneNumber, want []setting) int {
	fmt.Fprintf(w, "%s (%s)\n", deref(n.PhoneNumber), deref(n.Sid))
	changed := 0
	for i, have := range currentSettings(n) {
		if have.value == want[i].value {
			fmt.Fprintf(w, "  %-20s %s (unchanged)\n", have.name, want[i].value)
			continue
		}
		changed++
		fmt.Fprintf(w, "  %-20s %s → %s\n", have.name, orNone(have.value), want[i].value)
	}
	return changed
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// updateParams sets every wanted setting: sending the unchanged ones too
// keeps the update idempotent and the request the same each time.
func updateParams(want []setting) *openapi.UpdateIncomingPhoneNumberParams {
	p := &openapi.UpdateIncomingPhoneNumberParams{}
	for _, s := range want {
		switch s.name {
		case "VoiceUrl":
			p.SetVoiceUrl(s.value)
		case "VoiceMethod":
			p.SetVoiceMethod(s.value)
		case "StatusCallback":
			p.SetStatusCallback(s.value)
		case "StatusCallbackMethod":
			p.SetStatusCallbackMethod(s.value)
		case "VoiceFallbackUrl":
			p.SetVoiceFallbackUrl(s.value)
		case "VoiceFallbackMethod":
			p.SetVoiceFallbackMethod(s.value)
		case "SmsUrl":
			p.SetSmsUrl(s.value)
		case "SmsMethod":
			p.SetSmsMethod(s.value)
		}
	}
	return p
}

// authHint says how to fix a refused login, the likeliest failure.
func authHint(err error) string {
	var rest *client.TwilioRestError
	if errors.As(err, &rest) && (rest.Status == http.StatusUnauthorized || rest.Status == http.StatusForbidden) {
		return " (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: Twilio refused them)"
	}
	return ""
}
