package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig checks that no input panics ParseConfig, that it returns a
// config exactly when it returns no error, and that every error it returns
// names the file and a line. The seeds are the example and every fixture.
func FuzzParseConfig(f *testing.F) {
	seeds := []string{examplePath}
	for _, pattern := range []string{"testdata/*.yaml", "testdata/bad/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, files...)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("fuzz.yaml", data)
		if (c == nil) != (err != nil) {
			t.Fatalf("ParseConfig = %v, %v: want a config or an error", c, err)
		}
		if err != nil {
			var errs ConfigErrors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty ConfigErrors", err, err)
			}
			for i, e := range errs {
				if e.File != "fuzz.yaml" || e.Line < 1 || i > 0 && e.Line < errs[i-1].Line {
					t.Fatalf("error %d: %q at line %d, out of order or unplaced", i, e.File, e.Line)
				}
			}
			return
		}
		// A config that parses is whole: every reference resolves.
		if _, ok := c.Option(c.Menu.Default); !ok || c.DefaultTeam() == "" {
			t.Fatalf("default %q names no option", c.Menu.Default)
		}
		for _, o := range c.Menu.Options {
			if _, ok := c.Team(o.Team); !ok {
				t.Fatalf("option %s names undefined team %q", o.Digit, o.Team)
			}
		}
		for _, tm := range c.Teams {
			for _, s := range tm.Escalation {
				if (s.Engineer == "") == (len(s.Rotations) == 0) || s.Engineer != "" && !c.HasEngineer(s.Engineer) {
					t.Fatalf("team %s: bad step %+v", tm.ID, s)
				}
				for _, r := range s.Rotations {
					if !c.HasRotation(r) {
						t.Fatalf("team %s: undefined rotation %q", tm.ID, r)
					}
				}
			}
		}
		for _, r := range c.Rotations {
			if r.Location == nil || len(r.Members) == 0 {
				t.Fatalf("rotation %s: zone %v, members %v", r.ID, r.Location, r.Members)
			}
			for _, m := range r.Members {
				if !c.HasEngineer(m) {
					t.Fatalf("rotation %s: undefined member %q", r.ID, m)
				}
			}
		}
	})
}
