package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/schedules"
)

const examplePath = "../examples/hotline.yaml"

func mustLoad(t *testing.T, path string) *Config {
	t.Helper()
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("LoadConfig(%s): %v", path, err)
	}
	return c
}

func TestConfigExample(t *testing.T) {
	c := mustLoad(t, examplePath)
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if c.Path != examplePath || c.Revision != hex.EncodeToString(sum[:]) {
		t.Errorf("Path, Revision = %q, %q", c.Path, c.Revision)
	}

	h := c.Hotline
	if h.Number != "+18005550100" || h.Timezone != "America/New_York" || h.Location.String() != "America/New_York" ||
		h.EmergencyNumber != "+15555550199" || h.Voice != "Polly.Joanna" || h.Language != "en-US" || h.Greeting == "" {
		t.Errorf("Hotline = %+v", h)
	}

	wantMenu := Menu{Attempts: 3, Timeout: 6 * time.Second, Default: "1", Options: []Option{
		{Digit: "1", Label: "a production outage", Team: "ops"},
		{Digit: "2", Label: "a question about an existing ticket", Team: "desk"},
	}}
	if !menuEqual(c.Menu, wantMenu) {
		t.Errorf("Menu = %+v, want %+v", c.Menu, wantMenu)
	}

	ops, ok := c.Team("ops")
	if !ok || ops.Name != "Operations" || ops.Repeat != 1 || !ops.Voicemail {
		t.Fatalf("Team(ops) = %+v, %v", ops, ok)
	}
	wantOps := []EscalationStep{
		{Rotations: []string{"ops-emea", "ops-amer", "ops-weekend"}, Timeout: 25 * time.Second},
		{Rotations: []string{"ops-secondary"}, Timeout: 20 * time.Second},
		{Engineer: "dana", Timeout: 30 * time.Second},
	}
	if !stepsEqual(ops.Escalation, wantOps) {
		t.Errorf("ops escalation = %+v, want %+v", ops.Escalation, wantOps)
	}
	desk, ok := c.Team("desk")
	if !ok || desk.Name != "Service Desk" || desk.Repeat != 0 || !desk.Voicemail ||
		!stepsEqual(desk.Escalation, []EscalationStep{{Rotations: []string{"desk"}, Timeout: 30 * time.Second}}) {
		t.Errorf("Team(desk) = %+v, %v", desk, ok)
	}
	if c.DefaultTeam() != "ops" {
		t.Errorf("DefaultTeam() = %q", c.DefaultTeam())
	}

	if len(c.Engineers) != 8 {
		t.Errorf("%d engineers, want 8", len(c.Engineers))
	}
	if e, ok := c.Engineer("dana"); !ok || e != (schedules.Engineer{ID: "dana", Name: "Dana Diaz", Phone: "+15555550104"}) {
		t.Errorf("Engineer(dana) = %+v, %v", e, ok)
	}

	weekdays := [7]bool{false, true, true, true, true, true, false}
	for _, tc := range []struct {
		id     string
		kind   schedules.ShiftKind
		day    time.Weekday
		minute int
		start  schedules.Date
		zone   string
		active *schedules.Window
	}{
		{"ops-emea", schedules.Weekly, time.Monday, 8 * 60, schedules.Date{Year: 2026, Month: 11, Day: 2}, "Europe/London",
			&schedules.Window{Days: weekdays, From: 8 * 60, To: 16 * 60}},
		{"ops-amer", schedules.Weekly, time.Monday, 9 * 60, schedules.Date{Year: 2026, Month: 11, Day: 2}, "America/New_York",
			&schedules.Window{Days: weekdays, From: 11 * 60, To: 3 * 60}},
		{"ops-weekend", schedules.Weekly, time.Friday, 17 * 60, schedules.Date{Year: 2026, Month: 11, Day: 6}, "America/New_York", nil},
		{"ops-secondary", schedules.Weekly, time.Monday, 9 * 60, schedules.Date{Year: 2026, Month: 11, Day: 9}, "America/New_York", nil},
		{"desk", schedules.Daily, time.Sunday, 8 * 60, schedules.Date{Year: 2026, Month: 11, Day: 2}, "America/New_York", nil},
	} {
		r, ok := c.Rotation(tc.id)
		if !ok {
			t.Errorf("Rotation(%s) missing", tc.id)
			continue
		}
		if r.Kind != tc.kind || r.HandoffDay != tc.day || r.HandoffMinute != tc.minute || r.Start != tc.start ||
			r.Location.String() != tc.zone || !windowEqual(r.Active, tc.active) || len(r.Members) == 0 {
			t.Errorf("Rotation(%s) = %+v (zone %s, active %+v)", tc.id, r, r.Location, r.Active)
		}
	}
	if r, _ := c.Rotation("desk"); !slices.Equal(r.Members, []string{"frank", "grace"}) {
		t.Errorf("desk members = %v", r.Members)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := mustLoad(t, "testdata/minimal.yaml")
	if c.Menu.Attempts != 3 || c.Menu.Timeout != 6*time.Second || c.Menu.Default != "1" {
		t.Errorf("Menu = %+v, want attempts 3, timeout 6s, default 1 (the only option)", c.Menu)
	}
	ops, _ := c.Team("ops")
	if ops.Name != "ops" || ops.Repeat != 0 || !ops.Voicemail {
		t.Errorf("Team(ops) = %+v, want name ops, repeat 0, voicemail", ops)
	}
	want := []EscalationStep{
		{Rotations: []string{"ops-primary"}, Timeout: 20 * time.Second},
		{Engineer: "dana", Timeout: 20 * time.Second},
	}
	if !stepsEqual(ops.Escalation, want) {
		t.Errorf("escalation = %+v, want %+v", ops.Escalation, want)
	}
	if e, _ := c.Engineer("alice"); e.Name != "alice" {
		t.Errorf("engineer name = %q, want the id", e.Name)
	}
	r, _ := c.Rotation("ops-primary")
	if r.Location != c.Hotline.Location || r.Active != nil {
		t.Errorf("rotation zone %v active %v, want the hotline's zone and always active", r.Location, r.Active)
	}
	if c.Hotline.EmergencyNumber != "" || c.Hotline.Voice != "" {
		t.Errorf("optional hotline fields set: %+v", c.Hotline)
	}
}

func TestConfigFull(t *testing.T) {
	c := mustLoad(t, "testdata/full.yaml")
	night, _ := c.Rotation("ops-night")
	if night.Kind != schedules.Every || night.Every != 12*time.Hour || night.HandoffMinute != 8*60 || night.Location.String() != "Europe/London" {
		t.Errorf("ops-night = %+v", night)
	}
	desk, _ := c.Team("desk")
	if o, ok := c.Option("2"); !ok || o.Team != "desk" || desk.ID != "desk" {
		t.Errorf("Option(2) = %+v, %v", o, ok)
	}
}

func TestConfigAliases(t *testing.T) {
	data, err := os.ReadFile("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "    start: \"2026-11-02\"\n",
		"    start: \"2026-11-02\"\n    active: &office\n      from: \"09:00\"\n      to: \"17:00\"\n"+
			"  - id: backup\n    members: [dana]\n    shift: daily\n    handoff: \"09:00\"\n    start: \"2026-11-02\"\n    active: *office\n", 1)
	c, err := ParseConfig("aliases.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Rotation("backup")
	if r.Active == nil || r.Active.From != 9*60 || r.Active.To != 17*60 || r.Active.Days != [7]bool{true, true, true, true, true, true, true} {
		t.Errorf("backup active = %+v, want the anchored window on every day", r.Active)
	}
}

// TestConfigErrors checks each fixture under testdata/bad: exactly one error,
// at the right file, line and key, so a mistake does not cascade.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		line int
		key  string
		msg  string
	}{
		{"unknown-key", 24, "teams[0].escalation[0].timout", `unknown key (did you mean "timeout"?)`},
		{"bad-duration", 24, "teams[0].escalation[0].timeout", `invalid duration "20 s"`},
		{"duration-no-unit", 24, "teams[0].escalation[0].timeout", `invalid duration "20": add a unit, as in "20s"`},
		{"ring-timeout-range", 24, "teams[0].escalation[0].timeout", `2s is out of range 5s to 10m0s`},
		{"menu-timeout-range", 9, "menu.timeout", `90s is out of range 1s to 1m0s`},
		{"attempts-range", 8, "menu.attempts", `0 is out of range 1 to 10`},
		{"attempts-type", 8, "menu.attempts", `expected a whole number, got a list`},
		{"repeat-range", 21, "teams[0].repeat", `11 is out of range 0 to 10`},
		{"repeat-type", 21, "teams[0].repeat", `expected a whole number, got the string "once"`},
		{"follow-up-outcome", 23, "teams[0].follow_up.outcomes[1]", `invalid outcome "answered": want voicemail, missed or abandoned`},
		{"ack-timeout-range", 22, "teams[0].follow_up.ack_timeout", `2s is out of range 5s to 24h0m0s`},
		{"follow-up-type", 22, "teams[0].follow_up", `expected a mapping, got the string "always"`},
		{"calls-per-second-range", 7, "hotline.outbound_calls_per_second", `0 is out of range: more than 0, at most 100`},
		{"calls-per-second-type", 7, "hotline.outbound_calls_per_second", `expected a number, got the string "fast"`},
		{"voicemail-type", 28, "teams[1].voicemail", `expected true or false, got the string "yes"`},
		{"step-not-mapping", 26, "teams[0].escalation[2]", `expected a mapping, got the string "dana"`},
		{"missing-number", 2, "hotline.number", `required`},
		{"missing-timezone", 2, "hotline.timezone", `required`},
		{"empty-greeting", 5, "hotline.greeting", `required`},
		{"no-options", 10, "menu.options", `required, with at least one entry`},
		{"missing-team-id", 27, "teams[1].id", `required`},
		{"empty-escalation", 29, "teams[1].escalation", `required, with at least one entry`},
		{"missing-phone", 35, "engineers[1].phone", `required`},
		{"missing-members", 57, "rotations[2].members", `required, with at least one entry`},
		{"missing-start", 62, "rotations[3].start", `required`},
		{"duplicate-team", 27, "teams[1].id", `duplicate team id "ops" (first defined at line 19)`},
		{"duplicate-engineer", 41, "engineers[4].id", `duplicate engineer id "alice" (first defined at line 32)`},
		{"duplicate-rotation", 67, "rotations[4].id", `duplicate rotation id "desk" (first defined at line 62)`},
		{"bad-id", 41, "engineers[4].id", `invalid id "eve smith": use up to 64 letters, digits, '-', '_' or '.'`},
		{"undefined-engineer", 26, "teams[0].escalation[2].engineer", `undefined engineer "dan"`},
		{"undefined-member", 52, "rotations[1].members[1]", `undefined engineer "zed"`},
		{"undefined-rotation", 25, "teams[0].escalation[1].rotation", `undefined rotation "ops-second"`},
		{"undefined-rotation-list", 23, "teams[0].escalation[0].rotations[1]", `undefined rotation "ops-nite"`},
		{"undefined-team", 17, "menu.options[1].team", `undefined team "helpdesk"`},
		{"bad-phone", 36, "engineers[1].phone", `invalid phone number "555-0102": want E.164 such as "+15555550100"`},
		{"bad-emergency-number", 6, "hotline.emergency_number", `invalid phone number "+05555550199": want E.164 such as "+15555550100"`},
		{"bad-hotline-zone", 4, "hotline.timezone", `unknown time zone "America/NewYork"`},
		{"local-zone", 4, "hotline.timezone", `invalid time zone "Local": name the zone, such as "America/New_York"`},
		{"bad-rotation-zone", 56, "rotations[1].timezone", `unknown time zone "Europe/Londres"`},
		{"bad-shift", 53, "rotations[1].shift", `invalid shift "fortnightly": want daily, weekly or a duration such as 12h`},
		{"shift-seconds", 53, "rotations[1].shift", `invalid shift "90s": want a whole number of minutes, at least 1m`},
		{"weekly-handoff-no-day", 60, "rotations[2].handoff", `invalid handoff "17:00": a weekly shift hands off on a day at a time, such as "Mon 09:00"`},
		{"daily-handoff-with-day", 65, "rotations[3].handoff", `invalid handoff "Mon 09:00": a daily shift hands off at a time of day, such as "09:00"`},
		{"handoff-bad-time", 54, "rotations[1].handoff", `invalid handoff "24:00": want a time from 00:00 to 23:59`},
		{"handoff-bad-day", 60, "rotations[2].handoff", `invalid handoff "Fry 17:00": unknown weekday "Fry"`},
		{"bad-start", 61, "rotations[2].start", `invalid date "2026-11-31": want YYYY-MM-DD`},
		{"weekly-start-weekday", 61, "rotations[2].start", `2026-11-05 is a Thursday, but the weekly handoff is on Friday: start on a handoff day`},
		{"repeated-digit", 15, "menu.options[1].digit", `digit "1" is already used at line 12`},
		{"star-digit", 15, "menu.options[1].digit", `invalid digit "*": want one key from 1 to 9 (* repeats the menu, 0 and # are reserved)`},
		{"long-digit", 15, "menu.options[1].digit", `invalid digit "12": want one key from 1 to 9 (* repeats the menu, 0 and # are reserved)`},
		{"missing-default", 7, "menu.default", `required when the menu has more than one option`},
		{"default-not-option", 10, "menu.default", `"3" is not an option's digit (1, 2)`},
		{"bad-day", 48, "rotations[0].active.days[4]", `invalid day "fry": want one of mon, tue, wed, thu, fri, sat, sun`},
		{"bad-from", 49, "rotations[0].active.from", `invalid time "8am": want HH:MM from 00:00 to 23:59`},
		{"empty-window", 50, "rotations[0].active.to", `the window from 08:00 to 08:00 is empty; leave out active for all day`},
		{"step-both", 26, "teams[0].escalation[2].engineer", `a step has one of rotation, rotations or engineer, not both rotation and engineer`},
		{"step-none", 26, "teams[0].escalation[2]", `a step needs one of rotation, rotations or engineer`},
		{"syntax-error", 21, "", `invalid YAML: could not find expected ':'`},
		{"tab-indent", 21, "", `invalid YAML: found character that cannot start any token`},
		{"unknown-section", 67, "webhooks", `unknown key (expected one of hotline, menu, teams, engineers, rotations, customers, languages)`},
		{"unknown-hotline-key", 6, "hotline.sms", `unknown key (expected one of number, timezone, greeting, voice, language, emergency_number, identify, unknown_callers, caller_id_attestation, sms_from, messaging_service_sid, outbound_calls_per_second)`},
		{"repeated-key", 6, "hotline.greeting", `repeated key (first at line 5)`},
		{"two-documents", 67, "", `the file holds more than one YAML document; keep one`},
		{"empty", 1, "", `the config is empty`},
		{"alias-loop", 3, "", `alias *h refers to the node it is part of`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			name := filepath.Join("testdata", "bad", tc.file+".yaml")
			c, err := LoadConfig(name)
			if c != nil {
				t.Errorf("got a config with the error %v", err)
			}
			var errs ConfigErrors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v (%T) is not ConfigErrors", err, err)
			}
			want := ConfigError{File: name, Line: tc.line, Key: tc.key, Msg: tc.msg}
			if len(errs) != 1 || *errs[0] != want {
				t.Errorf("errors:\n%v\nwant exactly:\n%v", err, &want)
			}
			var one *ConfigError
			if !errors.As(err, &one) || one.Line != tc.line {
				t.Errorf("errors.As(*ConfigError) = %v", one)
			}
		})
	}
}

func TestConfigErrorsInLineOrder(t *testing.T) {
	_, err := LoadConfig("testdata/bad/many-errors.yaml")
	want := strings.Join([]string{
		`testdata/bad/many-errors.yaml:4: hotline.timezone: unknown time zone "America/NewYork"`,
		`testdata/bad/many-errors.yaml:7: menu.default: required when the menu has more than one option`,
		`testdata/bad/many-errors.yaml:23: teams[0].escalation[0].timeout: invalid duration "20 s"`,
		`testdata/bad/many-errors.yaml:35: engineers[1].phone: invalid phone number "555-0102": want E.164 such as "+15555550100"`,
		`testdata/bad/many-errors.yaml:60: rotations[2].start: 2026-11-05 is a Thursday, but the weekly handoff is on Friday: start on a handoff day`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestConfigErrorFormat(t *testing.T) {
	e := &ConfigError{File: "hotline.yaml", Line: 14, Key: "teams[0].escalation[1].timeout", Msg: `invalid duration "20 s"`}
	if got, want := e.Error(), `hotline.yaml:14: teams[0].escalation[1].timeout: invalid duration "20 s"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestConfigWrongShapes(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"- hotline\n", "x.yaml:1: expected a mapping, got a list"},
		{"just words\n", `x.yaml:1: expected a mapping, got the string "just words"`},
		{"hotline: {}\nmenu: []\n", "x.yaml:1: teams: required\nx.yaml:1: engineers: required\n" +
			"x.yaml:1: hotline.number: required\nx.yaml:1: hotline.timezone: required\nx.yaml:1: hotline.greeting: required\n" +
			"x.yaml:2: menu: expected a mapping, got a list"},
		{"a: 1\nb: \xff\n", "x.yaml:2: invalid YAML: invalid leading UTF-8 octet"},
		{"hotline:\n  <<: {number: 1}\n", "x.yaml:1: menu: required\nx.yaml:1: teams: required\nx.yaml:1: engineers: required\n" +
			"x.yaml:1: hotline.number: required\nx.yaml:1: hotline.timezone: required\nx.yaml:1: hotline.greeting: required\n" +
			"x.yaml:2: hotline.<<: merge keys are not supported; write the keys out"},
	} {
		c, err := ParseConfig("x.yaml", []byte(tc.src))
		if c != nil || err == nil || err.Error() != tc.want {
			t.Errorf("ParseConfig(%q) error:\n%v\nwant:\n%s", tc.src, err, tc.want)
		}
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	c, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	if c != nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadConfig = %v, %v; want nil and a not-exist error", c, err)
	}
}

func TestConfigLookups(t *testing.T) {
	c := mustLoad(t, examplePath)
	hand := &Config{
		Menu:      Menu{Options: []Option{{Digit: "4", Team: "t"}}},
		Teams:     []Team{{ID: "t"}},
		Engineers: []schedules.Engineer{{ID: "e"}},
		Rotations: []*schedules.Rotation{{ID: "r"}},
	}
	for _, tc := range []struct {
		name, team, engineer, rotation, digit, defaultTeam string
		c                                                  *Config
	}{
		{"parsed", "desk", "grace", "ops-amer", "2", "ops", c},
		{"built by hand", "t", "e", "r", "4", "t", hand},
	} {
		if tm, ok := tc.c.Team(tc.team); !ok || tm.ID != tc.team {
			t.Errorf("%s: Team(%q) = %v, %v", tc.name, tc.team, tm, ok)
		}
		if e, ok := tc.c.Engineer(tc.engineer); !ok || e.ID != tc.engineer || !tc.c.HasEngineer(tc.engineer) {
			t.Errorf("%s: Engineer(%q) = %v, %v", tc.name, tc.engineer, e, ok)
		}
		if r, ok := tc.c.Rotation(tc.rotation); !ok || r.ID != tc.rotation || !tc.c.HasRotation(tc.rotation) {
			t.Errorf("%s: Rotation(%q) = %v, %v", tc.name, tc.rotation, r, ok)
		}
		if o, ok := tc.c.Option(tc.digit); !ok || o.Digit != tc.digit {
			t.Errorf("%s: Option(%q) = %v, %v", tc.name, tc.digit, o, ok)
		}
		if got := tc.c.DefaultTeam(); got != tc.defaultTeam {
			t.Errorf("%s: DefaultTeam() = %q, want %q", tc.name, got, tc.defaultTeam)
		}
		if _, ok := tc.c.Team("nobody"); ok || tc.c.HasEngineer("nobody") || tc.c.HasRotation("nobody") {
			t.Errorf("%s: found an undefined id", tc.name)
		}
		if _, ok := tc.c.Option("*"); ok {
			t.Errorf("%s: Option(*) found", tc.name)
		}
	}
	// The pointer is into the config, not a copy.
	if tm, _ := c.Team("ops"); tm != &c.Teams[0] {
		t.Error("Team returned a copy")
	}
}

func menuEqual(a, b Menu) bool {
	return a.Attempts == b.Attempts && a.Timeout == b.Timeout && a.Default == b.Default && slices.Equal(a.Options, b.Options)
}

func stepsEqual(a, b []EscalationStep) bool {
	return slices.EqualFunc(a, b, func(x, y EscalationStep) bool {
		return slices.Equal(x.Rotations, y.Rotations) && x.Engineer == y.Engineer && x.Timeout == y.Timeout
	})
}

func windowEqual(a, b *schedules.Window) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
