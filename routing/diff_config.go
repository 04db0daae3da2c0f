package routing

// The settings half of a Diff: each item of a config (the line, the menu's
// options, languages, teams, engineers, rotations, customers) read as a
// list of named values as the config spells them, and compared by id, so
// the order of keys, comments and the order of teams in the file do not
// count, nor that of a customer's numbers or a team's follow-up outcomes.
// The order of the menu's options and of the languages does: it is the
// order callers hear them in.

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/schedules"
)

// field is one setting of an item.
type field struct {
	name, value string
	secret      bool // compared, never shown
}

// item is one identified entry of a config list.
type item struct {
	id     string
	fields []field
}

// configChanges compares every setting of the two configs.
func configChanges(old, cur *config.Config) []Change {
	var out []Change
	out = append(out, compareFields(SectionLine, "", lineFields(old.Hotline), lineFields(cur.Hotline))...)

	out = append(out, compareFields(SectionMenu, "", menuFields(old.Menu), menuFields(cur.Menu))...)
	oldOpts, newOpts := options(old.Menu), options(cur.Menu)
	out = append(out, orderChange(SectionMenu, "options", oldOpts, newOpts)...)
	out = append(out, compareItems(SectionMenu, "option ", oldOpts, newOpts)...)

	oldLangs, newLangs := languages(old.Languages), languages(cur.Languages)
	out = append(out, orderChange(SectionLanguages, "offers", oldLangs, newLangs)...)
	out = append(out, compareItems(SectionLanguages, "", oldLangs, newLangs)...)

	out = append(out, teamChanges(old, cur)...)
	out = append(out, compareItems(SectionEngineers, "", engineers(old.Engineers), engineers(cur.Engineers))...)
	out = append(out, compareItems(SectionRotations, "", rotations(old.Rotations), rotations(cur.Rotations))...)
	out = append(out, compareItems(SectionCustomers, "", customers(old.Customers), customers(cur.Customers))...)
	return out
}

// compareFields lists the fields whose values differ, in the new order,
// then the fields only the old one has.
func compareFields(sec Section, subject string, a, b []field) []Change {
	var out []Change
	old := map[string]field{}
	for _, f := range a {
		old[f.name] = f
	}
	seen := map[string]bool{}
	for _, f := range b {
		seen[f.name] = true
		if o := old[f.name]; o.value != f.value {
			out = append(out, fieldChange(sec, subject, o, f))
		}
	}
	for _, f := range a {
		if !seen[f.name] && f.value != "" {
			out = append(out, fieldChange(sec, subject, f, field{name: f.name, secret: f.secret}))
		}
	}
	return out
}

func fieldChange(sec Section, subject string, o, n field) Change {
	c := Change{Section: sec, Subject: subject, Field: n.name, Old: o.value, New: n.value}
	if o.secret || n.secret {
		c.Old, c.New, c.Secret = "", "", true
	}
	return c
}

// compareItems matches items by id: removed ones in the old order, then
// added and changed ones in the new order.
func compareItems(sec Section, prefix string, a, b []item) []Change {
	var out []Change
	old := map[string]item{}
	for _, it := range a {
		old[it.id] = it
	}
	cur := map[string]bool{}
	for _, it := range b {
		cur[it.id] = true
	}
	for _, it := range a {
		if !cur[it.id] {
			out = append(out, Change{Section: sec, Subject: prefix + it.id, Kind: Removed, Old: summary(it.fields)})
		}
	}
	for _, it := range b {
		o, ok := old[it.id]
		if !ok {
			out = append(out, Change{Section: sec, Subject: prefix + it.id, Kind: Added, New: summary(it.fields)})
			continue
		}
		out = append(out, compareFields(sec, prefix+it.id, o.fields, it.fields)...)
	}
	return out
}

// orderChange reports a new order of the items both lists have.
func orderChange(sec Section, what string, a, b []item) []Change {
	ids := func(list, other []item) []string {
		var out []string
		for _, it := range list {
			if slices.ContainsFunc(other, func(o item) bool { return o.id == it.id }) {
				out = append(out, it.id)
			}
		}
		return out
	}
	oa, ob := ids(a, b), ids(b, a)
	if slices.Equal(oa, ob) {
		return nil
	}
	return []Change{{Section: sec, Field: what + " order", Old: strings.Join(oa, ", "), New: strings.Join(ob, ", ")}}
}

// summary is an added or removed item's settings on one line.
func summary(fs []field) string {
	var parts []string
	for _, f := range fs {
		if f.value != "" && !f.secret {
			parts = append(parts, f.name+" "+f.value)
		}
	}
	return strings.Join(parts, "; ")
}

func lineFields(h config.Hotline) []field {
	return []field{
		{name: "number", value: h.Number},
		{name: "timezone", value: h.Timezone},
		{name: "greeting", value: quote(h.Greeting)},
		{name: "voice", value: h.Voice},
		{name: "language", value: h.Language},
		{name: "emergency_number", value: h.EmergencyNumber},
		{name: "identify", value: h.Identify},
		{name: "unknown_callers", value: h.UnknownCallers},
		{name: "caller_id_attestation", value: h.CallerIDAttestation},
		{name: "sms_from", value: h.SMSFrom},
		{name: "messaging_service_sid", value: h.MessagingServiceSID},
		{name: "outbound_calls_per_second", value: strconv.FormatFloat(h.OutboundCallsPerSecond, 'g', -1, 64)},
	}
}

func menuFields(m config.Menu) []field {
	return []field{
		{name: "attempts", value: strconv.Itoa(m.Attempts)},
		{name: "timeout", value: duration(m.Timeout)},
		{name: "default", value: m.Default},
	}
}

func options(m config.Menu) []item {
	var out []item
	for _, o := range m.Options {
		out = append(out, item{id: o.Digit, fields: []field{{name: "label", value: quote(o.Label)}, {name: "team", value: o.Team}}})
	}
	return out
}

func languages(ls []config.Language) []item {
	var out []item
	for _, l := range ls {
		fs := []field{{name: "digit", value: l.Digit}, {name: "voice", value: l.Voice}, {name: "greeting", value: quote(l.Greeting)}}
		fs = append(fs, mapFields("prompts.", l.Prompts)...)
		fs = append(fs, mapFields("menu.", l.Menu)...)
		out = append(out, item{id: l.Code, fields: fs})
	}
	return out
}

func mapFields(prefix string, m map[string]string) []field {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]field, len(keys))
	for i, k := range keys {
		out[i] = field{name: prefix + k, value: quote(m[k])}
	}
	return out
}

// teamChanges compares the teams by id. A step both configs have shows its
// target and its timeout apart ("step 1", "step 1 timeout"); a step only
// one has shows both in one value.
func teamChanges(old, cur *config.Config) []Change {
	var a, b []item
	for _, t := range old.Teams {
		n := 0
		if o, ok := cur.Team(t.ID); ok {
			n = len(o.Escalation)
		}
		a = append(a, item{id: t.ID, fields: teamFields(t, n)})
	}
	for _, t := range cur.Teams {
		n := 0
		if o, ok := old.Team(t.ID); ok {
			n = len(o.Escalation)
		}
		b = append(b, item{id: t.ID, fields: teamFields(t, n)})
	}
	return compareItems(SectionTeams, "", a, b)
}

// teamFields reads a team; its first shared steps (those the other config's
// team has too) are split into target and timeout.
func teamFields(t config.Team, shared int) []field {
	// In one order whatever the file's, so that only the set counts.
	var paged []string
	for _, o := range []string{config.OutcomeVoicemail, config.OutcomeMissed, config.OutcomeAbandoned} {
		if t.FollowUp.Pages(o) {
			paged = append(paged, o)
		}
	}
	outcomes := "[]"
	if len(paged) > 0 {
		outcomes = strings.Join(paged, ", ")
	}
	fs := []field{
		{name: "name", value: quote(t.Name)},
		{name: "repeat", value: strconv.Itoa(t.Repeat)},
		{name: "voicemail", value: strconv.FormatBool(t.Voicemail)},
		{name: "follow_up.outcomes", value: outcomes},
		{name: "follow_up.ack_timeout", value: duration(t.FollowUp.AckTimeout)},
	}
	for i, s := range t.Escalation {
		name := "step " + strconv.Itoa(i+1)
		if i < shared {
			fs = append(fs, field{name: name, value: target(s)}, field{name: name + " timeout", value: duration(s.Timeout)})
			continue
		}
		fs = append(fs, field{name: name, value: target(s) + ", timeout " + duration(s.Timeout)})
	}
	return fs
}

// target is who a step rings, as configured.
func target(s config.EscalationStep) string {
	switch {
	case s.Engineer != "":
		return "engineer " + s.Engineer
	case len(s.Rotations) == 1:
		return "rotation " + s.Rotations[0]
	}
	return "rotations " + strings.Join(s.Rotations, ", ")
}

func engineers(es []schedules.Engineer) []item {
	var out []item
	for _, e := range es {
		out = append(out, item{id: e.ID, fields: []field{{name: "name", value: quote(e.Name)}, {name: "phone", value: e.Phone}}})
	}
	return out
}

func rotations(rs []*schedules.Rotation) []item {
	var out []item
	for _, r := range rs {
		shift, handoff := r.Kind.String(), clock(r.HandoffMinute)
		switch r.Kind {
		case schedules.Every:
			shift = duration(r.Every)
		case schedules.Weekly:
			handoff = r.HandoffDay.String()[:3] + " " + handoff
		}
		zone := ""
		if r.Location != nil {
			zone = r.Location.String()
		}
		out = append(out, item{id: r.ID, fields: []field{
			{name: "members", value: strings.Join(r.Members, ", ")},
			{name: "shift", value: shift},
			{name: "handoff", value: handoff},
			{name: "start", value: time.Date(r.Start.Year, r.Start.Month, r.Start.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)},
			{name: "timezone", value: zone},
			{name: "active", value: window(r.Active)},
		}})
	}
	return out
}

// window spells an active window as `mon, tue 11:00–03:00`, or always.
func window(w *schedules.Window) string {
	if w == nil {
		return "always"
	}
	var days []string
	for d, on := range w.Days {
		if on {
			days = append(days, strings.ToLower(time.Weekday(d).String()[:3]))
		}
	}
	return strings.Join(days, ", ") + " " + clock(w.From) + "–" + clock(w.To)
}

func customers(cs []config.Customer) []item {
	var out []item
	for _, c := range cs {
		out = append(out, item{id: c.ID, fields: []field{
			{name: "name", value: quote(c.Name)},
			{name: "numbers", value: strings.Join(sorted(c.Numbers), ", ")},
			{name: "pin", value: c.PIN, secret: true},
		}})
	}
	return out
}

// sorted is a sorted copy of a list whose order means nothing.
func sorted(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return out
}

// quote spells free text as a Go string, so that spaces and line breaks
// show; "" stays empty (left out).
func quote(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

// duration spells d as the config would: 25s, 5m, 1h30m.
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// clock spells minutes after midnight as HH:MM.
func clock(min int) string {
	return time.Date(2000, 1, 1, min/60, min%60, 0, 0, time.UTC).Format("15:04")
}
