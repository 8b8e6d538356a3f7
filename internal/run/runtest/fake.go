// Package runtest has a strict fake run.Runner for tests: it fails the test on a command
// it was not told to expect, and at cleanup on an expected command that never ran.
package runtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ssm-setup/ssm-setup/internal/run"
)

// Call is one expected command and what it answers.
type Call struct {
	Line     string // the command line as run.Cmd.String() prints it
	Stdout   string
	Stderr   string
	ExitCode int   // non-zero makes Run return *run.ExitError
	Err      error // returned as is (e.g. the program could not start)
	// Any lets the call match any number of times (zero included), e.g. for polling.
	Any  bool
	used int
}

// Fake is a strict run.Runner. Expectations are matched in any order, each once unless Any.
type Fake struct {
	t     testing.TB
	mu    sync.Mutex
	calls []*Call
	paths map[string]string
	// Ran lists the command lines that ran, in order.
	Ran []string
}

// New returns a fake bound to t; at cleanup it fails t for every expected call not made.
func New(t testing.TB) *Fake {
	f := &Fake{t: t, paths: map[string]string{}}
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.calls {
			if !c.Any && c.used == 0 {
				t.Errorf("expected command never ran: %s", c.Line)
			}
		}
	})
	return f
}

// Expect adds an expected call.
func (f *Fake) Expect(c Call) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	cc := c
	f.calls = append(f.calls, &cc)
	return f
}

// ExpectLine adds an expected call that succeeds and prints stdout.
func (f *Fake) ExpectLine(line, stdout string) *Fake {
	return f.Expect(Call{Line: line, Stdout: stdout})
}

// SetPath makes LookPath(name) succeed with path.
func (f *Fake) SetPath(name, path string) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths[name] = path
	return f
}

// LookPath implements run.Runner.
func (f *Fake) LookPath(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.paths[name]; ok {
		return p, nil
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

// Run implements run.Runner.
func (f *Fake) Run(_ context.Context, c run.Cmd) (run.Output, error) {
	line := c.String()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Ran = append(f.Ran, line)
	for _, call := range f.calls {
		if call.Line != line || (!call.Any && call.used > 0) {
			continue
		}
		call.used++
		// Secrets are masked in captured output, as run.Exec does.
		out := run.Output{Stdout: []byte(c.Redact(call.Stdout)), Stderr: []byte(c.Redact(call.Stderr))}
		if call.Err != nil {
			return out, call.Err
		}
		if call.ExitCode != 0 {
			return out, &run.ExitError{Cmd: line, ExitCode: call.ExitCode, Output: run.Tail(out, 20)}
		}
		return out, nil
	}
	f.t.Errorf("unexpected command: %s\n(expected one of:\n  %s)", line, strings.Join(f.pending(), "\n  "))
	return run.Output{}, fmt.Errorf("unexpected command in test: %s", line)
}

func (f *Fake) pending() []string {
	var lines []string
	for _, c := range f.calls {
		if c.Any || c.used == 0 {
			lines = append(lines, c.Line)
		}
	}
	return lines
}
