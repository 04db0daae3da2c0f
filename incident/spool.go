package incident

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sync"

	"github.com/rs/zerolog"
)

// writeOp is one incident write: the opening of an incident or a Record.
// Every op is idempotent (incidents are unique per CallSid, events per
// key), so replaying one that did reach the database changes nothing. The
// spool stores it as a spoolRecord (spool_record.go).
type writeOp struct {
	Start   *Incident
	CallSid string
	Update  Update
	Events  []Event
}

// maxHeld bounds the writes held in memory while neither the database nor
// the spool file can take them: about 10,000 webhooks, a few megabytes.
const maxHeld = 10_000

// spoolFile is what the spool needs of its file: an *os.File, or in tests
// one that fails as a full disk does.
type spoolFile interface {
	io.ReadSeeker
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// spool keeps the writes that could not reach the database, in order, to
// be replayed once it is back: first in an append-only file, each line one
// JSON op, synced before a webhook is answered; when the file cannot take
// them either (its disk full, its directory gone), in memory, bounded by
// maxHeld, until the file or the database can. An op beyond the bound is
// counted, logged and dropped.
//
// Each instance has a spool file of its own: the file is locked (flock),
// and an instance that finds the configured path locked by another uses
// <path>.<pid> beside it. At open, the unlocked spool files of stopped
// instances beside it are taken over, so nothing a crashed instance
// spooled is left behind.
//
// A line torn by a crash (its webhook never got a 2xx: append returns only
// after fsync) is skipped and counted, and cut off the end of the file at
// open so the next append starts a line of its own. A line from a newer
// hotline stops the open instead: dropping it would lose a call's write.
type spool struct {
	base string // the configured path
	log  zerolog.Logger

	mu      sync.Mutex
	path    string    // the file this instance locked: base, or base.<pid>
	f       spoolFile // nil while the file cannot be opened
	end     int64     // the file's size after its last complete line
	gap     bool      // the file may end inside a line: start the next with '\n'
	depth   int       // ops in the file
	held    []*writeOp
	limit   int    // maxHeld, lower in tests
	seq     uint64 // bumped by every change, so clear empties only what was replayed
	failed  error  // why the file last refused a write (or could not be opened)
	torn    int    // torn lines skipped
	dropped int    // ops lost beyond the memory bound
	closed  bool
}

// leftoverName matches the suffixes instances give the spool files they
// name beside the configured one: <path>.<pid>, <path>.<pid>-N.
var leftoverName = regexp.MustCompile(`^\.[0-9]+(-[0-9]+)?$`)

// scan reads every complete op in f, in order, and returns with them the
// size of the file up to the end of its last complete line, and the
// file's size. Torn lines are skipped, and counted and logged if report;
// a line glued to the torn one before it (hotline once appended right
// after a torn tail) is read from where its own record starts.
func (s *spool) scan(f spoolFile, path string, report bool) (ops []*writeOp, good, size int64, err error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, 0, fmt.Errorf("incident: read spool: %w", err)
	}
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		size += int64(len(line))
		if errors.Is(err, io.EOF) {
			if len(line) > 0 && report {
				s.tornLocked(path, n, len(line), "the end of the file")
			}
			return ops, good, size, nil
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("incident: read spool: %w", err)
		}
		good = size
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if len(line) == 0 {
			continue
		}
		op, err := decodeSpoolLine(line)
		if errors.Is(err, errNewerSpool) {
			return nil, 0, 0, err
		}
		if err != nil {
			op, err = salvage(line)
			if errors.Is(err, errNewerSpool) {
				return nil, 0, 0, err
			}
			if report {
				s.tornLocked(path, n, len(line), "a torn line")
			}
		}
		if err == nil {
			ops = append(ops, op)
		}
	}
}

// salvage reads the record glued after a torn line's bytes, if there is
// one: it starts where a line of this version or an older one starts.
func salvage(line []byte) (*writeOp, error) {
	for i := 1; i < len(line); i++ {
		if line[i] != '{' {
			continue
		}
		rest := line[i:]
		if !bytes.HasPrefix(rest, []byte(`{"v":`)) && !bytes.HasPrefix(rest, []byte(`{"start":`)) && !bytes.HasPrefix(rest, []byte(`{"call_sid":`)) {
			continue
		}
		if op, err := decodeSpoolLine(rest); err == nil || errors.Is(err, errNewerSpool) {
			return op, err
		}
	}
	return nil, errors.New("incident: torn spool line")
}

func (s *spool) tornLocked(path string, line, size int, what string) {
	s.torn++
	s.log.Warn().Str("spool", path).Int("line", line).Int("bytes", size).Msg("spool: skipped " + what + ", torn by a crash")
}

// keep makes ops durable in the file, after what is held in memory (so
// the order stays), and returns how many ops it wrote there. When the file
// refuses them, they are held in memory.
func (s *spool) keep(ops []*writeOp) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.flushLocked()
	if len(ops) == 0 {
		return n
	}
	if len(s.held) == 0 && s.writeOrFail(ops) == nil {
		return n + len(ops)
	}
	s.holdLocked(ops)
	return n
}

// flush writes the ops held in memory to the file, when it takes them
// again, and returns how many it wrote.
func (s *spool) flush() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

func (s *spool) flushLocked() int {
	if len(s.held) == 0 && s.f != nil {
		return 0
	}
	if s.f == nil {
		if s.closed {
			return 0
		}
		if err := s.openLocked(); err != nil {
			return 0
		}
		s.log.Info().Str("spool", s.path).Msg("spool file open")
	}
	n := len(s.held)
	if n == 0 || s.writeOrFail(s.held) != nil {
		return 0
	}
	s.held = nil
	s.log.Info().Int("writes", n).Str("spool", s.path).Msg("spool writable again: the writes held in memory are in it")
	return n
}

// writeOrFail writes ops to the file, or records why it could not.
func (s *spool) writeOrFail(ops []*writeOp) error {
	if s.f == nil {
		if s.failed == nil {
			return errors.New("incident: spool closed")
		}
		return s.failed
	}
	err := s.writeLocked(ops)
	if err != nil {
		if s.failed == nil {
			s.log.Error().Err(err).Str("spool", s.path).Msg("spool unwritable: call events the database cannot take are held in memory")
		}
		s.failed = err
		return err
	}
	s.failed = nil
	return nil
}

// writeLocked appends ops to the file and syncs it: when it returns nil
// they survive a crash. A failed write is taken back (the file cut to its
// last complete line), so a later one starts a line of its own.
func (s *spool) writeLocked(ops []*writeOp) error {
	var buf bytes.Buffer
	if s.gap {
		buf.WriteByte('\n')
	}
	for _, op := range ops {
		line, err := encodeSpoolLine(op)
		if err != nil {
			return fmt.Errorf("encode a spool line: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	s.seq++
	n, err := s.f.Write(buf.Bytes())
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		if n > 0 {
			if terr := cutTail(s.f, s.end); terr != nil {
				s.end += int64(n)
				s.gap = true
				if n < buf.Len() {
					s.tornLocked(s.path, 0, n, "a failed write it could not take back")
				}
			}
		}
		return err // the file's: "write <path>: no space left on device"
	}
	s.end += int64(buf.Len())
	s.gap = false
	s.depth += len(ops)
	return nil
}

// holdLocked keeps ops in memory, up to the bound; beyond it each op is
// counted and logged, and lost.
func (s *spool) holdLocked(ops []*writeOp) {
	s.seq++
	for _, op := range ops {
		if len(s.held) < s.limit {
			s.held = append(s.held, op)
			continue
		}
		s.dropped++
		ev := s.log.Error().Str("call_sid", op.CallSid).Int("held", len(s.held))
		if len(op.Events) > 0 {
			ev = ev.Str("event", string(op.Events[0].Type))
		}
		ev.Msg("call event lost: neither the database nor the spool can take it, and the memory bound is reached")
	}
}

// read returns every op waiting, those in the file then those held in
// memory, in order, and a mark for clear.
func (s *spool) read() ([]*writeOp, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ops []*writeOp
	if s.f != nil && s.depth > 0 {
		// Torn lines were counted when the file was opened or torn.
		var err error
		if ops, _, _, err = s.scan(s.f, s.path, false); err != nil {
			return nil, 0, err
		}
	}
	return append(ops, s.held...), s.seq, nil
}

// clear empties the file and the memory once the ops read with mark are
// in the database. It reports false, and keeps everything, when ops
// arrived since: they are replayed (again, harmlessly) next round.
func (s *spool) clear(mark uint64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mark != s.seq {
		return false, nil
	}
	if s.f != nil && s.end > 0 {
		if err := cutTail(s.f, 0); err != nil {
			return false, fmt.Errorf("incident: truncate spool: %w", err)
		}
	}
	s.seq++
	s.end, s.gap, s.depth, s.held = 0, false, 0, nil
	if s.f != nil {
		s.failed = nil
	}
	return true, nil
}

// spoolState is what the spool holds and why.
type spoolState struct {
	path          string
	depth, held   int
	failed        error
	torn, dropped int
}

func (s *spool) state() spoolState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return spoolState{path: s.path, depth: s.depth, held: len(s.held), failed: s.failed, torn: s.torn, dropped: s.dropped}
}

// size is the number of ops waiting, in the file and in memory.
func (s *spool) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.depth + len(s.held)
}

// close writes what is held in memory to the file if it can, and closes
// it (which releases its lock); a per-instance file left empty is removed.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	s.closed = true
	if n := len(s.held); n > 0 {
		s.dropped += n
		s.log.Error().Int("writes", n).Msg("call events lost at shutdown: neither the database nor the spool could take them")
		s.held = nil
	}
	if s.f == nil {
		return nil
	}
	if s.path != s.base && s.end == 0 {
		os.Remove(s.path)
	}
	err := s.f.Close()
	s.f = nil
	return err
}
