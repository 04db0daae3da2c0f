package config

import (
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// What a team's follow_up.outcomes may name: the call outcomes that page the
// chain until someone acknowledges (README "Paging").
const (
	OutcomeVoicemail = "voicemail"
	OutcomeMissed    = "missed"
	OutcomeAbandoned = "abandoned"
)

// FollowUp is how a team's unanswered calls are followed up: which outcomes
// page the chain, and how long each page waits for an acknowledgement.
type FollowUp struct {
	Outcomes   []string      // empty: the team is never paged
	AckTimeout time.Duration // default 5m
}

// Pages reports whether an incident ending in outcome pages the team.
func (f FollowUp) Pages(outcome string) bool { return slices.Contains(f.Outcomes, outcome) }

// The limits of follow_up.ack_timeout: under 5 s a page call could not even
// ring before the next one; past a day nobody is being paged.
const minAckTimeout, maxAckTimeout = 5 * time.Second, 24 * time.Hour

// DefaultFollowUp is what a team without follow_up gets.
func DefaultFollowUp() FollowUp {
	return FollowUp{Outcomes: []string{OutcomeVoicemail, OutcomeMissed}, AckTimeout: 5 * time.Minute}
}

// followUp reads a team's follow_up; absent keys keep their defaults, and
// `outcomes: []` (not absent) turns paging off.
func (p *parser) followUp(team *object) FollowUp {
	f := DefaultFollowUp()
	o := p.child(team, "follow_up", "outcomes", "ack_timeout")
	if o == nil {
		return f
	}
	f.AckTimeout = p.duration(o, "ack_timeout", f.AckTimeout, minAckTimeout, maxAckTimeout)
	if o.values["outcomes"] == nil {
		return f
	}
	path := join(o.path, "outcomes")
	f.Outcomes = []string{}
	seen := ids{}
	for i, n := range p.list(o, "outcomes") {
		s, ok := p.scalarText(n, item(path, i))
		switch {
		case !ok:
		case s != OutcomeVoicemail && s != OutcomeMissed && s != OutcomeAbandoned:
			p.errorf(n, item(path, i), "invalid outcome %q: want voicemail, missed or abandoned", s)
		case seen[s] != nil:
			p.errorf(n, item(path, i), "outcome %q is listed twice (first at line %d)", s, seen[s].Line)
		default:
			seen[s] = n
			f.Outcomes = append(f.Outcomes, s)
		}
	}
	return f
}

// maxCallsPerSecond bounds hotline.outbound_calls_per_second, a sanity
// limit: a typo such as 1000 would otherwise be taken at its word.
const maxCallsPerSecond = 100

// callsPerSecond reads hotline.outbound_calls_per_second: how many calls
// hotline starts a second, 1 unless said (Twilio's default rate for an
// account).
func (p *parser) callsPerSecond(o *object) float64 {
	n := o.values["outbound_calls_per_second"]
	if n == nil {
		return 1
	}
	path := join(o.path, "outbound_calls_per_second")
	v, err := strconv.ParseFloat(n.Value, 64)
	switch {
	case n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || err != nil:
		p.errorf(n, path, "expected a number, got %s", describe(n))
	case !(v > 0) || v > maxCallsPerSecond:
		p.errorf(n, path, "%s is out of range: more than 0, at most %d", n.Value, maxCallsPerSecond)
	default:
		return v
	}
	return 1
}
