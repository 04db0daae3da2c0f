package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

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
		return nil, fmt.Errorf("config: read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses and validates a hotline.yaml (README "Configuration"); name is
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
	c.Path = name
	c.Revision = RevisionOf(data)
	c.Text = slices.Clone(data)
	c.idx = newIndex(c)
	return c, nil
}

// RevisionOf is the revision of a config file's bytes: their SHA-256 in
// hex, as `sha256sum` prints it. It is defined for any bytes, so a file
// refused at reload is named by its revision too.
func RevisionOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
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
// option goes, and what the fallback URL rings (README "The call").
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

// config walks the root mapping into a Config.
func (p *parser) config(root *yaml.Node) *Config {
	top := p.object(root, root, "", "hotline", "menu", "teams", "engineers", "rotations", "customers", "languages")
	if top == nil {
		return nil
	}
	c := &Config{}
	for _, key := range []string{"hotline", "menu", "teams", "engineers"} {
		if top.values[key] == nil {
			p.errorf(top.missingAt(key), key, "required")
		}
	}
	if h := p.child(top, "hotline", "number", "timezone", "greeting", "voice", "language", "emergency_number", "identify", "unknown_callers", "caller_id_attestation", "sms_from", "messaging_service_sid", "outbound_calls_per_second"); h != nil {
		c.Hotline = p.hotline(h)
		p.identification(h, &c.Hotline)
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
		if o := p.object(n, n, item("teams", i), "id", "name", "repeat", "voicemail", "escalation", "follow_up"); o != nil {
			if t, ok := p.team(o, teams, engineers, rotations); ok {
				c.Teams = append(c.Teams, t)
			}
		}
	}
	if m := p.child(top, "menu", "attempts", "timeout", "default", "options"); m != nil {
		c.Menu = p.menu(m, teams)
	}
	c.Customers = p.customers(top, c.Hotline.Identify)
	c.Languages = p.languages(top, c.Menu)
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
	if h.SMSFrom, n = p.str(o, "sms_from"); n != nil {
		p.phone(n, join(o.path, "sms_from"), h.SMSFrom)
	}
	if h.MessagingServiceSID, n = p.str(o, "messaging_service_sid"); n != nil && !messagingServiceRe.MatchString(h.MessagingServiceSID) {
		p.errorf(n, join(o.path, "messaging_service_sid"), "%q: want a Messaging Service SID, MG and 32 hex digits", h.MessagingServiceSID)
	}
	h.OutboundCallsPerSecond = p.callsPerSecond(o)
	if h.SMSFrom != "" && h.MessagingServiceSID != "" {
		p.errorf(o.values["messaging_service_sid"], join(o.path, "messaging_service_sid"), "give sms_from or messaging_service_sid, not both")
	}
	return h
}

// messagingServiceRe is a Messaging Service SID.
var messagingServiceRe = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)

// IsMessagingServiceSID reports whether s is a Messaging Service SID: MG
// and 32 hex digits.
func IsMessagingServiceSID(s string) bool { return messagingServiceRe.MatchString(s) }

func (p *parser) team(o *object, seen, engineers, rotations ids) (Team, bool) {
	id, ok := p.define(o, seen, "team")
	t := Team{ID: id, Name: id}
	if name, n := p.str(o, "name"); n != nil && strings.TrimSpace(name) != "" {
		t.Name = name
	}
	t.Repeat = p.integer(o, "repeat", 0, 0, maxRepeat)
	t.Voicemail = p.boolean(o, "voicemail", true)
	t.FollowUp = p.followUp(o)
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
