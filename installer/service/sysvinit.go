package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
)

// sysvinit manages the agent's init script through service(8). Boot links are made by
// update-rc.d (Debian family) or chkconfig (Red Hat and SUSE families), whichever is on
// PATH, update-rc.d first; with neither, enabling is left to the package's scripts.
type sysvinit struct {
	r       run.Runner
	enabler string // "update-rc.d", "chkconfig" or ""
	root    string // where /etc/rc?.d lives: "/" except in tests
}

func newSysVinit(r run.Runner, root string) *sysvinit {
	m := &sysvinit{r: r, root: root}
	for _, tool := range []string{"update-rc.d", "chkconfig"} {
		if _, err := r.LookPath(tool); err == nil {
			m.enabler = tool
			break
		}
	}
	return m
}

func (m *sysvinit) Name() string { return SysVinit }
func (m *sysvinit) Unit() string { return Name }

func serviceCmd(verb string) run.Cmd { return run.Cmd{Name: "service", Args: []string{Name, verb}} }

// EnableStartCmds: "update-rc.d NAME defaults" creates the boot links when missing and
// "enable" turns existing stop links back into start links; either alone misses a case.
func (m *sysvinit) EnableStartCmds() []run.Cmd {
	var cmds []run.Cmd
	switch m.enabler {
	case "update-rc.d":
		cmds = append(cmds,
			run.Cmd{Name: "update-rc.d", Args: []string{Name, "defaults"}},
			run.Cmd{Name: "update-rc.d", Args: []string{Name, "enable"}})
	case "chkconfig":
		cmds = append(cmds, run.Cmd{Name: "chkconfig", Args: []string{Name, "on"}})
	}
	return append(cmds, serviceCmd("start"))
}

func (m *sysvinit) StopCmds() []run.Cmd { return []run.Cmd{serviceCmd("stop")} }

func (m *sysvinit) DisableStopCmds() []run.Cmd {
	cmds := m.StopCmds()
	switch m.enabler {
	case "update-rc.d":
		cmds = append(cmds, run.Cmd{Name: "update-rc.d", Args: []string{Name, "disable"}})
	case "chkconfig":
		cmds = append(cmds, run.Cmd{Name: "chkconfig", Args: []string{Name, "off"}})
	}
	return cmds
}

func (m *sysvinit) RestartCmds() []run.Cmd { return []run.Cmd{serviceCmd("restart")} }

// DaemonReloadCmds is nil: init scripts are read at each call.
func (m *sysvinit) DaemonReloadCmds() []run.Cmd { return nil }

var pidPattern = regexp.MustCompile(`\b(?:pid|process) (\d+)`)

// State runs "service amazon-ssm-agent status" and reads its LSB exit status: 0
// running, 1 or 2 dead with a stale pid or lock file (Failed), 3 not running, anything
// else unknown. The pid comes from the output when the script prints one. Enabled means
// a start link in /etc/rc2.d to /etc/rc5.d. Since stays zero.
func (m *sysvinit) State(ctx context.Context) (State, error) {
	out, err := m.r.Run(ctx, serviceCmd("status"))
	s := State{Active: Active, Enabled: m.enabled()}
	var ee *run.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		switch ee.ExitCode {
		case 1, 2:
			s.Active = Failed
		case 3:
			s.Active = Inactive
		default:
			s.Active = Unknown
		}
	default:
		return State{Active: Unknown}, fail.Wrap(fail.PackageManager, fmt.Errorf("query service %s: %w", Name, err))
	}
	if s.Active == Active {
		if mm := pidPattern.FindSubmatch(out.Stdout); mm != nil {
			s.MainPID, _ = strconv.Atoi(string(mm[1])) // \d+ always parses
		}
	}
	return s, nil
}

func (m *sysvinit) enabled() bool {
	links, _ := filepath.Glob(filepath.Join(m.root, "etc", "rc[2345].d", "S[0-9][0-9]"+Name))
	return len(links) > 0
}
