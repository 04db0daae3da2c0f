package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/notify"
	"github.com/hotline-dev/hotline/routing"
)

// voicemailWait is how long a voicemail text waits for its transcript.
const voicemailWait = 3 * time.Minute

// callTexts queues the texts that follow a call, from the writer's commits:
// never on the call's own path.
type callTexts struct {
	outbox    *notify.Outbox
	incidents *routing.Incidents
	router    *routing.Router
	publicURL string
	now       func() time.Time
	log       zerolog.Logger
}

// committed looks at one batch of call writes: a call that ended after an
// engineer accepted texts that engineer; a voicemail (and later its
// transcript) texts the team's current first step.
func (c *callTexts) committed(batch []routing.Committed) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, w := range batch {
		ended := !w.Update.EndedAt.IsZero()
		voicemail := w.Closed == routing.StatusVoicemail || w.Update.Transcript != ""
		if !ended && !voicemail {
			continue
		}
		in, err := c.incidents.IncidentByCallSid(ctx, w.CallSid)
		if err != nil {
			c.log.Error().Err(err).Str("call_sid", w.CallSid).Msg("texts: read incident")
			continue
		}
		call := c.call(in)
		switch {
		case ended && in.Status == routing.StatusAnswered && in.AnsweredBy != nil:
			if phone := c.engineerPhone(in, *in.AnsweredBy); phone != "" {
				c.enqueue(ctx, notify.Answered(c.publicURL, call, phone))
			}
		case voicemail && in.Status == routing.StatusVoicemail:
			chain, err := c.router.Chain(ctx, in.Team, c.now())
			if err != nil || len(chain) == 0 {
				continue
			}
			m := notify.Voicemail(c.publicURL, call, chain[0].Phone)
			if w.Update.Transcript == "" {
				m.NotBefore = c.now().Add(voicemailWait)
			}
			c.enqueue(ctx, m)
		}
	}
}

func (c *callTexts) call(in routing.Incident) notify.Call {
	cfg := c.router.Config()
	call := notify.Call{IncidentID: in.ID, Team: in.Team, From: in.From, CallerName: in.CallerName}
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

// engineerPhone is the number the engineer was rung on, as copied onto the
// incident's events, else the config's.
func (c *callTexts) engineerPhone(in routing.Incident, engineer string) string {
	for _, e := range in.Events {
		if e.Engineer == engineer && e.EngineerPhone != "" {
			return e.EngineerPhone
		}
	}
	if e, ok := c.router.Config().Engineer(engineer); ok {
		return e.Phone
	}
	return ""
}

func (c *callTexts) enqueue(ctx context.Context, m notify.Message) {
	if _, err := c.outbox.Enqueue(ctx, m); err != nil {
		c.log.Error().Err(err).Str("key", m.Key).Msg("texts: queue")
	}
}
