package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Tools are the redis binaries the harness drives.
type Tools struct {
	RedisServer    string // empty when not needed
	RedisBenchmark string
	ServerVersion  string // "7.0.15"
	BenchVersion   string
}

// FindTools locates redis-benchmark (and redis-server when needServer),
// honouring explicit paths. When one is missing and install is set and the
// harness runs as root, it installs Debian's redis-server and redis-tools
// with apt-get, saying so on log; otherwise the error says how to install
// them. redis-benchmark must be version 7 or later: the parser reads its
// version-7 output.
func FindTools(ctx context.Context, serverPath, benchPath string, needServer, install bool, log io.Writer) (Tools, error) {
	find := func() (Tools, []string) {
		var t Tools
		var missing []string
		if p, err := lookPath(benchPath, "redis-benchmark"); err == nil {
			t.RedisBenchmark = p
		} else {
			missing = append(missing, "redis-benchmark")
		}
		if needServer {
			if p, err := lookPath(serverPath, "redis-server"); err == nil {
				t.RedisServer = p
			} else {
				missing = append(missing, "redis-server")
			}
		}
		return t, missing
	}
	t, missing := find()
	if len(missing) > 0 {
		if !install || os.Geteuid() != 0 {
			return t, fmt.Errorf("bench: %s not found; install redis 7 or later, e.g. as root: apt-get install -y redis-server redis-tools (the harness does it itself when run as root)",
				strings.Join(missing, " and "))
		}
		if err := aptInstall(ctx, log); err != nil {
			return t, err
		}
		if t, missing = find(); len(missing) > 0 {
			return t, fmt.Errorf("bench: %s still not found after apt-get install", strings.Join(missing, " and "))
		}
	}
	out, err := exec.CommandContext(ctx, t.RedisBenchmark, "--version").Output()
	if err != nil {
		return t, fmt.Errorf("bench: %s --version: %v", t.RedisBenchmark, err)
	}
	major, full, err := ParseVersion(string(out))
	if err != nil {
		return t, err
	}
	if major < 7 {
		return t, fmt.Errorf("bench: %s is version %s; the harness needs redis-benchmark 7 or later (redis-tools >= 7)", t.RedisBenchmark, full)
	}
	t.BenchVersion = full
	if t.RedisServer != "" {
		out, err := exec.CommandContext(ctx, t.RedisServer, "--version").Output()
		if err != nil {
			return t, fmt.Errorf("bench: %s --version: %v", t.RedisServer, err)
		}
		if _, t.ServerVersion, err = ParseVersion(string(out)); err != nil {
			return t, err
		}
	}
	return t, nil
}

func lookPath(explicit, name string) (string, error) {
	if explicit != "" {
		return exec.LookPath(explicit)
	}
	return exec.LookPath(name)
}

// aptInstall installs redis-server and redis-tools, refreshing the package
// lists only if the first attempt fails (a fresh container has none).
func aptInstall(ctx context.Context, log io.Writer) error {
	run := func(args ...string) error {
		fmt.Fprintf(log, "bench: running: %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = log, log
		return cmd.Run()
	}
	install := []string{"apt-get", "install", "-y", "--no-install-recommends", "redis-server", "redis-tools"}
	if err := run(install...); err == nil {
		return nil
	}
	if err := run("apt-get", "update"); err != nil {
		return fmt.Errorf("bench: apt-get update: %w", err)
	}
	if err := run(install...); err != nil {
		return fmt.Errorf("bench: apt-get install redis-server redis-tools: %w", err)
	}
	return nil
}
