package notify

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
	"github.com/hotline-dev/hotline/store/storetest"
)

const remindersYAML = `
hotline:
  number: "+18005550100"
  timezone: "America/New_York"
  greeting: "Hello."
menu:
  options:
    - digit: "1"
      label: "an outage"
      team: ops
teams:
  - id: ops
    name: "Operations"
    escalation:
      - rotation: ops-primary
      - rotation: ops-night
      - engineer: dana
engineers:
  - {id: alice, name: "Alice Adams", phone: "+15555550101"}
  - {id: bob, name: "Bob Brown", phone: "+15555550102"}
  - {id: carol, name: "Carol Chen", phone: "+15555550103"}
  - {id: dana, name: "Dana Diaz", phone: "+15555550104"}
rotations:
  - id: ops-primary
    members: [alice, bob]
    shift: weekly
    handoff: "Mon 09:00"
    start: "2027-03-01"
  - id: ops-night
    members: [carol]
    shift: daily
    handoff: "20:00"
    start: "2027-03-01"
    active: {days: [mon, tue, wed, thu, fri, sat, sun], from: "20:00", to: "08:00"}
  - id: unused
    members: [dana]
    shift: daily
    handoff: "09:00"
    start: "2027-03-01"
`

// overrides is a fixed override store.
type overrides []schedules.Override

func (o overrides) ListOverrides(context.Context) ([]schedules.Override, error) { return o, nil }
func (o overrides) Generation(context.Context) (int64, error)                   { return 1, nil }

func remindersRouter(t *testing.T) *routing.Router {
	t.Helper()
	cfg, err := config.ParseConfig("reminders.yaml", []byte(remindersYAML))
	if err != nil {
		t.Fatal(err)
	}
	return routing.NewRouter(cfg, overrides{{ID: 1, Rotation: "ops-primary", Engineer: "dana",
		From: utc(t, "2027-03-10T14:00:00Z"), To: utc(t, "2027-03-11T14:00:00Z"), CreatedBy: "test"}})
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestShiftStarts(t *testing.T) {
	r := remindersRouter(t)
	idx, _ := r.Overrides(context.Background())
	from, to := utc(t, "2027-03-01T05:00:00Z"), utc(t, "2027-03-22T04:00:00Z")
	starts := ShiftStarts(r.Config(), idx, from, to)

	var primary, night []ShiftStart
	for _, s := range starts {
		switch s.Rotation {
		case "ops-primary":
			primary = append(primary, s)
		case "ops-night":
			night = append(night, s)
		default:
			t.Errorf("a start for %s, which no team uses", s.Rotation)
		}
	}
	want := []struct{ eng, start, end string }{
		{"alice", "2027-03-01T14:00:00Z", "2027-03-08T14:00:00Z"},
		{"bob", "2027-03-08T14:00:00Z", "2027-03-10T14:00:00Z"},
		{"dana", "2027-03-10T14:00:00Z", "2027-03-11T14:00:00Z"}, // the override
		{"bob", "2027-03-11T14:00:00Z", "2027-03-15T13:00:00Z"},  // 09:00 EDT
		{"alice", "2027-03-15T13:00:00Z", "2027-03-22T13:00:00Z"},
	}
	if len(primary) != len(want) {
		t.Fatalf("ops-primary starts %v, want %d", primary, len(want))
	}
	for i, w := range want {
		p := primary[i]
		if p.Engineer != w.eng || !p.Start.Equal(utc(t, w.start)) || !p.End.Equal(utc(t, w.end)) {
			t.Errorf("start %d = %s %v–%v, want %s %s–%s", i, p.Engineer, p.Start.UTC(), p.End.UTC(), w.eng, w.start, w.end)
		}
	}
	// carol's nights, 20:00 to 08:00 New York time, on both sides of the
	// 14 March change: 21 evenings, the first on the rotation's start.
	if len(night) != 21 {
		t.Fatalf("%d night starts, want 21", len(night))
	}
	if !night[0].Start.Equal(utc(t, "2027-03-02T01:00:00Z")) || !night[12].End.Equal(utc(t, "2027-03-14T12:00:00Z")) {
		t.Errorf("nights: first %v, DST night ends %v", night[0].Start, night[12].End)
	}
	// Each start is a change to its engineer, each end a change away.
	cfg := r.Config()
	for _, s := range starts {
		rot, _ := cfg.Rotation(s.Rotation)
		at := func(t time.Time) string { e, _, _ := schedules.OnCall(rot, idx, t); return e }
		if at(s.Start) != s.Engineer || at(s.Start.Add(-time.Nanosecond)) == s.Engineer ||
			at(s.End.Add(-time.Nanosecond)) != s.Engineer || at(s.End) == s.Engineer {
			t.Errorf("%+v is not a whole turn", s)
		}
	}
}

func TestRemindersQueueEachStartOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, f, c := openDB(t, dsn), newFakeTwilio(t), newClock("2027-03-01T05:00:00Z")
		o, _ := newOutbox(t, db, f, c, Options{})
		rem := NewReminders(o, remindersRouter(t), c.Now, discard())
		ctx := context.Background()
		from, to := utc(t, "2027-03-01T05:00:00Z"), utc(t, "2027-03-22T04:00:00Z")

		n, err := rem.Enqueue(ctx, from, to)
		if err != nil || n != 26 {
			t.Fatalf("Enqueue = %d, %v; want 26 (5 primary, 21 nights)", n, err)
		}
		// Overlapping windows, as Run's ticks make, queue nothing new.
		if n, err := rem.Enqueue(ctx, from.Add(time.Hour), to); err != nil || n != 0 {
			t.Fatalf("second Enqueue = %d, %v; want 0", n, err)
		}
		if got := count(t, db); got != 26 {
			t.Fatalf("%d rows, want 26", got)
		}

		r := readRow(t, db, "shift:ops-primary:"+unix(t, "2027-03-11T14:00:00Z")+":bob")
		want := "hotline: you are on call for Operations (primary) from Thu 11 Mar 09:00 EST to Mon 15 Mar 09:00 EDT."
		if r.Body != want || r.To != "+15555550102" || !r.SendAfter.Equal(utc(t, "2027-03-11T13:45:00Z")) {
			t.Fatalf("bob's reminder %+v,\nwant %q at 13:45Z", r, want)
		}

		// Run's first tick queues only what is near; the worker sends the
		// reminders that are due and no others.
		c.Advance(9*time.Hour - 15*time.Minute) // 13:45Z, alice's reminder is due
		if n := runOnce(t, o); n != 1 {
			t.Fatalf("sent %d reminders at 13:45Z, want alice's", n)
		}
		if got := f.all()[0].Form.Get("Body"); got != "hotline: you are on call for Operations (primary) from Mon 1 Mar 09:00 EST to Mon 8 Mar 09:00 EST." {
			t.Fatalf("sent %q", got)
		}
	})
}

// unix is an RFC 3339 time as Unix seconds, as reminder keys spell it.
func unix(t testing.TB, s string) string {
	return strconv.FormatInt(utc(t, s).Unix(), 10)
}
