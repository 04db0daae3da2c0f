package routing

// The two renderings of a Diff: plain text for a terminal, Markdown for a
// pull-request comment. Both list the same lines in the same order.

import (
	"fmt"
	"strings"
	"time"
)

// NoChange is what a Diff with nothing to notice says.
const NoChange = "no change for callers or engineers"

// diffTime is how a Diff spells an instant, on the wall clock of its zone
// (named once per line): "Mon 2026-11-02 09:00".
const diffTime = "Mon 2006-01-02 15:04"

// Block is one heading of a Diff's plain rendering with its lines, e.g.
// "teams" and "ops: step 1 timeout: 25s → 30s": Text prints each as the
// heading, a colon, and the lines indented; a page may show them as a
// heading and a list, and says the same.
type Block struct {
	Title string
	Lines []string
}

// Blocks are the headings and lines of Text, in its order: a section per
// kind of setting that changed, then the handover stretches (`on call,
// next 14 days from …`), then the gaps (`+ gap ops: …` opened, `- gap
// ops: …` closed). An empty Diff has none.
func (d Diff) Blocks() []Block {
	var out []Block
	for _, sec := range Sections() {
		b := Block{Title: string(sec)}
		for _, c := range d.Changes {
			if c.Section == sec {
				b.Lines = append(b.Lines, changeLine(c, plain))
			}
		}
		if len(b.Lines) > 0 {
			out = append(out, b)
		}
	}
	if len(d.Handovers) > 0 {
		b := Block{Title: "on call, " + d.window()}
		for _, h := range d.Handovers {
			b.Lines = append(b.Lines, handoverLine(h, plain))
		}
		out = append(out, b)
	}
	if len(d.GapsOpened)+len(d.GapsClosed) > 0 {
		b := Block{Title: "coverage gaps, " + d.window()}
		for _, g := range d.GapsOpened {
			b.Lines = append(b.Lines, "+ gap "+gapLine(g, plain))
		}
		for _, g := range d.GapsClosed {
			b.Lines = append(b.Lines, "- gap "+gapLine(g, plain))
		}
		out = append(out, b)
	}
	return out
}

// Text renders the Diff for a terminal: each of its Blocks as a heading
// and its lines indented (`ops primary: Mon 2026-11-02 09:00 – Mon
// 2026-11-09 09:00 (America/New_York): Alice Adams → Bob Brown`), or
// NoChange.
func (d Diff) Text() string {
	if d.Empty() {
		return NoChange + "\n"
	}
	var b strings.Builder
	for _, blk := range d.Blocks() {
		fmt.Fprintf(&b, "%s:\n", blk.Title)
		for _, l := range blk.Lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

// Markdown renders the Diff for a pull-request comment: a heading with both
// revisions, then the same lines as Text as bulleted lists. Every value
// from the config is escaped, so a name or greeting cannot add markup.
func (d Diff) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### hotline config %s → %s\n\n", code(short(d.OldRevision)), code(short(d.NewRevision)))
	if d.Empty() {
		b.WriteString(NoChange + "\n")
		return b.String()
	}
	for _, sec := range Sections() {
		first := true
		for _, c := range d.Changes {
			if c.Section != sec {
				continue
			}
			if first {
				fmt.Fprintf(&b, "**%s**\n\n", capital(string(sec)))
				first = false
			}
			fmt.Fprintf(&b, "- %s\n", changeLine(c, markdown))
		}
		if !first {
			b.WriteString("\n")
		}
	}
	if len(d.Handovers) > 0 {
		fmt.Fprintf(&b, "**On call, %s**\n\n", escape(d.window()))
		for _, h := range d.Handovers {
			fmt.Fprintf(&b, "- %s\n", handoverLine(h, markdown))
		}
		b.WriteString("\n")
	}
	if len(d.GapsOpened)+len(d.GapsClosed) > 0 {
		fmt.Fprintf(&b, "**Coverage gaps, %s**\n\n", escape(d.window()))
		for _, g := range d.GapsOpened {
			fmt.Fprintf(&b, "- `+ gap` %s\n", gapLine(g, markdown))
		}
		for _, g := range d.GapsClosed {
			fmt.Fprintf(&b, "- `- gap` %s\n", gapLine(g, markdown))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// style is how a renderer spells names and values.
type style struct {
	name  func(string) string // an id or a person's name
	value func(string) string // a setting's value
}

var (
	plain    = style{name: func(s string) string { return s }, value: func(s string) string { return s }}
	markdown = style{name: escape, value: code}
)

// changeLine is one Change: `ops: step 1 timeout: 25s → 30s`, `+ option 3:
// label "billing"; team billing`, `- team desk: …`.
func changeLine(c Change, st style) string {
	subject := st.name(c.Subject)
	// The marks are values, so that Markdown shows them as they are rather
	// than as a list inside the list.
	switch c.Kind {
	case Added:
		return st.value("+") + " " + subject + ": " + st.value(c.New)
	case Removed:
		return st.value("-") + " " + subject + ": " + st.value(c.Old)
	}
	var b strings.Builder
	if c.Subject != "" {
		b.WriteString(subject + ": ")
	}
	b.WriteString(st.name(c.Field) + ": ")
	if c.Secret {
		b.WriteString("changed")
		return b.String()
	}
	b.WriteString(st.value(orNone(c.Old)) + " → " + st.value(orNone(c.New)))
	return b.String()
}

// handoverLine is `ops primary: Mon 2026-11-02 09:00 – Mon 2026-11-09
// 09:00 (America/New_York): Alice Adams → Bob Brown`.
func handoverLine(h Handover, st style) string {
	return fmt.Sprintf("%s %s: %s: %s → %s", st.name(h.Team), Position(h.Step),
		st.name(stretch(h.From, h.To)), st.name(person(h.OldName)), st.name(person(h.NewName)))
}

// gapLine is `ops: Sat 2026-11-07 20:00 – Mon 2026-11-09 08:00
// (America/New_York)`.
func gapLine(g Gap, st style) string {
	return st.name(g.Team) + ": " + st.name(stretch(g.From, g.To))
}

// stretch spells [from, to) on from's wall clock, with its zone.
func stretch(from, to time.Time) string {
	return from.Format(diffTime) + " – " + to.In(from.Location()).Format(diffTime) + " (" + from.Location().String() + ")"
}

// window is the span a Diff looked at: "next 14 days from Mon 2026-11-02
// 00:00 (America/New_York)".
func (d Diff) window() string {
	days := int(d.To.Sub(d.From).Round(time.Hour) / (24 * time.Hour))
	unit := "days"
	if days == 1 {
		unit = "day"
	}
	return fmt.Sprintf("next %d %s from %s (%s)", days, unit, d.From.Format(diffTime), d.From.Location())
}

func person(name string) string {
	if name == "" {
		return "nobody"
	}
	return name
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// code is s as a Markdown code span, fenced with more backticks than s
// holds in a row, its line breaks made spaces.
func code(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || fence != "`" {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// escape makes s literal Markdown text inside a line: the marks that open
// emphasis, code, links, tables, strikethrough, HTML or entities are
// backslash-escaped, and line breaks become spaces.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_[]<>|~&#", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
