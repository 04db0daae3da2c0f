package page

import (
	"context"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/notify"
	"github.com/hotline-dev/hotline/routing"
)

// The kinds of incident a pager follows up.
const (
	KindCall  = "call"
	KindAlert = "alert"
)

// The states of an incident's follow-up: paging goes on while it is open.
const (
	StateOpen         = "open"
	StateAcknowledged = "acknowledged"
	StateResolved     = "resolved"
)

// Subject is what a page says about an incident.
type Subject struct {
	ID           int64
	Kind         string // KindCall or KindAlert
	State        string // StateOpen, StateAcknowledged or StateResolved
	Team         string
	From         string // the caller ID as Twilio sent it; empty for an alert
	CallerName   string // a known customer's name, or Twilio's CallerName; may be empty
	Summary      string // an alert's text, or what a call was about; may be empty
	Transcript   string // a voicemail's transcript; may be empty
	RecordingURL string // a voicemail's recording; may be empty
	StartedAt    time.Time
}

// Subjects is what the pager reads and changes of incidents.
type Subjects interface {
	// Subject returns the incident with that id.
	Subject(ctx context.Context, id int64) (Subject, error)
	// Acknowledge marks the incident taken by the engineer `by` (`how`:
	// "page call", "text", "web"…) and records its acknowledged event.
	Acknowledge(ctx context.Context, id int64, by, how string, at time.Time) error
	// Resolve marks the incident as needing nothing more and records its
	// resolved event.
	Resolve(ctx context.Context, id int64, by, how string, at time.Time) error
	// AddEvent adds ev to the incident's timeline, once per ev.Key.
	AddEvent(ctx context.Context, id int64, ev incident.Event) error
}

// Chains is where the pager finds who to page: the config in force and a
// team's chain at a moment. *routing.Router is one.
type Chains interface {
	Config() *config.Config
	Chain(ctx context.Context, team string, at time.Time) ([]routing.Step, error)
}

// Texter queues a text; a second message with the same key queues
// nothing. *notify.Outbox is one.
type Texter interface {
	Enqueue(ctx context.Context, m notify.Message) (bool, error)
}

// Caller starts an outgoing call from `from` to `to` whose TwiML is at url
// and whose final status is posted to statusCallback, and returns its SID.
// *TwilioCaller is one.
type Caller interface {
	Call(ctx context.Context, to, from, url, statusCallback string) (sid string, err error)
}

var (
	_ Chains = (*routing.Router)(nil)
	_ Texter = (*notify.Outbox)(nil)
	_ Caller = (*TwilioCaller)(nil)
)
