package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// scripted is a Manager whose State walks through a script, then repeats its last
// entry (or, with cycle, starts over).
type scripted struct {
	mu     sync.Mutex
	script []State
	errs   []error
	cycle  bool
	calls  int
}

func (s *scripted) Name() string                { return Systemd }
func (s *scripted) Unit() string                { return Name }
func (s *scripted) EnableStartCmds() []run.Cmd  { return nil }
func (s *scripted) StopCmds() []run.Cmd         { return nil }
func (s *scripted) DisableStopCmds() []run.Cmd  { return nil }
func (s *scripted) RestartCmds() []run.Cmd      { return nil }
func (s *scripted) DaemonReloadCmds() []run.Cmd { return nil }

func (s *scripted) State(context.Context) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.calls
	s.calls++
	if s.cycle {
		i %= len(s.script)
	} else {
		i = min(i, len(s.script)-1)
	}
	var err error
	if i < len(s.errs) {
		err = s.errs[i]
	}
	return s.script[i], err
}

func active(pid int) State { return State{Active: Active, Enabled: true, MainPID: pid} }
func activating() State    { return State{Active: Activating, Enabled: true} }
func failed() State        { return State{Active: Failed, Enabled: true} }
func inactive() State      { return State{Active: Inactive} }
func fastHealth() HealthOptions {
	return HealthOptions{Stable: 20 * time.Millisecond, Interval: time.Millisecond, Timeout: 500 * time.Millisecond}
}

func TestWaitHealthy(t *testing.T) {
	tests := []struct {
		name     string
		m        *scripted
		wantKind fail.Kind // 0 = healthy
		wantMsg  string    // substring of the error
	}{
		{name: "stable at once", m: &scripted{script: []State{active(100)}}},
		{name: "starts then stable", m: &scripted{script: []State{inactive(), activating(), activating(), active(100)}}},
		{name: "one restart then stable", m: &scripted{script: []State{active(100), activating(), active(200)}}},
		{
			name:     "restart loop",
			m:        &scripted{script: []State{active(100), activating(), active(200), activating(), active(300), activating()}, cycle: true},
			wantKind: fail.Unhealthy, wantMsg: "times",
		},
		{
			name:     "pid changes while active",
			m:        &scripted{script: []State{active(100), active(101), active(102), active(103)}, cycle: true},
			wantKind: fail.Unhealthy, wantMsg: "did not stay up for 20ms within 500ms",
		},
		{name: "failed", m: &scripted{script: []State{activating(), failed()}}, wantKind: fail.Unhealthy, wantMsg: "service amazon-ssm-agent failed"},
		{name: "failed after restarts", m: &scripted{script: []State{active(100), active(200), active(300), failed()}}, wantKind: fail.Unhealthy, wantMsg: "failed; it restarted 2 times"},
		{name: "never starts", m: &scripted{script: []State{inactive()}}, wantKind: fail.Unhealthy, wantMsg: "not healthy after 500ms: state inactive, main pid 0"},
		{
			name:     "query fails",
			m:        &scripted{script: []State{{Active: Unknown}}, errs: []error{fail.New(fail.PackageManager, "systemctl broke")}},
			wantKind: fail.PackageManager, wantMsg: "systemctl broke",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := WaitHealthy(context.Background(), tt.m, fastHealth())
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("took %v, want well under the timeout", elapsed)
			}
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("got %v, want healthy", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got healthy, want a %v error containing %q", tt.wantKind, tt.wantMsg)
			}
			if got := fail.KindOf(err); got != tt.wantKind {
				t.Errorf("kind: got %v, want %v (%v)", got, tt.wantKind, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message: got %q, want it to contain %q", err, tt.wantMsg)
			}
			if tt.wantKind == fail.Unhealthy && !strings.Contains(fail.HintOf(err), "journalctl -u amazon-ssm-agent") {
				t.Errorf("hint: got %q, want the journalctl command", fail.HintOf(err))
			}
		})
	}
}

func TestWaitHealthyWaitsForStable(t *testing.T) {
	o := fastHealth()
	o.Stable = 50 * time.Millisecond
	start := time.Now()
	if err := WaitHealthy(context.Background(), &scripted{script: []State{active(1)}}, o); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < o.Stable {
		t.Errorf("returned after %v, want at least Stable (%v)", elapsed, o.Stable)
	}
}

func TestWaitHealthyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := WaitHealthy(ctx, &scripted{script: []State{activating()}}, fastHealth())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestLastLogLines(t *testing.T) {
	long := strings.Repeat("x", 1000)
	tests := []struct {
		name  string
		files map[string]string
		n     int
		want  string
	}{
		{name: "no logs", n: 5, want: ""},
		{
			name:  "agent log only",
			files: map[string]string{LogFile: "one\ntwo\nthree\n"},
			n:     2,
			want:  "==> /var/log/amazon/ssm/amazon-ssm-agent.log <==\ntwo\nthree",
		},
		{
			name:  "both logs",
			files: map[string]string{LogFile: "a\nb\n", ErrorsLog: "E1\nE2\nE3"},
			n:     2,
			want:  "==> /var/log/amazon/ssm/amazon-ssm-agent.log <==\na\nb\n==> /var/log/amazon/ssm/errors.log <==\nE2\nE3",
		},
		{name: "empty log", files: map[string]string{LogFile: ""}, n: 3, want: ""},
		{name: "zero lines", files: map[string]string{LogFile: "a\n"}, n: 0, want: ""},
		{
			name:  "large log reads only the tail",
			files: map[string]string{LogFile: strings.Repeat(long+"\n", 200) + "last\n"},
			n:     2,
			want:  "==> /var/log/amazon/ssm/amazon-ssm-agent.log <==\n" + long + "\nlast",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := sysroot.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for name, content := range tt.files {
				p := root.Path(name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := LastLogLines(root, tt.n); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTailFileCutsPartialFirstLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	// One line longer than the window: only complete lines may come back.
	content := strings.Repeat("y", tailBytes+10) + "\n" + "tail\n"
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := tailFile(p, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"tail"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
