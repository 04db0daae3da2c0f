package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The YAML walking behind ParseConfig: typed reads of mapping keys that
// record every mistake with its file, line and key.

// parser walks the YAML tree and collects every mistake it finds.
type parser struct {
	file string
	errs ConfigErrors
}

func (p *parser) errorf(n *yaml.Node, key, format string, args ...any) {
	line := 1
	if n != nil && n.Line > 0 {
		line = n.Line
	}
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// sorted orders the errors by line, keeping the walk's order within a line.
func (p *parser) sorted() ConfigErrors {
	slices.SortStableFunc(p.errs, func(a, b *ConfigError) int { return a.Line - b.Line })
	return p.errs
}

// document parses the bytes into the root mapping's node, or reports why not.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "", "the config is empty")
		} else {
			p.syntaxError(err, data)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		p.errorf(&next, "", "the file holds more than one YAML document; keep one")
		return nil
	}
	if len(doc.Content) == 0 || !p.aliasesOK(doc.Content[0]) {
		return nil
	}
	return doc.Content[0]
}

// syntaxError turns yaml's "yaml: line N: msg" into a ConfigError. Some of
// yaml's errors carry no line; then the first bad byte's line is named.
func (p *parser) syntaxError(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		line = badByteLine(data)
	}
	p.errorf(&yaml.Node{Line: line}, "", "invalid YAML: %s", msg)
}

// badByteLine is the line of the first byte that is not valid UTF-8 or is a
// control character YAML refuses, or 1.
func badByteLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return 1
}

// aliasesOK refuses aliases that refer to their own anchor or expand the
// document past maxNodes, so the walk below stays linear and finite.
func (p *parser) aliasesOK(root *yaml.Node) bool {
	sizes := map[*yaml.Node]int{}
	ok := true
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			alias := n
			n = n.Alias
			if sizes[n] < 0 {
				p.errorf(alias, "", "alias *%s refers to the node it is part of", alias.Value)
				ok = false
				return maxNodes + 1
			}
		}
		if s, seen := sizes[n]; seen {
			return s
		}
		sizes[n] = -1
		s := 1
		for _, c := range n.Content {
			if s += size(c); s > maxNodes {
				break
			}
		}
		sizes[n] = s
		return s
	}
	if size(root) > maxNodes && ok {
		p.errorf(root, "", "the document expands to more than %d nodes through aliases", maxNodes)
		ok = false
	}
	return ok
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// describe names a node's YAML type for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "nothing"
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func item(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// object is a YAML mapping whose keys were checked against the allowed ones.
type object struct {
	at     *yaml.Node // where a missing key is reported
	path   string
	keys   map[string]*yaml.Node
	values map[string]*yaml.Node // nil for a key given no value
}

// object checks that n is a mapping with only allowed, unrepeated keys.
// It returns nil, after reporting, when n is not a mapping.
func (p *parser) object(n, at *yaml.Node, path string, allowed ...string) *object {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a mapping, got %s", describe(n))
		return nil
	}
	o := &object{at: at, path: path, keys: map[string]*yaml.Node{}, values: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		switch {
		case k.Kind != yaml.ScalarNode:
			p.errorf(k, path, "a key must be a plain word, got %s", describe(k))
		case k.ShortTag() == "!!merge":
			p.errorf(k, join(path, k.Value), "merge keys are not supported; write the keys out")
		case !slices.Contains(allowed, k.Value):
			p.errorf(k, join(path, k.Value), "unknown key%s", suggest(k.Value, allowed))
		case o.keys[k.Value] != nil:
			p.errorf(k, join(path, k.Value), "repeated key (first at line %d)", o.keys[k.Value].Line)
		default:
			o.keys[k.Value] = k
			if v.ShortTag() != "!!null" {
				o.values[k.Value] = v
			}
		}
	}
	return o
}

// suggest proposes the allowed key closest to a mistyped one.
func suggest(key string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(key), a); d < bestDist {
			best, bestDist = a, d
		}
	}
	if best == "" {
		return fmt.Sprintf(" (expected one of %s)", strings.Join(allowed, ", "))
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// missingAt is where a missing or empty key is reported: the key itself
// when it is written with no value, else the mapping that lacks it.
func (o *object) missingAt(key string) *yaml.Node {
	if k := o.keys[key]; k != nil {
		return k
	}
	return o.at
}

// child returns a nested mapping, nil when absent or not a mapping.
func (p *parser) child(o *object, key string, allowed ...string) *object {
	v := o.values[key]
	if v == nil {
		return nil
	}
	return p.object(v, o.keys[key], join(o.path, key), allowed...)
}

// scalarText is a scalar's text for fields that hold words, numbers
// written bare (a digit, a phone number) or dates.
func (p *parser) scalarText(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!timestamp":
			return n.Value, true
		}
	}
	p.errorf(n, path, "expected a string, got %s", describe(n))
	return "", false
}

// str returns an optional string and its node (nil when absent).
func (p *parser) str(o *object, key string) (string, *yaml.Node) {
	v := o.values[key]
	if v == nil {
		return "", nil
	}
	s, ok := p.scalarText(v, join(o.path, key))
	if !ok {
		return "", nil
	}
	return s, v
}

// required returns a string that must be present and not blank.
func (p *parser) required(o *object, key string) (string, *yaml.Node) {
	s, n := p.str(o, key)
	if n == nil && o.values[key] == nil || n != nil && strings.TrimSpace(s) == "" {
		at := n
		if at == nil {
			at = o.missingAt(key)
		}
		p.errorf(at, join(o.path, key), "required")
		return "", nil
	}
	return s, n
}

func (p *parser) integer(o *object, key string, def, lo, hi int) int {
	v := o.values[key]
	if v == nil {
		return def
	}
	var n int
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&n) != nil {
		p.errorf(v, join(o.path, key), "expected a whole number, got %s", describe(v))
		return def
	}
	if n < lo || n > hi {
		p.errorf(v, join(o.path, key), "%d is out of range %d to %d", n, lo, hi)
		return def
	}
	return n
}

func (p *parser) boolean(o *object, key string, def bool) bool {
	v := o.values[key]
	if v == nil {
		return def
	}
	var b bool
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
		p.errorf(v, join(o.path, key), "expected true or false, got %s", describe(v))
		return def
	}
	return b
}

func (p *parser) duration(o *object, key string, def, lo, hi time.Duration) time.Duration {
	s, n := p.str(o, key)
	if n == nil {
		return def
	}
	path := join(o.path, key)
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && n.ShortTag() == "!!int":
		p.errorf(n, path, "invalid duration %q: add a unit, as in %q", s, s+"s")
	case err != nil:
		p.errorf(n, path, "invalid duration %q", s)
	case d < lo || d > hi:
		p.errorf(n, path, "%s is out of range %s to %s", s, lo, hi)
	default:
		return d
	}
	return def
}

// list returns the items of an optional list, nil when absent or not a list.
func (p *parser) list(o *object, key string) []*yaml.Node {
	v := o.values[key]
	if v == nil {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, join(o.path, key), "expected a list, got %s", describe(v))
		return nil
	}
	items := make([]*yaml.Node, len(v.Content))
	for i, c := range v.Content {
		items[i] = resolve(c)
	}
	return items
}

// nonEmptyList is a list that must have at least one item.
func (p *parser) nonEmptyList(o *object, key string) []*yaml.Node {
	items := p.list(o, key)
	if len(items) == 0 && (o.values[key] == nil || o.values[key].Kind == yaml.SequenceNode) {
		at := o.missingAt(key)
		if v := o.values[key]; v != nil {
			at = v
		}
		p.errorf(at, join(o.path, key), "required, with at least one entry")
	}
	return items
}

func (p *parser) phone(n *yaml.Node, path, s string) {
	if !IsE164(s) {
		p.errorf(n, path, "invalid phone number %q: want E.164 such as \"+15555550100\"", s)
	}
}

func (p *parser) zone(n *yaml.Node, path, name string) *time.Location {
	// "Local" is the server's zone: the same file would mean different
	// things on different hosts.
	if name == "Local" {
		p.errorf(n, path, "invalid time zone \"Local\": name the zone, such as \"America/New_York\"")
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.errorf(n, path, "unknown time zone %q", name)
		return nil
	}
	return loc
}

// ids records the first definition of each id of one kind.
type ids map[string]*yaml.Node

// define checks a required id and records it; false when it is unusable.
func (p *parser) define(o *object, seen ids, what string) (string, bool) {
	id, n := p.required(o, "id")
	if n == nil {
		return "", false
	}
	path := join(o.path, "id")
	if !idRe.MatchString(id) {
		p.errorf(n, path, "invalid id %q: use up to 64 letters, digits, '-', '_' or '.'", id)
		return "", false
	}
	if first := seen[id]; first != nil {
		p.errorf(n, path, "duplicate %s id %q (first defined at line %d)", what, id, first.Line)
		return id, false
	}
	seen[id] = n
	return id, true
}

// ref checks that a string names a defined id.
func (p *parser) ref(n *yaml.Node, path string, defined ids, what string) (string, bool) {
	s, ok := p.scalarText(n, path)
	if !ok {
		return "", false
	}
	if defined[s] == nil {
		p.errorf(n, path, "undefined %s %q", what, s)
		return s, false
	}
	return s, true
}
