package integration

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the dynago binary the tests built (Binary) when they are
// done: a race-detector build is tens of megabytes, one per run.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtPath != "" {
		os.RemoveAll(filepath.Dir(builtPath))
	}
	os.Exit(code)
}
