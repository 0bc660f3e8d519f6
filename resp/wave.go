package resp

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/tidwall/redcon"
)

// Waves: the independent commands of one pipeline run concurrently.
//
// A pipelined batch of SETs used to cost one fsync per SET (each waited
// for its own before the next began) and, in a cluster, one set of
// internode round trips per command. runBatch cuts the batch into waves:
// a wave is a run of consecutive commands, each marked Parallel in the
// table and naming exactly one key, with all keys distinct. Any other
// command (a second touch of a key already in the wave, a multi-key
// command, a connection-state command such as HELLO, AUTH, CLIENT or
// DYNAGO CONSISTENCY, a rejected or unknown one) ends the wave and runs on
// its own, in order, after the wave completed; so does the command after
// maxWave of them, which opens the next wave.
// Between MULTI and EXEC no wave forms: each command is queued in order
// (multi.go).
//
// A wave of two or more runs concurrently when that pays: when it holds a
// write (concurrent writes share the engine's group commit), or when the
// backend says reads are remote (ParallelReads). Otherwise its commands
// run one after another exactly like any other command. A concurrent wave
// is shared out between the connection's goroutine and helpers it hands
// commands to as they block, on parked worker goroutines (workers.go), and
// joins before going on (waveRun; at most maxWave in flight per
// connection), each command writing its reply to a
// pooled Writer of its own; the replies are then appended to the
// connection's output in command order, with CLIENT REPLY, the output
// limit and the mid-batch flush applied per reply as for sequential
// commands.
//
// What a client can observe: its replies arrive in order, and its
// commands on one key take effect in order (a key appears once per wave),
// so a single client sees exactly what sequential execution gives; no
// command of a wave reads or changes connection state, so HELLO, AUTH,
// CLIENT REPLY and DYNAGO CONSISTENCY take effect exactly at their place.
// What another client can observe differs: two writes of different keys
// from one pipeline may become visible in either order, as with Redis
// Cluster when the keys live on different shards (and as Dynamo's
// per-key guarantees allow anyway). Statistics are per command as before;
// a wave's commands share one request context, whose deadline is the one
// each would have had, since they all start together.

// maxWave bounds how many commands of one connection run at once, and so
// the goroutines and reply buffers one pipelining client can hold.
const maxWave = 32

// waveCmd is one command of a wave.
type waveCmd struct {
	cmd  *Command
	args [][]byte
	key  uint64  // hash of the key, to spot a repeated key
	w    *Writer // its reply (concurrent waves only)
	// panicked is what the handler panicked with (and where), re-raised
	// on the connection's goroutine once the whole wave has returned.
	panicked any
}

// waveSeed hashes wave keys. A collision only ends a wave early.
var waveSeed = maphash.MakeSeed()

// waveKey returns the key of a resolved command that may join a wave: one
// marked Parallel that names exactly one key.
func waveKey(cmd *Command, args [][]byte) ([]byte, bool) {
	if cmd == nil || cmd.flags&flagParallel == 0 {
		return nil, false
	}
	last := cmd.LastKey
	if last < 0 {
		last += len(args)
	}
	if last != cmd.FirstKey {
		return nil, false
	}
	return args[cmd.FirstKey], true
}

// runBatch runs one pipeline batch: the commands that one read made
// complete, wave by wave (see above). Replies are written in order into
// c.w, which is flushed once at the end (one write per batch for
// redis-benchmark -P 16), or earlier when it passes flushAt. It reports
// false when the connection must close.
func (s *Server) runBatch(c *conn, cmds []redcon.Command) bool {
	cl := c.client
	if cl.out != nil {
		cl.out.hold()
	}
	// A batch that subscribed for the first time holds too (newOutbox).
	defer func() {
		if cl.out != nil {
			cl.out.release()
		}
	}()
	for i := 0; i < len(cmds); {
		// Gather the wave that starts at i. The command that ends it has
		// been resolved already (cmd, msg) and runs right after it.
		wave, writes, ended := c.wave[:0], false, false
		var cmd *Command
		var msg string
		j := i
		for ; j < len(cmds) && len(wave) < maxWave; j++ {
			args := cmds[j].Args
			if len(args) == 0 {
				continue // the parser makes none; dispatch would ignore it
			}
			cmd, msg = s.resolve(cl, args)
			// Inside MULTI commands are queued, in order, not run.
			if msg == "" && !cl.tx.multi { // arity checked: waveKey may index the key
				if key, ok := waveKey(cmd, args); ok {
					if h := maphash.Bytes(waveSeed, key); !waveHas(wave, h) {
						wave = append(wave, waveCmd{cmd: cmd, args: args, key: h})
						writes = writes || cmd.flags&flagWrite != 0
						continue
					}
				}
			}
			ended = true
			break
		}
		c.wave = wave
		if len(wave) > 0 && !s.runWave(c, wave, writes) {
			return false
		}
		i = j
		if ended {
			s.dispatchResolved(cl, cmd, msg, cmds[j].Args, &c.w)
			if !s.afterReply(c) {
				return false
			}
			i++
		}
	}
	return c.flush()
}

// waveHas reports whether a key hash is already in the wave. A wave is at
// most maxWave long, so a scan of its hashes beats a map.
func waveHas(wave []waveCmd, h uint64) bool {
	for k := range wave {
		if wave[k].key == h {
			return true
		}
	}
	return false
}

// afterReply applies what follows each reply in c.w: the output limit,
// closing (QUIT, CLIENT KILL) and the mid-batch flush. It reports false
// when the connection must close.
func (s *Server) afterReply(c *conn) bool {
	if c.w.Len() > s.cfg.MaxOutputBytes {
		s.dropClient(c.client, &c.w, c.w.Len())
	}
	if c.client.dropConn {
		return false
	}
	if c.client.closeAfterReply || c.killed.Load() {
		c.flush()
		return false
	}
	if c.w.Len() >= flushAt && !c.flush() {
		return false
	}
	return true
}

// runWave runs a wave, concurrently when that pays (see above), and puts
// its replies into c.w in command order.
func (s *Server) runWave(c *conn, wave []waveCmd, writes bool) bool {
	if len(wave) >= 2 && (writes || s.reads != nil && s.reads.ParallelReads()) {
		return s.runConcurrent(c, wave)
	}
	for k := range wave {
		s.run(c.client, wave[k].cmd, wave[k].args, &c.w)
		if !s.afterReply(c) {
			return false
		}
	}
	return true
}

// writerPool holds the Writers of concurrent waves' replies.
var writerPool = sync.Pool{New: func() any { return new(Writer) }}

// maxPooledWriter is the largest buffer a pooled Writer keeps; one huge
// reply should not pin its memory in the pool.
const maxPooledWriter = 64 << 10

// runConcurrent runs a wave of two or more commands at once and joins
// them all, whatever happens, before it returns or re-raises a handler's
// panic: no helper outlives the wave (its worker parks; Shutdown joins
// the workers).
func (s *Server) runConcurrent(c *conn, wave []waveCmd) bool {
	cl := c.client
	cl.lastCmd.Store(wave[len(wave)-1].cmd)
	for k := range wave {
		w := writerPool.Get().(*Writer)
		w.Reset(c.w.Proto())
		wave[k].w = w
	}
	c.run = waveRun{s: s, ctx: s.requestCtx(cl), cl: cl, wave: wave, wg: &c.wg}
	c.run.work() // the connection's goroutine takes commands too
	c.wg.Wait()
	c.run = waveRun{}

	var panicked any
	ok := true
	for k := range wave {
		e := &wave[k]
		if e.panicked != nil && panicked == nil {
			panicked = e.panicked
		}
		if ok && panicked == nil {
			if !cl.swallowReply() {
				c.w.WriteRaw(e.w.Bytes())
			}
			ok = s.afterReply(c)
		}
		if cap(e.w.buf) > maxPooledWriter {
			e.w.buf = nil
		}
		writerPool.Put(e.w)
		*e = waveCmd{}
	}
	if panicked != nil {
		panic(panicked) // serveConn logs it and drops the connection
	}
	return ok
}

// waveRun hands the commands of a concurrent wave to workers: the
// connection's goroutine and helpers (on pooled goroutines, workers.go)
// started one at a time, each when a worker takes a command while more
// remain and no helper is waiting to take one. Against a backend that blocks (an fsync, a round trip), every
// worker blocks in its command and the next helper takes the next one, so
// the whole wave is in flight within a few scheduler hand-offs (a blocked
// goroutine parks: pebble's commit waiters, the coordinator's replica
// waits and network reads all do, so the scheduler runs the helper next
// at once; a raw blocking syscall would delay it until the runtime takes
// the processor back, tens of microseconds); against a fast backend the
// workers already running take most commands, and a wave costs two or
// three hand-offs, not one per command. There are never more workers than
// commands (maxWave).
type waveRun struct {
	s    *Server
	ctx  context.Context // shared by the wave; see requestCtx
	cl   *Client
	wave []waveCmd
	wg   *sync.WaitGroup // joins the helpers (conn.wg)
	next atomic.Int32    // index of the next command to take
	idle atomic.Int32    // helpers started that have not taken a command yet
}

// work takes commands until none is left.
func (r *waveRun) work() {
	n := int32(len(r.wave))
	for {
		k := r.next.Add(1) - 1
		if k >= n {
			return
		}
		if k+1 < n && r.idle.CompareAndSwap(0, 1) {
			r.wg.Add(1)
			r.s.workers.start(r)
		}
		r.s.execWave(r.ctx, r.cl, &r.wave[k])
	}
}

// helper is a helper's share of the wave, run by a worker (workers.go),
// which then calls r.wg.Done.
func (r *waveRun) helper() {
	r.idle.Add(-1)
	r.work()
}

// execWave runs one command of a concurrent wave into its own Writer. A
// panic is kept for the connection's goroutine to re-raise: left alone
// on this goroutine it would take the whole node down.
func (s *Server) execWave(ctx context.Context, c *Client, e *waveCmd) {
	defer func() {
		if r := recover(); r != nil {
			e.panicked = fmt.Sprintf("%v (in a concurrent %s; its stack: %s)", r, e.cmd.fullName, debug.Stack())
		}
	}()
	s.exec(ctx, c, e.cmd, e.args, e.w)
}
