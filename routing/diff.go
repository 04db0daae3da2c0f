package routing

// The review diff of two configs: what a caller and an engineer would
// notice when one hotline.yaml replaces another. `hotline diff` prints it;
// the renderers (diff_render.go) are shared by every place that shows it.

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/schedules"
)

// Diff is what changes for callers and engineers when config New replaces
// config Old: the settings they notice (Changes), and, over [From, To), the
// stretches in which a team's chain rings someone else (Handovers) and the
// coverage gaps the change opens or closes. Overrides are not counted: both
// configs are judged on their own. A handover's times are in the zone of
// the rotation its step's engineer comes from (the new config's, else the
// old's, else TeamLocation), a gap's in TeamLocation of the new config.
type Diff struct {
	OldRevision, NewRevision string // hex SHA-256 of each file
	From, To                 time.Time
	Zone                     *time.Location // the line's (new hotline.timezone), for From and To

	Changes    []Change
	Handovers  []Handover
	GapsOpened []Gap
	GapsClosed []Gap
}

// Empty reports whether nothing a caller or engineer would notice changes,
// however different the two files' text.
func (d Diff) Empty() bool {
	return len(d.Changes) == 0 && len(d.Handovers) == 0 && len(d.GapsOpened) == 0 && len(d.GapsClosed) == 0
}

// Section names the part of the config a Change is in, in the order they
// are listed.
type Section string

// The sections of a Diff's Changes.
const (
	SectionLine      Section = "line"
	SectionMenu      Section = "menu"
	SectionLanguages Section = "languages"
	SectionTeams     Section = "teams"
	SectionEngineers Section = "engineers"
	SectionRotations Section = "rotations"
	SectionCustomers Section = "customers"
)

// Sections lists every Section in the order a Diff lists its Changes.
func Sections() []Section {
	return []Section{SectionLine, SectionMenu, SectionLanguages, SectionTeams, SectionEngineers, SectionRotations, SectionCustomers}
}

// ChangeKind says whether a Change adds, removes or alters something.
type ChangeKind int

// The kinds of Change.
const (
	Changed ChangeKind = iota // a setting's value: Old → New
	Added                     // a whole item (a team, an option…): New summarises it
	Removed                   // a whole item: Old summarises it
)

// Change is one difference in the configured settings. Values read as the
// config spells them, free text quoted (`"Hello."`); an empty value is a
// setting left out.
type Change struct {
	Section Section
	Subject string // the item: a team's id, "option 2", a language code; "" for the line's or menu's own settings
	Field   string // the setting, e.g. "greeting", "step 1 timeout"; "" when the whole item is added or removed
	Kind    ChangeKind
	Old     string
	New     string
	Secret  bool // the values are withheld (a PIN): Old and New are empty
}

// Handover is one stretch of time in which a team's chain position rings
// a different engineer under the new config than under the old.
type Handover struct {
	Team     string
	Step     int       // chain position, from 1 (Position names it)
	From, To time.Time // in the zone of the step's rotation (see Diff)
	Old, New string    // engineer ids; "" is nobody
	OldName  string    // display names ("" for nobody)
	NewName  string
}

// DiffConfigs compares two valid configs over [from, to). Teams are taken in
// the new config's order; a team only in the new config has no handovers
// (Changes lists it as added) and every gap of its is opened; a team only
// in the old one has neither.
func DiffConfigs(old, cur *config.Config, from, to time.Time) (Diff, error) {
	d := Diff{
		OldRevision: old.Revision, NewRevision: cur.Revision,
		Zone: cur.Hotline.Location, From: from.In(cur.Hotline.Location), To: to.In(cur.Hotline.Location),
		Changes: configChanges(old, cur),
	}
	idx := schedules.NewOverrideIndex(nil)
	for _, t := range cur.Teams {
		newSegs, err := Segments(cur, idx, t.ID, from, to)
		if err != nil {
			return Diff{}, err
		}
		_, inOld := old.Team(t.ID)
		var oldSegs []Segment
		if inOld {
			if oldSegs, err = Segments(old, idx, t.ID, from, to); err != nil {
				return Diff{}, err
			}
		}
		loc := TeamLocation(cur, &t)
		spans := overlay(oldSegs, newSegs, from, to)
		if inOld {
			d.Handovers = append(d.Handovers, handovers(old, cur, t.ID, spans, loc)...)
		}
		opened, closed := gapChanges(t.ID, spans, inOld, loc)
		d.GapsOpened = append(d.GapsOpened, opened...)
		d.GapsClosed = append(d.GapsClosed, closed...)
	}
	return d, nil
}

// TeamLocation is the zone a team's times are shown in: its first
// rotation's, else the line's (hotline.timezone).
func TeamLocation(cfg *config.Config, t *config.Team) *time.Location {
	for _, s := range t.Escalation {
		for _, id := range s.Rotations {
			if r, ok := cfg.Rotation(id); ok && r.Location != nil {
				return r.Location
			}
		}
	}
	if cfg.Hotline.Location != nil {
		return cfg.Hotline.Location
	}
	return time.UTC
}

// span is an interval over which neither config's chain changes.
type span struct {
	from, to time.Time
	old, new []Step
}

// overlay cuts [from, to) at every edge of either segment list. A nil list
// (a team absent from that config) counts as an empty chain throughout.
func overlay(a, b []Segment, from, to time.Time) []span {
	var out []span
	i, j := 0, 0
	for t := from; t.Before(to); {
		for i < len(a) && !a[i].To.After(t) {
			i++
		}
		for j < len(b) && !b[j].To.After(t) {
			j++
		}
		sp := span{from: t, to: to}
		if i < len(a) {
			sp.old = a[i].Chain
			sp.to = minTime(sp.to, a[i].To)
		}
		if j < len(b) {
			sp.new = b[j].Chain
			sp.to = minTime(sp.to, b[j].To)
		}
		out = append(out, sp)
		t = sp.to
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// handovers lists, per chain position, the stretches in which the two
// configs ring different engineers, adjacent stretches with the same
// old → new merged.
func handovers(old, cur *config.Config, team string, spans []span, loc *time.Location) []Handover {
	var out []Handover
	last := map[int]int{} // chain position → index in out of its latest stretch
	for _, sp := range spans {
		for p := range max(len(sp.old), len(sp.new)) {
			o, n := engineerAt(sp.old, p), engineerAt(sp.new, p)
			if o == n {
				continue
			}
			zone := cmp.Or(stepZone(cur, sp.new, p), stepZone(old, sp.old, p), loc)
			if k, ok := last[p]; ok && out[k].To.Equal(sp.from) && out[k].Old == o && out[k].New == n && out[k].From.Location() == zone {
				out[k].To = sp.to.In(zone)
				continue
			}
			last[p] = len(out)
			out = append(out, Handover{
				Team: team, Step: p + 1, From: sp.from.In(zone), To: sp.to.In(zone),
				Old: o, New: n, OldName: engineerName(old, cur, o), NewName: engineerName(cur, old, n),
			})
		}
	}
	slices.SortStableFunc(out, func(a, b Handover) int {
		return cmp.Or(cmp.Compare(a.Step, b.Step), a.From.Compare(b.From))
	})
	return out
}

// stepZone is the zone of the rotation chain position p's engineer comes
// from, or nil when they come from none (an engineer step, nobody).
func stepZone(cfg *config.Config, chain []Step, p int) *time.Location {
	if p >= len(chain) {
		return nil
	}
	id, ok := strings.CutPrefix(chain[p].Source, "rotation:")
	if !ok {
		return nil
	}
	if r, ok := cfg.Rotation(id); ok && r.Location != nil {
		return r.Location
	}
	return nil
}

func engineerAt(chain []Step, p int) string {
	if p < len(chain) {
		return chain[p].Engineer
	}
	return ""
}

// engineerName is the display name of id in cfg, else in other.
func engineerName(cfg, other *config.Config, id string) string {
	if id == "" {
		return ""
	}
	if e, ok := cfg.Engineer(id); ok {
		return e.Name
	}
	if e, ok := other.Engineer(id); ok {
		return e.Name
	}
	return id
}

// gapChanges lists the stretches that are a gap under the new config but
// were not under the old (opened), and the reverse (closed). A team absent
// from the old config had no gaps there: all its gaps are opened.
func gapChanges(team string, spans []span, inOld bool, loc *time.Location) (opened, closed []Gap) {
	add := func(list []Gap, sp span) []Gap {
		if n := len(list); n > 0 && list[n-1].To.Equal(sp.from) {
			list[n-1].To = sp.to.In(loc)
			return list
		}
		return append(list, Gap{Team: team, From: sp.from.In(loc), To: sp.to.In(loc)})
	}
	for _, sp := range spans {
		oldGap, newGap := inOld && len(sp.old) == 0, len(sp.new) == 0
		switch {
		case newGap && !oldGap:
			opened = add(opened, sp)
		case oldGap && !newGap:
			closed = add(closed, sp)
		}
	}
	return opened, closed
}
