package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCodeMapMatchesImports: README's code map lists every package of the
// module, and no other, each with exactly the module's packages it imports
// (tests aside), so the map a newcomer reads is the code's.
func TestCodeMapMatchesImports(t *testing.T) {
	const module = "github.com/hotline-dev/hotline/"
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "<!-- code map: begin -->")
	table, _, ok2 := strings.Cut(table, "<!-- code map: end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no code map between <!-- code map: begin --> and <!-- code map: end -->")
	}
	documented := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 3 || !strings.HasPrefix(cells[0], "| `") {
			continue
		}
		pkg := strings.Trim(strings.TrimPrefix(cells[0], "| "), "`")
		documented[pkg] = strings.TrimSuffix(strings.TrimSpace(cells[len(cells)-1]), " |")
	}

	actual := map[string]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		imports := strings.Split(actual[pkg], ", ")
		if actual[pkg] == "" {
			imports = nil
		}
		for _, im := range f.Imports {
			if p := strings.Trim(im.Path.Value, `"`); strings.HasPrefix(p, module) && !slices.Contains(imports, strings.TrimPrefix(p, module)) {
				imports = append(imports, strings.TrimPrefix(p, module))
			}
		}
		slices.Sort(imports)
		actual[pkg] = strings.Join(imports, ", ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg, imports := range actual {
		want := imports
		if want == "" {
			want = "—"
		}
		got, ok := documented[pkg]
		switch {
		case !ok:
			t.Errorf("README's code map lacks package %s (imports: %s)", pkg, want)
		case got != want:
			t.Errorf("README's code map says %s imports %q; it imports %q", pkg, got, want)
		}
	}
	// The tiers imports flow down: a package imports only from tiers
	// below its own, or, within config's tier, what the README names.
	tier := map[string]int{"store": 0, "store/storetest": 1, "problem": 0, "examples": 0, "ivr/sim": 0,
		"config": 1, "schedules": 1, "audit": 1, "routing": 2, "incident": 2, "announce": 2, "revisions": 2,
		"ivr": 3, "web": 3, "notify": 3, "calendar": 3, "alert": 3, "page": 4, "cmd/hotline": 5}
	lateral := map[string]bool{"config schedules": true, "schedules audit": true}
	for pkg, imports := range actual {
		if imports == "" {
			continue
		}
		for _, im := range strings.Split(imports, ", ") {
			if tier[im] >= tier[pkg] && !lateral[pkg+" "+im] {
				t.Errorf("%s imports %s, which is not below it (README: cmd/hotline → page → ivr, web, notify, calendar, alert → routing, incident, announce, revisions → config, schedules, audit → store)", pkg, im)
			}
		}
	}
	for pkg := range documented {
		if _, ok := actual[pkg]; !ok {
			t.Errorf("README's code map lists %s, which is no package of the module", pkg)
		}
	}
}
