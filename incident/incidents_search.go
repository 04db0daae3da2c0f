package incident

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/store"
)

// searchMode is how a Filter's Q is looked up.
type searchMode int

const (
	// searchLike walks the rows with LIKE '%q%' (ILIKE on PostgreSQL): a
	// query shorter than a trigram, or PostgreSQL without pg_trgm.
	searchLike searchMode = iota
	// searchFTS5 asks SQLite's trigram index, the FTS5 table
	// incidents_search (migration 00008).
	searchFTS5
	// searchTrigram asks PostgreSQL's pg_trgm GIN index incidents_search
	// (migration 00008) through ILIKE on searchText.
	searchTrigram
)

// minTrigramQuery is the shortest query a trigram index can answer: a
// shorter one has no trigram and is looked up with LIKE.
const minTrigramQuery = 3

// searchText is the expression PostgreSQL's trigram index is built on
// (migration 00008 spells it the same): the searched columns joined by a
// unit separator, a character no query holds (queries with it take LIKE),
// so a match never spans two columns.
const searchText = `(from_number || chr(31) || caller_name || chr(31) || transcript || chr(31) || COALESCE(answered_by, ''))`

// where is f as a WHERE clause, with Q looked up the fastest way this
// database offers.
func (s *Incidents) where(ctx context.Context, f Filter) (string, []any, error) {
	mode, err := s.searchMode(ctx, f.Q)
	if err != nil {
		return "", nil, err
	}
	where, args := f.where(s.db.Dialect(), mode)
	return where, args, nil
}

func (s *Incidents) searchMode(ctx context.Context, q string) (searchMode, error) {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) < minTrigramQuery || strings.ContainsRune(q, '\x1f') {
		return searchLike, nil
	}
	if s.db.Dialect() == store.SQLite {
		return searchFTS5, nil
	}
	indexed, err := s.TrigramSearch(ctx)
	if err != nil || !indexed {
		return searchLike, err
	}
	return searchTrigram, nil
}

// TrigramSearch reports whether searches of three characters or more use a
// trigram index: always on SQLite (FTS5), and on PostgreSQL when the
// pg_trgm extension could be created at migration (when it could not,
// searches walk the rows with ILIKE, as fast when the words are common but
// a full scan when nothing matches). The answer is read once.
func (s *Incidents) TrigramSearch(ctx context.Context) (bool, error) {
	if s.db.Dialect() == store.SQLite {
		return true, nil
	}
	switch s.trigram.Load() {
	case 1:
		return true, nil
	case 2:
		return false, nil
	}
	var indexed bool
	if err := s.db.QueryRowContext(ctx, `SELECT to_regclass('incidents_search') IS NOT NULL`).Scan(&indexed); err != nil {
		return false, fmt.Errorf("incident: search index: %w", err)
	}
	if indexed {
		s.trigram.Store(1)
	} else {
		s.trigram.Store(2)
	}
	return indexed, nil
}

// searchTerms are the alternatives a row matches q by, with their
// arguments.
func searchTerms(q string, dialect store.Dialect, mode searchMode) ([]string, []any) {
	switch mode {
	case searchFTS5:
		// A phrase of the whole query: with the trigram tokenizer it
		// matches the substring, in any one column, ignoring case.
		phrase := `"` + strings.ReplaceAll(q, `"`, `""`) + `"`
		return []string{`id IN (SELECT rowid FROM incidents_search WHERE incidents_search MATCH ?)`}, []any{phrase}
	case searchTrigram:
		return []string{searchText + ` ILIKE ? ESCAPE '\'`}, []any{"%" + escapeLike(q) + "%"}
	}
	like := "%" + escapeLike(q) + "%"
	// SQLite's LIKE ignores ASCII case; PostgreSQL's needs ILIKE.
	op := "LIKE"
	if dialect == store.Postgres {
		op = "ILIKE"
	}
	return []string{
		`from_number ` + op + ` ? ESCAPE '\'`, `caller_name ` + op + ` ? ESCAPE '\'`,
		`transcript ` + op + ` ? ESCAPE '\'`, `answered_by ` + op + ` ? ESCAPE '\'`,
	}, []any{like, like, like, like}
}

// CountMatching counts the incidents matching f (its Before, After, Limit
// and Offset ignored), up to bound: n is exact when more is false, and
// bound when there are more. Counting stops at bound+1 rows, so its cost is
// that of reading that many index entries, whatever the table holds.
func (s *Incidents) CountMatching(ctx context.Context, f Filter, bound int) (n int, more bool, err error) {
	f.Before, f.After = nil, nil
	where, args, err := s.where(ctx, f)
	if err != nil {
		return 0, false, fmt.Errorf("incident: count incidents: %w", err)
	}
	q := `SELECT COUNT(*) FROM (SELECT 1 FROM incidents` + where + ` LIMIT ?) AS matching`
	if err := s.db.SQL().QueryRowContext(ctx, q, append(args, bound+1)...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("incident: count incidents: %w", err)
	}
	if n > bound {
		return bound, true, nil
	}
	return n, false, nil
}
