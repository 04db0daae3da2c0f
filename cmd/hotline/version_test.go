package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionLine: the line names the module version, the revision with
// -modified for a dirty tree, the commit time and the Go version, and says
// unknown for what a build did not record.
func TestVersionLine(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "94d9cd3c0ffee"}, {Key: "vcs.time", Value: "2026-12-02T04:21:14Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	if got, want := versionLine(info, true), "hotline v1.4.0 revision 94d9cd3c0ffee-modified time 2026-12-02T04:21:14Z go1.26.8"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	info.Settings[2].Value = "false"
	if got := versionLine(info, true); !strings.Contains(got, "revision 94d9cd3c0ffee time") {
		t.Errorf("a clean tree: %q", got)
	}
	bare := &debug.BuildInfo{GoVersion: "go1.26.8"}
	if got, want := versionLine(bare, true), "hotline unknown revision unknown time unknown go1.26.8"; got != want {
		t.Errorf("no VCS stamp: %q, want %q", got, want)
	}
}

// TestVersionCommand: `hotline version` and `hotline --version` print the
// same single line, the running binary's build info with its Go version;
// an argument is a usage error.
func TestVersionCommand(t *testing.T) {
	a, _, code := runCLI(t, nil, "", "version")
	b, _, code2 := runCLI(t, nil, "", "--version")
	if code != 0 || code2 != 0 || a != b || strings.Count(a, "\n") != 1 {
		t.Errorf("version %d %q, --version %d %q: want one identical line", code, a, code2, b)
	}
	if want := versionLine(debug.ReadBuildInfo()) + "\n"; a != want || !strings.HasSuffix(a, " "+runtime.Version()+"\n") {
		t.Errorf("version = %q, want %q ending with %s", a, want, runtime.Version())
	}
	if _, _, code := runCLI(t, nil, "", "version", "extra"); code != 2 {
		t.Errorf("version extra: exit %d, want 2", code)
	}
}
