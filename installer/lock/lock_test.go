package lock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// helperEnv names the root a re-executed test binary locks; see TestMain.
const helperEnv = "SSM_SETUP_LOCK_TEST_HOLD"

// TestMain lets the test binary act as a second ssm-setup run: with helperEnv set it
// takes the lock, prints "locked", and holds it until its stdin closes.
func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(holdLock(dir))
	}
	os.Exit(m.Run())
}

func holdLock(dir string) int {
	root, err := sysroot.New(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l, err := Acquire(context.Background(), root, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := l.Release(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func newRoot(t *testing.T) sysroot.Root {
	t.Helper()
	root, err := sysroot.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestAcquireWritesPID(t *testing.T) {
	root := newRoot(t)
	l, err := Acquire(context.Background(), root, 0)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	defer l.Release()
	if want := root.Path("/run/lock/ssm-setup.lock"); l.Path() != want {
		t.Errorf("path: got %s, want %s", l.Path(), want)
	}
	b, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(b)), strconv.Itoa(os.Getpid()); got != want {
		t.Errorf("lock file content: got %q, want %q", got, want)
	}
}

func TestAcquireFallsBackToVarLock(t *testing.T) {
	root := newRoot(t)
	// A regular file where /run should be makes /run/lock impossible to create.
	if err := os.WriteFile(root.Path("/run"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(context.Background(), root, 0)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	defer l.Release()
	if want := root.Path("/var/lock/ssm-setup.lock"); l.Path() != want {
		t.Errorf("path: got %s, want %s", l.Path(), want)
	}
}

func TestAcquireContention(t *testing.T) {
	tests := []struct {
		name     string
		wait     time.Duration
		release  time.Duration // when the first holder releases; 0 = never during the test
		wantKind fail.Kind     // 0 = success
	}{
		{name: "held, no wait", wait: 0, wantKind: fail.Locked},
		{name: "held beyond wait", wait: 150 * time.Millisecond, wantKind: fail.Locked},
		{name: "released while waiting", wait: 5 * time.Second, release: 150 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t)
			first, err := Acquire(context.Background(), root, 0)
			if err != nil {
				t.Fatalf("first Acquire: %v", err)
			}
			defer first.Release()
			if tt.release > 0 {
				timer := time.AfterFunc(tt.release, func() { first.Release() })
				defer timer.Stop()
			}
			second, err := Acquire(context.Background(), root, tt.wait)
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("second Acquire: got %v, want success", err)
				}
				second.Release()
				return
			}
			if err == nil {
				second.Release()
				t.Fatalf("second Acquire: got success, want %v error", tt.wantKind)
			}
			if got := fail.KindOf(err); got != tt.wantKind {
				t.Errorf("kind: got %v, want %v", got, tt.wantKind)
			}
			wantMsg := fmt.Sprintf("another ssm-setup run (pid %d) holds the lock %s", os.Getpid(), first.Path())
			if err.Error() != wantMsg {
				t.Errorf("message: got %q, want %q", err.Error(), wantMsg)
			}
			if got, want := fail.HintOf(err), "wait for it to finish, or pass --lock-wait"; got != want {
				t.Errorf("hint: got %q, want %q", got, want)
			}
		})
	}
}

func TestAcquireCancelled(t *testing.T) {
	root := newRoot(t)
	first, err := Acquire(context.Background(), root, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Acquire(ctx, root, time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Acquire returned after %v, want soon after the context ended", d)
	}
}

func TestReleaseTwice(t *testing.T) {
	l, err := Acquire(context.Background(), newRoot(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("first Release: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: got %v, want nil", err)
	}
}

func TestAcquireAcrossProcesses(t *testing.T) {
	root := newRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+root.Dir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper process: got %q (%v), want \"locked\"; stderr: %s", line, err, stderr.String())
	}

	_, err = Acquire(context.Background(), root, 50*time.Millisecond)
	if got := fail.KindOf(err); got != fail.Locked {
		t.Fatalf("Acquire while the child holds the lock: got %v (kind %v), want kind %v", err, got, fail.Locked)
	}
	wantMsg := fmt.Sprintf("another ssm-setup run (pid %d) holds the lock %s", cmd.Process.Pid, filepath.Join(root.Dir(), "run", "lock", Name))
	if err.Error() != wantMsg {
		t.Errorf("message: got %q, want %q", err.Error(), wantMsg)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v; stderr: %s", err, stderr.String())
	}
	l, err := Acquire(context.Background(), root, time.Second)
	if err != nil {
		t.Fatalf("Acquire after the child exited: %v", err)
	}
	l.Release()
}
