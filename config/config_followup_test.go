package config

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFollowUp checks the paging keys: their defaults when absent, the
// empty list that turns paging off, and values given.
func TestFollowUp(t *testing.T) {
	data, err := os.ReadFile("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, team, hotline string
		outcomes            []string
		ack                 time.Duration
		cps                 float64
	}{
		{"defaults", "", "", []string{"voicemail", "missed"}, 5 * time.Minute, 1},
		{"off", "    follow_up: {outcomes: []}\n", "", []string{}, 5 * time.Minute, 1},
		{"timeout only", "    follow_up:\n      ack_timeout: 90s\n", "  outbound_calls_per_second: 2.5\n", []string{"voicemail", "missed"}, 90 * time.Second, 2.5},
		{"all", "    follow_up: {outcomes: [abandoned, voicemail, missed], ack_timeout: 5s}\n", "  outbound_calls_per_second: 10\n",
			[]string{"abandoned", "voicemail", "missed"}, 5 * time.Second, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(string(data), "  - id: ops\n", "  - id: ops\n"+tc.team, 1)
			src = strings.Replace(src, "  greeting: \"Thank you for calling.\"\n", "  greeting: \"Thank you for calling.\"\n"+tc.hotline, 1)
			c, err := ParseConfig("follow.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			ops, _ := c.Team("ops")
			if !slices.Equal(ops.FollowUp.Outcomes, tc.outcomes) || ops.FollowUp.AckTimeout != tc.ack {
				t.Errorf("FollowUp = %+v, want outcomes %v ack %s", ops.FollowUp, tc.outcomes, tc.ack)
			}
			if c.Hotline.OutboundCallsPerSecond != tc.cps {
				t.Errorf("OutboundCallsPerSecond = %v, want %v", c.Hotline.OutboundCallsPerSecond, tc.cps)
			}
			if ops.FollowUp.Pages("voicemail") != slices.Contains(tc.outcomes, "voicemail") {
				t.Errorf("Pages(voicemail) = %v", ops.FollowUp.Pages("voicemail"))
			}
		})
	}
}

// TestFollowUpRepeatedOutcome checks that an outcome named twice is one
// error at its second mention.
func TestFollowUpRepeatedOutcome(t *testing.T) {
	data, err := os.ReadFile("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "  - id: ops\n", "  - id: ops\n    follow_up:\n      outcomes:\n        - missed\n        - missed\n", 1)
	_, err = ParseConfig("twice.yaml", []byte(src))
	want := `twice.yaml:16: teams[0].follow_up.outcomes[1]: outcome "missed" is listed twice (first at line 15)`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}
