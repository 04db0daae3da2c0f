package config

// The config's people and schedules: engineers, rotations and their
// handoffs and active windows, read into the schedules package's types.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/schedules"
	"go.yaml.in/yaml/v3"
)

// engineer reads one engineers entry.
func (p *parser) engineer(o *object, seen ids) (schedules.Engineer, bool) {
	id, ok := p.define(o, seen, "engineer")
	e := schedules.Engineer{ID: id, Name: id}
	if name, n := p.str(o, "name"); n != nil && strings.TrimSpace(name) != "" {
		e.Name = name
	}
	var n *yaml.Node
	if e.Phone, n = p.required(o, "phone"); n != nil {
		p.phone(n, join(o.path, "phone"), e.Phone)
	}
	return e, ok
}

func (p *parser) rotation(o *object, seen, engineers ids, loc *time.Location) (*schedules.Rotation, bool) {
	id, ok := p.define(o, seen, "rotation")
	r := &schedules.Rotation{ID: id, Location: loc}
	for i, n := range p.nonEmptyList(o, "members") {
		if m, ok := p.ref(n, item(join(o.path, "members"), i), engineers, "engineer"); ok {
			r.Members = append(r.Members, m)
		}
	}

	shift, shiftNode := p.required(o, "shift")
	kindOK := shiftNode != nil
	switch shift {
	case "":
	case "daily":
		r.Kind = schedules.Daily
	case "weekly":
		r.Kind = schedules.Weekly
	default:
		r.Kind = schedules.Every
		d, err := time.ParseDuration(shift)
		switch {
		case err != nil:
			p.errorf(shiftNode, join(o.path, "shift"), "invalid shift %q: want daily, weekly or a duration such as 12h", shift)
			kindOK = false
		case d < time.Minute || d%time.Minute != 0:
			p.errorf(shiftNode, join(o.path, "shift"), "invalid shift %q: want a whole number of minutes, at least 1m", shift)
			kindOK = false
		}
		r.Every = d
	}

	handoffOK := false
	if s, n := p.required(o, "handoff"); n != nil {
		day, hasDay, minute, err := parseHandoff(s)
		path := join(o.path, "handoff")
		switch {
		case err != nil:
			p.errorf(n, path, "invalid handoff %q: %v", s, err)
		case kindOK && r.Kind == schedules.Weekly && !hasDay:
			p.errorf(n, path, "invalid handoff %q: a weekly shift hands off on a day at a time, such as \"Mon 09:00\"", s)
		case kindOK && r.Kind != schedules.Weekly && hasDay:
			p.errorf(n, path, "invalid handoff %q: a %s shift hands off at a time of day, such as \"09:00\"", s, shift)
		default:
			r.HandoffDay, r.HandoffMinute = day, minute
			handoffOK = true
		}
	}

	if s, n := p.required(o, "start"); n != nil {
		t, err := time.Parse(time.DateOnly, s)
		switch {
		case err != nil:
			p.errorf(n, join(o.path, "start"), "invalid date %q: want YYYY-MM-DD", s)
		case r.Kind == schedules.Weekly && kindOK && handoffOK && t.Weekday() != r.HandoffDay:
			p.errorf(n, join(o.path, "start"), "%s is a %s, but the weekly handoff is on %s: start on a handoff day", s, t.Weekday(), r.HandoffDay)
		default:
			r.Start = schedules.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
		}
	}

	if s, n := p.str(o, "timezone"); n != nil {
		r.Location = p.zone(n, join(o.path, "timezone"), s)
	}
	if a := p.child(o, "active", "days", "from", "to"); a != nil {
		r.Active = p.window(a)
	}
	return r, ok
}

// parseHandoff reads "Mon 09:00" or "09:00".
func parseHandoff(s string) (day time.Weekday, hasDay bool, minute int, err error) {
	fields := strings.Fields(s)
	switch len(fields) {
	case 1:
	case 2:
		d, ok := weekday(fields[0])
		if !ok {
			return 0, false, 0, fmt.Errorf("unknown weekday %q", fields[0])
		}
		day, hasDay = d, true
	default:
		return 0, false, 0, errors.New(`want "Mon 09:00" or "09:00"`)
	}
	minute, ok := clock(fields[len(fields)-1])
	if !ok {
		return 0, false, 0, errors.New("want a time from 00:00 to 23:59")
	}
	return day, hasDay, minute, nil
}

// weekday reads a day as "mon" or "Monday", in any case.
func weekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for d := time.Sunday; d <= time.Saturday; d++ {
		if s == dayNames[d] || s == strings.ToLower(d.String()) {
			return d, true
		}
	}
	return 0, false
}

// clock reads "HH:MM" as minutes after midnight.
func clock(s string) (int, bool) {
	m := clockRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	return h*60 + mm, true
}

// window reads an active window; days default to the whole week.
func (p *parser) window(o *object) *schedules.Window {
	w := &schedules.Window{}
	days := p.list(o, "days")
	if o.values["days"] == nil {
		w.Days = [7]bool{true, true, true, true, true, true, true}
	} else if len(days) == 0 && o.values["days"].Kind == yaml.SequenceNode {
		p.errorf(o.values["days"], join(o.path, "days"), "list at least one day, or leave days out for every day")
	}
	for i, n := range days {
		path := item(join(o.path, "days"), i)
		s, ok := p.scalarText(n, path)
		if !ok {
			continue
		}
		d, ok := weekday(s)
		switch {
		case !ok || len(s) != 3:
			p.errorf(n, path, "invalid day %q: want one of %s", s, strings.Join(dayNames[1:], ", ")+", sun")
		case w.Days[d]:
			p.errorf(n, path, "day %q is listed twice", s)
		default:
			w.Days[d] = true
		}
	}
	var fromOK, toOK bool
	var fromNode, toNode *yaml.Node
	for _, f := range []struct {
		key  string
		min  *int
		ok   *bool
		node **yaml.Node
	}{{"from", &w.From, &fromOK, &fromNode}, {"to", &w.To, &toOK, &toNode}} {
		s, n := p.required(o, f.key)
		if n == nil {
			continue
		}
		if *f.min, *f.ok = clock(s); !*f.ok {
			p.errorf(n, join(o.path, f.key), "invalid time %q: want HH:MM from 00:00 to 23:59", s)
		}
		*f.node = n
	}
	if fromOK && toOK && w.From == w.To {
		p.errorf(toNode, join(o.path, "to"), "the window from %s to %s is empty; leave out active for all day", fromNode.Value, toNode.Value)
	}
	return w
}
