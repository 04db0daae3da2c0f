package sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Simulated timings, in seconds.
const (
	playSeconds    = 5   // one <Play> of an audio file
	answerSeconds  = 5   // ringing before an answering phone picks up
	pickupSeconds  = 22  // ringing before a personal voicemail picks up
	dialBuffer     = 5   // what Twilio adds to every <Dial timeout>
	busySeconds    = 2   // until a busy signal ends a leg
	voicemailLimit = 120 // a personal voicemail hangs up after this long
	defaultTalk    = 60  // a bridged conversation
)

// end is why a leg stopped executing TwiML.
type end int

const (
	endDoc    end = iota // the document ran out of verbs
	endHangup            // <Hangup/>
	endGone              // the leg's party hung up
	endReject            // <Reject/>
	endError             // an application error
)

// leg is one call leg: the inbound caller or a <Dial> child.
type leg struct {
	name       string // "caller" or the dialled number
	sid        string
	parent     *leg // nil for the caller
	from, to   string
	behaviour  Behaviour
	status     string // CallStatus sent on the next request
	answeredAt int
	seq        int // next status callback SequenceNumber
	gathers    int
	gone       bool // the party hung up
}

// hop is a TwiML request to make next on a leg.
type hop struct {
	kind   string // voice, action, redirect, whisper
	url    string // absolute, as Twilio knows it
	method string
	params url.Values
	after  func() // runs once the request was answered, before its TwiML
}

// call is the state of one simulated call.
type call struct {
	ctx       context.Context
	t         *Twilio
	s         Script
	hp        hangupPoint
	res       *Result
	start     time.Time
	clock     int
	caller    *leg
	presses   int
	dials     int
	docs      int
	maxSteps  int
	talk      int
	pickup    int      // seconds of ringing before a personal voicemail answers
	callToken string   // the incoming call's CallToken
	final     string   // set by <Reject>
	hungUp    *webhook // the action requested after the caller hung up, when StatusOrder holds it back
	hungUpCB  func()   // what follows that action (the recording's callback)
	later     []func() // callbacks Twilio delivers after the call has ended
	abort     error    // the context ended: stop without further requests
}

func newCall(ctx context.Context, t *Twilio, s Script) (*call, error) {
	if s.From == "" || s.To == "" {
		return nil, errors.New("sim: Script needs From and To")
	}
	hp, err := parseHangup(s.HangupAfter)
	if err != nil {
		return nil, err
	}
	for num, b := range s.Engineers {
		if !b.answers() && b != NoAnswer && b != Busy && b != Failed {
			return nil, fmt.Errorf("sim: engineer %s: unknown behaviour %q", num, b)
		}
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	c := &call{
		ctx: ctx, t: t, s: s, hp: hp,
		start:    now().UTC(),
		maxSteps: s.MaxSteps,
		talk:     s.Talk,
		caller: &leg{name: "caller", sid: newSid("CA"), from: s.From, to: s.To,
			status: "ringing"},
	}
	if c.maxSteps <= 0 {
		c.maxSteps = 200
	}
	if c.talk <= 0 {
		c.talk = defaultTalk
	}
	switch c.pickup = s.VoicemailPickup; {
	case t.Tidy:
		c.pickup = answerSeconds
	case c.pickup <= 0:
		c.pickup = pickupSeconds
	}
	// Twilio's CallToken is URL-encoded JSON carrying a signed token for
	// forwarding the caller ID; hotline only has to accept it.
	c.callToken = url.QueryEscape(`{"parentCallInfoToken":"` + newSid("eyJ") + `","identityHeaderTokens":[]}`)
	c.res = &Result{CallSid: c.caller.sid}
	return c, nil
}

// play runs the call from the incoming webhook to the final status callback.
func (c *call) play() {
	voice := c.t.VoicePath
	if voice == "" {
		voice = "/twilio/voice"
	}
	e := c.run(c.caller, hop{kind: "voice", url: c.t.public() + voice, method: http.MethodPost})
	if c.abort != nil {
		return
	}
	final := "completed"
	if e == endReject {
		final = c.final
	}
	c.caller.status = final
	c.res.Final = final
	c.res.Duration = c.clock
	status := c.t.StatusPath
	if status == "" {
		status = "/twilio/status"
	}
	p := c.params(c.caller)
	p.Set("CallDuration", strconv.Itoa(c.clock))
	p.Set("Duration", strconv.Itoa((c.clock+59)/60))
	c.statusFields(c.caller, p)
	st := webhook{l: c.caller, kind: "status", method: http.MethodPost, url: c.t.public() + status, params: p}
	switch {
	case c.hungUp == nil:
		c.callbacks(st)
	case c.s.StatusOrder == StatusConcurrent:
		c.callbacks(st, *c.hungUp)
	default: // StatusFirst
		c.callbacks(st)
		c.callbacks(*c.hungUp)
	}
	if c.hungUpCB != nil && c.abort == nil {
		c.hungUpCB()
	}
	for _, f := range c.later {
		if c.abort == nil {
			f()
		}
	}
}

// statusFields adds what every call-progress callback carries.
func (c *call) statusFields(l *leg, p url.Values) {
	p.Set("Timestamp", c.now().Format(time.RFC1123Z))
	p.Set("CallbackSource", "call-progress-events")
	p.Set("SequenceNumber", strconv.Itoa(l.seq))
	l.seq++
}

// now is the simulated wall clock.
func (c *call) now() time.Time {
	return c.start.Add(time.Duration(c.clock) * time.Second)
}

// params returns the standard parameters of a leg (docs/twilio.md §3.1, §3.4).
func (c *call) params(l *leg) url.Values {
	p := url.Values{}
	p.Set("AccountSid", c.t.accountSid())
	p.Set("ApiVersion", "2010-04-01")
	p.Set("CallSid", l.sid)
	p.Set("CallStatus", l.status)
	p.Set("From", l.from)
	p.Set("To", l.to)
	p.Set("Caller", l.from)
	p.Set("Called", l.to)
	for _, who := range []string{"From", "Caller", "To", "Called"} {
		num := l.from
		if who == "To" || who == "Called" {
			num = l.to
		}
		country := ""
		if strings.HasPrefix(num, "+1") {
			country = "US"
		}
		p.Set(who+"Country", country)
		for _, f := range []string{"City", "State", "Zip"} {
			p.Set(who+f, "")
		}
	}
	if l.parent == nil {
		p.Set("Direction", "inbound")
		if c.s.CallerName != "" && (c.t.CallerNameLookup || c.t.Tidy) {
			p.Set("CallerName", c.s.CallerName)
		}
		if c.s.StirVerstat != "" {
			p.Set("StirVerstat", c.s.StirVerstat)
		}
		if !c.t.Tidy {
			p.Set("CallToken", c.callToken)
		}
	} else {
		p.Set("Direction", "outbound-dial")
		p.Set("ParentCallSid", l.parent.sid)
	}
	return p
}

// webhook is one request to send.
type webhook struct {
	l                 *leg
	kind, method, url string
	params            url.Values
}

// send sends one webhook, touching nothing of the call, so two may go at
// once (StatusConcurrent).
func (c *call) send(h webhook) (Request, *http.Response, []byte, error) {
	pathq, path := h.url, h.url
	if u, err := url.Parse(h.url); err == nil {
		pathq, path = u.RequestURI(), u.Path
	}
	if c.s.BeforeRequest != nil {
		c.s.BeforeRequest(h.l.name, h.kind, path)
	}
	r := Request{At: c.clock, Leg: h.l.name, Kind: h.kind, Method: h.method, URL: h.url,
		Path: pathq, Params: h.params, Token: newToken()}
	resp, body, err := c.t.send(c.ctx, h.method, h.url, h.params, r.Token)
	if resp != nil {
		r.Status = resp.StatusCode
		r.Body = string(body)
	}
	if err != nil {
		r.Err = err.Error()
	}
	return r, resp, body, err
}

// request sends one webhook and records it.
func (c *call) request(l *leg, kind, method, fullURL string, params url.Values) (*http.Response, []byte, error) {
	r, resp, body, err := c.send(webhook{l: l, kind: kind, method: method, url: fullURL, params: params})
	if err != nil && c.ctx.Err() != nil {
		c.abort = c.ctx.Err()
	}
	c.res.Requests = append(c.res.Requests, r)
	return resp, body, err
}

// callback sends a webhook whose answer Twilio ignores, except that it must
// be a 2xx.
func (c *call) callback(l *leg, kind, method, fullURL string, params url.Values) {
	c.callbacks(webhook{l: l, kind: kind, method: method, url: fullURL, params: params})
}

// callbacks sends webhooks whose answers Twilio ignores (except that each
// must be a 2xx) all at once, and records them in the order given.
func (c *call) callbacks(hooks ...webhook) {
	if c.abort != nil {
		return
	}
	reqs := make([]Request, len(hooks))
	resps := make([]*http.Response, len(hooks))
	errs := make([]error, len(hooks))
	var wg sync.WaitGroup
	for i, h := range hooks {
		wg.Go(func() { reqs[i], resps[i], _, errs[i] = c.send(h) })
	}
	wg.Wait()
	for i, h := range hooks {
		err := errs[i]
		if err != nil && c.ctx.Err() != nil {
			c.abort = c.ctx.Err()
		}
		if err == nil && (resps[i].StatusCode < 200 || resps[i].StatusCode > 299) {
			err = fmt.Errorf("HTTP status %d", resps[i].StatusCode)
		}
		if err != nil && c.abort == nil {
			err = fmt.Errorf("sim: %s callback %s: %w", h.kind, h.url, err)
			reqs[i].Err = err.Error()
			c.res.Errors = append(c.res.Errors, err)
		}
		c.res.Requests = append(c.res.Requests, reqs[i])
	}
}

// hungUpAction requests a <Dial> or <Record> action after the caller hung
// up (Twilio ignores its TwiML), then runs after, if any. With StatusFirst
// or StatusConcurrent it is held back and sent with the final status
// callback (play).
func (c *call) hungUpAction(l *leg, h hop, after func()) {
	if c.s.StatusOrder == StatusLast {
		c.callback(l, "action", h.method, h.url, h.params)
		if after != nil {
			after()
		}
		return
	}
	c.hungUp = &webhook{l: l, kind: "action", method: h.method, url: h.url, params: h.params}
	c.hungUpCB = after
}

// fail records an application error on a leg; Twilio ends that leg.
func (c *call) fail(l *leg, err error) {
	err = fmt.Errorf("sim: %s leg: %w", l.name, err)
	c.res.Errors = append(c.res.Errors, err)
	c.hear(l, "error", "An application error has occurred: "+err.Error())
}

func (c *call) hear(l *leg, kind, text string) {
	c.res.Heard = append(c.res.Heard, Line{At: c.clock, Leg: l.name, Kind: kind, Text: text})
}

// run executes TwiML on a leg, starting with the request h, until the leg
// ends.
func (c *call) run(l *leg, h hop) end {
	for {
		root, docURL, err := c.fetch(l, h)
		if c.abort != nil {
			return endError
		}
		if h.after != nil {
			h.after()
		}
		if err != nil {
			c.fail(l, err)
			return endError
		}
		next, e := c.exec(l, root, docURL)
		if next == nil {
			return e
		}
		h = *next
	}
}

// fetch requests a TwiML document.
func (c *call) fetch(l *leg, h hop) (node, *url.URL, error) {
	if c.docs >= c.maxSteps {
		return node{}, nil, fmt.Errorf("more than %d TwiML documents (Script.MaxSteps)", c.maxSteps)
	}
	c.docs++
	p := c.params(l)
	for k, v := range h.params {
		p[k] = v
	}
	if l.parent != nil && c.s.OmitParentCallSid {
		p.Del("ParentCallSid")
	}
	resp, body, err := c.request(l, h.kind, h.method, h.url, p)
	if l.status == "ringing" {
		l.status = "in-progress"
	}
	if err != nil {
		return node{}, nil, err
	}
	root, err := parseTwiML(resp.StatusCode, resp.Header, body)
	if err != nil {
		err = fmt.Errorf("%s %s: %w", h.method, h.url, err)
		c.res.Requests[len(c.res.Requests)-1].Err = err.Error()
		return node{}, nil, err
	}
	u, err := url.Parse(h.url)
	if err != nil {
		return node{}, nil, err
	}
	return root, u, nil
}
