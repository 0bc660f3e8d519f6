package resp

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Server. Start from DefaultConfig; every field
// documents its unit and default. Zero limits are filled in by New from
// the defaults (MaxBulkBytes from MaxValueBytes), so a Config with only
// Addr and MaxValueBytes changed is valid.
type Config struct {
	// Addr is the address the listener handed to Serve listens on. It is
	// informational (INFO tcp_port, CONFIG GET port/bind); Serve uses the
	// listener it is given.
	Addr string
	// NodeID is the node's stable 40-hex id, reported as INFO run_id.
	NodeID string
	// Version is dynago's version for INFO dynago_version. Default "dev".
	Version string
	// Logger receives connection-level events (protocol errors, limits,
	// cross-protocol attacks). Never one line per command. nil discards.
	Logger *slog.Logger

	// MaxValueBytes is the largest value a write may store, in bytes.
	// Default 64 MiB: Redis users store values of several MiB, and Redis
	// allows 512 MiB. Larger values are refused with "ERR value too large"
	// before reaching the backend; bit offsets and LCS's table are bounded
	// by it as Redis bounds them by proto-max-bulk-len.
	MaxValueBytes int
	// MaxBulkBytes is the largest bulk string a request may carry (Redis's
	// proto-max-bulk-len, which CONFIG GET/SET read and change at run
	// time). 0 means MaxValueBytes + 64 KiB: a value a little over the
	// limit still reaches the handler and gets the clear "value too large"
	// error, while a longer bulk is Redis's protocol error "invalid bulk
	// length": it is answered, the rest of the request is read and
	// dropped without being buffered, and the connection is closed.
	MaxBulkBytes int
	// MaxArgs is the most arguments one command may have. Default 1 Mi
	// (Redis 6's limit).
	MaxArgs int
	// MaxInlineBytes bounds an inline command line and the RESP length
	// lines. Default 64 KiB (Redis's PROTO_INLINE_MAX_SIZE).
	MaxInlineBytes int
	// MaxQueryBytes bounds the unparsed input buffered for one connection
	// (Redis's client-query-buffer-limit, 1 GiB there). Default 256 MiB:
	// an MSET of three maximal values still fits. A connection that
	// exceeds it is closed.
	MaxQueryBytes int
	// MaxOutputBytes bounds the replies waiting to be written to one
	// connection (Redis's client-output-buffer-limit). Replies are written
	// as they accumulate, blocking on a client that does not read, so this
	// only bites on a single huge reply (MGET of many large values, KEYS
	// over a big keyspace). Default 256 MiB, so that a GET or MGET of a
	// few maximal values goes out; the client is closed.
	MaxOutputBytes int
	// PubSubHardBytes, PubSubSoftBytes and PubSubSoftTime are the output
	// limits of a subscribed client (Redis's client-output-buffer-limit
	// pubsub): it is disconnected when its pending output passes the hard
	// limit, or stays above the soft one for the soft time. Defaults 32
	// MiB, 8 MiB, 60 s, as Redis; CONFIG SET client-output-buffer-limit
	// changes them. Negative disables a limit.
	PubSubHardBytes int64
	PubSubSoftBytes int64
	PubSubSoftTime  time.Duration

	// RequirePass is the default user's password; empty means none.
	RequirePass string
	// EnableFlushAll allows FLUSHALL and FLUSHDB. Default false.
	EnableFlushAll bool
	// MaxClients bounds simultaneous client connections. Default 10000.
	MaxClients int
	// ProtectedMode refuses clients that are not on loopback while no
	// password is set. Default true.
	ProtectedMode bool

	// RequestTimeout is the deadline of one command. Default 5 s.
	RequestTimeout time.Duration
	// IdleTimeout closes a connection that has not completed a command for
	// this long (Redis's timeout). 0, the default, never does.
	IdleTimeout time.Duration
	// AuthTimeout closes a connection that has not authenticated and has
	// completed no command for this long, while a password is set, so
	// that slowloris clients cannot hold connections without the password
	// (TESTING.md "Slowloris"). Default 10 s; negative disables.
	AuthTimeout time.Duration

	// now is the clock; nil means time.Now. Tests inject their own.
	now func() time.Time
}

// Defaults.
const (
	DefaultMaxValueBytes  = 64 << 20
	DefaultMaxArgs        = 1 << 20
	DefaultMaxInlineBytes = 64 << 10
	DefaultMaxQueryBytes  = 256 << 20
	DefaultMaxOutputBytes = 256 << 20
	DefaultMaxClients     = 10000
	DefaultRequestTimeout = 5 * time.Second
	DefaultAuthTimeout    = 10 * time.Second
	DefaultPubSubHard     = 32 << 20
	DefaultPubSubSoft     = 8 << 20
	DefaultPubSubSoftTime = 60 * time.Second

	// bulkMargin is what MaxBulkBytes adds to MaxValueBytes by default.
	bulkMargin = 64 << 10

	// Before AUTH, Redis limits requests to 10 arguments and 16 KiB per
	// bulk and closes clients that buffer more than 1 MiB (CVE-2021-32675).
	unauthMaxArgs  = 10
	unauthMaxBulk  = 16 << 10
	unauthMaxQuery = 1 << 20
)

// DefaultConfig returns the defaults for one node listening on
// 127.0.0.1:6379.
func DefaultConfig() Config {
	return Config{
		Addr:           "127.0.0.1:6379",
		Version:        "dev",
		MaxValueBytes:  DefaultMaxValueBytes,
		MaxArgs:        DefaultMaxArgs,
		MaxInlineBytes: DefaultMaxInlineBytes,
		MaxQueryBytes:  DefaultMaxQueryBytes,
		MaxOutputBytes: DefaultMaxOutputBytes,
		MaxClients:     DefaultMaxClients,
		ProtectedMode:  true,
		RequestTimeout: DefaultRequestTimeout,
		AuthTimeout:    DefaultAuthTimeout,

		PubSubHardBytes: DefaultPubSubHard,
		PubSubSoftBytes: DefaultPubSubSoft,
		PubSubSoftTime:  DefaultPubSubSoftTime,
	}
}

// ensureDefaults fills zero fields from DefaultConfig.
func (c *Config) ensureDefaults() {
	d := DefaultConfig()
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.MaxValueBytes == 0 {
		c.MaxValueBytes = d.MaxValueBytes
	}
	if c.MaxBulkBytes == 0 {
		c.MaxBulkBytes = c.MaxValueBytes + bulkMargin
	}
	if c.MaxArgs == 0 {
		c.MaxArgs = d.MaxArgs
	}
	if c.MaxInlineBytes == 0 {
		c.MaxInlineBytes = d.MaxInlineBytes
	}
	if c.MaxQueryBytes == 0 {
		c.MaxQueryBytes = d.MaxQueryBytes
	}
	if c.MaxOutputBytes == 0 {
		c.MaxOutputBytes = d.MaxOutputBytes
	}
	if c.MaxClients == 0 {
		c.MaxClients = d.MaxClients
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	if c.AuthTimeout == 0 {
		c.AuthTimeout = d.AuthTimeout
	}
	if c.PubSubHardBytes == 0 {
		c.PubSubHardBytes = d.PubSubHardBytes
	}
	if c.PubSubSoftBytes == 0 {
		c.PubSubSoftBytes = d.PubSubSoftBytes
	}
	if c.PubSubSoftTime == 0 {
		c.PubSubSoftTime = d.PubSubSoftTime
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
}

// Validate checks the configuration. Zero limits are valid: New replaces
// them with the defaults.
func (c *Config) Validate() error {
	var errs []error
	neg := func(name string, v int) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("resp: %s must not be negative, got %d", name, v))
		}
	}
	neg("max value bytes", c.MaxValueBytes)
	neg("max bulk bytes", c.MaxBulkBytes)
	neg("max args", c.MaxArgs)
	neg("max inline bytes", c.MaxInlineBytes)
	neg("max query bytes", c.MaxQueryBytes)
	neg("max output bytes", c.MaxOutputBytes)
	neg("max clients", c.MaxClients)
	if c.MaxBulkBytes > 0 && c.MaxValueBytes > c.MaxBulkBytes {
		errs = append(errs, fmt.Errorf("resp: max bulk bytes (%d) is below max value bytes (%d)", c.MaxBulkBytes, c.MaxValueBytes))
	}
	if c.MaxBulkBytes > 0 && c.MaxQueryBytes > 0 && c.MaxBulkBytes > c.MaxQueryBytes {
		errs = append(errs, fmt.Errorf("resp: max bulk bytes (%d) exceeds max query bytes (%d)", c.MaxBulkBytes, c.MaxQueryBytes))
	}
	if c.MaxInlineBytes > 0 && c.MaxInlineBytes < 1024 {
		errs = append(errs, errors.New("resp: max inline bytes must be at least 1024"))
	}
	if c.MaxArgs > 1<<31-1 {
		errs = append(errs, errors.New("resp: max args must fit in 31 bits"))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, errors.New("resp: request timeout must not be negative"))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, errors.New("resp: idle timeout must not be negative"))
	}
	return errors.Join(errs...)
}
