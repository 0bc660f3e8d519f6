package resp

import "strings"

// Keyspace notifications (Redis's notify-keyspace-events): an event on a
// key is published to __keyspace@0__:<key> (message: the event) and to
// __keyevent@0__:<event> (message: the key), as the K and E flags ask, for
// the event classes the other flags select. They are published on the node
// where the event happens and not carried to other nodes, as in Redis
// Cluster:
//
//   - del, set, expire, persist: on the node that ran the command, once
//     the write succeeded (so a DEL of a missing key notifies nothing);
//   - expired: on each node whose sweep drops the expired value of a key it
//     holds a copy of (NotifyExpired), that is on every replica of the key,
//     some time after the expiry (a sweep pass), not when a read first
//     finds the key expired;
//   - evicted: NotifyEvicted, for an eviction policy to call.

// The event classes, with Redis's values (notify.c).
const (
	notifyKeyspace = 1 << iota // K
	notifyKeyevent             // E
	notifyGeneric              // g
	notifyString               // $
	notifyList                 // l
	notifySet                  // s
	notifyHash                 // h
	notifyZset                 // z
	notifyExpired              // x
	notifyEvicted              // e
	notifyStream               // t
	notifyKeyMiss              // m
	notifyModule               // d
	notifyNew                  // n

	// notifyAll is A: every class but m and n.
	notifyAll = notifyGeneric | notifyString | notifyList | notifySet | notifyHash | notifyZset |
		notifyExpired | notifyEvicted | notifyStream | notifyModule
)

// notifyLetters are the class letters in the order Redis prints them.
var notifyLetters = []struct {
	c    byte
	flag int32
}{
	{'g', notifyGeneric}, {'$', notifyString}, {'l', notifyList}, {'s', notifySet},
	{'h', notifyHash}, {'z', notifyZset}, {'x', notifyExpired}, {'e', notifyEvicted},
	{'t', notifyStream}, {'d', notifyModule}, {'n', notifyNew},
}

// parseNotifyFlags is keyspaceEventsStringToFlags; ok is false on an
// unknown letter.
func parseNotifyFlags(s []byte) (flags int32, ok bool) {
outer:
	for _, c := range s {
		switch c {
		case 'A':
			flags |= notifyAll
		case 'K':
			flags |= notifyKeyspace
		case 'E':
			flags |= notifyKeyevent
		case 'm':
			flags |= notifyKeyMiss
		default:
			for _, l := range notifyLetters {
				if l.c == c {
					flags |= l.flag
					continue outer
				}
			}
			return 0, false
		}
	}
	return flags, true
}

// formatNotifyFlags is keyspaceEventsFlagsToString.
func formatNotifyFlags(flags int32) string {
	var b strings.Builder
	if flags&notifyAll == notifyAll {
		b.WriteByte('A')
	} else {
		for _, l := range notifyLetters {
			if flags&l.flag != 0 {
				b.WriteByte(l.c)
			}
		}
	}
	if flags&notifyKeyspace != 0 {
		b.WriteByte('K')
	}
	if flags&notifyKeyevent != 0 {
		b.WriteByte('E')
	}
	if flags&notifyKeyMiss != 0 {
		b.WriteByte('m')
	}
	return b.String()
}

// setNotifyFlags is CONFIG SET notify-keyspace-events.
func (s *Server) setNotifyFlags(v []byte) string {
	flags, ok := parseNotifyFlags(v)
	if !ok {
		return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	}
	s.notifyFlags.Store(flags)
	return ""
}

// notify publishes event on key to this node's subscribers if the
// configuration asks for its class. Safe for concurrent use.
func (s *Server) notify(class int32, event string, key []byte) {
	flags := s.notifyFlags.Load()
	if flags&class == 0 || flags&(notifyKeyspace|notifyKeyevent) == 0 {
		return
	}
	if flags&notifyKeyspace != 0 {
		s.Deliver(false, append([]byte("__keyspace@0__:"), key...), []byte(event))
	}
	if flags&notifyKeyevent != 0 {
		s.Deliver(false, []byte("__keyevent@0__:"+event), key)
	}
}

// NotifyExpired publishes the expired event of key (class x) to this
// node's subscribers; the node calls it when its sweep finds a key
// expired. Safe for concurrent use; it never blocks.
func (s *Server) NotifyExpired(key []byte) { s.notify(notifyExpired, "expired", key) }

// NotifyEvicted publishes the evicted event of key (class e), for an
// eviction policy to call. Safe for concurrent use; it never blocks.
func (s *Server) NotifyEvicted(key []byte) { s.notify(notifyEvicted, "evicted", key) }
