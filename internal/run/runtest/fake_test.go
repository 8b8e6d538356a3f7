package runtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ssm-setup/ssm-setup/internal/run"
)

// recorder is a testing.TB that records failures and cleanups instead of acting on them,
// so the tests can check that the fake fails its test.
type recorder struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Helper()          {}
func (r *recorder) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestFakeUnexpectedCommand(t *testing.T) {
	r := &recorder{TB: t}
	f := New(r).ExpectLine("dpkg -l", "")
	_, err := f.Run(context.Background(), run.Cmd{Name: "rm", Args: []string{"-rf", "/"}})
	if err == nil {
		t.Error("an unexpected command returned no error")
	}
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "unexpected command: rm -rf /") || !strings.Contains(r.errors[0], "dpkg -l") {
		t.Errorf("got failures %q, want one naming the command and what was expected", r.errors)
	}
}

func TestFakeNeverRan(t *testing.T) {
	r := &recorder{TB: t}
	New(r).ExpectLine("systemctl start amazon-ssm-agent", "").Expect(Call{Line: "systemctl is-active amazon-ssm-agent", Any: true})
	r.finish()
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "never ran: systemctl start amazon-ssm-agent") {
		t.Errorf("got failures %q, want one for the command that never ran (and none for the Any call)", r.errors)
	}
}

func TestFakeEachCallOnce(t *testing.T) {
	r := &recorder{TB: t}
	f := New(r).ExpectLine("true", "")
	ctx := context.Background()
	if _, err := f.Run(ctx, run.Cmd{Name: "true"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Run(ctx, run.Cmd{Name: "true"}); err == nil {
		t.Error("a call expected once matched twice")
	}
	r.finish()
	if len(r.errors) != 1 {
		t.Errorf("got failures %q, want exactly the second run", r.errors)
	}
	if got := strings.Join(f.Ran, ","); got != "true,true" {
		t.Errorf("Ran = %q", got)
	}
}

func TestFakeAnswers(t *testing.T) {
	r := &recorder{TB: t}
	startErr := errors.New("exec: not found")
	f := New(r).
		Expect(Call{Line: "agent -register -code '***'", Stdout: "registered with s3cr3t", Stderr: "warn s3cr3t"}).
		Expect(Call{Line: "rpm -q amazon-ssm-agent", ExitCode: 1, Stdout: "package amazon-ssm-agent is not installed"}).
		Expect(Call{Line: "missing", Err: startErr}).
		Expect(Call{Line: "poll", Any: true, Stdout: "active"}).
		SetPath("rpm", "/usr/bin/rpm")
	ctx := context.Background()

	// Expectations are written with secrets masked; canned output is masked as run.Exec masks it.
	out, err := f.Run(ctx, run.Cmd{Name: "agent", Args: []string{"-register", "-code", "s3cr3t"}, Secrets: []string{"s3cr3t"}})
	if err != nil || string(out.Stdout) != "registered with ***" || string(out.Stderr) != "warn ***" {
		t.Errorf("got %q %q %v, want masked output", out.Stdout, out.Stderr, err)
	}
	_, err = f.Run(ctx, run.Cmd{Name: "rpm", Args: []string{"-q", "amazon-ssm-agent"}})
	var ee *run.ExitError
	if !errors.As(err, &ee) || ee.ExitCode != 1 || !strings.Contains(ee.Output, "not installed") {
		t.Errorf("got %v, want *run.ExitError with status 1 and the output", err)
	}
	if _, err := f.Run(ctx, run.Cmd{Name: "missing"}); !errors.Is(err, startErr) {
		t.Errorf("got %v, want the start error", err)
	}
	for range 3 {
		if out, err := f.Run(ctx, run.Cmd{Name: "poll"}); err != nil || string(out.Stdout) != "active" {
			t.Errorf("Any call: got %q, %v", out.Stdout, err)
		}
	}
	if p, err := f.LookPath("rpm"); err != nil || p != "/usr/bin/rpm" {
		t.Errorf("LookPath(rpm) = %q, %v", p, err)
	}
	if _, err := f.LookPath("dnf"); err == nil {
		t.Error("LookPath(dnf) found a program that was not set")
	}
	r.finish()
	if len(r.errors) != 0 {
		t.Errorf("unexpected failures: %q", r.errors)
	}
}
