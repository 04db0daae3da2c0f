package main

import (
	"context"
	"os"
	"time"

	"github.com/hotline-dev/hotline/config"
)

// revisionWait bounds each write of the config history: it runs in serve's
// loop, between signals, and a slow database must not hold a reload.
const revisionWait = 5 * time.Second

// reload re-reads the config file; an invalid one is refused, in the log
// and the audit log, and the old one keeps running. An accepted one is
// recorded as this instance's live revision.
func (s *server) reload(ctx context.Context) {
	path := s.cfg.Path
	data, err := os.ReadFile(path)
	revision := ""
	var cfg *config.Config
	if err == nil {
		revision = config.RevisionOf(data)
		cfg, err = config.ParseConfig(path, data)
	}
	if err != nil {
		s.log.Error().Err(err).Str("revision", short(revision)).Msg("config reload refused; keeping the running config")
		ctx, cancel := context.WithTimeout(ctx, revisionWait)
		defer cancel()
		if err := s.revisions.Refused(ctx, s.instance, path, revision, err); err != nil {
			s.log.Error().Err(err).Msg("config history: the refused reload is not in the audit log")
		}
		return
	}
	s.cfg = cfg
	s.router.SetConfig(cfg)
	if s.caller != nil {
		s.caller.SetCallsPerSecond(cfg.Hotline.OutboundCallsPerSecond)
	}
	s.log.Info().Str("revision", cfg.Revision[:12]).Msg("config reloaded")
	s.recordLive(ctx)
}

// recordLive records that this instance serves its config now: at start,
// after each accepted reload and every revisions.Beat, so a failure (the
// database unavailable) is made good on the next beat. Only serve's loop
// calls it, so a beat never records a config a reload has replaced.
func (s *server) recordLive(ctx context.Context) {
	cfg := s.router.Config()
	ctx, cancel := context.WithTimeout(ctx, revisionWait)
	defer cancel()
	if err := s.revisions.Live(ctx, s.instance, cfg.Revision, cfg.Text); err != nil && ctx.Err() == nil {
		s.log.Warn().Err(err).Str("revision", short(cfg.Revision)).Msg("config history: not recorded; retried in a minute")
	}
}

// recordStopped ends this instance's span of its config at shutdown.
func (s *server) recordStopped(ctx context.Context) {
	if err := s.revisions.Stopped(ctx, s.instance, s.router.Config().Revision); err != nil {
		s.log.Warn().Err(err).Msg("config history: the stop is not recorded")
	}
}

// short is a revision's first 12 digits, as the log and the pages show it.
func short(revision string) string {
	if len(revision) > 12 {
		return revision[:12]
	}
	return revision
}
