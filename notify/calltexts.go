package notify

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/store"
)

// voicemailWait is how long a voicemail text waits for its transcript, when
// one was asked for (incident.Update.NoTranscript is false).
const voicemailWait = 3 * time.Minute

// CallReader is what CallTexts reads of the incident log.
type CallReader interface {
	IncidentsByCallSid(ctx context.Context, callSids []string) (map[string]incident.Incident, error)
}

// Chains is what CallTexts needs of the router: the config and who is on
// call for a team now.
type Chains interface {
	Config() *config.Config
	Chain(ctx context.Context, team string, at time.Time) ([]routing.Step, error)
}

// CallTexts decides who is texted after a call and queues the texts, from
// the incident writer's commits: never on the call's own path. Work is
// gathered for textsEvery and queued in one transaction, so a call storm
// does not add a commit (an fsync under the database's write lock) per
// call to the writer's.
type CallTexts struct {
	outbox    *Outbox
	db        *store.DB
	incidents CallReader
	router    Chains
	publicURL string
	now       func() time.Time
	log       zerolog.Logger
	pending   chan incident.Committed
}

// textsEvery is how long call writes are gathered before their texts are
// queued together.
const textsEvery = 250 * time.Millisecond

// NewCallTexts queues the texts of the calls in incidents through outbox,
// whose database is db; publicURL is where the texts' links point.
func NewCallTexts(outbox *Outbox, db *store.DB, incidents CallReader, router Chains, publicURL string, log zerolog.Logger) *CallTexts {
	return &CallTexts{outbox: outbox, db: db, incidents: incidents, router: router, publicURL: publicURL,
		now: time.Now, log: log, pending: make(chan incident.Committed, 8192)}
}

// Committed takes the writes that may call for a text: a call that ended,
// a call answered (its end may have been written first: the final status
// callback can arrive before the Dial action), a voicemail and its
// transcript. It runs in the writer's notification goroutine and only
// hands them on.
func (c *CallTexts) Committed(batch []incident.Committed) {
	for _, w := range batch {
		if !w.Update.EndedAt.IsZero() || w.Closed == incident.StatusVoicemail || w.Closed == incident.StatusAnswered || w.Update.Transcript != "" {
			c.pending <- w
		}
	}
}

// Run queues the gathered texts until ctx ends.
func (c *CallTexts) Run(ctx context.Context) {
	tick := time.NewTicker(textsEvery)
	defer tick.Stop()
	var batch []incident.Committed
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-c.pending:
			batch = append(batch, w)
		case <-tick.C:
			if len(batch) > 0 {
				c.queue(ctx, batch)
				batch = batch[:0]
			}
		}
	}
}

// queue writes the texts of a batch of call writes in one transaction,
// reading the batch's incidents together.
func (c *CallTexts) queue(ctx context.Context, batch []incident.Committed) {
	sids := make([]string, len(batch))
	for i, w := range batch {
		sids[i] = w.CallSid
	}
	incidents, err := c.incidents.IncidentsByCallSid(ctx, sids)
	if err != nil {
		c.log.Error().Err(err).Msg("texts: read incidents")
		return
	}
	var msgs []Message
	for _, w := range batch {
		in, ok := incidents[w.CallSid]
		if !ok {
			c.log.Error().Str("call_sid", w.CallSid).Msg("texts: no incident for the call")
			continue
		}
		msgs = append(msgs, c.messages(ctx, w, in)...)
	}
	if len(msgs) == 0 {
		return
	}
	tx, err := c.db.Begin(ctx)
	if err != nil {
		c.log.Error().Err(err).Msg("texts: queue")
		return
	}
	if err := c.outbox.EnqueueAllTx(ctx, tx, msgs); err != nil {
		c.log.Error().Err(err).Msg("texts: queue")
	}
	if err := tx.Commit(); err != nil {
		c.log.Error().Err(err).Msg("texts: queue")
		return
	}
	c.outbox.Wake()
}

// messages are the texts one call write (to incident in) calls for: a call
// that ended after an engineer accepted texts that engineer, once both are
// written, in whichever order (the text's key keeps it to one); a voicemail
// (and later its transcript) texts the team's current first step.
func (c *CallTexts) messages(ctx context.Context, w incident.Committed, in incident.Incident) []Message {
	var out []Message
	ended := (!w.Update.EndedAt.IsZero() || w.Closed == incident.StatusAnswered) && in.EndedAt != nil
	voicemail := w.Closed == incident.StatusVoicemail || w.Update.Transcript != ""
	call := c.call(in)
	switch {
	case ended && in.Status == incident.StatusAnswered && in.AnsweredBy != nil:
		if e, ok := c.router.Config().Engineer(*in.AnsweredBy); ok {
			out = append(out, Answered(c.publicURL, call, e.Phone))
		}
	case voicemail && in.Status == incident.StatusVoicemail:
		chain, err := c.router.Chain(ctx, in.Team, c.now())
		if err != nil || len(chain) == 0 {
			return nil
		}
		m := Voicemail(c.publicURL, call, chain[0].Phone)
		if w.Update.Transcript == "" && !w.Update.NoTranscript {
			m.NotBefore = c.now().Add(voicemailWait)
		}
		out = append(out, m)
	}
	return out
}

func (c *CallTexts) call(in incident.Incident) Call {
	cfg := c.router.Config()
	// A withheld, SIP or app caller ID is no number to call back: the text
	// says what it is instead.
	from, _ := config.CallerWords(in.From)
	call := Call{IncidentID: in.ID, Team: in.Team, From: from, CallerName: in.CallerName}
	if t, ok := cfg.Team(in.Team); ok {
		call.Team = t.Name
	}
	if in.Customer != nil {
		if cu, ok := cfg.Customer(*in.Customer); ok {
			call.Customer = cu.Name
		}
	}
	if in.Transcript != nil {
		call.Transcript = *in.Transcript
	}
	return call
}
