package engine

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// pebbleLogger adapts slog to pebble's Logger. Pebble reports a failed
// commit (a WAL write or sync error) through Fatalf and carries on as if
// the commit had worked, so Fatalf must not return normally in production:
// it goes to Engine.fatal, which exits the process.
type pebbleLogger struct{ e *Engine }

func (l pebbleLogger) Infof(format string, args ...any) {
	// Pebble's info lines (WAL recovery, flushes) are useful when debugging
	// storage, noise otherwise.
	l.e.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.e.log.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.e.fatal(fmt.Sprintf(format, args...))
}

// fatal handles a storage failure after which nothing may be acknowledged:
// a commit that pebble could not write or sync. The write is already visible
// in the memtable (pebble publishes before the sync completes), other
// requests may have read it or built on it, and it may or may not be on
// disk: the only honest continuation is to stop the process and let the
// WAL, which holds a prefix of the commit order, decide on restart. This
// is pebble's own policy (Logger.Fatalf on a commit error) extended to the
// syncs we wait for ourselves with Batch.SyncWait.
//
// Tests replace the exit with a hook; the engine then refuses every later
// call with ErrFailed so that nothing is acknowledged after the failure.
func (e *Engine) fatal(msg string) {
	e.failed.Store(true)
	e.log.Error("engine: fatal storage error, stopping", "err", msg)
	if e.cfg.testing.fatal != nil {
		e.cfg.testing.fatal(msg)
		return
	}
	os.Exit(1)
}

// rateLimited logs one line per interval at most, saying how many similar
// events it held back since the last line. A runaway writer creating
// siblings must not flood the log (docs/architecture.md §3 asks for the fold to be
// logged, not for a log line per write).
type rateLimited struct {
	interval time.Duration

	mu         sync.Mutex
	last       time.Time // when the last line was logged; guarded by mu
	suppressed int64     // events since then; guarded by mu
}

// allow reports whether a line may be logged now, and how many events
// were held back since the last one.
func (r *rateLimited) allow(now time.Time) (ok bool, suppressed int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A clock that jumped back by more than the interval also lets a line
	// through, so a bad clock cannot silence the log.
	if d := now.Sub(r.last); !r.last.IsZero() && d < r.interval && d > -r.interval {
		r.suppressed++
		return false, 0
	}
	n := r.suppressed
	r.last, r.suppressed = now, 0
	return true, n
}
