package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
)

func lines(cmds []run.Cmd) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.String())
	}
	return out
}

func TestCmds(t *testing.T) {
	tests := []struct {
		name        string
		init        string
		snap        bool
		tools       []string // on PATH
		wantUnit    string
		wantEnable  []string
		wantStop    []string
		wantDisable []string
		wantRestart []string
		wantReload  []string
	}{
		{
			name: "systemd", init: Systemd, wantUnit: "amazon-ssm-agent",
			wantEnable:  []string{"systemctl enable --now --no-block amazon-ssm-agent"},
			wantStop:    []string{"systemctl stop amazon-ssm-agent"},
			wantDisable: []string{"systemctl disable --now amazon-ssm-agent"},
			wantRestart: []string{"systemctl restart amazon-ssm-agent"},
			wantReload:  []string{"systemctl daemon-reload"},
		},
		{
			name: "snap", init: Systemd, snap: true, wantUnit: "snap.amazon-ssm-agent.amazon-ssm-agent",
			wantEnable:  []string{"snap start --enable amazon-ssm-agent"},
			wantStop:    []string{"systemctl stop snap.amazon-ssm-agent.amazon-ssm-agent"},
			wantDisable: []string{"snap stop --disable amazon-ssm-agent"},
			wantRestart: []string{"systemctl restart snap.amazon-ssm-agent.amazon-ssm-agent"},
			wantReload:  []string{"systemctl daemon-reload"},
		},
		{
			name: "upstart", init: Upstart, wantUnit: "amazon-ssm-agent",
			wantEnable:  []string{"start amazon-ssm-agent"},
			wantStop:    []string{"stop amazon-ssm-agent"},
			wantDisable: []string{"stop amazon-ssm-agent"},
			wantRestart: []string{"stop amazon-ssm-agent", "start amazon-ssm-agent"},
			wantReload:  []string{"initctl reload-configuration"},
		},
		{
			name: "sysvinit debian", init: SysVinit, tools: []string{"update-rc.d", "chkconfig"}, wantUnit: "amazon-ssm-agent",
			wantEnable:  []string{"update-rc.d amazon-ssm-agent defaults", "update-rc.d amazon-ssm-agent enable", "service amazon-ssm-agent start"},
			wantStop:    []string{"service amazon-ssm-agent stop"},
			wantDisable: []string{"service amazon-ssm-agent stop", "update-rc.d amazon-ssm-agent disable"},
			wantRestart: []string{"service amazon-ssm-agent restart"},
		},
		{
			name: "sysvinit chkconfig", init: SysVinit, tools: []string{"chkconfig"}, wantUnit: "amazon-ssm-agent",
			wantEnable:  []string{"chkconfig amazon-ssm-agent on", "service amazon-ssm-agent start"},
			wantStop:    []string{"service amazon-ssm-agent stop"},
			wantDisable: []string{"service amazon-ssm-agent stop", "chkconfig amazon-ssm-agent off"},
			wantRestart: []string{"service amazon-ssm-agent restart"},
		},
		{
			name: "sysvinit bare", init: SysVinit, wantUnit: "amazon-ssm-agent",
			wantEnable:  []string{"service amazon-ssm-agent start"},
			wantStop:    []string{"service amazon-ssm-agent stop"},
			wantDisable: []string{"service amazon-ssm-agent stop"},
			wantRestart: []string{"service amazon-ssm-agent restart"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := runtest.New(t)
			for _, tool := range tt.tools {
				f.SetPath(tool, "/usr/sbin/"+tool)
			}
			m, err := New(tt.init, tt.snap, f)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if m.Name() != tt.init || m.Unit() != tt.wantUnit {
				t.Errorf("got %s/%s, want %s/%s", m.Name(), m.Unit(), tt.init, tt.wantUnit)
			}
			for _, c := range []struct {
				what string
				got  []run.Cmd
				want []string
			}{
				{"EnableStartCmds", m.EnableStartCmds(), tt.wantEnable},
				{"StopCmds", m.StopCmds(), tt.wantStop},
				{"DisableStopCmds", m.DisableStopCmds(), tt.wantDisable},
				{"RestartCmds", m.RestartCmds(), tt.wantRestart},
				{"DaemonReloadCmds", m.DaemonReloadCmds(), tt.wantReload},
			} {
				if diff := cmp.Diff(c.want, lines(c.got)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.what, diff)
				}
			}
		})
	}
}

func TestNewUnsupported(t *testing.T) {
	tests := []struct {
		name string
		init string
		snap bool
	}{
		{name: "launchd", init: "launchd"},
		{name: "none", init: "none"},
		{name: "snap on upstart", init: Upstart, snap: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.init, tt.snap, runtest.New(t))
			if got := fail.KindOf(err); err == nil || got != fail.Unsupported {
				t.Errorf("got %v (kind %v), want kind %v", err, got, fail.Unsupported)
			}
		})
	}
}

func TestParseSystemctlShow(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    State
		wantErr bool
	}{
		{
			name: "running",
			out:  "MainPID=1234\nActiveState=active\nActiveEnterTimestamp=Fri 2026-11-27 15:00:00 UTC\nUnitFileState=enabled\n",
			want: State{Active: Active, Enabled: true, MainPID: 1234, Since: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)},
		},
		{
			name: "microseconds and localized weekday",
			out:  "ActiveState=reloading\nUnitFileState=enabled-runtime\nMainPID=7\nActiveEnterTimestamp=Fr 2026-11-27 15:00:00.250000 UTC\n",
			want: State{Active: Active, Enabled: true, MainPID: 7, Since: time.Date(2026, 11, 27, 15, 0, 0, 250000000, time.UTC)},
		},
		{
			name: "unix timestamp",
			out:  "ActiveState=active\nUnitFileState=enabled\nMainPID=7\nActiveEnterTimestamp=@1795791600\n",
			want: State{Active: Active, Enabled: true, MainPID: 7, Since: time.Unix(1795791600, 0).UTC()},
		},
		{
			name: "unknown unit",
			out:  "MainPID=0\nActiveState=inactive\nActiveEnterTimestamp=\nUnitFileState=\n",
			want: State{Active: Inactive},
		},
		{
			name: "crashed, waiting for the next restart",
			out:  "MainPID=0\nActiveState=activating\nSubState=auto-restart\nActiveEnterTimestamp=n/a\nUnitFileState=enabled\n",
			want: State{Active: Failed, Enabled: true},
		},
		{
			name: "starting",
			out:  "MainPID=0\nActiveState=activating\nSubState=start\nActiveEnterTimestamp=n/a\nUnitFileState=enabled\n",
			want: State{Active: Activating, Enabled: true},
		},
		{
			name: "restarting after a crash",
			out:  "MainPID=0\nActiveState=activating\nActiveEnterTimestamp=n/a\nUnitFileState=enabled\n",
			want: State{Active: Activating, Enabled: true},
		},
		{
			name: "failed and disabled",
			out:  "MainPID=0\nActiveState=failed\nActiveEnterTimestamp=Fri 2026-11-27 15:00:00 UTC\nUnitFileState=disabled\n",
			want: State{Active: Failed, Since: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)},
		},
		{name: "deactivating", out: "ActiveState=deactivating\nMainPID=99\nUnitFileState=static\n", want: State{Active: Inactive, MainPID: 99}},
		{name: "maintenance", out: "ActiveState=maintenance\nMainPID=0\n", want: State{Active: Unknown}},
		{name: "bad pid", out: "ActiveState=active\nMainPID=x\n", wantErr: true},
		{name: "bad timestamp", out: "ActiveState=active\nActiveEnterTimestamp=yesterday\n", wantErr: true},
		{name: "not key=value", out: "Failed to connect to bus\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSystemctlShow(tt.out)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSystemdState(t *testing.T) {
	tests := []struct {
		name     string
		snap     bool
		call     runtest.Call
		want     State
		wantKind fail.Kind
	}{
		{
			name: "deb unit",
			call: runtest.Call{
				Line:   "systemctl show amazon-ssm-agent -p ActiveState -p SubState -p UnitFileState -p MainPID -p ActiveEnterTimestamp",
				Stdout: "ActiveState=active\nUnitFileState=enabled\nMainPID=42\nActiveEnterTimestamp=Fri 2026-11-27 15:00:00 UTC\n",
			},
			want: State{Active: Active, Enabled: true, MainPID: 42, Since: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)},
		},
		{
			name: "snap unit",
			snap: true,
			call: runtest.Call{
				Line:   "systemctl show snap.amazon-ssm-agent.amazon-ssm-agent -p ActiveState -p SubState -p UnitFileState -p MainPID -p ActiveEnterTimestamp",
				Stdout: "ActiveState=inactive\nUnitFileState=disabled\nMainPID=0\nActiveEnterTimestamp=\n",
			},
			want: State{Active: Inactive},
		},
		{
			name: "no systemd",
			call: runtest.Call{
				Line:     "systemctl show amazon-ssm-agent -p ActiveState -p SubState -p UnitFileState -p MainPID -p ActiveEnterTimestamp",
				Stderr:   "System has not been booted with systemd as init system (PID 1). Can't operate.",
				ExitCode: 1,
			},
			want:     State{Active: Unknown},
			wantKind: fail.PackageManager,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(Systemd, tt.snap, runtest.New(t).Expect(tt.call))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.State(context.Background())
			if tt.wantKind != 0 {
				if fail.KindOf(err) != tt.wantKind || !strings.Contains(err.Error(), "has not been booted with systemd") {
					t.Errorf("got %v, want a %v error with systemctl's output", err, tt.wantKind)
				}
			} else if err != nil {
				t.Fatalf("State: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpstartState(t *testing.T) {
	tests := []struct {
		name    string
		call    runtest.Call
		want    State
		wantErr bool
	}{
		{name: "running", call: runtest.Call{Stdout: "amazon-ssm-agent start/running, process 1234\n"}, want: State{Active: Active, Enabled: true, MainPID: 1234}},
		{name: "stopped", call: runtest.Call{Stdout: "amazon-ssm-agent stop/waiting\n"}, want: State{Active: Inactive, Enabled: true}},
		{name: "post-start", call: runtest.Call{Stdout: "amazon-ssm-agent start/post-start, process 1234\n\tpost-start process 1240\n"}, want: State{Active: Activating, Enabled: true, MainPID: 1234}},
		{name: "unknown job", call: runtest.Call{Stderr: "status: Unknown job: amazon-ssm-agent\n", ExitCode: 1}, want: State{Active: Inactive}},
		{name: "garbage", call: runtest.Call{Stdout: "hello\n"}, want: State{Active: Unknown}, wantErr: true},
		{name: "bad pid", call: runtest.Call{Stdout: "amazon-ssm-agent start/running, process x\n"}, want: State{Active: Unknown}, wantErr: true},
		{name: "initctl broken", call: runtest.Call{Stderr: "status: Unable to connect to Upstart", ExitCode: 1}, want: State{Active: Unknown}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := tt.call
			call.Line = "status amazon-ssm-agent"
			m, err := New(Upstart, false, runtest.New(t).Expect(call))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.State(context.Background())
			if tt.wantErr != (err != nil) {
				t.Fatalf("error: got %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSysVinitState(t *testing.T) {
	tests := []struct {
		name    string
		call    runtest.Call
		link    string // boot link to create under the root, if any
		want    State
		wantErr bool
	}{
		{name: "running with pid", call: runtest.Call{Stdout: "amazon-ssm-agent (pid 1234) is running...\n"}, link: "etc/rc3.d/S99amazon-ssm-agent", want: State{Active: Active, Enabled: true, MainPID: 1234}},
		{name: "running without pid", call: runtest.Call{Stdout: "amazon-ssm-agent is running\n"}, want: State{Active: Active}},
		{name: "stop link only", call: runtest.Call{Stdout: "ok\n"}, link: "etc/rc3.d/K01amazon-ssm-agent", want: State{Active: Active}},
		{name: "not running", call: runtest.Call{Stdout: "amazon-ssm-agent is stopped\n", ExitCode: 3}, link: "etc/rc2.d/S01amazon-ssm-agent", want: State{Active: Inactive, Enabled: true}},
		{name: "dead with pid file", call: runtest.Call{Stdout: "amazon-ssm-agent dead but pid file exists\n", ExitCode: 1}, want: State{Active: Failed}},
		{name: "status unknown", call: runtest.Call{ExitCode: 4}, want: State{Active: Unknown}},
		{name: "service missing", call: runtest.Call{Err: errors.New(`exec: "service": executable file not found in $PATH`)}, want: State{Active: Unknown}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.link != "" {
				p := filepath.Join(root, tt.link)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			call := tt.call
			call.Line = "service amazon-ssm-agent status"
			m := newSysVinit(runtest.New(t).Expect(call), root)
			got, err := m.State(context.Background())
			if tt.wantErr != (err != nil) {
				t.Fatalf("error: got %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
