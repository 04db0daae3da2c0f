package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotline-dev/hotline/config"
)

// Sender delivers one SMS and returns the provider's message id. A failure
// that retrying cannot fix is a *SendError whose Permanent reports true;
// any other error is retried.
type Sender interface {
	Send(ctx context.Context, m Outgoing) (sid string, err error)
}

// Outgoing is one text a worker sends: its outbox row and what it says.
type Outgoing struct {
	ID       int64 // the outbox row, named in the status callback's URL
	To, Body string
}

// SendError is a send the Messages API refused, or that never got an
// answer (Status 0).
type SendError struct {
	Status     int           // HTTP status; 0 when no response came back
	RetryAfter time.Duration // from a 429 or 503's Retry-After header
	Code       int           // Twilio's error code (e.g. 21610), 0 when none came
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
	// From is the sending number (E.164): hotline.sms_from, else
	// hotline.number. Unused with MessagingServiceSID.
	From string
	// MessagingServiceSID (MG…, hotline.messaging_service_sid) sends
	// through a Messaging Service, which picks the number, instead of
	// From.
	MessagingServiceSID string
	// StatusCallback is the URL Twilio posts each text's status to
	// (<public URL>/twilio/text-status); the outbox row's id is added as
	// its query "sms". Empty asks for no callback.
	StatusCallback string
	// BaseURL replaces the scheme and host of https://api.twilio.com,
	// keeping the path (HOTLINE_TWILIO_API_URL), e.g. an httptest server
	// in tests; see APIURL for what it may be. Empty: Twilio.
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
	case cfg.MessagingServiceSID != "" && !config.IsMessagingServiceSID(cfg.MessagingServiceSID):
		return nil, fmt.Errorf("notify: messaging service SID %q is not MG and 32 hex digits", cfg.MessagingServiceSID)
	case cfg.MessagingServiceSID == "" && !config.IsE164(cfg.From):
		return nil, fmt.Errorf("notify: sending number %q is not E.164", mask(cfg.From))
	}
	if cfg.StatusCallback != "" {
		if u, err := url.Parse(cfg.StatusCallback); err != nil || u.Host == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("notify: status callback %q is not an absolute URL without a query", cfg.StatusCallback)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	base, err := APIURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return &Twilio{cfg: cfg, base: base}, nil
}

// APIURL checks a replacement for Twilio's REST origin
// (HOTLINE_TWILIO_API_URL): a scheme and host only, https, or http for a
// loopback host (127.0.0.0/8, ::1, localhost) so the account's credentials
// never cross a network in the clear. Empty gives nil: Twilio itself.
func APIURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("Twilio API URL %q is not a URL such as https://api.example.com", raw)
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("Twilio API URL %q is not https", raw)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return nil, fmt.Errorf("Twilio API URL %q is http to a host that is not loopback: the account's credentials would cross the network in the clear (use https)", raw)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return nil, fmt.Errorf("Twilio API URL %q: give only the scheme and host (and port); the path of each request is kept", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Send posts one message: To, Body, From or MessagingServiceSid, and the
// StatusCallback naming m's row, so the callback finds the row even when it
// arrives before the worker has recorded the SID of Twilio's answer (the
// two race; docs/twilio.md §8.1 says the same of calls).
func (t *Twilio) Send(ctx context.Context, m Outgoing) (string, error) {
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
	params := (&openapi.CreateMessageParams{}).SetTo(m.To).SetBody(m.Body)
	if t.cfg.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(t.cfg.MessagingServiceSID)
	} else {
		params.SetFrom(t.cfg.From)
	}
	if t.cfg.StatusCallback != "" {
		params.SetStatusCallback(t.cfg.StatusCallback + "?sms=" + strconv.FormatInt(m.ID, 10))
	}
	msg, err := rc.Api.CreateMessage(params)
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
	se := &SendError{Status: tr.status, RetryAfter: tr.retryAfter, Err: err}
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		se.Code = te.Code
	}
	return "", se
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
