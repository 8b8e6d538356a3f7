// Package service starts, stops and watches the amazon-ssm-agent service under the
// init system of the host: systemd (deb, rpm and snap agents), upstart (Amazon Linux 1,
// RHEL 6, Ubuntu 14.04) or System V init. Changes are returned as command lists (data)
// so a dry run can print them; State runs read-only queries.
package service

import (
	"context"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
)

// Name is the agent's service (unit, job, init script) name for deb and rpm installs.
const Name = "amazon-ssm-agent"

// SnapUnit is the systemd unit snapd generates for the agent snap's daemon.
const SnapUnit = "snap.amazon-ssm-agent.amazon-ssm-agent"

// Init system names, as distro detection reports them.
const (
	Systemd  = "systemd"
	Upstart  = "upstart"
	SysVinit = "sysvinit"
)

// Values of State.Active.
const (
	Active     = "active"
	Inactive   = "inactive"
	Failed     = "failed"     // stopped and not restarting (systemd gave up, or a LSB status 1/2)
	Activating = "activating" // starting, or waiting to restart after a crash
	Unknown    = "unknown"
)

// State is the service's state at one moment.
type State struct {
	Active  string    // one of Active, Inactive, Failed, Activating, Unknown
	Enabled bool      // starts at boot
	MainPID int       // 0 when not running or not known
	Since   time.Time // when it last became active; zero when not known
}

// Manager manages the agent service under one init system.
type Manager interface {
	// Name is the init system: systemd, upstart or sysvinit.
	Name() string
	// Unit is the service's name under that init system.
	Unit() string
	// EnableStartCmds makes the service start at boot and starts it now.
	EnableStartCmds() []run.Cmd
	// StopCmds stops the service, leaving it enabled.
	StopCmds() []run.Cmd
	// DisableStopCmds stops the service and keeps it from starting at boot.
	DisableStopCmds() []run.Cmd
	// RestartCmds restarts the service so that it reads its environment (proxy
	// settings) anew.
	RestartCmds() []run.Cmd
	// DaemonReloadCmds makes the init system re-read unit files and drop-ins; nil
	// where there is nothing to reload.
	DaemonReloadCmds() []run.Cmd
	// State queries the service's state.
	State(ctx context.Context) (State, error)
}

// New returns the manager for initSystem (systemd, upstart, sysvinit); snap selects
// the snap's unit, which needs systemd. It looks up update-rc.d and chkconfig for
// sysvinit. Other init systems are fail.Unsupported.
func New(initSystem string, snap bool, r run.Runner) (Manager, error) {
	if snap && initSystem != Systemd {
		return nil, fail.New(fail.Unsupported, "the agent snap needs systemd, not %s", initSystem)
	}
	switch initSystem {
	case Systemd:
		if snap {
			return &systemd{unit: SnapUnit, snap: true, r: r}, nil
		}
		return &systemd{unit: Name, r: r}, nil
	case Upstart:
		return &upstart{r: r}, nil
	case SysVinit:
		return newSysVinit(r, "/"), nil
	}
	return nil, fail.New(fail.Unsupported, "init system %q is not supported (want systemd, upstart or sysvinit)", initSystem)
}
