package coordinator

import (
	"sync"
	"time"
)

// workerPool runs short tasks on long-lived goroutines. A fresh goroutine
// starts with a small stack that grows, by copying, to what a replica
// write or a pebble read needs; under load that copying cost a replica
// node more than a tenth of its CPU. Parked workers keep their grown
// stacks. Workers are started on demand up to max, park while idle and
// exit after idle has passed with no work, so an idle node holds none.
//
// Close stops the parked workers and waits for every worker to finish its
// task; the pool's owner makes sure no task is submitted after Close.
type workerPool struct {
	tasks chan func()
	max   int
	idle  time.Duration

	mu      sync.Mutex
	running int // guarded by mu
	closed  bool
	wg      sync.WaitGroup
	stop    chan struct{}
}

func newWorkerPool(max int, idle time.Duration) *workerPool {
	return &workerPool{tasks: make(chan func()), max: max, idle: idle, stop: make(chan struct{})}
}

// Go runs fn on a parked worker, a new worker if fewer than max run, or,
// when max are busy, on a goroutine of its own (a burst must not wait
// behind slow tasks, which may themselves wait for other tasks).
func (w *workerPool) Go(fn func()) {
	select {
	case w.tasks <- fn:
		return
	default:
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		fn()
		return
	}
	w.wg.Add(1)
	start := w.running < w.max
	if start {
		w.running++
	}
	w.mu.Unlock()
	if start {
		go w.work(fn)
		return
	}
	go func() { defer w.wg.Done(); fn() }()
}

func (w *workerPool) work(fn func()) {
	defer func() {
		w.mu.Lock()
		w.running--
		w.mu.Unlock()
		w.wg.Done()
	}()
	t := time.NewTimer(w.idle)
	defer t.Stop()
	for {
		fn()
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(w.idle)
		select {
		case fn = <-w.tasks:
		case <-t.C:
			return
		case <-w.stop:
			return
		}
	}
}

// Close stops the workers and waits for the running tasks.
func (w *workerPool) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	w.mu.Unlock()
	w.wg.Wait()
}
