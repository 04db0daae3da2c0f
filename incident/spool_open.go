package incident

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
)

// Opening a spool: each instance's own file under an exclusive lock, torn
// tails cut, and the spools of stopped instances adopted.

// openSpool opens (creating it) and locks this instance's spool file at
// path, or beside it, and takes over the unlocked spools of stopped
// instances there. A file that cannot be opened does not stop the start:
// the spool holds its writes in memory and retries the file on each write
// and each replay. Only a line written by a newer hotline is an error.
func openSpool(path string, log zerolog.Logger) (*spool, error) {
	s := &spool{base: path, path: path, log: log, limit: maxHeld}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.openLocked(); errors.Is(err, errNewerSpool) {
		return nil, err
	} else if err != nil {
		log.Error().Err(err).Str("spool", path).Msg("spool file unavailable: call events the database cannot take are held in memory")
	}
	return s, nil
}

// openLocked opens the file, reads what it holds, cuts a torn tail and
// takes over the spools of stopped instances.
func (s *spool) openLocked() error {
	f, path, err := lockSpool(s.base)
	if err != nil {
		s.failed = err
		return err
	}
	ops, good, size, err := s.scan(f, path, true)
	if err != nil {
		f.Close()
		s.failed = err
		return err
	}
	s.f, s.path, s.end, s.depth, s.gap = f, path, good, len(ops), false
	if good < size {
		// A crash tore the last line: cut it, so the next append is a line
		// of its own and not the torn line's end.
		if err := cutTail(f, good); err != nil {
			s.log.Warn().Err(err).Str("spool", path).Msg("cannot cut the torn end of the spool; appending after it")
			s.end, s.gap = size, true
		}
	}
	if path != s.base {
		s.log.Warn().Str("spool", path).Str("locked", s.base).Msg("the spool file is locked by another instance: this one spools to its own file beside it")
	}
	s.adoptLocked()
	s.failed = nil
	return nil
}

func cutTail(f spoolFile, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

// lockSpool opens and locks base, or when another instance holds it,
// base.<pid> (base.<pid>-N when that is taken too).
func lockSpool(base string) (*os.File, string, error) {
	for i := 0; i < 100; i++ {
		path := base
		if i > 0 {
			path = base + "." + strconv.Itoa(os.Getpid())
		}
		if i > 1 {
			path += "-" + strconv.Itoa(i-1)
		}
		f, ok, err := openLockedFile(path, os.O_CREATE)
		if err != nil {
			return nil, "", err
		}
		if ok {
			return f, path, nil
		}
	}
	return nil, "", fmt.Errorf("%s and 99 files beside it are locked by other instances", base)
}

// openLockedFile opens path and takes its lock without waiting; ok is
// false when another instance holds it. A file removed or replaced while
// its lock was awaited (an instance took it over) is opened again.
func openLockedFile(path string, flag int) (f *os.File, ok bool, err error) {
	for range 10 {
		f, err = os.OpenFile(path, flag|os.O_RDWR|os.O_APPEND, 0o600)
		if err != nil {
			return nil, false, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("lock %s: %w", path, err)
		}
		held, herr := f.Stat()
		named, nerr := os.Stat(path)
		if herr == nil && nerr == nil && os.SameFile(held, named) {
			return f, true, nil
		}
		f.Close()
		if flag&os.O_CREATE == 0 && errors.Is(nerr, os.ErrNotExist) {
			return nil, false, nerr
		}
	}
	return nil, false, fmt.Errorf("lock %s: the file keeps being replaced", path)
}

// adoptLocked moves the writes of the unlocked spool files beside base
// (their instances stopped) into this instance's file, then empties them:
// base is truncated, a per-instance file removed. A file is emptied only
// once its writes are synced here; a crash in between replays them twice,
// which changes nothing.
func (s *spool) adoptLocked() {
	var candidates []string
	if s.path != s.base {
		candidates = append(candidates, s.base)
	}
	name := filepath.Base(s.base)
	entries, _ := os.ReadDir(filepath.Dir(s.base))
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), name)
		if ok && e.Type().IsRegular() && leftoverName.MatchString(suffix) && s.base+suffix != s.path {
			candidates = append(candidates, s.base+suffix)
		}
	}
	for _, path := range candidates {
		f, ok, err := openLockedFile(path, 0)
		if err != nil || !ok {
			continue // gone, or a running instance's
		}
		ops, _, _, err := s.scan(f, path, true)
		if err == nil && len(ops) > 0 {
			err = s.writeLocked(ops)
		}
		switch {
		case err != nil:
			s.log.Error().Err(err).Str("spool", path).Msg("cannot take over the spool of a stopped instance; it is left as it is")
		case path == s.base:
			err = cutTail(f, 0)
		default:
			err = os.Remove(path)
		}
		f.Close()
		if err == nil && len(ops) > 0 {
			s.log.Warn().Int("writes", len(ops)).Str("from", path).Str("spool", s.path).Msg("took over the spooled writes of a stopped instance")
		}
	}
}
