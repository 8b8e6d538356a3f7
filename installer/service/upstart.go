package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
)

// upstart manages the agent's job /etc/init/amazon-ssm-agent.conf with initctl's
// shorthands start, stop and status.
//
// An upstart job starts at boot through its "start on" stanza; being disabled means a
// "manual" line in /etc/init/amazon-ssm-agent.override, a file that also carries the
// proxy settings and that ssm-setup edits elsewhere. So DisableStopCmds only stops the
// job (uninstall removes the job file), and State reports a known job as enabled.
type upstart struct {
	r run.Runner
}

func (m *upstart) Name() string { return Upstart }
func (m *upstart) Unit() string { return Name }

func (m *upstart) EnableStartCmds() []run.Cmd {
	return []run.Cmd{{Name: "start", Args: []string{Name}}}
}

func (m *upstart) StopCmds() []run.Cmd { return []run.Cmd{{Name: "stop", Args: []string{Name}}} }

func (m *upstart) DisableStopCmds() []run.Cmd { return m.StopCmds() }

// RestartCmds is stop then start, not "restart": upstart's restart keeps the job
// configuration the instance started with, so env lines added to the override file
// (the proxy) would not apply. Like "stop", it fails when the job is not running;
// start a stopped job with EnableStartCmds instead.
func (m *upstart) RestartCmds() []run.Cmd {
	return append(m.StopCmds(), m.EnableStartCmds()...)
}

// DaemonReloadCmds makes upstart re-read job files; it watches /etc/init with inotify,
// but not on every system (chroots, some kernels), so ask explicitly.
func (m *upstart) DaemonReloadCmds() []run.Cmd {
	return []run.Cmd{{Name: "initctl", Args: []string{"reload-configuration"}}}
}

// State runs "status amazon-ssm-agent". Upstart has no record of when a job started,
// so Since stays zero.
func (m *upstart) State(ctx context.Context) (State, error) {
	c := run.Cmd{Name: "status", Args: []string{Name}}
	out, err := m.r.Run(ctx, c)
	var ee *run.ExitError
	if errors.As(err, &ee) && strings.Contains(string(out.Stderr)+string(out.Stdout), "Unknown job") {
		return State{Active: Inactive}, nil
	}
	if err != nil {
		return State{Active: Unknown}, fail.Wrap(fail.PackageManager, fmt.Errorf("query service %s: %w", Name, err))
	}
	s, err := parseUpstartStatus(string(out.Stdout))
	if err != nil {
		return State{Active: Unknown}, fail.New(fail.PackageManager, "query service %s: %q: %w", Name, c.String(), err)
	}
	return s, nil
}

// parseUpstartStatus reads the first line of "status JOB":
//
//	amazon-ssm-agent start/running, process 1234
//	amazon-ssm-agent stop/waiting
//	amazon-ssm-agent start/post-start, process 1234
//
// The word before the slash is the goal, the one after it the state. Goal start in
// state running is Active, in any other state Activating; goal stop is Inactive (upstart
// gives up on a job that respawns too fast by setting its goal to stop).
func parseUpstartStatus(out string) (State, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	_, rest, ok := strings.Cut(line, " ")
	if !ok {
		return State{Active: Unknown}, fmt.Errorf("unexpected output %q", line)
	}
	goalState, process, _ := strings.Cut(rest, ",")
	goal, st, ok := strings.Cut(strings.TrimSpace(goalState), "/")
	if !ok {
		return State{Active: Unknown}, fmt.Errorf("unexpected output %q", line)
	}
	s := State{Active: Unknown, Enabled: true}
	switch {
	case goal == "start" && st == "running":
		s.Active = Active
	case goal == "start":
		s.Active = Activating
	case goal == "stop":
		s.Active = Inactive
	}
	if p, ok := strings.CutPrefix(strings.TrimSpace(process), "process "); ok {
		pid, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return State{Active: Unknown}, fmt.Errorf("unexpected output %q", line)
		}
		s.MainPID = pid
	}
	return s, nil
}
