package sim

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// outcome is what a verb did.
type outcome struct {
	next *hop // control moves to another document
	stop bool // the leg ended with end
	end  end
}

// exec runs one document's verbs in order.
func (c *call) exec(l *leg, root node, docURL *url.URL) (*hop, end) {
	first := l.parent == nil && c.docs == 1
	for i, v := range root.Children {
		if l.behaviour == Voicemail && c.clock-l.answeredAt >= voicemailLimit {
			c.hear(l, "hangup", "the voicemail hangs up")
			l.gone = true
			return nil, endGone
		}
		o, err := c.verb(l, v, docURL, first && i == 0)
		if err != nil {
			c.fail(l, fmt.Errorf("<%s> in %s: %w", v.name(), docURL, err))
			return nil, endError
		}
		if o.next != nil {
			return o.next, 0
		}
		if o.stop {
			return nil, o.end
		}
	}
	return nil, endDoc
}

func (c *call) verb(l *leg, v node, docURL *url.URL, firstVerb bool) (outcome, error) {
	switch v.name() {
	case "Say", "Play", "Pause":
		return outcome{}, c.media(l, v)
	case "Gather":
		return c.gather(l, v, docURL)
	case "Dial":
		return c.dial(l, v, docURL)
	case "Record":
		return c.record(l, v, docURL)
	case "Redirect":
		target := strings.TrimSpace(v.text())
		if target == "" {
			return outcome{}, errors.New("no URL")
		}
		h, err := c.hopTo(docURL, "redirect", target, v.attr("method"), nil)
		return outcome{next: h}, err
	case "Hangup":
		c.hear(l, "hangup", "Hangup")
		return outcome{stop: true, end: endHangup}, nil
	case "Reject":
		if !firstVerb {
			return outcome{}, errors.New("only allowed as the first verb of the incoming call's first document")
		}
		reason := v.attr("reason")
		switch reason {
		case "", "rejected":
			reason, c.final = "rejected", "no-answer"
		case "busy":
			c.final = "busy"
		default:
			return outcome{}, fmt.Errorf("reason %q: want rejected or busy", reason)
		}
		c.hear(l, "reject", "Reject "+reason)
		return outcome{stop: true, end: endReject}, nil
	}
	return outcome{}, errors.New("verb not supported by the simulator")
}

// media plays a <Say>, <Play> or <Pause> to the leg.
func (c *call) media(l *leg, v node) error {
	if v.name() == "Pause" {
		n, err := v.intAttr("length", 1)
		if err != nil {
			return err
		}
		c.hear(l, "pause", fmt.Sprintf("pause %ds", n))
		c.clock += n
		return nil
	}
	loop, err := v.intAttr("loop", 1)
	if err != nil {
		return err
	}
	loop = max(loop, 1) // loop="0" (repeat for long) is counted once
	text := v.text()
	secs := playSeconds
	if v.name() == "Say" {
		words := len(strings.Fields(text))
		secs = (words*2 + 4) / 5 // 2.5 words a second, rounded up
		line := Line{At: c.clock, Leg: l.name, Kind: "say", Text: text,
			Language: v.attr("language"), Voice: v.attr("voice")}
		for range loop {
			c.res.Heard = append(c.res.Heard, line)
		}
	} else {
		for range loop {
			c.hear(l, "play", "play "+text)
		}
	}
	c.clock += secs * loop
	return nil
}

// hopTo resolves a URL attribute against the document URL.
func (c *call) hopTo(docURL *url.URL, kind, ref, method string, params url.Values) (*hop, error) {
	u, err := docURL.Parse(strings.TrimSpace(ref))
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", ref, err)
	}
	u.Fragment = "" // connection overrides are never sent
	m, err := httpMethod(method)
	return &hop{kind: kind, url: u.String(), method: m, params: params}, err
}

func httpMethod(m string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(m)) {
	case "", "POST":
		return http.MethodPost, nil
	case "GET":
		return http.MethodGet, nil
	}
	return "", fmt.Errorf("method %q: want GET or POST", m)
}
