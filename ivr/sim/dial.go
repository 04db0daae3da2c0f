package sim

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// target is one <Number> of a <Dial> and its child leg.
type target struct {
	leg     *leg
	whisper *hop // <Number url>, nil when absent
	cb      *hop // <Number statusCallback>, nil when absent
	events  map[string]bool
	done    bool
	dur     int // seconds from answer to end, once done
}

// dial runs a <Dial> on the caller's leg (docs/twilio.md §4.3, §4.4): ring the
// numbers, run the whisper on the leg that answers, bridge it when the
// whisper ends normally, then request the action with DialCallStatus and
// DialBridged, or fall through when there is no action.
func (c *call) dial(l *leg, v node, docURL *url.URL) (outcome, error) {
	if l.parent != nil {
		return outcome{}, errors.New("<Dial> is not allowed in a whisper document")
	}
	timeout, err := v.intAttr("timeout", 30)
	if err != nil {
		return outcome{}, err
	}
	from := v.attr("callerId")
	if from == "" {
		from = l.from
	}
	var action *hop
	if ref := v.attr("action"); ref != "" {
		if action, err = c.hopTo(docURL, "action", ref, v.attr("method"), nil); err != nil {
			return outcome{}, err
		}
	}
	targets, err := c.targets(l, v, docURL, from)
	if err != nil {
		return outcome{}, err
	}
	c.dials++
	nums := make([]string, len(targets))
	for i, t := range targets {
		nums[i] = t.leg.name
	}
	c.hear(l, "dial", fmt.Sprintf("dial %s (timeout %ds)", strings.Join(nums, ", "), timeout))

	groups := [][]*target{targets} // simultaneous ring
	if v.attr("sequential") == "true" {
		groups = groups[:0]
		for _, t := range targets {
			groups = append(groups, []*target{t})
		}
	}

	if c.hp.ring == c.dials {
		return c.hangupRinging(l, groups[0], timeout, action)
	}

	var winner *target
	for _, g := range groups {
		if winner = c.ring(g, timeout); winner != nil || c.abort != nil {
			break
		}
	}
	if c.abort != nil {
		return outcome{stop: true, end: endError}, nil
	}

	p := url.Values{}
	bridged := false
	if winner != nil {
		w := winner.leg
		w.status, w.answeredAt = "in-progress", c.clock
		c.hear(w, "answer", "answers")
		c.legEvent(winner, "answered")
		bridged = true
		if winner.whisper != nil {
			e := c.run(w, *winner.whisper)
			if c.abort != nil {
				return outcome{stop: true, end: endError}, nil
			}
			bridged = e == endDoc
		}
		if bridged {
			c.hear(l, "bridge", fmt.Sprintf("connected to %s for %ds", w.name, c.talk))
			c.clock += c.talk
		}
		dur := c.clock - w.answeredAt
		c.complete(winner, "completed", dur)
		p.Set("DialCallStatus", "completed")
		p.Set("DialCallSid", w.sid)
		p.Set("DialCallDuration", strconv.Itoa(dur))
	} else {
		p.Set("DialCallStatus", unanswered(targets))
		if len(targets) == 1 {
			p.Set("DialCallSid", targets[0].leg.sid)
		}
		p.Set("DialCallDuration", "0")
	}
	if !c.s.OmitDialBridged {
		p.Set("DialBridged", strconv.FormatBool(bridged))
	}
	c.hear(l, "dial", fmt.Sprintf("dial ended: %s, bridged=%t", p.Get("DialCallStatus"), bridged))
	if bridged && c.hp.talk {
		c.hear(l, "hangup", "hangs up")
		l.gone, l.status = true, "completed"
		if action != nil {
			action.params = c.merge(l, p)
			c.hungUpAction(l, *action, nil)
		}
		return outcome{stop: true, end: endGone}, nil
	}
	if action == nil {
		return outcome{}, nil
	}
	action.params = p
	return outcome{next: action}, nil
}

// targets creates a child leg for each <Number> (or the bare number) of a
// <Dial>.
func (c *call) targets(l *leg, v node, docURL *url.URL, from string) ([]*target, error) {
	nouns := v.Children
	if len(nouns) == 0 {
		if strings.TrimSpace(v.text()) == "" {
			return nil, errors.New("nothing to dial")
		}
		nouns = []node{{XMLName: v.XMLName, Inner: v.Inner}}
	}
	if len(nouns) > 10 {
		return nil, errors.New("more than 10 nouns")
	}
	var out []*target
	for _, n := range nouns {
		if n.name() != "Number" && n.name() != "Dial" {
			return nil, fmt.Errorf("<%s> in <Dial> is not supported by the simulator", n.name())
		}
		num := strings.TrimSpace(n.text())
		if num == "" {
			return nil, errors.New("empty <Number>")
		}
		b, ok := c.s.Engineers[num]
		if !ok {
			b = NoAnswer
		}
		t := &target{
			leg:    &leg{name: num, sid: newSid("CA"), parent: l, from: from, to: num, behaviour: b, status: "initiated"},
			events: map[string]bool{},
		}
		if n.name() == "Number" {
			var err error
			if ref := n.attr("url"); ref != "" {
				if t.whisper, err = c.hopTo(docURL, "whisper", ref, n.attr("method"), nil); err != nil {
					return nil, err
				}
			}
			if ref := n.attr("statusCallback"); ref != "" {
				if t.cb, err = c.hopTo(docURL, "status", ref, n.attr("statusCallbackMethod"), nil); err != nil {
					return nil, err
				}
			}
			events := strings.FieldsFunc(n.attr("statusCallbackEvent"), func(r rune) bool { return r == ' ' || r == ',' })
			if len(events) == 0 {
				events = []string{"completed"}
			}
			for _, e := range events {
				t.events[e] = true
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// ring rings a group of legs at once for timeout seconds, and Twilio's
// buffer beyond it. It returns the leg that answers first (document order
// breaks ties), after cancelling the others, or nil when none answers in
// time: a personal voicemail picks up only after c.pickup of ringing.
func (c *call) ring(g []*target, timeout int) *target {
	for _, t := range g {
		c.legEvent(t, "initiated")
		t.leg.status = "ringing"
		c.legEvent(t, "ringing")
	}
	if !c.t.Tidy {
		timeout += dialBuffer
	}
	var win *target
	first := timeout + 1 // a phone that picks up as the timeout ends still answers
	for _, t := range g {
		if at := c.answersAfter(t.leg.behaviour); at < first {
			win, first = t, at
		}
	}
	start := c.clock
	c.endLegs(g, start, Failed, 1)
	c.endLegs(g, start, Busy, busySeconds)
	if win != nil {
		c.clock = max(c.clock, start+first)
		for _, t := range g {
			if t != win && !t.done {
				c.complete(t, "canceled", 0)
			}
		}
		return win
	}
	c.clock = max(c.clock, start+timeout)
	for _, t := range g {
		if !t.done {
			c.complete(t, "no-answer", 0)
		}
	}
	return nil
}

// answersAfter is how long a phone with behaviour b rings before it is
// answered; one that never answers rings for ever.
func (c *call) answersAfter(b Behaviour) int {
	switch {
	case b == Voicemail:
		return c.pickup
	case b.answers():
		return answerSeconds
	}
	return math.MaxInt
}

// endLegs ends the legs with behaviour b, secs after start.
func (c *call) endLegs(g []*target, start int, b Behaviour, secs int) {
	for _, t := range g {
		if t.leg.behaviour == b {
			c.clock = max(c.clock, start+secs)
			c.complete(t, string(b), 0)
		}
	}
}

// unanswered is DialCallStatus when no leg answered.
func unanswered(ts []*target) string {
	status := "failed"
	for _, t := range ts {
		switch t.leg.behaviour {
		case Busy:
			status = "busy"
		case Failed:
		default:
			return "no-answer"
		}
	}
	return status
}

// hangupRinging is the caller hanging up while a <Dial> rings: the child
// legs are cancelled and the action, if any, is requested with the parent's
// CallStatus=completed and DialCallStatus=canceled; its TwiML is ignored.
func (c *call) hangupRinging(l *leg, g []*target, timeout int, action *hop) (outcome, error) {
	for _, t := range g {
		c.legEvent(t, "initiated")
		t.leg.status = "ringing"
		c.legEvent(t, "ringing")
	}
	start := c.clock
	c.endLegs(g, start, Failed, 1)
	c.endLegs(g, start, Busy, busySeconds)
	c.clock = max(c.clock, start+min(3, timeout))
	c.hear(l, "hangup", "hangs up while it rings")
	l.gone, l.status = true, "completed"
	for _, t := range g {
		if !t.done {
			c.complete(t, "canceled", 0)
		}
	}
	if action != nil {
		p := url.Values{}
		p.Set("DialCallStatus", "canceled")
		if len(g) == 1 {
			p.Set("DialCallSid", g[0].leg.sid)
		}
		p.Set("DialCallDuration", "0")
		if !c.s.OmitDialBridged {
			p.Set("DialBridged", "false")
		}
		action.params = c.merge(l, p)
		c.hungUpAction(l, *action, nil)
	}
	return outcome{stop: true, end: endGone}, nil
}

// complete ends a child leg with its final status.
func (c *call) complete(t *target, status string, dur int) {
	t.done, t.dur = true, dur
	t.leg.status = status
	c.legEvent(t, "completed")
}

// legEvent sends a <Number statusCallback> event if subscribed; the
// CallStatus is the leg's current one.
func (c *call) legEvent(t *target, event string) {
	if t.cb == nil || !t.events[event] {
		return
	}
	p := c.params(t.leg)
	if event == "completed" {
		p.Set("CallDuration", strconv.Itoa(t.dur))
		p.Set("Duration", strconv.Itoa((t.dur+59)/60))
	}
	c.statusFields(t.leg, p)
	method := t.cb.method
	if method == "" {
		method = http.MethodPost
	}
	c.callback(t.leg, "status", method, t.cb.url, p)
}
