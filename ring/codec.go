package ring

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// The ring travels in gossip (docs/architecture.md §5) in a compact binary form:
//
//	version   byte (1)
//	q, n      uvarint
//	epoch     uvarint
//	members   uvarint count, then per member in ID order:
//	            id 20 bytes (the 40 hex digits as bytes)
//	            name, client addr, cluster addr, zone: uvarint length + bytes
//	            state uvarint
//	owners    q × uvarint member index
//	pending   uvarint count, then per entry, partitions increasing:
//	            uvarint partition, uvarint member index
//
// Varints must be minimal and members strictly ordered, so the encoding is
// canonical: one ring, one byte string. Merge relies on that. Decode checks
// every bound before allocating and validates the result like New does, so
// a forged input yields an error, never a panic or a large allocation.

// encodingVersion is the first byte of an encoded ring.
const encodingVersion = 1

var (
	// ErrDecode: the input is not a well-formed encoded ring.
	ErrDecode = errors.New("ring: malformed encoding")
	// ErrVersion: the input's version byte is not one this build reads.
	ErrVersion = errors.New("ring: unsupported encoding version")
)

// Encode returns the ring's binary form, for gossip and for the node's
// metadata store.
func (r *Ring) Encode() []byte { return bytes.Clone(r.enc) }

func (r *Ring) appendEncoding(b []byte) []byte {
	b = append(b, encodingVersion)
	b = binary.AppendUvarint(b, uint64(r.q))
	b = binary.AppendUvarint(b, uint64(r.n))
	b = binary.AppendUvarint(b, r.epoch)
	b = binary.AppendUvarint(b, uint64(len(r.members)))
	for _, m := range r.members {
		b, _ = hex.AppendDecode(b, []byte(m.ID)) // validated: 40 hex digits
		for _, s := range [...]string{m.Name, m.ClientAddr, m.ClusterAddr, m.Zone} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		b = binary.AppendUvarint(b, uint64(m.State))
	}
	for _, x := range r.owners {
		b = binary.AppendUvarint(b, uint64(x))
	}
	moving := 0
	for p := range r.q {
		if r.Pending(p) != "" {
			moving++
		}
	}
	b = binary.AppendUvarint(b, uint64(moving))
	for p := range r.q {
		if r.pending != nil && r.pending[p] >= 0 {
			b = binary.AppendUvarint(b, uint64(p))
			b = binary.AppendUvarint(b, uint64(r.pending[p]))
		}
	}
	return b
}

// decoder reads an encoding; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrDecode, fmt.Sprintf(format, args...))
	}
}

// uvarint reads a minimal uvarint no larger than limit.
func (d *decoder) uvarint(what string, limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n <= 0:
		d.fail("%s: bad varint", what)
		return 0
	case n > 1 && d.b[n-1] == 0: // a minimal varint never ends in a zero byte
		d.fail("%s: non-minimal varint", what)
		return 0
	case v > limit:
		d.fail("%s: %d exceeds %d", what, v, limit)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(what string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("%s: truncated", what)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(what string) string {
	n := d.uvarint(what, MaxFieldLen)
	return string(d.bytes(what, int(n)))
}

// Decode parses an encoded ring and validates it.
func Decode(b []byte) (*Ring, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrDecode)
	}
	if b[0] != encodingVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersion, b[0])
	}
	d := &decoder{b: b[1:]}
	r := &Ring{}
	r.q = int(d.uvarint("q", MaxPartitions))
	r.n = int(d.uvarint("n", MaxReplicas))
	r.epoch = d.uvarint("epoch", ^uint64(0))
	nm := int(d.uvarint("members", MaxMembers))
	if d.err == nil && !ValidPartitions(r.q) {
		return nil, fmt.Errorf("%w: %d", ErrPartitions, r.q)
	}
	// Each member takes at least 25 bytes and each owner one: refuse
	// counts the input cannot hold before allocating for them.
	if d.err == nil && nm*25+r.q > len(d.b) {
		d.fail("%d members and %d partitions in %d bytes", nm, r.q, len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	r.members = make([]Member, nm)
	for i := range r.members {
		m := &r.members[i]
		m.ID = hex.EncodeToString(d.bytes("id", 20))
		m.Name = d.string("name")
		m.ClientAddr = d.string("client addr")
		m.ClusterAddr = d.string("cluster addr")
		m.Zone = d.string("zone")
		m.State = MemberState(d.uvarint("state", uint64(Removed)))
		if d.err == nil && i > 0 && r.members[i-1].ID >= m.ID {
			d.fail("members out of order at %d", i)
		}
	}
	r.owners = make([]int32, r.q)
	for p := range r.owners {
		r.owners[p] = int32(d.uvarint("owner", uint64(max(nm-1, 0))))
	}
	moving := int(d.uvarint("pending", uint64(r.q)))
	if d.err == nil && moving > 0 {
		r.pending = make([]int32, r.q)
		for p := range r.pending {
			r.pending[p] = -1
		}
		last := -1
		for range moving {
			p := int(d.uvarint("pending partition", uint64(r.q-1)))
			x := int32(d.uvarint("pending owner", uint64(max(nm-1, 0))))
			if d.err != nil {
				break
			}
			if p <= last {
				d.fail("pending partitions out of order at %d", p)
				break
			}
			r.pending[p], last = x, p
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := r.build(); err != nil {
		return nil, err
	}
	return r, nil
}

// hashEncoding is the first key of Merge's tie-break between equal epochs.
func hashEncoding(b []byte) uint64 { return xxhash.Sum64(b) }

// Merge resolves two versions of the ring, as gossip delivers them, to the
// one every node keeps: the higher epoch; between equal epochs with
// different content, the higher hash of the encoding, then the greater
// encoding. That is a total order, so Merge is commutative, associative and
// idempotent, and nodes that see the same rings in any order converge on the
// same one. A nil ring loses to any other.
//
// Equal epochs with different content arise when two nodes change the ring
// concurrently; the loser's change is dropped and its operator must retry
// (the tie-break only makes the choice the same everywhere).
func Merge(a, b *Ring) *Ring {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	c := cmp.Compare(a.epoch, b.epoch)
	if c == 0 {
		c = cmp.Compare(a.sum, b.sum)
	}
	if c == 0 {
		c = bytes.Compare(a.enc, b.enc)
	}
	if c < 0 {
		return b
	}
	return a
}
