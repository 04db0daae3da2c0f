package web

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// teamShifts returns the lines of each team's list of upcoming shifts on
// the schedules page, by team name, as the HTML has them.
func teamShifts(t *testing.T, body string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	item := regexp.MustCompile(`<li(?: class="override")?>(.*?)</li>`)
	for _, sec := range strings.Split(body, `<section class="team">`)[1:] {
		name := sec[strings.Index(sec, "<h2>")+4 : strings.Index(sec, "</h2>")]
		out[name] = []string{}
		if _, list, ok := strings.Cut(sec, `<ul class="shifts">`); ok {
			list, _, _ = strings.Cut(list, "</ul>")
			for _, m := range item.FindAllStringSubmatch(list, -1) {
				out[name] = append(out[name], m[1])
			}
		}
	}
	return out
}

// legend returns the entries of each team's timeline legend, in order, as
// "class: label".
func legend(body string) map[string][]string {
	out := map[string][]string{}
	entry := regexp.MustCompile(`<li><span class="key ([a-z0-9 ]+)"></span> (.*?)</li>`)
	for _, sec := range strings.Split(body, `<section class="team">`)[1:] {
		name := sec[strings.Index(sec, "<h2>")+4 : strings.Index(sec, "</h2>")]
		_, l, _ := strings.Cut(sec, `<ul class="legend"`)
		l, _, _ = strings.Cut(l, "</ul>")
		for _, m := range entry.FindAllStringSubmatch(l, -1) {
			out[name] = append(out[name], m[1]+": "+m[2])
		}
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestScheduleListAcrossDST: the weekly rotation's shifts are listed in
// its zone, the week the clocks go forward with both abbreviations, the
// fixed step as always rung, and the daily window's shifts day by day.
func TestScheduleListAcrossDST(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		// Tuesday 9 March 2027, 10:00 EST; New York goes to EDT on Sunday 14 March.
		s.now = time.Date(2027, 3, 9, 15, 0, 0, 0, time.UTC)
		c := s.client()
		s.signIn(c, "ann")
		code, body, _ := s.get(c, "/schedules")
		if code != http.StatusOK {
			t.Fatalf("schedules: %d", code)
		}
		shifts := teamShifts(t, body)
		sameLines(t, "Operations", shifts["Operations"], []string{
			"Tue 9 Mar 10:00 EST – Mon 15 Mar 09:00 EDT: Alice Adams, ops-primary",
			"Tue 9 Mar 10:00 EST – Tue 23 Mar 11:00 EDT: Bob Brown, always rung (secondary)",
			"Mon 15 Mar 09:00 – Mon 22 Mar 09:00 EDT: Bob Brown, ops-primary",
			"Mon 22 Mar 09:00 – Tue 23 Mar 11:00 EDT: Alice Adams, ops-primary",
		})
		desk := shifts["Service Desk"]
		sameLines(t, "Service Desk, first and last days", append(desk[:3:3], desk[len(desk)-2:]...), []string{
			"Tue 9 Mar 10:00 – 17:00 EST: Carol Chen, desk-day",
			"Wed 10 Mar 09:00 – 17:00 EST: Carol Chen, desk-day",
			"Thu 11 Mar 09:00 – 17:00 EST: Carol Chen, desk-day",
			"Mon 22 Mar 09:00 – 17:00 EDT: Carol Chen, desk-day",
			"Tue 23 Mar 09:00 – 11:00 EDT: Carol Chen, desk-day",
		})
		if len(desk) != 11 {
			t.Errorf("Service Desk: %d shifts, want one a weekday (11): %q", len(desk), desk)
		}
		if !slices.Contains(desk, "Mon 15 Mar 09:00 – 17:00 EDT: Carol Chen, desk-day") {
			t.Errorf("Service Desk: the Monday after the change is not 09:00 EDT: %q", desk)
		}
	})
}

// TestScheduleListOverridesAndOverlap: overrides are marked in the list
// with their reason (escaped), two overlapping overrides are warned about
// on the page, naming the newer as the one rung, and their rows tagged.
func TestScheduleListOverridesAndOverlap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "") // Tuesday 24 November 2026, 10:00 EST: Bob's week
		c := s.client()
		s.signIn(c, "ann")
		for _, f := range []url.Values{
			{"rotation": {"ops-primary"}, "engineer": {"carol"}, "from": {"2026-11-25T09:00"}, "to": {"2026-11-25T17:00"}, "reason": {"bob <away>"}},
			{"rotation": {"ops-primary"}, "engineer": {"alice"}, "from": {"2026-11-25T12:00"}, "to": {"2026-11-26T09:00"}, "reason": {"swap"}},
		} {
			if resp := s.post(c, "/schedules/overrides", f); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("override: %d", resp.StatusCode)
			}
		}
		_, body, _ := s.get(c, "/schedules")
		sameLines(t, "Operations", teamShifts(t, body)["Operations"], []string{
			"Tue 24 Nov 10:00 – Wed 25 Nov 09:00 EST: Bob Brown, ops-primary",
			"Tue 24 Nov 10:00 – Tue 8 Dec 10:00 EST: Bob Brown, always rung (secondary)",
			"Wed 25 Nov 09:00 – 12:00 EST: Carol Chen, ops-primary (override: bob &lt;away&gt;)",
			"Wed 25 Nov 12:00 – Thu 26 Nov 09:00 EST: Alice Adams, ops-primary (override: swap)",
			"Thu 26 Nov 09:00 – Mon 30 Nov 09:00 EST: Bob Brown, ops-primary",
			"Mon 30 Nov 09:00 – Mon 7 Dec 09:00 EST: Alice Adams, ops-primary",
			"Mon 7 Dec 09:00 – Tue 8 Dec 10:00 EST: Bob Brown, ops-primary",
		})
		for _, want := range []string{
			`<li class="override">Wed 25 Nov 09:00 – 12:00 EST: Carol Chen`,
			"<li>Overrides 1 (Carol Chen) and 2 (Alice Adams) both cover ops-primary Wed 25 Nov 12:00 – 17:00 EST: override 2, the newer, is the one rung there.</li>",
			`Carol Chen <span class="tag">overlaps</span>`,
			`Alice Adams <span class="tag">overlaps</span>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("schedules page lacks %q", want)
			}
		}
		if strings.Contains(body, "bob <away>") {
			t.Errorf("an override's reason is shown unescaped")
		}
		// The second override moved so that the two no longer overlap: no warning.
		if resp := s.post(c, "/schedules/overrides/2/remove", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove: %d", resp.StatusCode)
		}
		if resp := s.post(c, "/schedules/overrides", url.Values{"rotation": {"ops-primary"}, "engineer": {"alice"},
			"from": {"2026-11-25T17:00"}, "to": {"2026-11-26T09:00"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("override: %d", resp.StatusCode)
		}
		_, body, _ = s.get(c, "/schedules")
		if strings.Contains(body, "Overlapping overrides") || strings.Contains(body, `<span class="tag">overlaps</span>`) {
			t.Errorf("overrides that only touch are warned about as overlapping")
		}
		if !slices.Contains(teamShifts(t, body)["Operations"], "Wed 25 Nov 17:00 – Thu 26 Nov 09:00 EST: Alice Adams, ops-primary (override)") {
			t.Errorf("an override without a reason is not marked: %q", teamShifts(t, body)["Operations"])
		}
	})
}

// TestScheduleFilterAndLegend: the legend names each colour of the
// timeline; ?engineer= lists only that engineer's shifts and greys everyone
// else's stretches in the timeline; an unknown engineer is refused, escaped.
func TestScheduleFilterAndLegend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		c := s.client()
		s.signIn(c, "ann")
		if resp := s.post(c, "/schedules/overrides", url.Values{"rotation": {"ops-primary"}, "engineer": {"carol"},
			"from": {"2026-11-25T09:00"}, "to": {"2026-11-25T17:00"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("override: %d", resp.StatusCode)
		}
		_, body, _ := s.get(c, "/schedules")
		l := legend(body)
		sameLines(t, "Operations legend", l["Operations"], []string{"p0: Bob Brown", "p1: Carol Chen", "p2: Alice Adams", "override: outlined: an override"})
		sameLines(t, "Service Desk legend", l["Service Desk"], []string{"p0: Carol Chen", "gap: nobody (gap)"})
		// Every bar's label agrees with the legend: Carol's override is p1.
		if !strings.Contains(body, `class="p1 override"><title>Wed 25 Nov 09:00 – Wed 25 Nov 17:00: Carol Chen</title>`) {
			t.Errorf("the override's bar is not Carol's colour, outlined")
		}

		code, body, _ := s.get(c, "/schedules?engineer=alice")
		if code != http.StatusOK {
			t.Fatalf("filter: %d", code)
		}
		shifts := teamShifts(t, body)
		sameLines(t, "Operations, Alice only", shifts["Operations"], []string{
			"Mon 30 Nov 09:00 – Mon 7 Dec 09:00 EST: Alice Adams, ops-primary",
		})
		sameLines(t, "Service Desk, Alice only", shifts["Service Desk"], []string{})
		for _, want := range []string{
			"<h3>Upcoming shifts of Alice Adams</h3>",
			"Alice Adams has no shifts for Service Desk in the next 14 days.",
			`<option value="alice" selected>Alice Adams</option>`,
			`class="p2"><title>Mon 30 Nov 09:00 – Mon 7 Dec 09:00: Alice Adams</title>`,
			`class="other"><title>Tue 24 Nov 10:00 – Wed 25 Nov 09:00: Bob Brown</title>`,
			`class="other override"><title>Wed 25 Nov 09:00 – Wed 25 Nov 17:00: Carol Chen</title>`,
			`<a href="/schedules">Show everyone</a>`,
			// Labels on the grey stretches are dark, as their contrast needs.
			`text-anchor="start" class="other">Bob Brown</text>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("filtered page lacks %q", want)
			}
		}
		sameLines(t, "Operations legend, Alice only", legend(body)["Operations"], []string{"p2: Alice Adams", "other: someone else", "override: outlined: an override"})
		// The overrides and the chain now are not filtered.
		if !strings.Contains(body, "<strong>Bob Brown</strong>") || !strings.Contains(body, `<td data-label="Covered by"><span>Carol Chen`) {
			t.Errorf("the filter hid the chain now or the overrides")
		}

		code, body, _ = s.get(c, "/schedules?engineer="+url.QueryEscape("<b>x</b>"))
		if code != http.StatusBadRequest || !strings.Contains(body, "There is no engineer &#34;&lt;b&gt;x&lt;/b&gt;&#34;") || strings.Contains(body, "<b>x</b>") {
			t.Errorf("an unknown engineer: %d, or the refusal is missing or unescaped", code)
		}
		if got := teamShifts(t, body)["Operations"]; len(got) != 6 {
			t.Errorf("after an unknown engineer every shift should be listed, got %q", got)
		}
	})
}
