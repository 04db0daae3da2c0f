package routing

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/config"
)

const diffConfig = `# the line as it is
hotline:
  number: "+18005550100"
  timezone: "America/New_York"
  greeting: "Hello."
menu:
  default: "1"
  options:
    - digit: "1"
      label: "an outage"
      team: ops
    - digit: "2"
      label: "a question"
      team: desk
teams:
  - id: ops
    escalation:
      - rotation: amer
      - engineer: dana
        timeout: 30s
  - id: desk
    escalation:
      - rotation: desk
engineers:
  - {id: alice, name: "Alice Adams", phone: "+15555550101"}
  - {id: bob, name: "Bob Brown", phone: "+15555550102"}
  - {id: carol, name: "Carol Chen", phone: "+15555550103"}
  - {id: dana, name: "Dana Diaz", phone: "+15555550104"}
rotations:
  - id: amer
    members: [alice, bob, carol]
    shift: weekly
    handoff: "Mon 09:00"
    start: "2026-11-02"
  - id: desk
    members: [carol]
    shift: daily
    handoff: "08:00"
    start: "2026-11-02"
    active: {from: "08:00", to: "20:00"}
`

func parseDiffConfig(t *testing.T, name, text string) *config.Config {
	t.Helper()
	c, err := config.ParseConfig(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// edited is diffConfig with each old → new pair replaced once, failing
// the test when one is not there.
func edited(t *testing.T, pairs ...string) string {
	t.Helper()
	s := diffConfig
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("the test config has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func diffOver(t *testing.T, oldText, newText, at string, days int) Diff {
	t.Helper()
	old, cur := parseDiffConfig(t, "old.yaml", oldText), parseDiffConfig(t, "new.yaml", newText)
	ny, _ := time.LoadLocation("America/New_York")
	from, err := time.ParseInLocation("2006-01-02 15:04", at, ny)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DiffConfigs(old, cur, from, from.AddDate(0, 0, days))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func TestDiffSwappedMembersShowTheStretchesThatChangeHands(t *testing.T) {
	d := diffOver(t, diffConfig, edited(t, "members: [alice, bob, carol]", "members: [bob, alice, carol]"), "2026-11-02 09:00", 21)
	want := []string{
		"rotations:",
		"  amer: members: alice, bob, carol → bob, alice, carol",
		"on call, next 21 days from Mon 2026-11-02 09:00 (America/New_York):",
		// The third week is carol's either way, and dana's step never changes.
		"  ops primary: Mon 2026-11-02 09:00 – Mon 2026-11-09 09:00 (America/New_York): Alice Adams → Bob Brown",
		"  ops primary: Mon 2026-11-09 09:00 – Mon 2026-11-16 09:00 (America/New_York): Bob Brown → Alice Adams",
	}
	if got := lines(d.Text()); !slices.Equal(got, want) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(d.GapsOpened)+len(d.GapsClosed) != 0 {
		t.Errorf("a swap opened or closed gaps: %+v %+v", d.GapsOpened, d.GapsClosed)
	}
	h := d.Handovers[0]
	if h.Team != "ops" || h.Step != 1 || h.Old != "alice" || h.New != "bob" {
		t.Errorf("first handover %+v, want ops step 1 alice → bob", h)
	}
}

func TestDiffNarrowedWindowOpensAGap(t *testing.T) {
	narrow := edited(t, `to: "20:00"`, `to: "18:00"`)
	d := diffOver(t, diffConfig, narrow, "2026-11-02 00:00", 2)
	want := []string{
		"  + gap desk: Mon 2026-11-02 18:00 – Mon 2026-11-02 20:00 (America/New_York)",
		"  + gap desk: Tue 2026-11-03 18:00 – Tue 2026-11-03 20:00 (America/New_York)",
		"  desk primary: Mon 2026-11-02 18:00 – Mon 2026-11-02 20:00 (America/New_York): Carol Chen → nobody",
		"  desk: active: sun, mon, tue, wed, thu, fri, sat 08:00–20:00 → sun, mon, tue, wed, thu, fri, sat 08:00–18:00",
	}
	text := d.Text()
	for _, w := range want {
		if !strings.Contains(text, w+"\n") {
			t.Errorf("diff lacks %q:\n%s", w, text)
		}
	}
	// The nights were gaps before and after: they are neither opened nor closed.
	if len(d.GapsOpened) != 2 || len(d.GapsClosed) != 0 {
		t.Errorf("gaps opened %+v, closed %+v; want only the two evenings opened", d.GapsOpened, d.GapsClosed)
	}

	// Widening it back closes the same gaps.
	back := diffOver(t, narrow, diffConfig, "2026-11-02 00:00", 2)
	if len(back.GapsClosed) != 2 || len(back.GapsOpened) != 0 ||
		!strings.Contains(back.Text(), "  - gap desk: Mon 2026-11-02 18:00 – Mon 2026-11-02 20:00 (America/New_York)\n") {
		t.Errorf("widening the window: want two closed gaps:\n%s", back.Text())
	}
}

func TestDiffReorderedKeysAndCommentsAreNoChange(t *testing.T) {
	reordered := `hotline:
  greeting: "Hello."     # said first
  timezone: America/New_York
  number: "+18005550100"
engineers:
  - {phone: "+15555550104", id: dana, name: "Dana Diaz"}
  - {id: carol, name: "Carol Chen", phone: "+15555550103"}
  - {id: bob, name: "Bob Brown", phone: "+15555550102"}
  - {id: alice, name: "Alice Adams", phone: "+15555550101"}
rotations:
  # the desk works days
  - id: desk
    active: {to: "20:00", from: "08:00"}
    start: "2026-11-02"
    handoff: "08:00"
    shift: daily
    members: [carol]
  - members: [alice, bob, carol]
    id: amer
    start: "2026-11-02"
    handoff: "Mon 09:00"
    shift: weekly
teams:
  - id: desk
    escalation:
      - rotation: desk
        timeout: 20s      # the default, spelled out
  - id: ops
    escalation:
      - rotation: amer
      - {timeout: 30s, engineer: dana}
menu:
  options:
    - {team: ops, digit: "1", label: "an outage"}
    - {label: "a question", team: desk, digit: "2"}
  default: "1"
`
	d := diffOver(t, diffConfig, reordered, "2026-11-02 00:00", 14)
	if d.OldRevision == d.NewRevision {
		t.Fatal("the two files should differ in text")
	}
	if !d.Empty() || d.Text() != NoChange+"\n" {
		t.Errorf("reordered keys: %+v\n%s", d, d.Text())
	}
	if md := d.Markdown(); !strings.Contains(md, "\n"+NoChange+"\n") {
		t.Errorf("markdown of no change:\n%s", md)
	}
}

func TestDiffStepTimeout(t *testing.T) {
	d := diffOver(t, diffConfig, edited(t, "        timeout: 30s\n", "        timeout: 45s\n"), "2026-11-02 00:00", 14)
	want := []Change{{Section: SectionTeams, Subject: "ops", Field: "step 2 timeout", Kind: Changed, Old: "30s", New: "45s"}}
	if !slices.Equal(d.Changes, want) || len(d.Handovers) != 0 {
		t.Errorf("changes %+v, handovers %+v; want only %+v", d.Changes, d.Handovers, want)
	}
	if got := d.Text(); got != "teams:\n  ops: step 2 timeout: 30s → 45s\n" {
		t.Errorf("text %q", got)
	}
}

func TestDiffLineMenuLanguagesAndTeams(t *testing.T) {
	cur := edited(t,
		`greeting: "Hello."`, `greeting: "Welcome to support."`,
		`label: "a question"`, `label: "a question about a ticket"`,
		"  - id: desk\n    escalation:\n      - rotation: desk\n",
		"  - id: desk\n    repeat: 1\n    voicemail: false\n    escalation:\n      - rotation: desk\n      - engineer: dana\n",
		`phone: "+15555550104"`, `phone: "+15555550199"`,
	) + `languages:
  - code: es-MX
    digit: "9"
    greeting: "Gracias por llamar."
    prompts: {language_offer: "Para español, oprima {digit}."}
    menu: {"1": "una caída", "2": "una pregunta"}
`
	d := diffOver(t, diffConfig, cur, "2026-11-02 00:00", 1)
	want := []string{
		"line:",
		`  greeting: "Hello." → "Welcome to support."`,
		"menu:",
		`  option 2: label: "a question" → "a question about a ticket"`,
		"languages:",
		`  + es-MX: digit 9; greeting "Gracias por llamar."; prompts.language_offer "Para español, oprima {digit}."; menu.1 "una caída"; menu.2 "una pregunta"`,
		"teams:",
		"  desk: repeat: 0 → 1",
		"  desk: voicemail: true → false",
		"  desk: step 2: (none) → engineer dana, timeout 20s",
		"engineers:",
		"  dana: phone: +15555550104 → +15555550199",
		// The chain as callers meet it: at night the desk rotation is
		// closed, so dana, the new second step, is the first rung.
		"on call, next 1 day from Mon 2026-11-02 00:00 (America/New_York):",
		"  desk primary: Mon 2026-11-02 00:00 – Mon 2026-11-02 08:00 (America/New_York): nobody → Dana Diaz",
		"  desk primary: Mon 2026-11-02 20:00 – Tue 2026-11-03 00:00 (America/New_York): nobody → Dana Diaz",
		"  desk secondary: Mon 2026-11-02 08:00 – Mon 2026-11-02 20:00 (America/New_York): nobody → Dana Diaz",
		"coverage gaps, next 1 day from Mon 2026-11-02 00:00 (America/New_York):",
		"  - gap desk: Mon 2026-11-02 00:00 – Mon 2026-11-02 08:00 (America/New_York)",
		"  - gap desk: Mon 2026-11-02 20:00 – Tue 2026-11-03 00:00 (America/New_York)",
	}
	if got := lines(d.Text()); !slices.Equal(got, want) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDiffMenuOrderAndPins(t *testing.T) {
	withPIN := func(pin string) string {
		return diffConfig + "customers:\n  - {id: globex, name: Globex, numbers: [\"+15555550150\"], pin: \"" + pin + "\"}\n"
	}
	swapped := strings.Replace(withPIN("2468"), `    - digit: "1"
      label: "an outage"
      team: ops
    - digit: "2"
      label: "a question"
      team: desk
`, `    - digit: "2"
      label: "a question"
      team: desk
    - digit: "1"
      label: "an outage"
      team: ops
`, 1)
	d := diffOver(t, withPIN("1357"), swapped, "2026-11-02 00:00", 1)
	want := []string{
		"menu:",
		"  options order: 1, 2 → 2, 1",
		"customers:",
		"  globex: pin: changed",
	}
	if got := lines(d.Text()); !slices.Equal(got, want) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(d.Text()+d.Markdown(), "1357") || strings.Contains(d.Text()+d.Markdown(), "2468") {
		t.Error("a PIN is shown")
	}
}

func TestDiffAcrossDaylightSavingTime(t *testing.T) {
	swap := []string{"members: [alice, bob, carol]", "members: [bob, alice, carol]"}
	for _, tc := range []struct {
		name, start, at string
		first           string
		hours           float64
	}{
		// Clocks fall back on Sunday 2026-11-01: that week is 169 hours.
		{"fall back", "2026-10-26", "2026-10-26 09:00", "Mon 2026-10-26 09:00 – Mon 2026-11-02 09:00 (America/New_York): Alice Adams → Bob Brown", 169},
		// They spring forward on Sunday 2027-03-14: that week is 167 hours.
		{"spring forward", "2026-11-02", "2027-03-08 09:00", "Mon 2027-03-08 09:00 – Mon 2027-03-15 09:00 (America/New_York): Alice Adams → Bob Brown", 167},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := strings.Replace(diffConfig, `start: "2026-11-02"`, `start: "`+tc.start+`"`, 1)
			swapped := strings.Replace(base, swap[0], swap[1], 1)
			d := diffOver(t, base, swapped, tc.at, 14)
			if len(d.Handovers) != 2 {
				t.Fatalf("handovers %+v, want two weeks", d.Handovers)
			}
			h := d.Handovers[0]
			if got := stretch(h.From, h.To) + ": " + h.OldName + " → " + h.NewName; got != tc.first {
				t.Errorf("first stretch %q, want %q", got, tc.first)
			}
			if got := h.To.Sub(h.From).Hours(); got != tc.hours {
				t.Errorf("first stretch lasts %v hours, want %v", got, tc.hours)
			}
			if second := d.Handovers[1]; !second.From.Equal(h.To) || second.To.Sub(second.From) != 168*time.Hour {
				t.Errorf("second stretch %v – %v, want the next 168 hours", second.From, second.To)
			}
		})
	}
}

func TestDiffAddedTeamOpensItsGaps(t *testing.T) {
	cur := edited(t,
		"      team: desk\n", "      team: desk\n    - digit: \"3\"\n      label: \"billing\"\n      team: billing\n",
		"engineers:\n", "  - id: billing\n    escalation:\n      - rotation: desk\nengineers:\n",
	)
	d := diffOver(t, diffConfig, cur, "2026-11-02 00:00", 1)
	text := d.Text()
	for _, w := range []string{
		`  + option 3: label "billing"; team billing`,
		`  + billing: name "billing"; repeat 0; voicemail true; follow_up.outcomes voicemail, missed; follow_up.ack_timeout 5m; step 1 rotation desk, timeout 20s`,
		"  + gap billing: Mon 2026-11-02 00:00 – Mon 2026-11-02 08:00 (America/New_York)",
		"  + gap billing: Mon 2026-11-02 20:00 – Tue 2026-11-03 00:00 (America/New_York)",
	} {
		if !strings.Contains(text, w+"\n") {
			t.Errorf("diff lacks %q:\n%s", w, text)
		}
	}
	if len(d.Handovers) != 0 {
		t.Errorf("a new team has handovers: %+v", d.Handovers)
	}
}

func TestDiffMarkdownEscapesNames(t *testing.T) {
	cur := edited(t, `name: "Bob Brown"`, `name: "Bob <b>*Brown*</b>"`, "members: [alice, bob, carol]", "members: [bob, alice, carol]")
	d := diffOver(t, diffConfig, cur, "2026-11-02 09:00", 7)
	md := d.Markdown()
	for _, w := range []string{
		"### hotline config `" + d.OldRevision[:12] + "` → `" + d.NewRevision[:12] + "`\n",
		"**Engineers**\n\n- bob: name: `\"Bob Brown\"` → `\"Bob <b>*Brown*</b>\"`\n",
		"**On call, next 7 days from Mon 2026-11-02 09:00 (America/New\\_York)**\n\n",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
	if !strings.Contains(md, `Alice Adams → Bob \<b\>\*Brown\*\</b\>`) {
		t.Errorf("a name's markup is not escaped:\n%s", md)
	}
}

func TestDiffMergesAStretchAcrossOtherStepsHandoffs(t *testing.T) {
	// The second step, the desk rotation, changes hands every morning and
	// closes every evening, cutting ops's chain into many segments; the
	// first step's swap is still one stretch a week.
	base := edited(t, "      - engineer: dana\n        timeout: 30s\n", "      - rotation: desk\n")
	swapped := strings.Replace(base, "members: [alice, bob, carol]", "members: [bob, alice, carol]", 1)
	d := diffOver(t, base, swapped, "2026-11-02 09:00", 14)
	var got []string
	for _, h := range d.Handovers {
		got = append(got, handoverLine(h, plain))
	}
	want := []string{
		"ops primary: Mon 2026-11-02 09:00 – Mon 2026-11-09 09:00 (America/New_York): Alice Adams → Bob Brown",
		"ops primary: Mon 2026-11-09 09:00 – Mon 2026-11-16 09:00 (America/New_York): Bob Brown → Alice Adams",
	}
	if !slices.Equal(got, want) {
		t.Errorf("handovers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDiffOrderFreeListsAreNoChange(t *testing.T) {
	with := func(numbers, outcomes string) string {
		s := strings.Replace(diffConfig, "  - id: ops\n", "  - id: ops\n    follow_up: {outcomes: ["+outcomes+"]}\n", 1)
		return s + "customers:\n  - {id: globex, name: Globex, numbers: [" + numbers + "]}\n"
	}
	d := diffOver(t, with(`"+15555550150", "+15555550151"`, "voicemail, abandoned"),
		with(`"+15555550151", "+15555550150"`, "abandoned, voicemail"), "2026-11-02 00:00", 7)
	if !d.Empty() {
		t.Errorf("reordered numbers and outcomes:\n%s", d.Text())
	}
	// The set still counts.
	d = diffOver(t, with(`"+15555550150"`, "voicemail, abandoned"), with(`"+15555550150"`, "voicemail"), "2026-11-02 00:00", 7)
	if got := d.Text(); got != "teams:\n  ops: follow_up.outcomes: voicemail, abandoned → voicemail\n" {
		t.Errorf("outcomes narrowed: %q", got)
	}
}

func TestDiffMarkdownMarksAddedAndRemoved(t *testing.T) {
	cur := edited(t, "  - {id: dana, name: \"Dana Diaz\", phone: \"+15555550104\"}\n",
		"  - {id: dana, name: \"Dana Diaz\", phone: \"+15555550104\"}\n  - {id: erin, name: \"Erin Earl\", phone: \"+15555550105\"}\n")
	md := diffOver(t, cur, diffConfig, "2026-11-02 00:00", 1).Markdown()
	if !strings.Contains(md, "**Engineers**\n\n- `-` erin: `name \"Erin Earl\"; phone +15555550105`\n") {
		t.Errorf("removed engineer:\n%s", md)
	}
	md = diffOver(t, diffConfig, cur, "2026-11-02 00:00", 1).Markdown()
	if !strings.Contains(md, "- `+` erin: `name \"Erin Earl\"; phone +15555550105`\n") {
		t.Errorf("added engineer:\n%s", md)
	}
}
