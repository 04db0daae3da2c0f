package routing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/hotline-dev/hotline/schedules"
)

// ConfigError is one mistake in a config file. Its Error reads
// `hotline.yaml:14: teams[0].escalation[1].timeout: invalid duration "20 s"`.
type ConfigError struct {
	File string // the name the config was parsed under
	Line int    // 1-based line of the offending key or value
	Key  string // dotted path to the key; empty for YAML syntax errors
	Msg  string
}

// Error formats the mistake as file:line: key: message.
func (e *ConfigError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// ConfigErrors is every mistake found in one config file, in line order, so
// an operator can fix the file in one pass. ParseConfig returns it, never an
// empty one.
type ConfigErrors []*ConfigError

// Error lists the mistakes one per line.
func (es ConfigErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find the individual ConfigErrors.
func (es ConfigErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// LoadConfig reads and parses the config file at path; see ParseConfig.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("routing: read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses and validates a hotline.yaml (SPEC section 4); name is
// used in error messages and as Config.Path. Unknown keys are errors. On any
// mistake it returns a nil Config and ConfigErrors listing all of them.
//
// Menu digits are 1 to 9: `*` repeats the menu, `0` skips the announcement
// and `#` ends PIN entry, so none of them can pick an option.
func ParseConfig(name string, data []byte) (*Config, error) {
	p := &parser{file: name}
	root := p.document(data)
	var c *Config
	if root != nil {
		c = p.config(root)
	}
	if len(p.errs) > 0 {
		return nil, p.sorted()
	}
	sum := sha256.Sum256(data)
	c.Path = name
	c.Revision = hex.EncodeToString(sum[:])
	c.idx = newIndex(c)
	return c, nil
}

// Team returns the team with that id.
func (c *Config) Team(id string) (*Team, bool) {
	i, ok := c.lookup().teams[id]
	if !ok {
		return nil, false
	}
	return &c.Teams[i], true
}

// Engineer returns the engineer with that id.
func (c *Config) Engineer(id string) (schedules.Engineer, bool) {
	i, ok := c.lookup().engineers[id]
	if !ok {
		return schedules.Engineer{}, false
	}
	return c.Engineers[i], true
}

// Rotation returns the rotation with that id.
func (c *Config) Rotation(id string) (*schedules.Rotation, bool) {
	i, ok := c.lookup().rotations[id]
	if !ok {
		return nil, false
	}
	return c.Rotations[i], true
}

// Option returns the menu option for a pressed digit.
func (c *Config) Option(digit string) (Option, bool) {
	i, ok := c.lookup().options[digit]
	if !ok {
		return Option{}, false
	}
	return c.Menu.Options[i], true
}

// DefaultTeam is the team of menu.default: where a caller who never picks an
// option goes, and what the fallback URL rings (SPEC section 12).
func (c *Config) DefaultTeam() string {
	if o, ok := c.Option(c.Menu.Default); ok {
		return o.Team
	}
	if len(c.Menu.Options) == 1 {
		return c.Menu.Options[0].Team
	}
	return ""
}

// HasEngineer reports whether an engineer with that id is configured.
func (c *Config) HasEngineer(id string) bool {
	_, ok := c.lookup().engineers[id]
	return ok
}

// HasRotation reports whether a rotation with that id is configured.
func (c *Config) HasRotation(id string) bool {
	_, ok := c.lookup().rotations[id]
	return ok
}

// A Config is what schedules checks override names against.
var _ schedules.Directory = (*Config)(nil)

// index holds a Config's lookup tables: positions in its slices by id.
type index struct {
	teams, engineers, rotations, options map[string]int
}

func newIndex(c *Config) *index {
	x := &index{
		teams:     make(map[string]int, len(c.Teams)),
		engineers: make(map[string]int, len(c.Engineers)),
		rotations: make(map[string]int, len(c.Rotations)),
		options:   make(map[string]int, len(c.Menu.Options)),
	}
	// The first of duplicate ids wins, as in a hand-built Config it may.
	for i := len(c.Teams) - 1; i >= 0; i-- {
		x.teams[c.Teams[i].ID] = i
	}
	for i := len(c.Engineers) - 1; i >= 0; i-- {
		x.engineers[c.Engineers[i].ID] = i
	}
	for i := len(c.Rotations) - 1; i >= 0; i-- {
		x.rotations[c.Rotations[i].ID] = i
	}
	for i := len(c.Menu.Options) - 1; i >= 0; i-- {
		x.options[c.Menu.Options[i].Digit] = i
	}
	return x
}

// lookup returns the parse-time index, or a fresh one for a Config built by
// hand (tests), which may still be changing.
func (c *Config) lookup() *index {
	if c.idx != nil {
		return c.idx
	}
	return newIndex(c)
}

var (
	e164Re  = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	idRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	clockRe = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)
	lineRe  = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)
)

// The limits of the numbers an operator sets.
const (
	minRing, maxRing         = 5 * time.Second, 600 * time.Second
	minMenuWait, maxMenuWait = time.Second, 60 * time.Second
	maxAttempts, maxRepeat   = 10, 10
	maxNodes                 = 100_000 // YAML nodes after expanding aliases
)

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

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
	if !e164Re.MatchString(s) {
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

// config walks the root mapping into a Config.
func (p *parser) config(root *yaml.Node) *Config {
	top := p.object(root, root, "", "hotline", "menu", "teams", "engineers", "rotations")
	if top == nil {
		return nil
	}
	c := &Config{}
	for _, key := range []string{"hotline", "menu", "teams", "engineers"} {
		if top.values[key] == nil {
			p.errorf(top.missingAt(key), key, "required")
		}
	}
	if h := p.child(top, "hotline", "number", "timezone", "greeting", "voice", "language", "emergency_number"); h != nil {
		c.Hotline = p.hotline(h)
	}
	engineers := ids{}
	for i, n := range p.list(top, "engineers") {
		if o := p.object(n, n, item("engineers", i), "id", "name", "phone"); o != nil {
			if e, ok := p.engineer(o, engineers); ok {
				c.Engineers = append(c.Engineers, e)
			}
		}
	}
	rotations := ids{}
	for i, n := range p.list(top, "rotations") {
		o := p.object(n, n, item("rotations", i), "id", "members", "shift", "handoff", "start", "timezone", "active")
		if o != nil {
			if r, ok := p.rotation(o, rotations, engineers, c.Hotline.Location); ok {
				c.Rotations = append(c.Rotations, r)
			}
		}
	}
	teams := ids{}
	for i, n := range p.list(top, "teams") {
		if o := p.object(n, n, item("teams", i), "id", "name", "repeat", "voicemail", "escalation"); o != nil {
			if t, ok := p.team(o, teams, engineers, rotations); ok {
				c.Teams = append(c.Teams, t)
			}
		}
	}
	if m := p.child(top, "menu", "attempts", "timeout", "default", "options"); m != nil {
		c.Menu = p.menu(m, teams)
	}
	return c
}

func (p *parser) hotline(o *object) Hotline {
	var h Hotline
	var n *yaml.Node
	if h.Number, n = p.required(o, "number"); n != nil {
		p.phone(n, join(o.path, "number"), h.Number)
	}
	if h.Timezone, n = p.required(o, "timezone"); n != nil {
		h.Location = p.zone(n, join(o.path, "timezone"), h.Timezone)
	}
	h.Greeting, _ = p.required(o, "greeting")
	h.Voice, _ = p.str(o, "voice")
	h.Language, _ = p.str(o, "language")
	if h.EmergencyNumber, n = p.str(o, "emergency_number"); n != nil {
		p.phone(n, join(o.path, "emergency_number"), h.EmergencyNumber)
	}
	return h
}

func (p *parser) engineer(o *object, seen ids) (schedules.Engineer, bool) {
	id, ok := p.define(o, seen, "engineer")
	e := schedules.Engineer{ID: id, Name: id}
	if name, n := p.str(o, "name"); n != nil && strings.TrimSpace(name) != "" {
		e.Name = name
	}
	var n *yaml.Node
	if e.Phone, n = p.required(o, "phone"); n != nil {
		p.phone(n, join(o.path, "phone"), e.Phone)
	}
	return e, ok
}

func (p *parser) rotation(o *object, seen, engineers ids, loc *time.Location) (*schedules.Rotation, bool) {
	id, ok := p.define(o, seen, "rotation")
	r := &schedules.Rotation{ID: id, Location: loc}
	for i, n := range p.nonEmptyList(o, "members") {
		if m, ok := p.ref(n, item(join(o.path, "members"), i), engineers, "engineer"); ok {
			r.Members = append(r.Members, m)
		}
	}

	shift, shiftNode := p.required(o, "shift")
	kindOK := shiftNode != nil
	switch shift {
	case "":
	case "daily":
		r.Kind = schedules.Daily
	case "weekly":
		r.Kind = schedules.Weekly
	default:
		r.Kind = schedules.Every
		d, err := time.ParseDuration(shift)
		switch {
		case err != nil:
			p.errorf(shiftNode, join(o.path, "shift"), "invalid shift %q: want daily, weekly or a duration such as 12h", shift)
			kindOK = false
		case d < time.Minute || d%time.Minute != 0:
			p.errorf(shiftNode, join(o.path, "shift"), "invalid shift %q: want a whole number of minutes, at least 1m", shift)
			kindOK = false
		}
		r.Every = d
	}

	handoffOK := false
	if s, n := p.required(o, "handoff"); n != nil {
		day, hasDay, minute, err := parseHandoff(s)
		path := join(o.path, "handoff")
		switch {
		case err != nil:
			p.errorf(n, path, "invalid handoff %q: %v", s, err)
		case kindOK && r.Kind == schedules.Weekly && !hasDay:
			p.errorf(n, path, "invalid handoff %q: a weekly shift hands off on a day at a time, such as \"Mon 09:00\"", s)
		case kindOK && r.Kind != schedules.Weekly && hasDay:
			p.errorf(n, path, "invalid handoff %q: a %s shift hands off at a time of day, such as \"09:00\"", s, shift)
		default:
			r.HandoffDay, r.HandoffMinute = day, minute
			handoffOK = true
		}
	}

	if s, n := p.required(o, "start"); n != nil {
		t, err := time.Parse(time.DateOnly, s)
		switch {
		case err != nil:
			p.errorf(n, join(o.path, "start"), "invalid date %q: want YYYY-MM-DD", s)
		case r.Kind == schedules.Weekly && kindOK && handoffOK && t.Weekday() != r.HandoffDay:
			p.errorf(n, join(o.path, "start"), "%s is a %s, but the weekly handoff is on %s: start on a handoff day", s, t.Weekday(), r.HandoffDay)
		default:
			r.Start = schedules.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
		}
	}

	if s, n := p.str(o, "timezone"); n != nil {
		r.Location = p.zone(n, join(o.path, "timezone"), s)
	}
	if a := p.child(o, "active", "days", "from", "to"); a != nil {
		r.Active = p.window(a)
	}
	return r, ok
}

// parseHandoff reads "Mon 09:00" or "09:00".
func parseHandoff(s string) (day time.Weekday, hasDay bool, minute int, err error) {
	fields := strings.Fields(s)
	switch len(fields) {
	case 1:
	case 2:
		d, ok := weekday(fields[0])
		if !ok {
			return 0, false, 0, fmt.Errorf("unknown weekday %q", fields[0])
		}
		day, hasDay = d, true
	default:
		return 0, false, 0, errors.New(`want "Mon 09:00" or "09:00"`)
	}
	minute, ok := clock(fields[len(fields)-1])
	if !ok {
		return 0, false, 0, errors.New("want a time from 00:00 to 23:59")
	}
	return day, hasDay, minute, nil
}

// weekday reads a day as "mon" or "Monday", in any case.
func weekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for d := time.Sunday; d <= time.Saturday; d++ {
		if s == dayNames[d] || s == strings.ToLower(d.String()) {
			return d, true
		}
	}
	return 0, false
}

// clock reads "HH:MM" as minutes after midnight.
func clock(s string) (int, bool) {
	m := clockRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	return h*60 + mm, true
}

// window reads an active window; days default to the whole week.
func (p *parser) window(o *object) *schedules.Window {
	w := &schedules.Window{}
	days := p.list(o, "days")
	if o.values["days"] == nil {
		w.Days = [7]bool{true, true, true, true, true, true, true}
	} else if len(days) == 0 && o.values["days"].Kind == yaml.SequenceNode {
		p.errorf(o.values["days"], join(o.path, "days"), "list at least one day, or leave days out for every day")
	}
	for i, n := range days {
		path := item(join(o.path, "days"), i)
		s, ok := p.scalarText(n, path)
		if !ok {
			continue
		}
		d, ok := weekday(s)
		switch {
		case !ok || len(s) != 3:
			p.errorf(n, path, "invalid day %q: want one of %s", s, strings.Join(dayNames[1:], ", ")+", sun")
		case w.Days[d]:
			p.errorf(n, path, "day %q is listed twice", s)
		default:
			w.Days[d] = true
		}
	}
	var fromOK, toOK bool
	var fromNode, toNode *yaml.Node
	for _, f := range []struct {
		key  string
		min  *int
		ok   *bool
		node **yaml.Node
	}{{"from", &w.From, &fromOK, &fromNode}, {"to", &w.To, &toOK, &toNode}} {
		s, n := p.required(o, f.key)
		if n == nil {
			continue
		}
		if *f.min, *f.ok = clock(s); !*f.ok {
			p.errorf(n, join(o.path, f.key), "invalid time %q: want HH:MM from 00:00 to 23:59", s)
		}
		*f.node = n
	}
	if fromOK && toOK && w.From == w.To {
		p.errorf(toNode, join(o.path, "to"), "the window from %s to %s is empty; leave out active for all day", fromNode.Value, toNode.Value)
	}
	return w
}

func (p *parser) team(o *object, seen, engineers, rotations ids) (Team, bool) {
	id, ok := p.define(o, seen, "team")
	t := Team{ID: id, Name: id}
	if name, n := p.str(o, "name"); n != nil && strings.TrimSpace(name) != "" {
		t.Name = name
	}
	t.Repeat = p.integer(o, "repeat", 0, 0, maxRepeat)
	t.Voicemail = p.boolean(o, "voicemail", true)
	for i, n := range p.nonEmptyList(o, "escalation") {
		s := p.object(n, n, item(join(o.path, "escalation"), i), "rotation", "rotations", "engineer", "timeout")
		if s != nil {
			t.Escalation = append(t.Escalation, p.step(s, engineers, rotations))
		}
	}
	return t, ok
}

func (p *parser) step(o *object, engineers, rotations ids) EscalationStep {
	s := EscalationStep{Timeout: p.duration(o, "timeout", 20*time.Second, minRing, maxRing)}
	var given []string
	for _, key := range []string{"rotation", "rotations", "engineer"} {
		if o.values[key] != nil {
			given = append(given, key)
		}
	}
	switch len(given) {
	case 0:
		p.errorf(o.at, o.path, "a step needs one of rotation, rotations or engineer")
		return s
	case 1:
	default:
		p.errorf(o.keys[given[1]], join(o.path, given[1]), "a step has one of rotation, rotations or engineer, not both %s and %s", given[0], given[1])
		return s
	}
	switch given[0] {
	case "rotation":
		if r, ok := p.ref(o.values["rotation"], join(o.path, "rotation"), rotations, "rotation"); ok {
			s.Rotations = []string{r}
		}
	case "rotations":
		path := join(o.path, "rotations")
		for i, n := range p.nonEmptyList(o, "rotations") {
			r, ok := p.ref(n, item(path, i), rotations, "rotation")
			if ok && slices.Contains(s.Rotations, r) {
				p.errorf(n, item(path, i), "rotation %q is listed twice", r)
			} else if ok {
				s.Rotations = append(s.Rotations, r)
			}
		}
	case "engineer":
		s.Engineer, _ = p.ref(o.values["engineer"], join(o.path, "engineer"), engineers, "engineer")
	}
	return s
}

func (p *parser) menu(o *object, teams ids) Menu {
	m := Menu{
		Attempts: p.integer(o, "attempts", 3, 1, maxAttempts),
		Timeout:  p.duration(o, "timeout", 6*time.Second, minMenuWait, maxMenuWait),
	}
	digits := ids{}
	for i, n := range p.nonEmptyList(o, "options") {
		opt := p.object(n, n, item(join(o.path, "options"), i), "digit", "label", "team")
		if opt == nil {
			continue
		}
		var op Option
		digit, dn := p.required(opt, "digit")
		path := join(opt.path, "digit")
		switch {
		case dn == nil:
		case len(digit) != 1 || digit[0] < '1' || digit[0] > '9':
			p.errorf(dn, path, "invalid digit %q: want one key from 1 to 9 (* repeats the menu, 0 and # are reserved)", digit)
		case digits[digit] != nil:
			p.errorf(dn, path, "digit %q is already used at line %d", digit, digits[digit].Line)
		default:
			digits[digit] = dn
			op.Digit = digit
		}
		op.Label, _ = p.required(opt, "label")
		if tn := opt.values["team"]; tn != nil {
			op.Team, _ = p.ref(tn, join(opt.path, "team"), teams, "team")
		} else {
			p.required(opt, "team")
		}
		m.Options = append(m.Options, op)
	}
	def, dn := p.str(o, "default")
	switch {
	case dn != nil && digits[def] == nil && len(digits) > 0:
		known := make([]string, 0, len(digits))
		for d := range digits {
			known = append(known, d)
		}
		slices.Sort(known)
		p.errorf(dn, join(o.path, "default"), "%q is not an option's digit (%s)", def, strings.Join(known, ", "))
	case dn != nil:
		m.Default = def
	case len(m.Options) > 1:
		p.errorf(o.missingAt("default"), join(o.path, "default"), "required when the menu has more than one option")
	case len(m.Options) == 1:
		m.Default = m.Options[0].Digit
	}
	return m
}
