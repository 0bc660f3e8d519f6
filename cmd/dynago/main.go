// Command dynago runs one dynago node: a Dynamo-style key-value store that
// speaks the Redis protocol. `dynago --help` lists every flag; with no flags
// it serves 127.0.0.1:6379 with its data in ./dynago-data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dynago/dynago/node"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run parses args, starts the node and serves until SIGTERM or SIGINT. It
// returns the process exit code.
func run(args []string, stderr io.Writer) int {
	cfg, logLevel, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "dynago:", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	cfg.Logger = logger
	if mallocArenasLimited() {
		logger.Debug("glibc malloc arenas limited", "arenas", 2)
	}

	// Signals are caught before the node starts so that a SIGTERM that
	// arrives during start-up still shuts it down cleanly.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	n, err := node.Start(cfg)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	code := 0
	select {
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig.String())
	case err := <-n.Done():
		logger.Error("client listener stopped", "err", err)
		code = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		logger.Error("unclean shutdown", "err", err)
		return 1
	}
	return code
}

// shutdownGrace bounds how long in-flight commands may take to finish
// after SIGTERM before their connections are closed.
const shutdownGrace = 30 * time.Second
