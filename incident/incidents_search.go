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
	// incidents_search (migration 00008), for the matching rows and reads
	// them: for words in at most denseMatches calls.
	searchFTS5
	// searchFTS5Dense walks the rows newest first (by whichever index the
	// other filters choose) and keeps those in the trigram index's
	// matches: for common words, whose first page is near the top.
	searchFTS5Dense
	// searchTrigram asks PostgreSQL's pg_trgm GIN index incidents_search
	// (migration 00008) through ILIKE on searchText.
	searchTrigram
)

// denseMatches is how many calls a search's words may be in before the
// call log walks the rows rather than reading every match: reading one
// match costs about 4 µs (the row, then sorting it), walking past one row
// about 0.3 µs, so around here both take a few milliseconds.
const denseMatches = 2000

// likeMatches is how many matches CountMatching counts of a search without
// a trigram index (a query of one or two characters, or PostgreSQL without
// pg_trgm), each found by reading rows.
const likeMatches = 200

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

// ftsMatches counts the calls whose searched columns hold q, up to limit,
// in SQLite's trigram index.
func (s *Incidents) ftsMatches(ctx context.Context, q string, limit int) (int, error) {
	var n int
	const count = `SELECT COUNT(*) FROM (SELECT 1 FROM incidents_search WHERE incidents_search MATCH ? LIMIT ?) AS matching`
	if err := s.db.SQL().QueryRowContext(ctx, count, ftsPhrase(q), limit).Scan(&n); err != nil {
		return 0, fmt.Errorf("incident: search: %w", err)
	}
	return n, nil
}

// ftsPhrase is q as one FTS5 phrase: with the trigram tokenizer it matches
// the substring, in any one column, ignoring case.
func ftsPhrase(q string) string { return `"` + strings.ReplaceAll(q, `"`, `""`) + `"` }

func (s *Incidents) searchMode(ctx context.Context, q string) (searchMode, error) {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) < minTrigramQuery || strings.ContainsRune(q, '\x1f') {
		return searchLike, nil
	}
	if s.db.Dialect() == store.SQLite {
		n, err := s.ftsMatches(ctx, q, denseMatches+1)
		if err != nil || n <= denseMatches {
			return searchFTS5, err
		}
		return searchFTS5Dense, nil
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
		return []string{`id IN (SELECT rowid FROM incidents_search WHERE incidents_search MATCH ?)`}, []any{ftsPhrase(q)}
	case searchFTS5Dense:
		// The unary + keeps SQLite from driving the query by id: the
		// matches become a set each row walked past is looked up in.
		return []string{`+id IN (SELECT rowid FROM incidents_search WHERE incidents_search MATCH ?)`}, []any{ftsPhrase(q)}
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
// and Offset ignored), reading at most about bound+1 of them, so that it
// costs milliseconds whatever the table holds. When exact is false there
// are at least n: n is bound+1 when more than bound match. A search reads
// at most min(bound, denseMatches)+1 matching rows (min(bound,
// likeMatches)+1 without a trigram index): more matches make n that many;
// on SQLite, when the search's words are in more calls than that and other
// filters are set too, n counts those of the newest that many such calls
// that pass them.
func (s *Incidents) CountMatching(ctx context.Context, f Filter, bound int) (n int, exact bool, err error) {
	f.Before, f.After = nil, nil
	q := strings.TrimSpace(f.Q)
	mode, err := s.searchMode(ctx, q)
	if err == nil && (mode == searchFTS5 || mode == searchFTS5Dense) {
		n, exact, err = s.countFTS(ctx, f, q, bound)
	} else if err == nil {
		read := bound + 1
		switch {
		case mode == searchTrigram:
			// PostgreSQL rechecks each of the index's matches in its row,
			// about 3 µs each: it reads at most denseMatches+1 of them.
			read = min(bound, denseMatches) + 1
		case q != "":
			// LIKE finds its matches by reading rows: counting stops at a
			// few pages' worth, as many rows as the page read times four.
			read = min(bound, likeMatches) + 1
		}
		where, args := f.where(s.db.Dialect(), mode)
		n, err = s.count(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM incidents`+where+` LIMIT ?) AS matching`, append(args, read)...)
		exact = n < read
	}
	if err != nil {
		return 0, false, fmt.Errorf("incident: count incidents: %w", err)
	}
	if n > bound {
		return bound + 1, false, nil
	}
	return n, exact, nil
}

// countFTS counts a search on SQLite from the trigram index's matches, the
// newest first, each joined to its row for the other filters: the planner
// would otherwise walk a filter's index and look every row up in the
// matches, reading far more than bound rows.
func (s *Incidents) countFTS(ctx context.Context, f Filter, q string, bound int) (n int, exact bool, err error) {
	m, err := s.ftsMatches(ctx, q, bound+1)
	if err != nil {
		return 0, false, err
	}
	rest := f
	rest.Q, rest.QEngineers = "", nil
	where, args := rest.where(s.db.Dialect(), searchLike)
	if where == "" && len(f.QEngineers) == 0 {
		return m, m <= bound, nil // the index alone knows
	}
	// Each match is joined to its row, about 3 µs each: at most
	// denseMatches+1 of them are, the newest. CROSS JOIN keeps SQLite's
	// join order: the matches drive.
	read := min(bound, denseMatches) + 1
	n, err = s.count(ctx, `SELECT COUNT(*) FROM (SELECT rowid FROM incidents_search WHERE incidents_search MATCH ? ORDER BY rowid DESC LIMIT ?) AS m
		CROSS JOIN incidents ON incidents.id = m.rowid`+where, append([]any{ftsPhrase(q), read}, args...)...)
	if err != nil || len(f.QEngineers) == 0 {
		return n, m < read, err
	}
	// Calls answered by an engineer the query names, without the words.
	eng := "answered_by IN " + store.Placeholders(1, len(f.QEngineers)) +
		" AND +id NOT IN (SELECT rowid FROM incidents_search WHERE incidents_search MATCH ?)"
	if where == "" {
		where = " WHERE " + eng
	} else {
		where += " AND " + eng
	}
	for _, e := range f.QEngineers {
		args = append(args, e)
	}
	more, err := s.count(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM incidents`+where+` LIMIT ?) AS matching`, append(args, ftsPhrase(q), bound+1)...)
	return n + more, m < read && more <= bound, err
}

func (s *Incidents) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	err := s.db.SQL().QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}
