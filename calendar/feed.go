package calendar

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
)

// Horizon is how far ahead of now a feed reaches.
const Horizon = 60 * 24 * time.Hour

// lookback is how far back a feed looks for the start of the shift in
// progress, so that shift shows when it really began.
const lookback = 35 * 24 * time.Hour

// Build returns subject's feed as of now: every shift that ends after now
// and starts before now+Horizon. It returns ErrNotFound when the config has
// no such engineer or team.
//
// An event's UID is derived from the feed, the team, the place, the
// engineer and the shift's start, so refreshing a feed updates events in
// place (a shift's end moving with an override keeps its UID). A shift
// that began more than five weeks ago starts at the window's edge and has
// a UID without a start, so that edge moving each day does not renew it.
func Build(cfg *config.Config, idx *schedules.OverrideIndex, subject Subject, now time.Time) (Feed, error) {
	from, to := now.Add(-lookback), now.Add(Horizon)
	var shifts []Shift
	var err error
	feed := Feed{Stamp: now}
	switch subject.Kind {
	case KindEngineer:
		e, ok := cfg.Engineer(subject.ID)
		if !ok {
			return Feed{}, fmt.Errorf("%w: engineer %q", ErrNotFound, subject.ID)
		}
		feed.Name = "On call: " + nameOr(e.Name, e.ID)
		shifts, err = EngineerShifts(cfg, idx, e.ID, from, to)
	case KindTeam:
		t, ok := cfg.Team(subject.ID)
		if !ok {
			return Feed{}, fmt.Errorf("%w: team %q", ErrNotFound, subject.ID)
		}
		feed.Name = "On call: " + nameOr(t.Name, t.ID)
		shifts, err = TeamShifts(cfg, idx, t.ID, from, to)
	default:
		return Feed{}, fmt.Errorf("%w: kind %q", ErrNotFound, subject.Kind)
	}
	if err != nil {
		return Feed{}, err
	}
	for _, s := range shifts {
		if s.End.After(now) {
			feed.Events = append(feed.Events, event(subject, s))
		}
	}
	return feed, nil
}

// event is the VEVENT of one shift in subject's feed.
func event(subject Subject, s Shift) Event {
	team, who := nameOr(s.TeamName, s.Team), nameOr(s.Name, s.Engineer)
	place := routing.Position(s.Position)
	ev := Event{
		UID:   uid(subject, s),
		Start: s.Start,
		End:   s.End,
		Description: fmt.Sprintf("%s is %s for %s: step %d of the chain hotline rings for a call to this team.",
			who, place, team, s.Position),
	}
	if subject.Kind == KindTeam {
		ev.Summary = team + " (" + place + "): " + who
	} else {
		ev.Summary = "On call: " + team + " (" + place + ")"
	}
	return ev
}

// uid names a shift of a feed stably across refreshes.
func uid(subject Subject, s Shift) string {
	start := "open"
	if !s.Clipped {
		start = strconv.FormatInt(s.Start.Unix(), 10)
	}
	h := sha256.Sum256([]byte(string(subject.Kind) + "\x00" + subject.ID + "\x00" + s.Team + "\x00" +
		strconv.Itoa(s.Position) + "\x00" + s.Engineer + "\x00" + start))
	return hex.EncodeToString(h[:16]) + "@hotline"
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
