package page

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/notify"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/store"
)

// The paths of the page call's webhooks, under the signed /twilio
// subrouter: the call's TwiML, its Gather's action, its status callback.
// Each URL carries the page's row id as `?page=`, nothing else.
const (
	PathCall   = "/twilio/page"
	PathKey    = "/twilio/page/key"
	PathStatus = "/twilio/page/status"
)

// Deps is what a Pager works with.
type Deps struct {
	DB       *store.DB // migrated with Migrate
	Subjects Subjects
	Chains   Chains
	Texter   Texter
	Caller   Caller
	// PublicURL is HOTLINE_PUBLIC_URL: the page call's webhooks and the
	// incident's link in the text are built on it.
	PublicURL string
	Now       func() time.Time // default time.Now
	Log       zerolog.Logger
	// Lease is how long a claimed page is held before another pager may
	// place it (default 2m): longer than a call's rate-limited start.
	Lease time.Duration
	// Poll is how often Run looks for pages other instances scheduled
	// (default 5s).
	Poll time.Duration
}

// Pager places the pages of incidents nobody has taken.
type Pager struct {
	db       *store.DB
	subjects Subjects
	chains   Chains
	texter   Texter
	caller   Caller
	public   string
	now      func() time.Time
	log      zerolog.Logger
	lease    time.Duration
	poll     time.Duration
	wake     chan struct{}
	pages    *prometheus.CounterVec
}

// New returns a Pager over d.
func New(d Deps) *Pager {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Lease <= 0 {
		d.Lease = 2 * time.Minute
	}
	if d.Poll <= 0 {
		d.Poll = 5 * time.Second
	}
	return &Pager{
		db: d.DB, subjects: d.Subjects, chains: d.Chains, texter: d.Texter, caller: d.Caller,
		public: d.PublicURL, now: d.Now, log: d.Log, lease: d.Lease, poll: d.Poll,
		wake: make(chan struct{}, 1),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_pages_total",
			Help: "Pages by channel (call, text) and outcome (placed, failed)."}, []string{"channel", "outcome"}),
	}
}

// Collectors returns the pager's metrics, for the binary to register.
func (p *Pager) Collectors() []prometheus.Collector {
	for _, ch := range []string{"call", "text"} {
		for _, out := range []string{"placed", "failed"} {
			p.pages.WithLabelValues(ch, out) // each shows, at 0, before the first page
		}
	}
	return []prometheus.Collector{p.pages}
}

// Open starts paging team's chain for an incident, its first step at `at`.
// Opening an incident twice pages it once. The caller decides whether the
// incident pages at all (config.FollowUp.Pages).
func (p *Pager) Open(ctx context.Context, incidentID int64, team string, at time.Time) error {
	if err := schedule(ctx, p.db, incidentID, team, 0, 0, at); err != nil {
		return err
	}
	p.Wake()
	return nil
}

// Acknowledge marks an incident taken (Subjects.Acknowledge) and cancels
// its pages still to come: for the text reply, the web page and the API.
func (p *Pager) Acknowledge(ctx context.Context, incidentID int64, by, how string) error {
	if err := p.subjects.Acknowledge(ctx, incidentID, by, how, p.now()); err != nil {
		return fmt.Errorf("page: acknowledge incident %d: %w", incidentID, err)
	}
	return p.cancelIncident(ctx, incidentID)
}

// Resolve marks an incident resolved (Subjects.Resolve) and cancels its
// pages still to come.
func (p *Pager) Resolve(ctx context.Context, incidentID int64, by, how string) error {
	if err := p.subjects.Resolve(ctx, incidentID, by, how, p.now()); err != nil {
		return fmt.Errorf("page: resolve incident %d: %w", incidentID, err)
	}
	return p.cancelIncident(ctx, incidentID)
}

// Wake makes Run look for due pages now.
func (p *Pager) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run places pages as they fall due until ctx ends: those due while
// hotline was down at once, then each at its time.
func (p *Pager) Run(ctx context.Context) error {
	for {
		if _, err := p.RunOnce(ctx); err != nil && ctx.Err() == nil {
			p.log.Error().Err(err).Msg("place pages")
		}
		wait := p.poll
		if due, ok := p.nextDue(ctx); ok {
			wait = min(wait, max(due.Sub(p.now()), 50*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-p.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// nextDue is when the next pending page may be claimed: its due time, or
// the end of its lease when another pager holds it.
func (p *Pager) nextDue(ctx context.Context) (time.Time, bool) {
	const q = `SELECT MIN(CASE WHEN lease_until > due_at THEN lease_until ELSE due_at END) FROM pages WHERE state = 'pending'`
	var ms *int64
	if err := p.db.QueryRowContext(ctx, q).Scan(&ms); err != nil || ms == nil {
		return time.Time{}, false
	}
	return time.UnixMilli(*ms), true
}

// maxPerRun bounds one RunOnce, so a backlog cannot keep it from returning.
const maxPerRun = 1000

// RunOnce places every page due now and returns how many it placed (a page
// of an incident no longer open is cancelled, not placed). A page that
// cannot be placed (its incident unreadable) keeps its lease, so it is
// tried again when the lease ends and the pages due after it go first.
func (p *Pager) RunOnce(ctx context.Context) (int, error) {
	placed := 0
	var errs []error
	for range maxPerRun {
		now := p.now()
		r, ok, err := p.claim(ctx, now, now.Add(p.lease))
		if err != nil || !ok {
			return placed, errors.Join(append(errs, err)...)
		}
		done, err := p.place(ctx, r, now)
		if err != nil {
			errs = append(errs, err)
			p.log.Error().Err(err).Int64("page", r.id).Dur("retry_in", p.lease).Msg("page not placed")
		}
		if done {
			placed++
		}
	}
	return placed, errors.Join(errs...)
}

// place places one claimed page, if its incident is still open and the
// chain still has its step, and schedules the next. It reports whether the
// page went out: a call made (or refused by Twilio) and a text queued.
func (p *Pager) place(ctx context.Context, r row, now time.Time) (bool, error) {
	s, err := p.subjects.Subject(ctx, r.incident)
	if err != nil {
		return false, fmt.Errorf("page: incident %d: %w", r.incident, err)
	}
	if s.State != StateOpen {
		return false, cancelRow(ctx, p.db, r.id)
	}
	cfg := p.chains.Config()
	fu, repeat := followUp(cfg, r.team)
	chainLen := 0
	if r.step == emergencyStep {
		if cfg.Hotline.EmergencyNumber == "" {
			return false, cancelRow(ctx, p.db, r.id)
		}
		r.engineer, r.name, r.phone = "", "the emergency number", cfg.Hotline.EmergencyNumber
	} else {
		chain, err := p.chains.Chain(ctx, r.team, now)
		if err != nil && !errors.Is(err, routing.ErrUnknownTeam) {
			return false, fmt.Errorf("page: chain of %s: %w", r.team, err)
		}
		if chainLen = len(chain); r.step >= chainLen {
			// Nobody holds this step now (a shorter chain, or nobody on
			// call): nobody was paged, so nobody is waited for.
			return false, p.advance(ctx, r, max(chainLen-1, 0), chainLen, repeat, cfg, now, nil)
		}
		st := chain[r.step]
		r.engineer, r.name, r.phone = st.Engineer, st.Name, st.Phone
	}
	if err := assign(ctx, p.db, r); err != nil {
		return false, err
	}
	sid, callErr := p.caller.Call(ctx, r.phone, cfg.Hotline.Number, p.pageURL(PathCall, r.id), p.pageURL(PathStatus, r.id))
	if callErr != nil && ctx.Err() != nil {
		// Stopping (or out of time) before the call went: the page
		// stays pending, placed once its lease ends.
		return false, fmt.Errorf("page: call not placed: %w", callErr)
	}
	p.count("call", callErr)
	detail := p.describe(r, callErr)
	if r.step != emergencyStep {
		// The emergency number is called, not texted: it is often a desk
		// line or a bridge that takes no texts.
		_, textErr := p.texter.Enqueue(ctx, notify.Message{To: r.phone, Body: textBody(s, p.public, teamName(cfg, r.team), now), Key: "page-" + strconv.FormatInt(r.id, 10), IncidentID: r.incident})
		p.count("text", textErr)
		if textErr != nil {
			p.log.Warn().Err(textErr).Int64("page", r.id).Msg("page text not queued")
			detail += "; the text could not be queued"
		} else {
			detail += "; texted"
		}
	}
	ev := incident.Event{At: now, Type: incident.EventPaged, Engineer: r.engineer, EngineerName: r.name, EngineerPhone: r.phone,
		Detail: detail, Key: "page-" + strconv.FormatInt(r.id, 10)}
	if err := p.subjects.AddEvent(ctx, r.incident, ev); err != nil {
		p.log.Error().Err(err).Int64("incident", r.incident).Msg("record paged event")
	}
	p.log.Info().Int64("page", r.id).Int64("incident", r.incident).Int("step", r.step+1).Int("pass", r.pass+1).
		Str("engineer", r.engineer).Str("call_sid", sid).Bool("call_failed", callErr != nil).Msg("paged")
	// The call is out: its record must not be lost with ctx.
	return true, p.advance(context.WithoutCancel(ctx), r, r.step, chainLen, repeat, cfg, now.Add(fu.AckTimeout), &sid)
}

// advance ends r (placed with sid, or cancelled when sid is nil) and
// schedules what follows it at `due`: the next step, the chain again for
// each of the team's repeats, then the emergency number once, then
// nothing; the incident stays open.
func (p *Pager) advance(ctx context.Context, r row, step, chainLen, repeat int, cfg *config.Config, due time.Time, sid *string) error {
	return p.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if sid != nil {
			err = markPlaced(ctx, tx, r, *sid, p.now())
		} else {
			err = cancelRow(ctx, tx, r.id)
		}
		if err != nil {
			return err
		}
		switch {
		case step == emergencyStep:
			return nil
		case step+1 < chainLen:
			return schedule(ctx, tx, r.incident, r.team, r.pass, step+1, due)
		case r.pass < repeat:
			return schedule(ctx, tx, r.incident, r.team, r.pass+1, 0, due)
		case cfg.Hotline.EmergencyNumber != "":
			return schedule(ctx, tx, r.incident, r.team, r.pass, emergencyStep, due)
		}
		return nil
	})
}

// followUp returns a team's follow-up and repeat, the defaults for a team
// no longer configured.
func followUp(cfg *config.Config, team string) (config.FollowUp, int) {
	if t, ok := cfg.Team(team); ok {
		return t.FollowUp, t.Repeat
	}
	return config.FollowUp{AckTimeout: 5 * time.Minute}, 0
}

// teamName is how a team is named to its engineers.
func teamName(cfg *config.Config, team string) string {
	if t, ok := cfg.Team(team); ok {
		return t.Name
	}
	return team
}

// describe is the paged event's detail.
func (p *Pager) describe(r row, callErr error) string {
	what := fmt.Sprintf("step %d, pass %d", r.step+1, r.pass+1)
	if r.step == emergencyStep {
		what = fmt.Sprintf("the emergency number, after pass %d", r.pass+1)
	}
	if callErr != nil {
		p.log.Warn().Str("err", digitRun.ReplaceAllString(callErr.Error(), "…")).Int64("page", r.id).Msg("page call failed")
		return what + ": the page call could not be placed"
	}
	return what + ": page call placed"
}

// digitRun finds phone-number-like runs in error texts, kept out of the
// log (Twilio's errors quote the To number).
var digitRun = regexp.MustCompile(`\+?\d{7,15}`)

// count adds one page on channel to the metric.
func (p *Pager) count(channel string, err error) {
	outcome := "placed"
	if err != nil {
		outcome = "failed"
	}
	p.pages.WithLabelValues(channel, outcome).Inc()
}

// pageURL is the absolute URL of one of the page call's webhooks.
func (p *Pager) pageURL(path string, id int64) string {
	return p.public + path + "?page=" + strconv.FormatInt(id, 10)
}
