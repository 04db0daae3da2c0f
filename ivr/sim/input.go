package sim

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// hasAttr tells an absent attribute from an empty one.
func (n node) hasAttr(name string) bool {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return true
		}
	}
	return false
}

// gather runs a <Gather>: its nested prompts, then the leg's input
// (docs/twilio.md §4.2).
func (c *call) gather(l *leg, v node, docURL *url.URL) (outcome, error) {
	timeout, err := v.intAttr("timeout", 5)
	if err != nil {
		return outcome{}, err
	}
	numDigits, err := v.intAttr("numDigits", 0)
	if err != nil {
		return outcome{}, err
	}
	finish := "#"
	if v.hasAttr("finishOnKey") {
		finish = v.attr("finishOnKey")
	}
	h, err := c.hopTo(docURL, "action", v.attr("action"), v.attr("method"), nil)
	if err != nil {
		return outcome{}, err
	}
	for _, ch := range v.Children {
		switch ch.name() {
		case "Say", "Play", "Pause":
			if err := c.media(l, ch); err != nil {
				return outcome{}, err
			}
		default:
			return outcome{}, fmt.Errorf("<%s> cannot be nested in <Gather>", ch.name())
		}
	}
	l.gathers++

	var press string
	switch {
	case l.parent == nil && c.hp.menu && l.gathers == 1,
		l.parent != nil && l.behaviour == Hangup:
		c.hear(l, "hangup", "hangs up")
		l.gone = true
		return outcome{stop: true, end: endGone}, nil
	case l.parent == nil:
		if c.presses < len(c.s.Presses) {
			press = c.s.Presses[c.presses]
			c.presses++
		}
	case l.behaviour == Accept:
		press = "1"
	case l.behaviour == Decline:
		press = "2"
	}

	digits := press
	if i := strings.IndexAny(digits, finish); finish != "" && i >= 0 {
		digits = digits[:i]
	}
	if numDigits > 0 && len(digits) > numDigits {
		digits = digits[:numDigits]
	}
	if digits == "" {
		if press == "" {
			c.hear(l, "press", "presses nothing")
			c.clock += timeout
		} else { // only the finish key: input ends at once, empty
			c.hear(l, "press", "presses "+press)
			c.clock += len(press)
		}
		if v.attr("actionOnEmptyResult") != "true" {
			return outcome{}, nil
		}
		h.params = url.Values{"Digits": {""}}
		return outcome{next: h}, nil
	}
	c.hear(l, "press", "presses "+press)
	c.clock += len(press)
	h.params = url.Values{"Digits": {digits}, "msg": {"Gather End"}}
	return outcome{next: h}, nil
}

// record runs a <Record> (docs/twilio.md §4.5). On an engineer's leg nothing is
// said, so it always falls through.
func (c *call) record(l *leg, v node, docURL *url.URL) (outcome, error) {
	if len(v.Children) > 0 {
		return outcome{}, errors.New("<Record> takes no nested elements")
	}
	timeout, err := v.intAttr("timeout", 5)
	if err != nil {
		return outcome{}, err
	}
	maxLength, err := v.intAttr("maxLength", 3600)
	if err != nil {
		return outcome{}, err
	}
	finish := "1234567890*#"
	if v.hasAttr("finishOnKey") {
		finish = v.attr("finishOnKey")
	}
	h, err := c.hopTo(docURL, "action", v.attr("action"), v.attr("method"), nil)
	if err != nil {
		return outcome{}, err
	}
	if v.attr("playBeep") != "false" {
		c.hear(l, "play", "beep")
	}
	message := c.s.Voicemail
	hangup := c.hp.record
	if l.parent != nil {
		message, hangup = "", false
	}
	if message == "" && !hangup {
		c.hear(l, "record", "records nothing")
		c.clock += timeout
		return outcome{}, nil
	}

	p := url.Values{}
	if message == "" {
		c.clock += 3
		c.hear(l, "hangup", "hangs up without leaving a message")
		p.Set("RecordingDuration", "0")
		p.Set("Digits", "hangup")
	} else {
		words := len(strings.Fields(message))
		secs := min(max((words*2+4)/5, 1), maxLength)
		c.hear(l, "record", fmt.Sprintf("records %q (%ds)", message, secs))
		recStart := c.now()
		c.clock += secs
		rsid := newSid("RE")
		rurl := "https://api.twilio.com/2010-04-01/Accounts/" + c.t.accountSid() + "/Recordings/" + rsid
		p.Set("RecordingUrl", rurl)
		p.Set("RecordingSid", rsid)
		p.Set("RecordingDuration", strconv.Itoa(secs))
		switch {
		case hangup:
			c.hear(l, "hangup", "hangs up")
			p.Set("Digits", "hangup")
		case finish == "":
			c.clock += timeout // the recording ends on silence
		default:
			key := "#"
			if !strings.Contains(finish, "#") {
				key = finish[:1]
			}
			c.clock++
			p.Set("Digits", key)
		}
		after, err := c.recordingCallbacks(l, v, docURL, rsid, rurl, secs, recStart.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
		if err != nil {
			return outcome{}, err
		}
		h.after = after
	}
	h.params = p
	if !hangup {
		return outcome{next: h}, nil
	}
	// The caller is gone: Twilio still requests the action but ignores its
	// TwiML.
	l.gone = true
	l.status = "completed"
	h.params = c.merge(l, p)
	c.hungUpAction(l, *h, h.after)
	return outcome{stop: true, end: endGone}, nil
}

// merge returns the leg's standard parameters plus extra.
func (c *call) merge(l *leg, extra url.Values) url.Values {
	p := c.params(l)
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// recordingCallbacks prepares what Twilio sends once a recording exists:
// the recordingStatusCallback right after the action request, and the
// transcription once the call has ended (real transcriptions take minutes).
func (c *call) recordingCallbacks(l *leg, v node, docURL *url.URL, rsid, rurl string, secs int, started string) (func(), error) {
	var rec, tr *hop
	if ref := v.attr("recordingStatusCallback"); ref != "" {
		events := v.attr("recordingStatusCallbackEvent")
		if events == "" || strings.Contains(events, "completed") {
			h, err := c.hopTo(docURL, "recording", ref, v.attr("recordingStatusCallbackMethod"), nil)
			if err != nil {
				return nil, err
			}
			rec = h
		}
	}
	if ref := v.attr("transcribeCallback"); ref != "" && v.attr("transcribe") == "true" {
		h, err := c.hopTo(docURL, "transcription", ref, http.MethodPost, nil)
		if err != nil {
			return nil, err
		}
		tr = h
	}
	message := c.s.Voicemail
	return func() {
		if rec != nil {
			p := url.Values{}
			p.Set("AccountSid", c.t.accountSid())
			p.Set("CallSid", l.sid)
			p.Set("RecordingSid", rsid)
			p.Set("RecordingUrl", rurl)
			p.Set("RecordingStatus", "completed")
			p.Set("RecordingDuration", strconv.Itoa(secs))
			p.Set("RecordingChannels", "1")
			p.Set("RecordingStartTime", started)
			p.Set("RecordingSource", "RecordVerb")
			c.callback(l, "recording", rec.method, rec.url, p)
		}
		if tr != nil {
			c.later = append(c.later, func() {
				tsid := newSid("TR")
				p := c.params(l)
				p.Set("TranscriptionSid", tsid)
				p.Set("TranscriptionText", message)
				p.Set("TranscriptionStatus", "completed")
				p.Set("TranscriptionUrl", "https://api.twilio.com/2010-04-01/Accounts/"+c.t.accountSid()+"/Transcriptions/"+tsid)
				p.Set("RecordingSid", rsid)
				p.Set("RecordingUrl", rurl)
				c.callback(l, "transcription", tr.method, tr.url, p)
			})
		}
	}, nil
}
