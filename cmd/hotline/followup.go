package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/page"
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
	open, err := f.incidents.SettleRead(ctx, call, followUpOutcomes(f.config(), call.Team), f.now())
	if err != nil {
		f.log.Error().Err(err).Int64("incident", call.ID).Msg("follow-up: settle")
		return
	}
	if open && f.opened != nil {
		f.opened(ctx, call.ID, call.Team, f.now())
	}
}

// followUpOutcomes are the outcomes that leave a team's calls open, to be
// paged: its follow_up.outcomes (a team no longer in the config gets the
// default's).
func followUpOutcomes(cfg *config.Config, team string) []string {
	if t, ok := cfg.Team(team); ok {
		return t.FollowUp.Outcomes
	}
	return config.DefaultFollowUp().Outcomes
}

// openPages starts paging an incident left open; a failure is logged and
// the incident stays open on the call log.
func (s *server) openPages(ctx context.Context, id int64, team string, at time.Time) {
	if err := s.pager.Open(ctx, id, team, at); err != nil {
		s.log.Error().Err(err).Int64("incident", id).Msg("paging: open")
	}
}

// pageSubjects is the incident log as the pager reads and changes it.
type pageSubjects struct{ *incident.Incidents }

// Subject is incident id as the pager speaks of it.
func (p pageSubjects) Subject(ctx context.Context, id int64) (page.Subject, error) {
	in, err := p.Incident(ctx, id)
	if err != nil {
		return page.Subject{}, err
	}
	return page.Subject{ID: in.ID, Kind: in.Kind, State: in.State, Team: in.Team, From: in.From, CallerName: in.CallerName,
		Summary: in.Summary, Transcript: deref(in.Transcript), RecordingURL: deref(in.RecordingURL), StartedAt: in.StartedAt}, nil
}

// AddEvent adds ev to incident id's timeline, once per key.
func (p pageSubjects) AddEvent(ctx context.Context, id int64, ev incident.Event) error {
	_, err := p.Incidents.AddEvent(ctx, id, ev)
	return err
}
