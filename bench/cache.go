package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// CacheWorkload is the cache-aside workload of the eviction comparison
// (issue 14): each request GETs a key drawn from a Zipf distribution and,
// on a miss, SETs it, as an application in front of a database does.
type CacheWorkload struct {
	Keys      int     // the keyspace, about 10x what fits under maxmemory
	Skew      float64 // Zipf s (> 1)
	Workers   int     // concurrent connections
	Requests  int64   // GETs in all; the first half warms the cache up
	ValueSize int
}

// CacheResult is what a run measured over its second half.
type CacheResult struct {
	Gets, Hits int64
	Elapsed    time.Duration
	Errors     int64 // error replies (OOM, timeouts), counted as misses
	LastError  string
}

// HitRate is the fraction of measured GETs that hit.
func (r CacheResult) HitRate() float64 {
	if r.Gets == 0 {
		return 0
	}
	return float64(r.Hits) / float64(r.Gets)
}

// OpsPerSec is the measured requests (GETs and the SETs of misses) per second.
func (r CacheResult) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Gets+r.Gets-r.Hits) / r.Elapsed.Seconds()
}

// cacheKey spreads the Zipf ranks over the key space, so that hot keys are
// not neighbours in key order.
func cacheKey(rank uint64) string {
	x := rank*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	x ^= x >> 31
	return fmt.Sprintf("cache:%016x", x)
}

// RunCache runs w against addr with go-redis and returns the second half's
// figures. The random sequence is the same for every system (seeded per
// worker), so systems see the same requests.
func RunCache(ctx context.Context, addr string, w CacheWorkload) (CacheResult, error) {
	if w.Skew <= 1 || w.Keys < 2 || w.Workers < 1 {
		return CacheResult{}, errors.New("bench: cache workload needs Skew > 1, Keys >= 2, Workers >= 1")
	}
	c := NewClient(addr, w.Workers)
	defer c.Close()
	value := make([]byte, w.ValueSize)
	for i := range value {
		value[i] = 'v'
	}
	var (
		issued                  atomic.Int64
		gets, hits, errs, start atomic.Int64
		lastErr                 atomic.Value
		wg                      sync.WaitGroup
	)
	half := w.Requests / 2
	for i := range w.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z := rand.NewZipf(rand.New(rand.NewPCG(uint64(i), 14)), w.Skew, 1, uint64(w.Keys-1))
			for ctx.Err() == nil {
				n := issued.Add(1)
				if n > w.Requests {
					return
				}
				if n == half {
					start.Store(time.Now().UnixNano())
				}
				measured := n > half
				key := cacheKey(z.Uint64())
				err := c.Get(ctx, key).Err()
				hit := err == nil
				if err == redis.Nil {
					err = c.Set(ctx, key, value, 0).Err()
				}
				if err != nil {
					errs.Add(1)
					lastErr.Store(err.Error())
					hit = false
				}
				if measured {
					gets.Add(1)
					if hit {
						hits.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	r := CacheResult{Gets: gets.Load(), Hits: hits.Load(), Errors: errs.Load()}
	if s := start.Load(); s != 0 {
		r.Elapsed = time.Since(time.Unix(0, s))
	}
	if e, ok := lastErr.Load().(string); ok {
		r.LastError = e
	}
	return r, ctx.Err()
}
