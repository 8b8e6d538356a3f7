// Package uninstall removes the SSM Agent: it stops and disables the service, removes the
// package with the tool that installed it, removes the files ssm-setup itself wrote, and
// with Purge the agent's configuration, state and logs. It deliberately leaves the
// ssm-user account, its home and its sudoers rule in place, as AWS does, and reports them
// with the commands that would remove them.
//
// Plan computes every step without changing anything (so --dry-run prints it and the CLI
// can ask for confirmation); Apply carries the steps out, goes on past a failed step and
// reports every failure, not only the first.
package uninstall

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/installer"
	"github.com/ssm-setup/ssm-setup/installer/pkgmgr"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// Options are the inputs of Plan.
type Options struct {
	Root     sysroot.Root
	Runner   run.Runner
	Logger   *slog.Logger
	Platform distro.Platform
	Purge    bool
	// DryRun says the plan will only be shown: an unreadable state file (no root) is
	// then a warning, not an error.
	DryRun bool
	Now    func() time.Time
}

// Paths removed by --purge: the agent's configuration, state (registration included) and logs.
var purgePaths = []string{
	"/etc/amazon/ssm/amazon-ssm-agent.json",
	"/etc/amazon/ssm/seelog.xml",
	agentStateDir,
	"/var/log/amazon/ssm",
}

// agentStateDir holds the agent's state, its hybrid registration included.
const agentStateDir = "/var/lib/amazon/ssm"

// Step is one planned step.
type Step struct {
	Action  string `json:"action"`
	Command string `json:"command,omitempty"`
	Path    string `json:"path,omitempty"`
	cmd     *run.Cmd
	// optional steps may fail without failing the uninstall (stopping a stopped service).
	optional bool
}

// Leftover is something uninstall leaves in place on purpose.
type Leftover struct {
	What       string `json:"what"`
	Path       string `json:"path"`
	RemoveWith string `json:"remove_with"`
}

// Plan is everything Apply would do.
type Plan struct {
	Installed      bool       `json:"installed"`
	Version        string     `json:"version"`
	PackageManager string     `json:"package_manager"`
	Steps          []Step     `json:"steps"`
	LeftInPlace    []Leftover `json:"left_in_place"`
	// Registration is the hybrid managed-node id that --purge would lose ("" when none).
	Registration string `json:"registration,omitempty"`

	o     Options
	state *state.State
}

// Result is what Apply did; its JSON form is the output of `ssm-setup uninstall`.
type Result struct {
	Changed        bool       `json:"changed"`
	VersionRemoved string     `json:"version_removed"`
	PackageManager string     `json:"package_manager"`
	Done           []Step     `json:"done"`
	Failed         []Failure  `json:"failed"`
	LeftInPlace    []Leftover `json:"left_in_place"`
	DryRun         bool       `json:"dry_run,omitempty"`
}

// Failure is a step that failed.
type Failure struct {
	Step  Step   `json:"step"`
	Error string `json:"error"`
}

// MakePlan computes the uninstall steps without changing anything.
func MakePlan(ctx context.Context, o Options) (*Plan, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	st, err := state.Load(o.Root)
	if errors.Is(err, fs.ErrPermission) && o.DryRun {
		// A dry run needs no root; it then plans without the record of files
		// ssm-setup wrote (the state file is root's only) and says so.
		o.Logger.Warn("cannot read ssm-setup's state file without root: the plan leaves out the files ssm-setup wrote; run it as root for the full plan")
		st, err = state.New(), nil
	}
	if err != nil {
		return nil, err
	}
	p := &Plan{o: o, state: st}

	managerName, err := chooseManager(o, st)
	if err != nil {
		return nil, err
	}
	var pm pkgmgr.Manager
	if managerName != "" {
		pm, err = pkgmgr.New(managerName, o.Root, o.Runner)
		if err != nil {
			return nil, err
		}
		p.Version, p.Installed, err = pm.Installed(ctx)
		if err != nil {
			return nil, err
		}
		p.PackageManager = pm.Name()
	}

	if p.Installed && o.Root.IsHost() {
		if svc, err := service.New(o.Platform.InitSystem, pm.Format() == "snap", o.Runner); err == nil {
			for _, c := range svc.DisableStopCmds() {
				p.addCmd("stop and disable the service", c, true)
			}
		}
	}
	if p.Installed {
		for _, c := range pm.RemoveCmds(o.Purge) {
			p.addCmd(removePackage, c, false)
		}
	}
	for _, f := range st.Files {
		if _, err := os.Lstat(o.Root.Path(f.Path)); err == nil {
			p.Steps = append(p.Steps, Step{Action: "remove file ssm-setup wrote (" + f.Purpose + ")", Path: f.Path})
		}
	}
	if o.Purge {
		for _, path := range purgePaths {
			if _, err := os.Lstat(o.Root.Path(path)); err == nil {
				p.Steps = append(p.Steps, Step{Action: "purge", Path: path})
			}
		}
		p.Registration = registeredID(o.Root)
	}
	p.LeftInPlace = leftovers(o.Root)
	return p, nil
}

// removePackage is the Action of the steps that remove the agent package.
const removePackage = "remove the package"

func (p *Plan) addCmd(action string, c run.Cmd, optional bool) {
	cc := c
	p.Steps = append(p.Steps, Step{Action: action, Command: c.String(), cmd: &cc, optional: optional})
}

// chooseManager prefers the manager that installed the agent (from the state file), then
// the one the platform's agent detection names, then the platform's package manager.
func chooseManager(o Options, st *state.State) (string, error) {
	if st.Agent != nil && st.Agent.PackageManager != "" {
		if !o.Root.IsHost() {
			// Front ends need a running system; in an image root their low-level tool
			// removes what they installed.
			return lowLevelTool(st.Agent.PackageManager), nil
		}
		return st.Agent.PackageManager, nil
	}
	if o.Platform.Agent.Via == "snap" {
		return "snap", nil
	}
	if o.Platform.PackageFormat == "" {
		return "", nil
	}
	_, manager, err := installer.ChooseManager(o.Platform, "", o.Root, o.Runner)
	return manager, err
}

// lowLevelTool maps a package front end to the tool under it: apt to dpkg; dnf, yum and
// zypper to rpm.
func lowLevelTool(manager string) string {
	switch manager {
	case "apt":
		return "dpkg"
	case "dnf", "yum", "zypper":
		return "rpm"
	}
	return manager
}

// Apply carries out the plan. It goes on past failures and returns them all, joined.
func (p *Plan) Apply(ctx context.Context) (Result, error) {
	o := p.o
	res := Result{VersionRemoved: p.Version, PackageManager: p.PackageManager, LeftInPlace: p.LeftInPlace, Done: []Step{}, Failed: []Failure{}}
	var errs []error
	removedUnitFiles := false
	packageLeft := false // a step that removes the package failed
	stateLeft := false   // the agent's state directory (its registration) could not be purged
	for _, s := range p.Steps {
		var err error
		switch {
		case s.cmd != nil:
			o.Logger.Info("running " + s.Command)
			_, err = o.Runner.Run(ctx, *s.cmd)
			if err != nil && s.optional {
				o.Logger.Warn(s.Action+" failed; going on", "error", err)
				continue
			}
		case s.Path != "":
			o.Logger.Info(s.Action, "path", s.Path)
			err = os.RemoveAll(o.Root.Path(s.Path))
			if err == nil && strings.Contains(s.Path, "/systemd/") {
				removedUnitFiles = true
			}
			if err == nil {
				p.state.RemoveFile(s.Path)
				removeEmptyDropInDir(o.Root, s.Path)
			} else if s.Path == agentStateDir {
				stateLeft = true
			}
		}
		if err != nil {
			if s.cmd != nil && s.Action == removePackage {
				packageLeft = true
			}
			res.Failed = append(res.Failed, Failure{Step: s, Error: err.Error()})
			errs = append(errs, fmt.Errorf("%s: %w", s.Action, err))
			continue
		}
		res.Done = append(res.Done, s)
		res.Changed = true
	}
	if removedUnitFiles && o.Root.IsHost() && o.Platform.InitSystem == "systemd" {
		c := run.Cmd{Name: "systemctl", Args: []string{"daemon-reload"}}
		if _, err := o.Runner.Run(ctx, c); err != nil {
			o.Logger.Warn("systemctl daemon-reload failed", "error", err)
		}
	}
	if res.Changed {
		// While the package is still installed, keep the record of what installed it:
		// the next uninstall needs that manager.
		if !packageLeft {
			p.state.Agent = nil
		}
		// The proxy record goes with the last of its files ssm-setup could remove.
		if p.state.Proxy != nil && !anyRecorded(p.state, p.state.Proxy.Files) {
			p.state.Proxy = nil
		}
		if o.Purge && !stateLeft {
			p.state.Registration = nil
		}
		p.state.Record(o.Now(), "uninstalled", fmt.Sprintf("%s via %s", p.Version, p.PackageManager))
		if err := p.state.Save(o.Root); err != nil {
			errs = append(errs, fmt.Errorf("save state: %w", err))
		}
	}
	if len(errs) > 0 {
		return res, fail.WithHint(fail.Wrap(fail.PackageManager, fmt.Errorf("uninstall failed in %d of %d steps: %w", len(errs), len(p.Steps), errors.Join(errs...))),
			"fix the causes above and run 'ssm-setup uninstall' again; it skips what is already done")
	}
	return res, nil
}

// anyRecorded reports whether st still records one of paths as a file ssm-setup wrote.
func anyRecorded(st *state.State, paths []string) bool {
	for _, p := range paths {
		if _, ok := st.FindFile(p); ok {
			return true
		}
	}
	return false
}

// removeEmptyDropInDir removes the systemd drop-in directory (*.service.d) that held
// path once nothing is left in it, so uninstall leaves no empty directory behind.
func removeEmptyDropInDir(root sysroot.Root, path string) {
	dir := filepath.Dir(path)
	if !strings.HasSuffix(dir, ".service.d") {
		return
	}
	os.Remove(root.Path(dir)) // fails, harmlessly, when the directory is not empty
}

// DryRun returns the plan as a result without changing anything.
func (p *Plan) DryRun() Result {
	return Result{VersionRemoved: p.Version, PackageManager: p.PackageManager, Done: p.Steps, Failed: []Failure{}, LeftInPlace: p.LeftInPlace, DryRun: true}
}

// registeredID returns the hybrid managed-node id stored on the node, or "".
func registeredID(root sysroot.Root) string {
	data, err := os.ReadFile(root.Path("/var/lib/amazon/ssm/registration"))
	if err != nil {
		return ""
	}
	var reg struct {
		ManagedInstanceID string `json:"ManagedInstanceID"`
	}
	if json.Unmarshal(data, &reg) != nil {
		return ""
	}
	return reg.ManagedInstanceID
}

// leftovers lists the ssm-user account, its home and its sudoers rule where they exist.
// AWS's own uninstall leaves them too; removing a user is the admin's decision.
func leftovers(root sysroot.Root) []Leftover {
	out := []Leftover{}
	if home, ok := passwdHome(root, "ssm-user"); ok {
		out = append(out, Leftover{What: "user account ssm-user", Path: "/etc/passwd", RemoveWith: "userdel ssm-user"})
		if home != "" {
			if _, err := os.Stat(root.Path(home)); err == nil {
				out = append(out, Leftover{What: "home directory of ssm-user", Path: home, RemoveWith: "rm -rf " + run.Quote(home)})
			}
		}
	}
	const sudoers = "/etc/sudoers.d/ssm-agent-users"
	if _, err := os.Stat(root.Path(sudoers)); err == nil {
		out = append(out, Leftover{What: "sudoers rule for ssm-user", Path: sudoers, RemoveWith: "rm " + sudoers})
	}
	return out
}

// passwdHome finds user in the root's /etc/passwd and returns its home directory.
func passwdHome(root sysroot.Root, user string) (string, bool) {
	data, err := os.ReadFile(root.Path("/etc/passwd"))
	if err != nil {
		return "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 6 && fields[0] == user {
			return fields[5], true
		}
	}
	return "", false
}
