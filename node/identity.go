package node

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/dynago/dynago/version"
)

// metaIdentity is the engine metadata key of the node's identity.
const metaIdentity = "identity"

// Identity names a node and its current incarnation.
type Identity struct {
	// Name is the operator's name for the node (--name).
	Name string `json:"name"`
	// ID is the 40-hex node id, derived from Name.
	ID string `json:"id"`
	// Incarnation is renewed with the data directory and after every
	// unclean shutdown.
	Incarnation uint32 `json:"incarnation"`
	// Clean is true only between a clean shutdown and the next start.
	Clean bool `json:"clean"`
}

// Actor is the actor that names this incarnation's writes.
func (id Identity) Actor() version.Actor {
	raw, _ := hex.DecodeString(id.ID)
	return version.NewActor(raw, id.Incarnation)
}

// NodeIDFor derives the stable 40-hex node id of a node name.
func NodeIDFor(name string) string {
	sum := sha1.Sum([]byte("dynago-node:" + name))
	return hex.EncodeToString(sum[:])
}

// MetaStore is the part of the engine that keeps node metadata.
type MetaStore interface {
	GetMeta(name string) ([]byte, bool, error)
	PutMeta(name string, v []byte) error
}

// loadIdentity reads the identity kept in the data directory, or creates
// one. name may be empty to keep the stored name (or use defaultName on a
// new data directory). The returned identity is marked not clean and
// persisted before anything else is written, so a crash from here on is
// detected at the next start.
func loadIdentity(m MetaStore, name, defaultName string) (Identity, error) {
	raw, found, err := m.GetMeta(metaIdentity)
	if err != nil {
		return Identity{}, err
	}
	var id Identity
	if found {
		if err := json.Unmarshal(raw, &id); err != nil {
			return Identity{}, fmt.Errorf("node: corrupt identity in data directory: %w", err)
		}
		if name != "" && name != id.Name {
			return Identity{}, fmt.Errorf("node: data directory belongs to node %q, not %q (use another --data-dir or the same --name)", id.Name, name)
		}
		if !id.Clean {
			// The last run did not shut down cleanly: writes it made may
			// be lost here yet live on other replicas, so its counters
			// must never be handed out again.
			id.Incarnation = newIncarnation(id.Incarnation)
		}
	} else {
		if name == "" {
			name = defaultName
		}
		id = Identity{Name: name, ID: NodeIDFor(name), Incarnation: newIncarnation(0)}
	}
	id.Clean = false
	return id, saveIdentity(m, id)
}

func saveIdentity(m MetaStore, id Identity) error {
	raw, err := json.Marshal(id)
	if err != nil {
		return err
	}
	return m.PutMeta(metaIdentity, raw)
}

// newIncarnation returns a random non-zero incarnation different from prev.
func newIncarnation(prev uint32) uint32 {
	for {
		var b [4]byte
		rand.Read(b[:]) // never fails since Go 1.24
		if n := binary.BigEndian.Uint32(b[:]); n != 0 && n != prev {
			return n
		}
	}
}
