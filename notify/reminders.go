package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/schedules"
)

// Schedule is what reminders are computed from; *routing.Router is one.
type Schedule interface {
	Config() *config.Config
	Overrides(ctx context.Context) (*schedules.OverrideIndex, error)
}

// Reminders texts each engineer shortly before a turn of theirs starts.
type Reminders struct {
	outbox   *Outbox
	schedule Schedule
	now      func() time.Time
	log      zerolog.Logger

	// Lead is how long before a shift starts its reminder goes. Default
	// 15m. An override made within Lead of the start does not recall a
	// reminder already queued.
	Lead time.Duration
	// Grace is how late a reminder still goes, for a start missed while
	// hotline was down. Default 10m.
	Grace time.Duration
	// Every is how often Run looks ahead. Default 1m.
	Every time.Duration
}

// NewReminders returns reminders that queue into outbox.
func NewReminders(outbox *Outbox, schedule Schedule, now func() time.Time, log zerolog.Logger) *Reminders {
	return &Reminders{outbox: outbox, schedule: schedule, now: now, log: log,
		Lead: 15 * time.Minute, Grace: 10 * time.Minute, Every: time.Minute}
}

// Enqueue queues a reminder for every shift start in [from, to), each due
// Lead before its start. A start already queued is not queued again (the
// key is rotation, start and engineer), so overlapping windows are safe.
// It returns how many reminders it queued.
func (r *Reminders) Enqueue(ctx context.Context, from, to time.Time) (int, error) {
	idx, err := r.schedule.Overrides(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: reminders: %w", err)
	}
	cfg := r.schedule.Config()
	n := 0
	for _, s := range ShiftStarts(cfg, idx, from, to) {
		eng, ok := cfg.Engineer(s.Engineer)
		if !ok || eng.Phone == "" {
			continue
		}
		rot, _ := cfg.Rotation(s.Rotation)
		m := Message{
			To:        eng.Phone,
			Body:      ShiftReminder(cfg, s, rot.Location),
			Key:       shiftKey(s),
			NotBefore: s.Start.Add(-r.Lead),
		}
		queued, err := r.outbox.Enqueue(ctx, m)
		if err != nil {
			return n, err
		}
		if queued {
			n++
			r.log.Info().Str("rotation", s.Rotation).Str("engineer", s.Engineer).
				Time("start", s.Start).Msg("shift reminder queued")
		}
	}
	return n, nil
}

// Run queues reminders every Every until ctx ends, looking from Grace ago
// to Lead+Every ahead. It returns nil when ctx ends.
func (r *Reminders) Run(ctx context.Context) error {
	tick := time.NewTicker(r.Every)
	defer tick.Stop()
	for {
		now := r.now()
		if _, err := r.Enqueue(ctx, now.Add(-r.Grace), now.Add(r.Lead+r.Every)); err != nil && ctx.Err() == nil {
			r.log.Warn().Err(err).Msg("shift reminders")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
