package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// legLines is what a leg heard and did, as "kind: text", with when.
func legLines(res *sim.Result, leg string) ([]string, []int) {
	var lines []string
	var at []int
	for _, l := range res.Heard {
		if l.Leg == leg && (l.Kind == "say" || l.Kind == "press" || l.Kind == "hangup") {
			lines = append(lines, l.Kind+": "+l.Text)
			at = append(at, l.At)
		}
	}
	return lines, at
}

func TestWhisperSaysInstructionOnceThenRepeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		// alice's own voicemail answers and presses nothing; bob accepts.
		res := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Voicemail, bob: sim.Accept}})

		doc := answered(t, res, alice, "whisper")
		if doc.verbs() != "Gather,Gather,Hangup" {
			t.Fatalf("whisper document %s, want Gather,Gather,Hangup", doc.verbs())
		}
		first, again := doc.Children[0], doc.Children[1]
		if says := strings.Join(first.says(), " "); strings.Count(says, "Press 1") != 1 || !strings.HasPrefix(says, "Support call for Operations from") {
			t.Errorf("before the first pause the whisper says %q: want who calls and the instruction once", says)
		}
		if says := strings.Join(again.says(), " "); says != "Press 1 to accept the call, 2 to decline." {
			t.Errorf("after the pause the whisper says %q", says)
		}
		t1, err1 := strconv.Atoi(first.attr("timeout"))
		t2, err2 := strconv.Atoi(again.attr("timeout"))
		if wait := t1 + t2; err1 != nil || err2 != nil || wait != 8 {
			t.Errorf("%d s of silence in all for a key, want 8", wait)
		}

		lines, at := legLines(res, alice)
		want := []string{
			"say: Support call for Operations from 1 5 5 5 5 5 5 0 1 2 3. Press 1 to accept, 2 to decline.",
			"press: presses nothing",
			"say: Press 1 to accept the call, 2 to decline.",
			"press: presses nothing",
			"hangup: Hangup",
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Fatalf("alice's voicemail heard:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		if pause := at[2] - at[1]; pause < 4 {
			t.Errorf("the repeat came %d s after the prompt ended, want a pause of 4 s", pause)
		}
		if bobLines, _ := legLines(res, bob); strings.Contains(strings.Join(bobLines, "\n"), "Press 1 to accept the call") {
			t.Errorf("bob pressed 1 at once yet heard the repeat: %q", bobLines)
		}

		in := h.incident(res.CallSid)
		wantStatus(t, in, "answered", "bob")
		ev := eventTypes(in)
		if countPrefix(ev, "no_key:alice") != 1 || countPrefix(ev, "ring:bob") != 1 || countPrefix(ev, "accepted:bob") != 1 {
			t.Errorf("events %v, want alice's voicemail as no_key, then bob ringing and accepting", ev)
		}
	})
}
