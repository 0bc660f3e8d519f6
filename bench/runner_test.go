package bench

import (
	"errors"
	"testing"
)

func TestUnknownCommand(t *testing.T) {
	// What Run returns when redis-benchmark 7 exits 1 on an error reply:
	// the command line, the exit status and the end of its output, stderr
	// last.
	unknown := errors.New("redis-benchmark -h 127.0.0.1 -p 7000 -t hset: exit status 1:\n" +
		"    Error from server: ERR unknown command 'HSET', with args beginning with: 'bench:h:000000000042' ")
	if !UnknownCommand(unknown) {
		t.Errorf("not recognised: %v", unknown)
	}
	for _, err := range []error{nil,
		errors.New("redis-benchmark …: exit status 1:\n    Error from server: OOM command not allowed when used memory > 'maxmemory'."),
		errors.New("redis-benchmark …: killed after the run timeout of 2m0s (no output)"),
	} {
		if UnknownCommand(err) {
			t.Errorf("recognised as unknown command: %v", err)
		}
	}
}
