// Package run is the one door through which ssm-setup runs external commands (dpkg, rpm,
// systemctl, the agent binary, ...). Production code uses Exec; tests use runtest.Fake,
// which fails on any command the test did not expect.
package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Cmd is one command to run.
type Cmd struct {
	Name  string   // program name or path
	Args  []string // arguments, without the program name
	Env   []string // extra KEY=VALUE entries on top of the current environment
	Dir   string   // working directory; empty means the current one
	Stdin io.Reader
	// Secrets are values that must never be shown: String, errors and captured output
	// replace each with "***". Use it for activation codes and proxy passwords.
	Secrets []string
}

// String is the command line, shell-quoted, with secrets masked.
func (c Cmd) String() string {
	parts := make([]string, 0, len(c.Args)+1)
	for _, a := range append([]string{c.Name}, c.Args...) {
		parts = append(parts, Quote(c.Redact(a)))
	}
	return strings.Join(parts, " ")
}

// Redact replaces every secret of c in s with "***". Longer secrets go first, so a
// secret that contains a shorter one is masked whole, not left with its tail showing.
func (c Cmd) Redact(s string) string {
	secrets := slices.Clone(c.Secrets)
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// Quote quotes s for a POSIX shell when it needs quoting.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Output is what a finished command printed.
type Output struct {
	Stdout []byte
	Stderr []byte
}

// Runner runs commands. Implementations return *ExitError when the command ran and
// exited non-zero, and another error when it could not be started.
type Runner interface {
	Run(ctx context.Context, c Cmd) (Output, error)
	// LookPath finds a program on PATH, like exec.LookPath.
	LookPath(name string) (string, error)
}

// ExitError reports a command that exited with a non-zero status.
type ExitError struct {
	Cmd      string // quoted, secrets masked
	ExitCode int
	Output   string // combined stderr and stdout tail, secrets masked
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s exited with status %d", e.Cmd, e.ExitCode)
	if e.Output != "" {
		msg += ": " + e.Output
	}
	return msg
}

// Exec runs commands on the host with os/exec.
type Exec struct{}

// waitDelay bounds how long Run waits, once a command has exited (or its context is
// done), for the output pipes to close: a daemon started by a package script can
// inherit them and keep them open for good.
var waitDelay = 5 * time.Second

// LookPath implements Runner.
func (Exec) LookPath(name string) (string, error) { return exec.LookPath(name) }

// Run implements Runner.
func (Exec) Run(ctx context.Context, c Cmd) (Output, error) {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	if len(c.Env) > 0 {
		cmd.Env = append(os.Environ(), c.Env...)
	}
	cmd.Dir = c.Dir
	cmd.Stdin = c.Stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		// The command itself succeeded; a process it left running holds its output.
		err = nil
	}
	out := Output{Stdout: []byte(c.Redact(stdout.String())), Stderr: []byte(c.Redact(stderr.String()))}
	if err == nil {
		return out, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Killed because the run was cancelled or timed out: say so, not "status -1".
		return out, fmt.Errorf("run %s: %w", c.String(), ctxErr)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out, &ExitError{Cmd: c.String(), ExitCode: ee.ExitCode(), Output: Tail(out, 20)}
	}
	return out, fmt.Errorf("run %s: %w", c.String(), err)
}

// Tail returns the last n lines of a command's stderr followed by its stdout, trimmed.
func Tail(o Output, n int) string {
	text := strings.TrimSpace(strings.TrimSpace(string(o.Stderr)) + "\n" + strings.TrimSpace(string(o.Stdout)))
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
