package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotline-dev/hotline/routing"
)

// Sender delivers one SMS and returns the provider's message id. A failure
// that retrying cannot fix is a *SendError whose Permanent reports true;
// any other error is retried.
type Sender interface {
	Send(ctx context.Context, to, body string) (sid string, err error)
}

// SendError is a send the Messages API refused, or that never got an
// answer (Status 0).
type SendError struct {
	Status     int           // HTTP status; 0 when no response came back
	RetryAfter time.Duration // from a 429 or 503's Retry-After header
	Err        error
}

// Error says what failed, with the status when there was one.
func (e *SendError) Error() string {
	if e.Status == 0 {
		return "notify: send: " + e.Err.Error()
	}
	return fmt.Sprintf("notify: send: HTTP %d: %v", e.Status, e.Err)
}

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// Permanent reports whether retrying is pointless: a 4xx other than 408 and
// 429 (a bad number, a bad sender, bad credentials).
func (e *SendError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests &&
		e.Status != http.StatusRequestTimeout
}

// TwilioConfig says how to reach the Messages API.
type TwilioConfig struct {
	AccountSID string // TWILIO_ACCOUNT_SID
	AuthToken  string // TWILIO_AUTH_TOKEN; never logged
	From       string // the sending number (E.164), usually hotline.number
	// BaseURL replaces https://api.twilio.com, e.g. an httptest server in
	// tests. Empty: Twilio.
	BaseURL string
	// Timeout bounds one request. Default 15s; keep it under the
	// outbox's lease.
	Timeout time.Duration
	// Transport carries the requests. Default http.DefaultTransport.
	Transport http.RoundTripper
}

// Twilio sends SMS through the Twilio Messages API with twilio-go.
type Twilio struct {
	cfg  TwilioConfig
	base *url.URL // nil: Twilio itself
}

// NewTwilio checks cfg and returns a sender. twilio-go refuses credentials
// that are not alphanumeric, so they are checked here, at start-up, rather
// than on the first message.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	switch {
	case !alnum.MatchString(cfg.AccountSID):
		return nil, fmt.Errorf("notify: TWILIO_ACCOUNT_SID is missing or malformed")
	case !alnum.MatchString(cfg.AuthToken):
		return nil, fmt.Errorf("notify: the Twilio auth token is missing or malformed")
	case !routing.IsE164(cfg.From):
		return nil, fmt.Errorf("notify: sending number %q is not E.164", mask(cfg.From))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	t := &Twilio{cfg: cfg}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("notify: Twilio base URL %q: not an absolute URL", cfg.BaseURL)
		}
		t.base = u
	}
	return t, nil
}

// Send posts one message: To, From and Body.
func (t *Twilio) Send(ctx context.Context, to, body string) (string, error) {
	// A client per message: twilio-go's CreateMessage takes no context, so
	// the transport carries this send's context and notes the status.
	tr := &attempt{ctx: ctx, base: t.base, next: t.cfg.Transport}
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Username: t.cfg.AccountSID, Password: t.cfg.AuthToken})
	c, ok := rc.RequestHandler.Client.(*client.Client)
	if !ok {
		return "", fmt.Errorf("notify: twilio-go client of type %T", rc.RequestHandler.Client)
	}
	c.HTTPClient = &http.Client{
		Transport:     tr,
		Timeout:       t.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	msg, err := rc.Api.CreateMessage(&openapi.CreateMessageParams{To: &to, From: &t.cfg.From, Body: &body})
	if tr.status >= 200 && tr.status < 300 {
		// Accepted, even if the answer did not decode: sending again
		// would text the engineer twice.
		if err == nil && msg.Sid != nil {
			return *msg.Sid, nil
		}
		return "", nil
	}
	if err == nil {
		err = fmt.Errorf("unexpected HTTP status %d", tr.status)
	}
	return "", &SendError{Status: tr.status, RetryAfter: tr.retryAfter, Err: err}
}

// attempt is the transport of one send: it points the request at the base
// URL, ties it to the send's context and notes the answer's status.
type attempt struct {
	ctx        context.Context
	base       *url.URL
	next       http.RoundTripper
	status     int
	retryAfter time.Duration
}

// RoundTrip sends req to the base URL under the send's context.
func (a *attempt) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(a.ctx)
	if a.base != nil {
		req.URL.Scheme, req.URL.Host = a.base.Scheme, a.base.Host
		req.URL.Path = strings.TrimSuffix(a.base.Path, "/") + req.URL.Path
		req.Host = ""
	}
	res, err := a.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	a.status = res.StatusCode
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		a.retryAfter = time.Duration(s) * time.Second
	}
	return res, nil
}

// mask shortens a phone number for logs: "+1555…0101".
func mask(n string) string {
	if len(n) <= 8 {
		return strings.Repeat("*", len(n))
	}
	return n[:5] + "…" + n[len(n)-4:]
}

// alnum is what twilio-go accepts as an account SID or auth token.
var alnum = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// digitRun finds phone-number-like runs in error texts.
var digitRun = regexp.MustCompile(`\+?\d{7,15}`)

// redact masks phone numbers inside an error text (Twilio's errors quote
// the To number).
func redact(s string) string {
	return digitRun.ReplaceAllStringFunc(s, mask)
}
