package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
)

// followUps settles each call incident when it ends (incident.Settle):
// acknowledged by whoever answered, open when its team wants a follow-up
// of its outcome, resolved otherwise. It reads the writer's commits, never
// on the call's own path, and runs again when a later write of the call
// changes its outcome (a voicemail superseding an early abandonment).
type followUps struct {
	incidents *incident.Incidents
	config    func() *config.Config
	now       func() time.Time
	log       zerolog.Logger
	pending   chan incident.Committed
	// opened is told of each call left open, to page it; nil pages nobody.
	opened func(ctx context.Context, id int64, team string, at time.Time)
}

func newFollowUps(incidents *incident.Incidents, cfg func() *config.Config, log zerolog.Logger) *followUps {
	return &followUps{incidents: incidents, config: cfg, now: time.Now, log: log, pending: make(chan incident.Committed, 8192)}
}

// committed hands on the writes that may end a call or change its outcome.
// It runs in the writer's notification goroutine.
func (f *followUps) committed(batch []incident.Committed) {
	for _, w := range batch {
		if !w.Update.EndedAt.IsZero() || w.Closed != "" {
			f.pending <- w
		}
	}
}

// run settles the calls handed on until ctx ends.
func (f *followUps) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-f.pending:
			f.settle(ctx, w)
		}
	}
}

func (f *followUps) settle(ctx context.Context, w incident.Committed) {
	in, err := f.incidents.IncidentsByCallSid(ctx, []string{w.CallSid})
	call, ok := in[w.CallSid]
	if err != nil || !ok {
		f.log.Error().Err(err).Str("call_sid", w.CallSid).Msg("follow-up: read incident")
		return
	}
	open, err := f.incidents.Settle(ctx, call.ID, followUpOutcomes(f.config(), call.Team), f.now())
	if err != nil {
		f.log.Error().Err(err).Int64("incident", call.ID).Msg("follow-up: settle")
		return
	}
	if open && f.opened != nil {
		f.opened(ctx, call.ID, call.Team, f.now())
	}
}

// followUpOutcomes are the outcomes that leave a team's calls open: those
// a person still has to act on, a message or a call nobody took.
func followUpOutcomes(cfg *config.Config, team string) []string {
	return []string{incident.StatusVoicemail, incident.StatusMissed}
}
