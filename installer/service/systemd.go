package service

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
)

// systemd manages the agent's unit with systemctl. For the snap, snapd owns the unit:
// "snap start --enable" and "snap stop --disable" record the choice in snapd too, so a
// snap refresh does not undo it; the other operations are plain systemctl.
type systemd struct {
	unit string
	snap bool
	r    run.Runner
}

func (m *systemd) Name() string { return Systemd }
func (m *systemd) Unit() string { return m.unit }

func systemctl(args ...string) run.Cmd { return run.Cmd{Name: "systemctl", Args: args} }

func (m *systemd) EnableStartCmds() []run.Cmd {
	if m.snap {
		return []run.Cmd{{Name: "snap", Args: []string{"start", "--enable", Name}}}
	}
	// --no-block: a unit whose process crashed waits RestartSec (90 s for the agent) in
	// "auto-restart" before it starts again, and a blocking start would wait that out.
	// WaitHealthy does the waiting, with its own bounds, and sees the crash at once.
	return []run.Cmd{systemctl("enable", "--now", "--no-block", m.unit)}
}

func (m *systemd) StopCmds() []run.Cmd { return []run.Cmd{systemctl("stop", m.unit)} }

func (m *systemd) DisableStopCmds() []run.Cmd {
	if m.snap {
		return []run.Cmd{{Name: "snap", Args: []string{"stop", "--disable", Name}}}
	}
	return []run.Cmd{systemctl("disable", "--now", m.unit)}
}

func (m *systemd) RestartCmds() []run.Cmd { return []run.Cmd{systemctl("restart", m.unit)} }

func (m *systemd) DaemonReloadCmds() []run.Cmd { return []run.Cmd{systemctl("daemon-reload")} }

// State asks systemctl for all five properties in one call. LC_ALL=C keeps the
// timestamp's weekday in English on systemd versions that format it with strftime.
func (m *systemd) State(ctx context.Context) (State, error) {
	c := systemctl("show", m.unit, "-p", "ActiveState", "-p", "SubState", "-p", "UnitFileState", "-p", "MainPID", "-p", "ActiveEnterTimestamp")
	c.Env = []string{"LC_ALL=C"}
	out, err := m.r.Run(ctx, c)
	if err != nil {
		return State{Active: Unknown}, fail.Wrap(fail.PackageManager, fmt.Errorf("query service %s: %w", m.unit, err))
	}
	s, err := parseSystemctlShow(string(out.Stdout))
	if err != nil {
		return State{Active: Unknown}, fail.New(fail.PackageManager, "query service %s: %q: %w", m.unit, c.String(), err)
	}
	return s, nil
}

// parseSystemctlShow reads "systemctl show" KEY=VALUE lines. An unknown unit is not an
// error for systemctl (ActiveState=inactive, UnitFileState empty), nor here.
//
// ActiveState maps to State.Active: "reloading" is still active, "deactivating" is on
// its way to inactive, anything else (maintenance, refreshing) is Unknown. The unit
// counts as enabled when UnitFileState is enabled, enabled-runtime or alias.
// "activating" with SubState "auto-restart" means the main process died and systemd
// waits RestartSec (90 s for the agent) before the next try: that is Failed, so a
// health check does not wait out the restart delay of a crashing agent.
func parseSystemctlShow(out string) (State, error) {
	s := State{Active: Unknown}
	autoRestart := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return State{Active: Unknown}, fmt.Errorf("malformed line %q", line)
		}
		switch k {
		case "ActiveState":
			switch v {
			case "active", "reloading":
				s.Active = Active
			case "inactive", "deactivating":
				s.Active = Inactive
			case "failed":
				s.Active = Failed
			case "activating":
				s.Active = Activating
			}
		case "SubState":
			autoRestart = v == "auto-restart"
		case "UnitFileState":
			s.Enabled = v == "enabled" || v == "enabled-runtime" || v == "alias"
		case "MainPID":
			pid, err := strconv.Atoi(v)
			if err != nil || pid < 0 {
				return State{Active: Unknown}, fmt.Errorf("malformed MainPID %q", v)
			}
			s.MainPID = pid
		case "ActiveEnterTimestamp":
			t, err := parseSystemdTime(v)
			if err != nil {
				return State{Active: Unknown}, err
			}
			s.Since = t
		}
	}
	if autoRestart && s.Active == Activating {
		s.Active = Failed
	}
	return s, sc.Err()
}

// parseSystemdTime reads a systemd timestamp: "Fri 2026-11-27 15:00:00 UTC" (optionally
// with microseconds), "@1795791600" (--timestamp=unix), or empty / "n/a" for never. The
// weekday is skipped, so a localized one does no harm. The zone is an abbreviation; Go
// knows its offset only for UTC and the local zone, and reads any other as UTC (the
// time may then be off by the zone's offset, which only matters for display).
func parseSystemdTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "n/a" {
		return time.Time{}, nil
	}
	if secs, ok := strings.CutPrefix(v, "@"); ok {
		n, err := strconv.ParseInt(secs, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("malformed timestamp %q", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	f := strings.Fields(v)
	if len(f) == 4 {
		f = f[1:] // weekday
	}
	if len(f) != 3 {
		return time.Time{}, fmt.Errorf("malformed timestamp %q", v)
	}
	t, err := time.Parse("2006-01-02 15:04:05 MST", strings.Join(f, " "))
	if err != nil {
		return time.Time{}, fmt.Errorf("malformed timestamp %q", v)
	}
	return t, nil
}
