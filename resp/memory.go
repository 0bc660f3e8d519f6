package resp

import (
	"strconv"
	"time"

	"github.com/dynago/dynago/coordinator"
)

// MemoryLimit is an optional interface of a Backend: Redis's maxmemory,
// maxmemory-policy and maxmemory-samples (cache mode, docs/eviction.md).
// The coordinator implements it. Without it CONFIG reports no limit and
// nothing is refused for memory.
type MemoryLimit interface {
	// MemoryFull reports whether commands that may grow the data (Redis's
	// denyoom flag) must be refused with OOM. Called for every such
	// command: it must be cheap.
	MemoryFull() bool
	UsedMemory() int64
	MaxMemory() int64
	SetMaxMemory(bytes int64)
	MaxMemoryPolicy() coordinator.Policy
	SetMaxMemoryPolicy(coordinator.Policy)
	MaxMemorySamples() int
	SetMaxMemorySamples(int)
	// KeyAccess is what the node's access table knows of key, without
	// counting as an access; ok is false while no LRU or LFU policy
	// tracks accesses (OBJECT IDLETIME, OBJECT FREQ).
	KeyAccess(key []byte) (idle time.Duration, freq uint8, ok bool)
	// EvictedKeys and ExpiredKeys are INFO stats' evicted_keys and
	// expired_keys: keys this node evicted, and expired keys it reclaimed.
	EvictedKeys() int64
	ExpiredKeys() int64
}

// oomMsg is Redis's reply to a denyoom command over maxmemory.
const oomMsg = "OOM command not allowed when used memory > 'maxmemory'."

// policyList is the CONFIG SET error's list of maxmemory policies, in
// Redis's order.
const policyList = "volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"

// The CONFIG parameters of cache mode (configParams).

func getMaxMemory(s *Server) string {
	if s.mem == nil {
		return "0"
	}
	return strconv.FormatInt(s.mem.MaxMemory(), 10)
}

func setMaxMemory(s *Server, v []byte) string {
	n, ok := ParseMemory(v)
	if !ok {
		return "argument must be a memory value"
	}
	if s.mem == nil {
		return "maxmemory is not supported by this backend"
	}
	s.mem.SetMaxMemory(n)
	return ""
}

func getMaxMemoryPolicy(s *Server) string {
	if s.mem == nil {
		return coordinator.NoEviction.String()
	}
	return s.mem.MaxMemoryPolicy().String()
}

func setMaxMemoryPolicy(s *Server, v []byte) string {
	p, err := coordinator.ParsePolicy(string(v))
	if err != nil {
		return "argument(s) must be one of the following: " + policyList
	}
	if s.mem == nil {
		return "maxmemory-policy is not supported by this backend"
	}
	s.mem.SetMaxMemoryPolicy(p)
	return ""
}

func getMaxMemorySamples(s *Server) string {
	if s.mem == nil {
		return strconv.Itoa(coordinator.DefaultMaxMemorySamples)
	}
	return strconv.Itoa(s.mem.MaxMemorySamples())
}

func setMaxMemorySamples(s *Server, v []byte) string {
	n, ok := parseInt64(v)
	switch {
	case !ok:
		return "argument couldn't be parsed into an integer"
	case n < 1 || n > 1<<31-1:
		return "argument must be between 1 and 2147483647 inclusive"
	case s.mem == nil:
		return "maxmemory-samples is not supported by this backend"
	}
	s.mem.SetMaxMemorySamples(int(n))
	return ""
}

// infoMemoryLimit is INFO memory's cache-mode fields.
func (s *Server) infoMemoryLimit() []InfoField {
	var used, limit int64
	policy := coordinator.NoEviction
	if s.mem != nil {
		used, limit, policy = s.mem.UsedMemory(), s.mem.MaxMemory(), s.mem.MaxMemoryPolicy()
	}
	return []InfoField{
		{"used_memory", strconv.FormatInt(used, 10)},
		{"used_memory_human", humanBytes(uint64(used))},
		{"maxmemory", strconv.FormatInt(limit, 10)},
		{"maxmemory_human", humanBytes(uint64(limit))},
		{"maxmemory_policy", policy.String()},
	}
}
