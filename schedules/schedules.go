// Package schedules owns engineers, rotations and run-time overrides, and
// answers "who is on call for this rotation at instant t".
//
// Shift arithmetic is pure: it is a function of the rotation, the overrides
// and t, and never reads the clock or the database.
package schedules

import (
	"errors"
	"strconv"
	"time"
)

// Sentinel errors of the package.
var (
	// ErrNoOneOnCall means a rotation names nobody at the instant asked.
	ErrNoOneOnCall = errors.New("schedules: no one on call")
	// ErrNotFound means an override with that id does not exist.
	ErrNotFound = errors.New("schedules: not found")
)

// Engineer is a person who can be rung.
type Engineer struct {
	ID    string
	Name  string
	Phone string // E.164
}

// ShiftKind says how a rotation's shifts are cut.
type ShiftKind int

// The shift kinds a rotation may have (README "Configuration").
const (
	Daily ShiftKind = iota
	Weekly
	Every // a fixed duration counted on the wall clock, e.g. 12h
)

// Date is a calendar date without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Window is the optional active window of a rotation, in its zone.
type Window struct {
	Days [7]bool // indexed by time.Weekday; the day a window starts on
	From int     // minutes after local midnight, inclusive
	To   int     // minutes after local midnight, exclusive; From > To runs past midnight
}

// Rotation hands a pager from member to member on the wall clock of its zone.
type Rotation struct {
	ID            string
	Members       []string // engineer ids; Members[0] holds the first shift
	Kind          ShiftKind
	Every         time.Duration // the shift length when Kind is Every
	HandoffDay    time.Weekday  // the handoff weekday when Kind is Weekly
	HandoffMinute int           // local handoff time, minutes after midnight
	Start         Date          // the date of the first handoff
	Location      *time.Location
	Active        *Window // nil: always active
}

// Shift is one member's turn: [Start, End).
type Shift struct {
	Engineer string
	Index    int // the shift's number counted from the first handoff
	Start    time.Time
	End      time.Time
}

// Override says Engineer covers Rotation in [From, To).
type Override struct {
	ID        int64
	Rotation  string
	Engineer  string
	From      time.Time
	To        time.Time
	Reason    string
	CreatedBy string
	CreatedAt time.Time
}

// String returns the kind as the config spells it: "daily", "weekly", or
// "every" for duration shifts.
func (k ShiftKind) String() string {
	switch k {
	case Daily:
		return "daily"
	case Weekly:
		return "weekly"
	case Every:
		return "every"
	}
	return "ShiftKind(" + strconv.Itoa(int(k)) + ")"
}
