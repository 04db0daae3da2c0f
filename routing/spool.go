package routing

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
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

// spool is an append-only file of writes that could not reach the
// database, replayed in order once it is back. Each line is one JSON op;
// a line torn by a crash is skipped on replay (its webhook never got a 2xx:
// append returns only after fsync). A line from a newer hotline stops the
// read instead: dropping it would lose a call's write.
type spool struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	depth int // ops in the file
}

func openSpool(path string) (*spool, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("routing: open spool: %w", err)
	}
	s := &spool{path: path, f: f}
	ops, err := s.read()
	if err != nil {
		f.Close()
		return nil, err
	}
	s.depth = len(ops)
	return s, nil
}

// append writes ops and syncs the file: when it returns nil they survive a
// crash.
func (s *spool) append(ops []*writeOp) error {
	var buf bytes.Buffer
	for _, op := range ops {
		line, err := encodeSpoolLine(op)
		if err != nil {
			return fmt.Errorf("routing: spool: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("routing: spool: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("routing: spool: %w", err)
	}
	s.depth += len(ops)
	return nil
}

// read returns every complete op in the file, in order.
func (s *spool) read() ([]*writeOp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("routing: read spool: %w", err)
	}
	var ops []*writeOp
	r := bufio.NewReader(s.f)
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// A last line without its newline was torn by a crash.
			return ops, nil
		}
		if err != nil {
			return nil, fmt.Errorf("routing: read spool: %w", err)
		}
		op, err := decodeSpoolLine(line)
		if errors.Is(err, errNewerSpool) {
			return nil, err
		}
		if err == nil { // else a line torn by a crash, appended to since
			ops = append(ops, op)
		}
	}
}

// truncate empties the file once its ops are in the database.
func (s *spool) truncate(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n != s.depth {
		// More ops arrived while replaying: keep them for the next round.
		return nil
	}
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("routing: truncate spool: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("routing: truncate spool: %w", err)
	}
	s.depth = 0
	return nil
}

func (s *spool) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.depth
}

func (s *spool) close() error { return s.f.Close() }
