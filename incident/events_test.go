package incident

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEveryEventTypeHasALabel holds the constants and the table together:
// a new EventType constant without a line in EventTypes fails here.
func TestEveryEventTypeHasALabel(t *testing.T) {
	declared := map[EventType]bool{}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || vs.Type == nil {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "EventType" {
				return true
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					s, _ := strconv.Unquote(lit.Value)
					declared[EventType(s)] = true
				}
			}
			return true
		})
	}
	if len(declared) == 0 {
		t.Fatal("found no EventType constants")
	}
	listed := map[EventType]bool{}
	for _, i := range EventTypes {
		if listed[i.Type] {
			t.Errorf("%s is listed twice", i.Type)
		}
		listed[i.Type] = true
		if i.Label == "" || i.Meaning == "" {
			t.Errorf("%s has no label or meaning", i.Type)
		}
		if !declared[i.Type] {
			t.Errorf("%s is listed but has no constant", i.Type)
		}
	}
	for typ := range declared {
		if !listed[typ] {
			t.Errorf("event type %s has no line in EventTypes (no label on the page, none in the README)", typ)
		}
	}
	if got := EventType("from_elsewhere").Label(); got != "from_elsewhere" {
		t.Errorf("an unknown type is shown as %q", got)
	}
}

// TestEventsAreWrittenWithTypedConstants reads every Go file of the module
// that is not a test: an event built with a bare string as its type could
// be a type no table lists, so none may be.
func TestEventsAreWrittenWithTypedConstants(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := goparser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		checkType := func(lit *ast.CompositeLit) {
			for _, el := range lit.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Type" {
						if _, bare := kv.Value.(*ast.BasicLit); bare {
							t.Errorf("%s: an event's Type is a bare string; use a Event… constant", fset.Position(kv.Pos()))
						}
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if isEventType(n.Type) {
					checkType(n)
				}
				// []Event{{Type: …}}: the inner literals name no type.
				if arr, ok := n.Type.(*ast.ArrayType); ok && isEventType(arr.Elt) {
					for _, el := range n.Elts {
						if inner, ok := el.(*ast.CompositeLit); ok && inner.Type == nil {
							checkType(inner)
						}
					}
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Type" && i < len(n.Rhs) {
						if lit, bare := n.Rhs[i].(*ast.BasicLit); bare && lit.Kind == token.STRING {
							t.Errorf("%s: a Type set to a bare string; use a Event… constant", fset.Position(n.Pos()))
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d files: is the module root ..?", checked)
	}
}

func isEventType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "Event"
	case *ast.SelectorExpr:
		return e.Sel.Name == "Event"
	}
	return false
}

// TestREADMEListsEventTypes holds the README's table of event types to
// EventTypes, the list the writer and the page use. Regenerate it with
// HOTLINE_UPDATE_README=1 go test -run TestREADMEListsEventTypes ./incident/.
func TestREADMEListsEventTypes(t *testing.T) {
	const begin, end = "<!-- event types: begin -->\n", "<!-- event types: end -->"
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q … %q section", strings.TrimSpace(begin), end)
	}
	want := EventTypesMarkdown()
	if got := readme[i+len(begin) : j]; got != want {
		if os.Getenv("HOTLINE_UPDATE_README") != "" {
			if err := os.WriteFile(path, []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's table of event types is not EventTypes'; regenerate it (see the test's comment).\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// TestEveryEventTypeIsWritten: each type of EventTypes is named somewhere
// in the code besides its declaration, so the README's table lists nothing
// hotline never writes.
func TestEveryEventTypeIsWritten(t *testing.T) {
	constants := map[string]EventType{}
	fset := token.NewFileSet()
	decl, err := goparser.ParseFile(fset, "events.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(decl, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "EventType" {
				for _, name := range vs.Names {
					constants[name.Name] = ""
				}
			}
		}
		return true
	})
	used := map[string]bool{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || path == filepath.Join("..", "incident", "events.go") {
			return nil
		}
		f, err := goparser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if _, known := constants[id.Name]; known {
					used[id.Name] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(constants) < 20 {
		t.Fatalf("found %d event type constants in events.go", len(constants))
	}
	for name := range constants {
		if !used[name] {
			t.Errorf("%s is in EventTypes but nothing writes it", name)
		}
	}
}
