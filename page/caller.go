package page

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotline-dev/hotline/notify"
)

// TwilioConfig says how to reach Twilio's Calls API.
type TwilioConfig struct {
	AccountSID string // TWILIO_ACCOUNT_SID
	AuthToken  string // TWILIO_AUTH_TOKEN; never logged
	// BaseURL replaces the scheme and host of Twilio's API, keeping the
	// path (HOTLINE_TWILIO_API_URL); notify.APIURL says what it may be.
	// Empty: Twilio.
	BaseURL string
	// CallsPerSecond is hotline.outbound_calls_per_second (default 1).
	CallsPerSecond float64
	Timeout        time.Duration     // one request; default 15s
	Transport      http.RoundTripper // default http.DefaultTransport
}

// TwilioCaller starts calls through Twilio's REST API (POST
// /2010-04-01/Accounts/{AccountSid}/Calls.json) with twilio-go, no faster
// than its rate: every call of the process goes through one TwilioCaller,
// and a call over the rate waits its turn.
type TwilioCaller struct {
	rest  *twilio.RestClient
	limit *limiter
}

// alnum is what twilio-go accepts as an account SID or auth token.
var alnum = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// NewTwilioCaller checks cfg and returns a caller.
func NewTwilioCaller(cfg TwilioConfig) (*TwilioCaller, error) {
	if !alnum.MatchString(cfg.AccountSID) || !alnum.MatchString(cfg.AuthToken) {
		return nil, errors.New("page: TWILIO_ACCOUNT_SID or the auth token is missing or malformed")
	}
	base, err := notify.APIURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	c := &client.Client{
		Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken),
		HTTPClient: &http.Client{
			Transport: origin{base: base, next: cfg.Transport},
			Timeout:   cfg.Timeout,
			// A redirect is an answer, not something to follow with the
			// credentials attached (as twilio-go's own client).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(cfg.AccountSID)
	t := &TwilioCaller{rest: twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}), limit: &limiter{}}
	t.SetCallsPerSecond(cfg.CallsPerSecond)
	return t, nil
}

// SetCallsPerSecond changes the rate, for a reloaded config; 0 or less
// means 1.
func (t *TwilioCaller) SetCallsPerSecond(cps float64) {
	if cps <= 0 {
		cps = 1
	}
	t.limit.setInterval(time.Duration(float64(time.Second) / cps))
}

// RingTimeout is how long a page call rings before Twilio gives up on it
// (the Calls API's Timeout): less than the 20–30 s after which a mobile
// carrier hands an unanswered call to the engineer's own voicemail, so the
// page message is not left in that mailbox (docs/twilio.md §8.10). A page
// nobody answers is not an acknowledgement: the chain goes on.
const RingTimeout = 18 * time.Second

// Call starts a call to `to` from `from` whose TwiML is fetched from url
// and whose final status goes to statusCallback, both by POST, once the
// rate lets it; it rings for RingTimeout at most.
func (t *TwilioCaller) Call(ctx context.Context, to, from, url, statusCallback string) (string, error) {
	if err := t.limit.wait(ctx); err != nil {
		return "", fmt.Errorf("page: call: %w", err)
	}
	params := (&openapi.CreateCallParams{}).SetTo(to).SetFrom(from).SetUrl(url).SetMethod(http.MethodPost).
		SetStatusCallback(statusCallback).SetStatusCallbackMethod(http.MethodPost).
		SetTimeout(int(RingTimeout / time.Second))
	// twilio-go's CreateCall takes no context; a done ctx still stops the
	// wait above, and the client's timeout bounds the request.
	call, err := t.rest.Api.CreateCall(params)
	if err != nil {
		return "", fmt.Errorf("page: call: %w", err)
	}
	if call.Sid == nil {
		return "", errors.New("page: call: Twilio's answer has no sid")
	}
	return *call.Sid, nil
}

// origin sends every request to base's scheme and host when base is set,
// keeping the path (HOTLINE_TWILIO_API_URL, for a local fake of Twilio).
type origin struct {
	base *url.URL
	next http.RoundTripper
}

// RoundTrip rewrites req's origin and sends it.
func (o origin) RoundTrip(req *http.Request) (*http.Response, error) {
	if o.base != nil {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host, req.Host = o.base.Scheme, o.base.Host, ""
	}
	return o.next.RoundTrip(req)
}

// limiter lets one call start per interval: each caller takes the next
// free slot and sleeps until it, so calls over the rate queue in order.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time // the next free slot
}

func (l *limiter) setInterval(d time.Duration) {
	l.mu.Lock()
	l.interval = d
	l.mu.Unlock()
}

// wait blocks until the caller's slot, or ctx's end (the slot is then
// lost, which only slows the calls after it).
func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	d := time.Until(slot)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
