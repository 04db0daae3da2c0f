package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// versionLine is the one line `hotline version` prints, from the binary's
// build info: the module version ("(devel)" for a build inside the
// repository), the VCS revision, "-modified" after it when the build had
// uncommitted changes, the time of that commit (vcs.time: Go records no
// build time, and a commit's time is what makes a build reproducible), and
// the Go version. What the build did not record is "unknown" (go run
// without VCS stamping, go test).
func versionLine(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "hotline (no build info)"
	}
	version := info.Main.Version
	if version == "" {
		version = "unknown"
	}
	var rev, at, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-modified"
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	if at == "" {
		at = "unknown"
	}
	return strings.Join([]string{"hotline", version, "revision", rev + dirty, "time", at, info.GoVersion}, " ")
}

func cmdVersion(e env, args []string) error {
	if len(args) > 0 {
		return usageErr("version: takes no arguments")
	}
	fmt.Fprintln(e.stdout, versionLine(debug.ReadBuildInfo()))
	return nil
}
