package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// exampleEdited is the example config with each old → new pair replaced
// once, failing the test when one is not there.
func exampleEdited(t *testing.T, pairs ...string) string {
	t.Helper()
	s := mustRead(t, "../../examples/hotline.yaml")
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("the example config has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestDiffSwappedMembers(t *testing.T) {
	dir := t.TempDir()
	old := writeFile(t, dir, "old.yaml", exampleEdited(t))
	cur := writeFile(t, dir, "new.yaml", exampleEdited(t, "members: [alice, bob, carol]", "members: [bob, alice, carol]"))
	want := []string{
		"rotations:",
		"  ops-amer: members: alice, bob, carol → bob, alice, carol",
		"on call, next 2 days from Mon 2026-11-02 09:00 (America/New_York):",
		// ops-amer's window, on its own (New York's) wall clock.
		"  ops primary: Mon 2026-11-02 11:00 – Tue 2026-11-03 03:00 (America/New_York): Alice Adams → Bob Brown",
		"  ops primary: Tue 2026-11-03 11:00 – Wed 2026-11-04 03:00 (America/New_York): Alice Adams → Bob Brown",
	}
	// The same moment three ways: UTC, and the line's wall clock with and
	// without the T.
	for _, at := range []string{"2026-11-02T14:00:00Z", "2026-11-02 09:00", "2026-11-02T09:00"} {
		stdout, stderr, code := runCLI(t, nil, "", "diff", old, cur, "--at", at, "--days", "2")
		if code != 0 {
			t.Fatalf("--at %s: exit %d\n%s", at, code, stderr)
		}
		if got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n"); !slices.Equal(got, want) {
			t.Errorf("--at %s printed:\n%s\nwant:\n%s", at, stdout, strings.Join(want, "\n"))
		}
		if !strings.Contains(stderr, "1 setting changes, 2 handover stretches, 0 gaps opened, 0 closed in the next 2 days") {
			t.Errorf("--at %s: summary %q", at, stderr)
		}
	}
}

func TestDiffAcrossSpringForward(t *testing.T) {
	// Clocks in New York spring forward on Sunday 2027-03-14: the week of
	// ops-secondary that spans it is 167 hours, Monday 09:00 to Monday 09:00.
	dir := t.TempDir()
	old := writeFile(t, dir, "old.yaml", exampleEdited(t))
	cur := writeFile(t, dir, "new.yaml", exampleEdited(t, "members: [carol, alice, bob]", "members: [carol, bob, alice]"))
	stdout, stderr, code := runCLI(t, nil, "", "diff", old, cur, "--at", "2027-03-08", "--days", "21")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, w := range []string{
		"  ops secondary: Mon 2027-03-08 09:00 – Mon 2027-03-15 09:00 (America/New_York): Bob Brown → Alice Adams\n",
		"  ops secondary: Mon 2027-03-22 09:00 – Mon 2027-03-29 00:00 (America/New_York): Alice Adams → Bob Brown\n",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("diff lacks %q:\n%s", w, stdout)
		}
	}
	if strings.Contains(stdout, "2027-03-15 09:00 – Mon 2027-03-22") {
		t.Errorf("carol's week, the same in both, is listed:\n%s", stdout)
	}
}

func TestDiffNarrowedWindowStrict(t *testing.T) {
	dir := t.TempDir()
	old := writeFile(t, dir, "old.yaml", exampleEdited(t))
	narrowed := exampleEdited(t, "    shift: daily\n    handoff: \"08:00\"\n", "    shift: daily\n    handoff: \"08:00\"\n    active: {from: \"08:00\", to: \"18:00\"}\n")
	cur := writeFile(t, dir, "new.yaml", narrowed)
	args := []string{"diff", old, cur, "--at", "2026-11-02 08:00", "--days", "1"}
	stdout, stderr, code := runCLI(t, nil, "", args...)
	if code != 0 {
		t.Fatalf("without --strict: exit %d, want 0\n%s", code, stderr)
	}
	want := "coverage gaps, next 1 day from Mon 2026-11-02 08:00 (America/New_York):\n" +
		"  + gap desk: Mon 2026-11-02 18:00 – Tue 2026-11-03 08:00 (America/New_York)\n"
	if !strings.HasSuffix(stdout, want) || !strings.Contains(stdout, "  desk primary: Mon 2026-11-02 18:00 – Tue 2026-11-03 08:00 (America/New_York): Frank Fischer → nobody\n") {
		t.Errorf("diff printed:\n%s\nwant it to end:\n%s", stdout, want)
	}
	stdout2, stderr, code := runCLI(t, nil, "", append(args, "--strict")...)
	if code != 1 || stdout2 != stdout || !strings.Contains(stderr, "opens coverage gaps (--strict)") {
		t.Errorf("--strict: exit %d, want 1 after the same diff\n%s", code, stderr)
	}
	// Widening it back closes the gap, which --strict accepts.
	stdout, stderr, code = runCLI(t, nil, "", "diff", cur, old, "--at", "2026-11-02 08:00", "--days", "1", "--strict")
	if code != 0 || !strings.Contains(stdout, "  - gap desk: Mon 2026-11-02 18:00 – Tue 2026-11-03 08:00 (America/New_York)\n") {
		t.Errorf("closing a gap with --strict: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestDiffReorderedAndRecommentedIsNoChange(t *testing.T) {
	dir := t.TempDir()
	text := exampleEdited(t)
	// Drop every comment, then put the top-level sections in reverse order
	// under a comment of our own.
	text = regexp.MustCompile(`(?m)[ \t]*#.*$`).ReplaceAllString(text, "")
	var blocks []string
	for _, b := range regexp.MustCompile(`(?m)^[a-z]`).FindAllStringIndex(text, -1) {
		blocks = append(blocks, text[b[0]:])
	}
	for i := range len(blocks) - 1 {
		blocks[i] = strings.TrimSuffix(blocks[i], blocks[i+1])
	}
	slices.Reverse(blocks)
	reordered := "# reviewed, nothing changes\n" + strings.Join(blocks, "\n")
	old := writeFile(t, dir, "old.yaml", exampleEdited(t))
	cur := writeFile(t, dir, "new.yaml", reordered)
	for format, want := range map[string]*regexp.Regexp{
		"text":     regexp.MustCompile("^no change for callers or engineers\n$"),
		"markdown": regexp.MustCompile("^### hotline config `[0-9a-f]{12}` → `[0-9a-f]{12}`\n\nno change for callers or engineers\n$"),
	} {
		stdout, stderr, code := runCLI(t, nil, "", "diff", old, cur, "--at", "2026-11-02", "--strict", "--format", format)
		if code != 0 || !want.MatchString(stdout) {
			t.Errorf("--format %s: exit %d, printed:\n%s%s", format, code, stdout, stderr)
		}
		if !strings.Contains(stderr, ": 0 setting changes, 0 handover stretches, 0 gaps opened, 0 closed in the next 14 days") {
			t.Errorf("summary %q", stderr)
		}
	}
}

func TestDiffStepTimeoutMarkdown(t *testing.T) {
	dir := t.TempDir()
	old := writeFile(t, dir, "old.yaml", exampleEdited(t))
	cur := writeFile(t, dir, "new.yaml", exampleEdited(t, "timeout: 25s", "timeout: 40s"))
	stdout, stderr, code := runCLI(t, nil, "", "diff", old, cur, "--at", "2026-11-02")
	if code != 0 || stdout != "teams:\n  ops: step 1 timeout: 25s → 40s\n" {
		t.Errorf("exit %d, printed %q\n%s", code, stdout, stderr)
	}
	stdout, _, _ = runCLI(t, nil, "", "diff", old, cur, "--at", "2026-11-02", "--format", "markdown")
	want := regexp.MustCompile("^### hotline config `[0-9a-f]{12}` → `[0-9a-f]{12}`\n\n\\*\\*Teams\\*\\*\n\n- ops: step 1 timeout: `25s` → `40s`\n\n$")
	if !want.MatchString(stdout) {
		t.Errorf("markdown:\n%s", stdout)
	}
}

func TestDiffInvalidFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", exampleEdited(t))
	bad := writeFile(t, dir, "bad.yaml", "hotline:\n  number: \"+18005550100\"\n  timezon: UTC\n")
	worse := writeFile(t, dir, "worse.yaml", exampleEdited(t, "timeout: 25s", "timeout: 25 s"))
	stdout, stderr, code := runCLI(t, nil, "", "diff", bad, worse)
	if code != 1 || stdout != "" {
		t.Errorf("two invalid files: exit %d, want 1 and nothing on stdout\n%s", code, stdout)
	}
	for _, w := range []string{"bad.yaml:3: hotline.timezon", "worse.yaml:39: teams[0].escalation[0].timeout"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("errors lack %q:\n%s", w, stderr)
		}
	}
	if _, stderr, code = runCLI(t, nil, "", "diff", good, dir+"/missing.yaml"); code != 1 {
		t.Errorf("a missing file: exit %d, want 1\n%s", code, stderr)
	}
	for _, args := range [][]string{
		{"diff"},
		{"diff", good},
		{"diff", good, good, good},
		{"diff", good, good, "--format", "html"},
		{"diff", good, good, "--days", "0"},
		{"diff", good, good, "--at", "yesterday"},
	} {
		_, stderr, code := runCLI(t, nil, "", args...)
		if code != 2 || !strings.Contains(stderr, "usage: hotline diff") {
			t.Errorf("hotline %v: exit %d, want 2 with usage\n%s", args[1:], code, stderr)
		}
	}
}
