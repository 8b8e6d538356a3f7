package run

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCmdString(t *testing.T) {
	tests := []struct {
		name string
		cmd  Cmd
		want string
	}{
		{"plain", Cmd{Name: "dpkg", Args: []string{"-i", "/tmp/a.deb"}}, "dpkg -i /tmp/a.deb"},
		{"quoted", Cmd{Name: "sh", Args: []string{"-c", "echo 'hi' there", ""}}, `sh -c 'echo '\''hi'\'' there' ''`},
		{"secret masked", Cmd{Name: "amazon-ssm-agent", Args: []string{"-register", "-code", "s3cr3t", "-id", "abc"}, Secrets: []string{"s3cr3t"}},
			"amazon-ssm-agent -register -code '***' -id abc"},
		{"secret inside an argument", Cmd{Name: "x", Args: []string{"--proxy=http://u:pw123@p:3128"}, Secrets: []string{"pw123"}},
			"x '--proxy=http://u:***@p:3128'"},
		{"longer secret masked whole", Cmd{Name: "x", Args: []string{"abcdef"}, Secrets: []string{"abc", "abcdef"}}, "x '***'"},
		{"empty secret ignored", Cmd{Name: "x", Args: []string{"a"}, Secrets: []string{""}}, "x a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cmd.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "''",
		"simple-1.0_x/y":   "simple-1.0_x/y",
		"%{VERSION}":       "'%{VERSION}'",
		"a b":              "'a b'",
		"it's":             `'it'\''s'`,
		"KEY=v,w+x@y:z%":   "KEY=v,w+x@y:z%",
		"$HOME":            "'$HOME'",
		"semi;colon":       "'semi;colon'",
		"new\nline":        "'new\nline'",
		"back\\slash":      `'back\slash'`,
		"glob*":            "'glob*'",
		"tilde~":           "'tilde~'",
		"unicode-ü":        "'unicode-ü'",
		"quote\"d":         `'quote"d'`,
		"--flag=a b":       "'--flag=a b'",
		"/usr/bin/rpm":     "/usr/bin/rpm",
		"amazon-ssm-agent": "amazon-ssm-agent",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestExecRun(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	ctx := context.Background()

	out, err := Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", `printf 'out %s' "$1"; printf 'err %s' "$X" >&2`, "sh", "s3cr3t"},
		Env: []string{"X=s3cr3t-too"}, Secrets: []string{"s3cr3t"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out.Stdout), "out ***"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := string(out.Stderr), "err ***-too"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}

	_, err = Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", `echo "failed with $1" >&2; exit 3`, "sh", "s3cr3t"}, Secrets: []string{"s3cr3t"}})
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("got %T %v, want *ExitError", err, err)
	}
	if ee.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", ee.ExitCode)
	}
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "failed with ***") || !strings.Contains(err.Error(), "exited with status 3") {
		t.Errorf("error %q: want the masked command, its status and its masked output", err)
	}

	_, err = Exec{}.Run(ctx, Cmd{Name: "/nonexistent/program", Args: []string{"s3cr3t"}, Secrets: []string{"s3cr3t"}})
	if err == nil || errors.As(err, &ee) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("a program that cannot start: got %v, want a start error without the secret", err)
	}

	defer func(d time.Duration) { waitDelay = d }(waitDelay)
	waitDelay = 100 * time.Millisecond

	// A command that exits 0 but leaves a child holding its output (a daemon started by
	// a package script) succeeds, without waiting for the child.
	start := time.Now()
	out, err = Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "sleep 3 & echo started"}})
	if err != nil || strings.TrimSpace(string(out.Stdout)) != "started" {
		t.Errorf("got %q, %v; want the output and no error", out.Stdout, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run waited %v for a left-behind child", d)
	}

	// A timed-out command is reported as such, even when a child holds its output.
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = Exec{}.Run(tctx, Cmd{Name: "sh", Args: []string{"-c", "sleep 3; true"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a timed-out command: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v after its context ended", d)
	}
}

func TestTail(t *testing.T) {
	o := Output{Stdout: []byte("o1\no2\n"), Stderr: []byte("e1\ne2\n")}
	if got, want := Tail(o, 3), "e2\no1\no2"; got != want {
		t.Errorf("Tail = %q, want %q", got, want)
	}
	if got := Tail(Output{}, 5); got != "" {
		t.Errorf("Tail of nothing = %q, want empty", got)
	}
}
