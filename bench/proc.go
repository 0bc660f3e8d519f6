package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Proc is a server process the harness started. The harness stops it by its
// PID (never by name, never a process group), so it can only ever signal
// what it started itself.
type Proc struct {
	Name    string // e.g. "redis-server", "dynago node2"
	LogPath string // the process's stdout and stderr
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been reaped
	waitErr error         // set before done is closed
}

// StartProc starts bin with args, its output appended to logPath.
//
// The child gets its own process group so that a Ctrl-C in the terminal
// reaches only the harness, which then stops its children in order
// (SIGTERM first: dynago flushes pebble on it) instead of every process
// dying at once. Pdeathsig is a safety net for the case the harness itself
// is killed with SIGKILL and cannot clean up.
func StartProc(name, logPath, bin string, args ...string) (*Proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// CommandLine is the command as started, for the report and error messages.
func (p *Proc) CommandLine() string { return ShellJoin(p.cmd.Args) }

// ShellJoin quotes args the way a shell user would type them, so that
// printed command lines can be pasted back (--save ” stays visible).
func ShellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, waits up to grace for the process to exit, then sends
// SIGKILL. It returns once the process is reaped (or 5 s after SIGKILL,
// which only a process stuck in the kernel survives). Stopping a process
// that already exited does nothing. The process is signalled through the
// os.Process handle, which on Linux is a pidfd: a recycled PID can never
// be hit.
func (p *Proc) Stop(grace time.Duration) error {
	if ok, _ := p.Exited(); ok {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("bench: SIGTERM %s (pid %d): %w", p.Name, p.PID(), err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("bench: SIGKILL %s (pid %d): %w", p.Name, p.PID(), err)
	}
	select {
	case <-p.done:
		return fmt.Errorf("bench: %s (pid %d) ignored SIGTERM for %v and was killed", p.Name, p.PID(), grace)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("bench: %s (pid %d) survived SIGKILL", p.Name, p.PID())
	}
}

// StopAll stops the processes concurrently, so that the total wait is one
// grace period, and joins every error.
func StopAll(procs []*Proc, grace time.Duration) error {
	errs := make(chan error, len(procs))
	for _, p := range procs {
		go func() { errs <- p.Stop(grace) }()
	}
	var all []error
	for range procs {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// LogTail returns the last n lines of the process's log.
func (p *Proc) LogTail(n int) string { return fileTail(p.LogPath, n) }

func fileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// exitError describes how a process ended, for error messages.
func (p *Proc) exitError() string {
	ok, err := p.Exited()
	switch {
	case !ok:
		return "still running"
	case err == nil:
		return "exited with status 0"
	default:
		return err.Error()
	}
}
