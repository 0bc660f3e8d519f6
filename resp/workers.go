package resp

import (
	"slices"
	"sync"
	"time"
)

// waveWorkers keeps the goroutines that help run concurrent waves
// (waveRun) parked between waves, so that a wave's helpers are reused
// goroutines rather than new ones. A write through the coordinator and
// pebble needs tens of KiB of stack, while a new goroutine starts with a
// few and grows by copying: with a new goroutine per helper, a node under
// redis-benchmark -P 16 SETs spent 15 % of its CPU in runtime.copystack. A
// parked worker keeps its grown stack.
//
// Workers park last in, first out, so the busiest stay warm; the next
// hand-off stops those parked longer than workerIdle (by the server's
// clock), and at most maxIdleWorkers park at once, so a burst leaves a
// bounded number behind. The Server owns them: Shutdown stops and joins
// them once every connection goroutine has returned. A helper's panics
// never reach its worker: execWave recovers them.
type waveWorkers struct {
	now func() time.Time // Config.now
	mu  struct {
		sync.Mutex
		idle   []*waveWorker // parked workers, the most recently parked last
		closed bool          // Shutdown: park no more, start none
	}
	wg sync.WaitGroup // one per worker goroutine
}

// waveWorker is one parked or running worker.
type waveWorker struct {
	// run hands the worker its next wave; nil stops it. Capacity 1, so a
	// hand-off never blocks.
	run   chan *waveRun
	since time.Time // when it parked; guarded by waveWorkers.mu
}

const (
	// maxIdleWorkers bounds the parked workers (each holds its stack,
	// typically 16–64 KiB): enough for 50 clients pipelining 16 commands
	// each in a cluster.
	maxIdleWorkers = 1024
	// workerIdle is how long a worker may stay parked.
	workerIdle = 10 * time.Second
)

// start runs r.helper on a parked worker, or on a new one.
func (p *waveWorkers) start(r *waveRun) {
	now := p.now()
	p.mu.Lock()
	// The oldest parked workers are first: stop those parked too long.
	stale := 0
	for stale < len(p.mu.idle) && now.Sub(p.mu.idle[stale].since) > workerIdle {
		p.mu.idle[stale].run <- nil
		stale++
	}
	if stale > 0 {
		p.mu.idle = slices.Delete(p.mu.idle, 0, stale)
	}
	if n := len(p.mu.idle); n > 0 {
		w := p.mu.idle[n-1]
		p.mu.idle = p.mu.idle[:n-1]
		p.mu.Unlock()
		w.run <- r
		return
	}
	// Shutdown closes the pool only after every connection goroutine,
	// the only callers, has returned; a new worker after that would be a
	// bug, but it would still be joined by close.
	p.wg.Add(1)
	p.mu.Unlock()
	go p.loop(&waveWorker{run: make(chan *waveRun, 1)}, r)
}

// loop is a worker's goroutine: help run a wave, park, repeat. It parks
// before it tells the wave it is done, so a joined wave's workers are
// parked; a hand-off in between waits in the channel.
func (p *waveWorkers) loop(w *waveWorker, r *waveRun) {
	defer p.wg.Done()
	for r != nil {
		r.helper()
		parked := p.park(w)
		r.wg.Done()
		if !parked {
			return
		}
		r = <-w.run
	}
}

// park puts w on the idle list; false means w must stop instead.
func (p *waveWorkers) park(w *waveWorker) bool {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed || len(p.mu.idle) >= maxIdleWorkers {
		return false
	}
	w.since = now
	p.mu.idle = append(p.mu.idle, w)
	return true
}

// close stops every worker and waits for them; the caller guarantees no
// wave is running. It is idempotent.
func (p *waveWorkers) close() {
	p.mu.Lock()
	p.mu.closed = true
	idle := p.mu.idle
	p.mu.idle = nil
	p.mu.Unlock()
	for _, w := range idle {
		w.run <- nil
	}
	p.wg.Wait()
}

// parked reports how many workers are parked (tests).
func (p *waveWorkers) parked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.mu.idle)
}
