package incident

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// addSearchCall writes a call whose caller name comes with its start and
// whose transcript and answerer come with a later update, as the call flow
// writes them.
func addSearchCall(t *testing.T, s *Incidents, sid, from, name, transcript, answeredBy string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.StartIncident(ctx, Incident{CallSid: sid, From: from, CallerName: name, To: "+18005550100", StartedAt: at, ConfigRevision: "r"},
		Event{At: at, Type: "incoming", Key: "incoming"}); err != nil {
		t.Fatal(err)
	}
	upd := Update{Team: "ops", Status: StatusVoicemail, Transcript: transcript, AnsweredBy: answeredBy, EndedAt: at.Add(time.Minute)}
	if _, err := s.Record(ctx, sid, upd, Event{At: at.Add(time.Minute), Type: "voicemail", Key: "voicemail"}); err != nil {
		t.Fatal(err)
	}
}

func sidsOf(list []Incident) string {
	var sids []string
	for _, in := range list {
		sids = append(sids, in.CallSid)
	}
	return strings.Join(sids, " ")
}

func TestSearchUsesTheTrigramIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		if indexed, err := s.TrigramSearch(ctx); err != nil || !indexed {
			t.Fatalf("TrigramSearch: %v %v, want an index (pg_trgm is installed here)", indexed, err)
		}
		t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		addSearchCall(t, s, "CA1", "+15550001111", "Zoë Quartermaine", "The printer on floor three is jammed again", "", t0)
		addSearchCall(t, s, "CA2", "+15550002222", "100% Sure Ltd", `Please say "urgent" when you call back`, "alice", t0.Add(time.Hour))
		addSearchCall(t, s, "CA3", "+15550003333", "Bob", "VPN is down", "", t0.Add(2*time.Hour))
		for _, c := range []struct{ q, want string }{
			{"printer", "CA1"},      // a transcript word, written by an update after the start
			{"FLOOR THREE", "CA1"},  // ignoring case, across a space
			{"artermai", "CA1"},     // a fragment of the caller's name
			{"0% s", "CA2"},         // LIKE's wildcards are literal
			{`say "urgent"`, "CA2"}, // so are FTS5's quotes
			{"ali", "CA2"},          // the answering engineer's id
			{"0003", "CA3"},         // the caller's number
			{"no-such-words", ""},   // nothing
			{"Zo", "CA1"},           // too short for a trigram: LIKE
			{"Ve vpn", ""},          // one substring, not two words
			{"down", "CA3"},
		} {
			list, err := s.FindIncidents(ctx, Filter{Q: c.q})
			if err != nil {
				t.Fatal(err)
			}
			if got := sidsOf(list); got != c.want {
				t.Errorf("q=%q: %q, want %q", c.q, got, c.want)
			}
			n, exact, err := s.CountMatching(ctx, Filter{Q: c.q}, 10)
			if want := len(strings.Fields(c.want)); n != want || !exact || err != nil {
				t.Errorf("q=%q counted %d (exact %v, %v), want %d", c.q, n, exact, err, want)
			}
		}
		// Counting a search stops after bound+1 calls; with another filter
		// too, it says how many of the newest bound+1 matches pass it.
		for _, c := range []struct {
			f     Filter
			bound int
			n     int
			exact bool
		}{
			{Filter{Q: "+1555000"}, 10, 3, true},
			{Filter{Q: "+1555000"}, 2, 3, false},
			{Filter{Q: "+1555000", Team: "ops"}, 10, 3, true},
			{Filter{Q: "+1555000", Team: "ops"}, 2, 3, false},
			// SQLite counts the newest 3 of the words' calls; PostgreSQL's
			// GIN index answers the whole filter.
			{Filter{Q: "+1555000", From: t0.Add(90 * time.Minute)}, 2, 1, s.db.Dialect() == store.Postgres},
			{Filter{Q: "+1555000", Team: "desk"}, 10, 0, true},
			// "Adams" is in no call, but names the engineer alice, who
			// answered CA2 (the page passes such engineers in QEngineers).
			{Filter{Q: "Adams", QEngineers: []string{"alice"}}, 10, 1, true},
			{Filter{Q: "Adams", QEngineers: []string{"alice"}, Team: "ops"}, 10, 1, true},
			{Filter{Q: "Sure", QEngineers: []string{"alice"}, Team: "ops"}, 10, 1, true}, // CA2 counted once
		} {
			n, exact, err := s.CountMatching(ctx, c.f, c.bound)
			if n != c.n || exact != c.exact || err != nil {
				t.Errorf("count %+v up to %d: %d exact %v (%v), want %d exact %v", c.f, c.bound, n, exact, err, c.n, c.exact)
			}
		}
		if list, err := s.FindIncidents(ctx, Filter{Q: "Adams", QEngineers: []string{"alice"}}); err != nil || sidsOf(list) != "CA2" {
			t.Errorf("q=Adams answered by alice: %q %v", sidsOf(list), err)
		}
		// A searched column changed later is found by its new text only.
		if _, err := s.Record(ctx, "CA3", Update{Transcript: "Fixed by rebooting the router"}, Event{At: t0.Add(3 * time.Hour), Type: "transcript", Key: "transcript"}); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]string{"rebooting": "CA3", "VPN is": ""} {
			list, err := s.FindIncidents(ctx, Filter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			if got := sidsOf(list); got != want {
				t.Errorf("after the update, q=%q: %q, want %q", q, got, want)
			}
		}
		if mode, _ := s.searchMode(ctx, "Zo"); mode != searchLike {
			t.Errorf("a two-letter query searched with %d, want LIKE", mode)
		}
		if mode, _ := s.searchMode(ctx, "Zoë"); mode == searchLike {
			t.Error("a three-letter query did not use the trigram index")
		}
	})
}

// TestSearchWithoutPgTrgm: a PostgreSQL database whose migration could not
// create the extension has no index, and searches still find what they
// should, by ILIKE.
func TestSearchWithoutPgTrgm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		if db.Dialect() != store.Postgres {
			t.Skip("PostgreSQL only: SQLite always has FTS5")
		}
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `DROP INDEX incidents_search`); err != nil {
			t.Fatal(err)
		}
		s := NewIncidents(db)
		if indexed, err := s.TrigramSearch(ctx); err != nil || indexed {
			t.Fatalf("TrigramSearch without the index: %v %v", indexed, err)
		}
		addSearchCall(t, s, "CA1", "+15550001111", "Zoë Quartermaine", "The printer is jammed", "", time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		for q, want := range map[string]string{"PRINTER": "CA1", "artermai": "CA1", "nothing": ""} {
			list, err := s.FindIncidents(ctx, Filter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			if got := sidsOf(list); got != want {
				t.Errorf("q=%q: %q, want %q", q, got, want)
			}
		}
	})
}

// TestSearchMigrationIndexesHistory: incidents written before the search
// index existed are found once the migration has built it.
func TestSearchMigrationIndexesHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		older := fstest.MapFS{}
		err := fs.WalkDir(migrations, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Base(p) >= "00008" {
				return err
			}
			data, err := migrations.ReadFile(p)
			older[p] = &fstest.MapFile{Data: data}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, "routing", older); err != nil {
			t.Fatal(err)
		}
		// Written as that schema's code wrote it: the code of today keeps
		// tables the older schema lacks (the stats' roll-ups).
		if _, err := db.ExecContext(ctx, `INSERT INTO incidents (call_sid, from_number, caller_name, to_number, status, answered_by, transcript, started_at, config_revision)
			VALUES ('CA1', '+15550001111', 'Zoë Quartermaine', '+18005550100', 'answered', 'alice', 'The printer is jammed', ?, 'r')`,
			time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		s := NewIncidents(db)
		for _, q := range []string{"printer", "QUARTER", "+1555000111", "alic"} {
			if mode, _ := s.searchMode(ctx, q); mode == searchLike {
				t.Fatalf("q=%q searched without the index", q)
			}
			if list, err := s.FindIncidents(ctx, Filter{Q: q}); err != nil || sidsOf(list) != "CA1" {
				t.Errorf("after the migration, q=%q: %q %v", q, sidsOf(list), err)
			}
		}
	})
}

func TestPagingBothWays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestIncidents(t, dsn)
		t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		// Seven calls, CA3 and CA4 at the same instant (the id breaks the tie).
		for i, off := range []int{0, 1, 2, 2, 3, 4, 5} {
			addSearchCall(t, s, fmt.Sprintf("CA%d", i), "+1555000000"+fmt.Sprint(i), "", "", "", t0.Add(time.Duration(off)*time.Minute))
		}
		page := func(f Filter) []Incident {
			t.Helper()
			f.Limit = 3
			list, err := s.FindIncidents(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		first := page(Filter{})
		if got := sidsOf(first); got != "CA6 CA5 CA4" {
			t.Fatalf("first page %q", got)
		}
		c := CursorOf(first[2])
		second := page(Filter{Before: &c})
		if got := sidsOf(second); got != "CA3 CA2 CA1" {
			t.Fatalf("second page %q", got)
		}
		c = CursorOf(second[2])
		if got := sidsOf(page(Filter{Before: &c})); got != "CA0" {
			t.Fatalf("third page %q", got)
		}
		// Newer than the second page's first row: the three just above it,
		// still newest first.
		c = CursorOf(second[0])
		if got := sidsOf(page(Filter{After: &c})); got != "CA6 CA5 CA4" {
			t.Errorf("newer than CA3: %q", got)
		}
		c = CursorOf(second[2])
		if got := sidsOf(page(Filter{After: &c})); got != "CA4 CA3 CA2" {
			t.Errorf("newer than CA1: %q", got)
		}
		back, err := ParseCursor(c.String())
		if err != nil || back != c {
			t.Errorf("cursor round trip: %v %v, want %v", back, err, c)
		}
		if n, exact, err := s.CountMatching(ctx, Filter{Before: &c}, 10); n != 7 || !exact || err != nil {
			t.Errorf("count ignoring the cursor: %d %v %v, want 7", n, exact, err)
		}
		if n, exact, err := s.CountMatching(ctx, Filter{}, 5); n != 6 || exact || err != nil {
			t.Errorf("count bounded at 5: %d %v %v, want 6 (more than 5)", n, exact, err)
		}
		if n, exact, err := s.CountMatching(ctx, Filter{From: t0.Add(4 * time.Minute)}, 5); n != 2 || !exact || err != nil {
			t.Errorf("count from 09:04: %d %v %v, want 2", n, exact, err)
		}
	})
}
