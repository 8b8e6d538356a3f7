package installer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/installer/pkgmgr"
	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// Actions reported in Result.Action.
const (
	ActionInstalled   = "installed"
	ActionUpgraded    = "upgraded"
	ActionDowngraded  = "downgraded"
	ActionReinstalled = "reinstalled"
	ActionUnchanged   = "unchanged"
)

// Options are the inputs of Install. The CLI fills them from flags; tests fill them directly.
type Options struct {
	Root     sysroot.Root
	Runner   run.Runner
	Logger   *slog.Logger
	Platform distro.Platform
	Now      func() time.Time

	// OpenSource opens the release source on first use: an unchanged re-run of a pinned
	// version, or one whose package is cached, never opens it (no AWS configuration,
	// credentials or network). VersionSpec says which release ("latest", "stable",
	// "a.b.c.d", a constraint). Both are ignored when PackageFile is set.
	OpenSource  func(context.Context) (release.Source, error)
	VersionSpec string
	// PackageFile and SignatureFile install a package already on disk (--package).
	PackageFile   string
	SignatureFile string
	// PackageFormat forces deb, rpm or snap (--package-format); empty means the platform's.
	PackageFormat string

	// MirrorLock says the source is a mirror made by `ssm-setup download`: packages
	// fetched from it must match the digests its ssm-setup-lock.json records.
	MirrorLock bool

	Keyring  *verify.Keyring
	Cache    release.Cache
	Progress func(total int64) io.Writer

	AllowDowngrade bool
	ForceReinstall bool
	NoStart        bool
	DryRun         bool
	Health         service.HealthOptions
}

// Result is what Install did; its JSON form is the output of `ssm-setup install`.
type Result struct {
	Changed           bool   `json:"changed"`
	Action            string `json:"action"`
	VersionBefore     string `json:"version_before"`
	VersionAfter      string `json:"version_after"`
	PackageFormat     string `json:"package_format"`
	PackageManager    string `json:"package_manager"`
	Service           string `json:"service"`
	Source            string `json:"source"`
	SHA256            string `json:"sha256"`
	SignerFingerprint string `json:"signer_fingerprint"`
	DryRun            bool   `json:"dry_run,omitempty"`
	Plan              []Step `json:"plan,omitempty"`
	// Warnings are, for a dry run, the problems a real run would stop at (no init
	// system, a source that cannot be reached now).
	Warnings   []string `json:"warnings,omitempty"`
	RolledBack bool     `json:"rolled_back,omitempty"`
}

// Step is one step of an install plan, printed by --dry-run.
type Step struct {
	Action  string `json:"action"`
	Detail  string `json:"detail,omitempty"`
	Command string `json:"command,omitempty"`
}

// installer holds one run's collaborators.
type installer struct {
	o   Options
	log *slog.Logger
	pm  pkgmgr.Manager
	svc service.Manager // nil in image roots and on hosts without an init system
	// start says whether this run enables, starts and checks the service: false with
	// --no-start, where svc only answers state queries.
	start  bool
	format string
	src    release.Source // opened by source()
	// warnings collects, in a dry run, what a real run would stop at.
	warnings []string
	// written lists the in-root paths of files this run wrote (the rpm key files).
	written []string
	// lock is the mirror's lock file (nil when it has none), read once when lockRead.
	lock     *MirrorLock
	lockRead bool
}

// source opens the release source once.
func (in *installer) source(ctx context.Context) (release.Source, error) {
	if in.src == nil {
		if in.o.OpenSource == nil {
			return nil, fmt.Errorf("no release source configured")
		}
		src, err := in.o.OpenSource(ctx)
		if err != nil {
			return nil, err
		}
		in.src = src
	}
	return in.src, nil
}

// Install brings the agent to the requested version and state. It never leaves the
// machine half-installed: everything that can fail before the package manager runs
// (platform, version, download, verification) is done first.
func Install(ctx context.Context, o Options) (Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	in := &installer{o: o, log: o.Logger}
	if err := in.preflight(); err != nil {
		return Result{}, err
	}
	return in.install(ctx)
}

// Preflight checks the platform before anything is changed or downloaded.
func (in *installer) preflight() error {
	p := in.o.Platform
	if p.Support == distro.Unsupported {
		return fail.WithHint(fail.New(fail.Unsupported, "unsupported platform %s: %s", describePlatform(p), p.Reason), "run 'ssm-setup detect' for details")
	}
	if p.OS != "linux" {
		return fail.New(fail.Unsupported, "install on %s is not supported yet: only Linux is", p.OS)
	}
	format, manager, err := ChooseManager(p, in.o.PackageFormat, in.o.Root, in.o.Runner)
	if err != nil {
		return err
	}
	in.format = format
	pm, err := pkgmgr.New(manager, in.o.Root, in.o.Runner)
	if err != nil {
		return err
	}
	in.pm = pm
	if in.o.Root.IsHost() {
		switch p.InitSystem {
		case "none", "":
			if in.o.NoStart {
				break
			}
			err := fail.WithHint(fail.New(fail.Unsupported, "no init system found to run the agent service"), "pass --no-start to install without starting the agent")
			if !in.o.DryRun {
				return err
			}
			in.warnings = append(in.warnings, err.Error()+": a real run stops here (exit 3); pass --no-start")
		default:
			svc, err := service.New(p.InitSystem, format == "snap", in.o.Runner)
			if err != nil {
				if in.o.NoStart {
					break // nothing to start; the service state is then not known
				}
				return err
			}
			// With --no-start the manager still reports the real state: the packages'
			// own scripts start the agent, and "inactive" would be a guess.
			in.svc, in.start = svc, !in.o.NoStart
		}
	}
	if err := checkFreeSpace(in.o.Root, 200<<20); err != nil {
		return err
	}
	return nil
}

// ChooseManager picks the package format and manager. The rules, in order: an explicit
// --package-format wins; an agent installed as a snap is managed through snap (a deb
// beside a snap breaks both, so a deb/rpm request is refused); otherwise the platform's
// format with the distro's own front end (or the low-level tool in an image root).
func ChooseManager(p distro.Platform, requested string, root sysroot.Root, r run.Runner) (format, manager string, err error) {
	snapAgent := p.Agent.Installed && p.Agent.Via == "snap"
	switch requested {
	case "", "deb", "rpm", "snap":
	default:
		return "", "", fail.WithHint(fail.Usagef("invalid --package-format %q: must be deb, rpm or snap", requested), "omit --package-format to use the platform's")
	}
	switch {
	case requested == "snap" || (requested == "" && snapAgent):
		if !root.IsHost() {
			return "", "", fail.Usagef("snap installs need a running system: --package-format snap cannot be used with --root")
		}
		return "snap", "snap", nil
	case snapAgent:
		return "", "", fail.WithHint(fail.Usagef("the agent is installed as a snap; a %s agent beside it would break both", requested),
			"manage it with --package-format snap, or remove the snap first (snap remove amazon-ssm-agent)")
	}
	format = p.PackageFormat
	if requested != "" {
		format = requested
	}
	if format == "" {
		return "", "", fail.New(fail.Unsupported, "no package format for this platform")
	}
	if requested != "" && p.PackageFormat != "" && requested != p.PackageFormat {
		return "", "", fail.Usagef("invalid --package-format %q: this platform uses %s packages", requested, p.PackageFormat)
	}
	manager, err = pkgmgr.Choose(format, func(tool string) bool { return toolAvailable(r, tool) }, !root.IsHost())
	if err != nil {
		return "", "", err
	}
	return format, manager, nil
}

// toolAvailable reports whether tool is on the PATH of the machine ssm-setup runs on.
// For an image root that is the host's too: pkgmgr.Choose then picks only dpkg or rpm,
// which run from the host with their --root option.
func toolAvailable(r run.Runner, tool string) bool {
	if _, err := r.LookPath(tool); err != nil {
		return false
	}
	return true
}

func describePlatform(p distro.Platform) string {
	name := p.Distro.ID
	if p.Distro.VersionID != "" {
		name += " " + p.Distro.VersionID
	}
	return name + " " + p.Arch
}

func (in *installer) install(ctx context.Context) (Result, error) {
	o := in.o
	res := Result{PackageFormat: in.format, PackageManager: in.pm.Name(), DryRun: o.DryRun}

	before, installed, err := in.pm.Installed(ctx)
	if err != nil {
		return res, err
	}
	if installed {
		res.VersionBefore = before
	}

	// What to install: a given file, or a release resolved from the source.
	var target string
	var pkg Package
	if o.PackageFile != "" {
		pkg, err = VerifyLocal(o.PackageFile, o.SignatureFile, o.Keyring, o.Now())
		if err != nil {
			return res, err
		}
		target, err = in.packageVersion(ctx, o.PackageFile)
		if err != nil {
			return res, err
		}
		pkg.Version = target
		res.Source = o.PackageFile
	} else if in.format != "snap" {
		target, err = in.resolve(ctx, before)
		if err != nil && o.DryRun && fail.KindOf(err) == fail.Download {
			// A dry run still shows the plan when the source cannot be reached now.
			in.warnings = append(in.warnings, fmt.Sprintf("cannot resolve version %q now: %v; a real run stops here (exit 5)", o.VersionSpec, err))
			res.Warnings = in.warnings
			res.Action = "unknown"
			res.VersionAfter = o.VersionSpec
			res.Plan = in.unresolvedPlan(installed)
			return res, nil
		}
		if err != nil {
			return res, err
		}
	} else {
		res.Source = "snap store"
	}
	res.VersionAfter = target

	action, err := decide(before, installed, target, o.AllowDowngrade, o.ForceReinstall)
	if err != nil {
		return res, err
	}
	if action == ActionUnchanged && in.format == "deb" {
		// A dpkg run that failed or was interrupted leaves the package half-installed
		// at the right version: that is not "nothing to do".
		if st, incomplete := pkgmgr.DebIncomplete(o.Root); incomplete {
			in.log.Warn("the agent package is not fully installed; installing it again", "dpkg_state", st)
			action = ActionReinstalled
		}
	}
	res.Action = action
	if o.PackageFile != "" && action != ActionUnchanged && aboveCeiling(mustParse(target), o.Platform.MaxAgentVersion) {
		return res, fail.WithHint(fail.Usagef("package %s holds agent %s, newer than %s, the newest this platform can run", o.PackageFile, target, o.Platform.MaxAgentVersion),
			fmt.Sprintf("pass an agent package of version %s or older", o.Platform.MaxAgentVersion))
	}
	if action == ActionUnchanged {
		res.Source = "" // nothing was fetched
		res.VersionAfter = before
		res.Service = in.serviceState(ctx)
		in.log.Info("the agent is already at the requested version; nothing to do", "version", before)
		return res, nil
	}

	// The ledger is read before anything changes: one that cannot be read stops the
	// run here, instead of being replaced after the install and losing the record of
	// the files ssm-setup wrote earlier.
	var st *state.State
	if !o.DryRun {
		if st, err = state.Load(o.Root); err != nil {
			return res, err
		}
	}

	if o.PackageFile == "" && in.format != "snap" {
		if o.DryRun {
			res.Plan = append(res.Plan, in.fetchPlan(ctx, target)...)
			// The plan's commands name the file a real run installs: its place in the cache.
			pkg.Path = in.cachePath(target)
			res.Source = in.sourceName(in.src == nil)
		} else {
			pkg, err = in.fetch(ctx, target, o.Progress)
			if err != nil {
				return res, err
			}
			res.Source = in.sourceName(pkg.FromCache)
		}
	} else if o.PackageFile != "" {
		res.Plan = append(res.Plan, Step{Action: "verify", Detail: fmt.Sprintf("%s: signed by %s, sha256 %s", pkg.Path, pkg.SignerFingerprint, pkg.SHA256)})
	}
	res.SHA256 = pkg.SHA256
	res.SignerFingerprint = pkg.SignerFingerprint

	cmds := in.installCmds(pkg.Path, action)
	for _, c := range cmds {
		res.Plan = append(res.Plan, Step{Action: "run", Command: c.String()})
	}
	res.Plan = append(res.Plan, in.servicePlan(installed)...)
	res.Plan = append(res.Plan, Step{Action: "record", Detail: o.Root.Path(state.Path)})
	if o.DryRun {
		res.Changed = false
		res.Service = in.serviceState(ctx)
		res.Warnings = in.warnings
		return res, nil
	}
	res.Plan = nil

	if err := in.runAll(ctx, cmds); err != nil {
		return res, err
	}
	res.Changed = true
	if in.format == "snap" {
		// The store decides a snap's version: ask which one is there now. A refresh
		// that found nothing newer changed nothing.
		after, ok, err := in.pm.Installed(ctx)
		if err != nil {
			return res, err
		}
		if !ok {
			return res, fail.New(fail.PackageManager, "snap reports no amazon-ssm-agent after %q", cmds[len(cmds)-1].String())
		}
		res.VersionAfter = after
		if installed && after == before {
			res.Action, res.Changed = ActionUnchanged, false
			res.Service = in.serviceState(ctx)
			in.log.Info("the agent snap is already at the channel's version; nothing changed", "version", after)
			return res, nil
		}
	}
	in.record(st, res, pkg)
	st.Record(o.Now(), res.Action, fmt.Sprintf("%s -> %s via %s", orNone(res.VersionBefore), res.VersionAfter, res.PackageManager))
	for _, path := range in.written {
		st.AddFile(path, "AWS signing key for rpm --import", fileSHA256(o.Root.Path(path)))
	}

	if in.svc != nil && !in.start && !installed {
		// --no-start: the package's own scripts enable and start the agent on a first
		// install; leave it installed but stopped and disabled, as asked.
		if err := in.runAll(ctx, in.svc.DisableStopCmds()); err != nil {
			res.Service = in.serviceState(ctx)
			if serr := st.Save(o.Root); serr != nil {
				in.log.Warn("cannot save the state file", "error", serr)
			}
			return res, fmt.Errorf("the agent is installed, but --no-start could not stop the service its package started: %w", err)
		}
	}
	if in.start {
		healthErr := in.startAndCheck(ctx)
		if healthErr != nil {
			target := res.VersionAfter // for a snap, the version the store gave
			// A service manager that cannot start the unit is exit 6; an agent that
			// does not stay up is exit 10.
			kind := fail.Unhealthy
			if fail.KindOf(healthErr) == fail.PackageManager {
				kind = fail.PackageManager
			}
			if action == ActionUpgraded && before != "" {
				rbPkg, reinstalled, rbErr := in.rollback(ctx, before)
				if reinstalled {
					// The previous version is back, healthy or not: the record says so.
					res.RolledBack = true
					res.VersionAfter = before
					res.SHA256, res.SignerFingerprint = rbPkg.SHA256, rbPkg.SignerFingerprint
					in.record(st, res, rbPkg)
					st.Record(o.Now(), "rollback", fmt.Sprintf("%s was unhealthy; rolled back to %s", target, before))
				}
				switch {
				case rbErr == nil:
					healthErr = fail.WithHint(fail.New(fail.Unhealthy, "agent %s was not healthy after the upgrade; rolled back to %s: %w", target, before, healthErr), "see the agent log in /var/log/amazon/ssm/")
				case reinstalled:
					healthErr = errors.Join(fail.New(fail.Unhealthy, "agent %s was not healthy after the upgrade: %w", target, healthErr),
						fmt.Errorf("rolled back to %s, but it is not healthy either: %w", before, rbErr))
				default:
					healthErr = errors.Join(healthErr, fmt.Errorf("roll back to %s failed: %w", before, rbErr))
				}
			} else {
				logs := service.LastLogLines(o.Root, 20)
				msg := fmt.Errorf("agent %s is installed but not healthy: %w", target, healthErr)
				if logs != "" {
					msg = fmt.Errorf("%w\nlast agent log lines:\n%s", msg, logs)
				}
				healthErr = fail.WithHint(fail.Wrap(fail.Unhealthy, msg), "fix the cause and run 'ssm-setup install' again, or 'ssm-setup uninstall'")
			}
			res.Service = in.serviceState(ctx)
			if err := st.Save(o.Root); err != nil {
				in.log.Warn("cannot save the state file", "error", err)
			}
			return res, fail.Wrap(kind, healthErr)
		}
	}
	res.Service = in.serviceState(ctx)
	if err := st.Save(o.Root); err != nil {
		return res, fmt.Errorf("save state: %w", err)
	}
	return res, nil
}

// decide compares the installed and target versions.
func decide(before string, installed bool, target string, allowDowngrade, force bool) (string, error) {
	if !installed {
		return ActionInstalled, nil
	}
	if target == "" { // snap refresh: the store decides the version
		return ActionUpgraded, nil
	}
	cmp, err := compareVersions(before, target)
	if err != nil {
		return "", err
	}
	switch {
	case cmp == 0 && force:
		return ActionReinstalled, nil
	case cmp == 0:
		return ActionUnchanged, nil
	case cmp < 0:
		return ActionUpgraded, nil
	case allowDowngrade:
		return ActionDowngraded, nil
	}
	return "", fail.WithHint(fail.Usagef("agent %s is installed and %s is older: refusing to downgrade", before, target), "pass --allow-downgrade to install the older version")
}

func compareVersions(a, b string) (int, error) {
	va, err := release.ParseVersion(a)
	if err != nil {
		return 0, fmt.Errorf("installed agent version: %w", err)
	}
	vb, err := release.ParseVersion(b)
	if err != nil {
		return 0, fmt.Errorf("target agent version: %w", err)
	}
	return va.Compare(vb), nil
}

func (in *installer) installCmds(file, action string) []run.Cmd {
	opts := pkgmgr.InstallOptions{Upgrade: action == ActionUpgraded, Downgrade: action == ActionDowngraded, Reinstall: action == ActionReinstalled}
	var cmds []run.Cmd
	if in.format == "rpm" {
		cmds = append(cmds, in.importKeyCmds()...)
	}
	return append(cmds, in.pm.InstallCmds(file, opts)...)
}

// packageVersion reads the version of a package file with the format's own tool.
func (in *installer) packageVersion(ctx context.Context, file string) (string, error) {
	var c run.Cmd
	switch in.format {
	case "deb":
		c = run.Cmd{Name: "dpkg-deb", Args: []string{"-f", file, "Version"}}
	case "rpm":
		c = run.Cmd{Name: "rpm", Args: []string{"-qp", "--qf", "%{VERSION}", file}}
	default:
		return "", fail.Usagef("--package cannot be used with %s packages", in.format)
	}
	out, err := in.o.Runner.Run(ctx, c)
	if err != nil {
		return "", fail.WithHint(fail.Wrap(fail.Usage, fmt.Errorf("read the version of %s: %w", file, err)), "pass an amazon-ssm-agent ."+in.format+" package")
	}
	v := strings.TrimSpace(string(out.Stdout))
	if i := strings.IndexByte(v, '-'); i > 0 { // a Debian revision
		v = v[:i]
	}
	if _, err := release.ParseVersion(v); err != nil {
		return "", fail.Usagef("package %s has version %q, not an agent version: %w", file, v, err)
	}
	return v, nil
}

func (in *installer) runAll(ctx context.Context, cmds []run.Cmd) error {
	for _, c := range cmds {
		in.log.Info("running " + c.String())
		if _, err := in.o.Runner.Run(ctx, c); err != nil {
			return pkgmgr.Describe(err)
		}
	}
	return nil
}

func (in *installer) startAndCheck(ctx context.Context) error {
	for _, c := range in.svc.EnableStartCmds() {
		in.log.Info("running " + c.String())
		if _, err := in.o.Runner.Run(ctx, c); err != nil {
			return fail.Wrap(fail.PackageManager, err)
		}
	}
	in.log.Info("checking that the agent stays up")
	return service.WaitHealthy(ctx, in.svc, in.o.Health)
}

// rollback reinstalls the previous version from the cache (or the source) and starts it.
// It returns the package it reinstalled, for the record, and whether the previous
// version is installed again (also when it then fails its own health check).
//
// A snap is reverted with "snap revert": snapd keeps the previous revision, and the
// store, not S3, is where snaps come from.
func (in *installer) rollback(ctx context.Context, version string) (Package, bool, error) {
	in.log.Warn("rolling back", "version", version)
	if in.format == pkgmgr.FormatSnap {
		if err := in.runAll(ctx, []run.Cmd{{Name: "snap", Args: []string{"revert", pkgmgr.Package}}}); err != nil {
			return Package{}, false, err
		}
		return Package{Version: version}, true, in.startAndCheck(ctx)
	}
	pkg, err := in.fetch(ctx, version, nil)
	if err != nil {
		return Package{}, false, err
	}
	if err := in.runAll(ctx, in.pm.InstallCmds(pkg.Path, pkgmgr.InstallOptions{Downgrade: true})); err != nil {
		return Package{}, false, err
	}
	return pkg, true, in.startAndCheck(ctx)
}

// servicePlan is the service part of a plan: the start and the health check, or with
// --no-start on a first install, the stop of what the package's scripts started.
func (in *installer) servicePlan(installed bool) []Step {
	var steps []Step
	switch {
	case in.svc == nil:
	case in.start:
		for _, c := range in.svc.EnableStartCmds() {
			steps = append(steps, Step{Action: "run", Command: c.String()})
		}
		steps = append(steps, Step{Action: "check health", Detail: "the service is active and the agent stays up"})
	case !installed:
		for _, c := range in.svc.DisableStopCmds() {
			steps = append(steps, Step{Action: "run", Detail: "--no-start: stop the service the package's scripts started", Command: c.String()})
		}
	}
	return steps
}

func (in *installer) serviceState(ctx context.Context) string {
	if in.svc == nil {
		return "inactive"
	}
	return ServiceSummary(ctx, in.svc)
}

// ServiceSummary reduces a service state to active, inactive or disabled.
func ServiceSummary(ctx context.Context, svc service.Manager) string {
	s, err := svc.State(ctx)
	if err != nil {
		return "unknown"
	}
	switch {
	case s.Active == "active":
		return "active"
	case !s.Enabled:
		return "disabled"
	}
	return "inactive"
}

func (in *installer) record(st *state.State, res Result, pkg Package) {
	now := in.o.Now()
	rec := st.Agent
	if rec == nil {
		rec = &state.AgentRecord{InstalledAt: now}
	}
	rec.Version = res.VersionAfter
	rec.PackageFormat = res.PackageFormat
	rec.PackageManager = res.PackageManager
	rec.Source = res.Source
	if pkg.SHA256 != "" {
		rec.SHA256 = pkg.SHA256
		rec.SignerFingerprint = pkg.SignerFingerprint
	}
	rec.UpdatedAt = now
	st.Agent = rec
}

// sourceName names where the package came from, for the result and the record.
func (in *installer) sourceName(fromCache bool) string {
	if fromCache || in.src == nil {
		return "cache"
	}
	return in.src.String()
}

// fileSHA256 is the hex SHA-256 of a file ssm-setup wrote, for the state record; empty
// when it cannot be read.
func fileSHA256(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// resolve turns the version spec into a version. An exact version that is installed
// already, or whose verified package is in the cache, needs no source at all; anything
// else is resolved against the source.
func (in *installer) resolve(ctx context.Context, installed string) (string, error) {
	o := in.o
	if v, err := release.ParseVersion(o.VersionSpec); err == nil && !aboveCeiling(v, o.Platform.MaxAgentVersion) {
		exact := v.String()
		if exact == installed && !o.ForceReinstall {
			return exact, nil
		}
		if in.cached(exact) {
			return exact, nil
		}
	}
	src, err := in.source(ctx)
	if err != nil {
		return "", err
	}
	resolved, err := release.Resolve(ctx, src, o.VersionSpec, o.Platform.PlatformFolder, o.Platform.MaxAgentVersion)
	if err != nil {
		return "", err
	}
	return resolved.Version.String(), nil
}

// mustParse parses a version that was checked already.
func mustParse(s string) release.Version {
	v, _ := release.ParseVersion(s)
	return v
}

func aboveCeiling(v release.Version, ceiling string) bool {
	if ceiling == "" {
		return false
	}
	c, err := release.ParseVersion(ceiling)
	return err == nil && v.Compare(c) > 0
}

// cached reports whether the package of version is in the cache with its signature.
func (in *installer) cached(version string) bool {
	file, err := release.FileName(in.o.Platform.PlatformFolder)
	if err != nil {
		return false
	}
	p := in.o.Cache.Path(version, in.o.Platform.PlatformFolder, file)
	return fileExists(p) && fileExists(p+".sig")
}

// cachePath is where the cache keeps the package of version for the platform.
func (in *installer) cachePath(version string) string {
	file, _ := release.FileName(in.o.Platform.PlatformFolder)
	return in.o.Cache.Path(version, in.o.Platform.PlatformFolder, file)
}

// fetch returns the verified package of version: from the cache (verified again, no
// network), else downloaded from the source.
func (in *installer) fetch(ctx context.Context, version string, progress func(int64) io.Writer) (Package, error) {
	fo := FetchOptions{Version: version, Folder: in.o.Platform.PlatformFolder, Keyring: in.o.Keyring, Store: in.o.Cache, Progress: progress, Now: in.o.Now, Logger: in.log}
	if in.cached(version) {
		fo.Source = cacheOnly{}
		if pkg, err := Fetch(ctx, fo); err == nil {
			return pkg, nil
		}
	}
	src, err := in.source(ctx)
	if err != nil {
		return Package{}, err
	}
	fo.Source = src
	if in.o.MirrorLock {
		if !in.lockRead {
			if in.lock, err = ReadMirrorLock(ctx, src); err != nil {
				return Package{}, err
			}
			in.lockRead = true
		}
		fo.ExpectSHA256 = in.lock.SHA256(version, fo.Folder, in.fileName())
	}
	return Fetch(ctx, fo)
}

// fileName is the package file name of the platform's folder.
func (in *installer) fileName() string {
	file, _ := release.FileName(in.o.Platform.PlatformFolder)
	return file
}

// fetchPlan describes the fetch of version for --dry-run.
func (in *installer) fetchPlan(ctx context.Context, version string) []Step {
	file, _ := release.FileName(in.o.Platform.PlatformFolder)
	if in.cached(version) {
		return []Step{{Action: "verify", Detail: "cached package " + in.o.Cache.Path(version, in.o.Platform.PlatformFolder, file) + ": OpenPGP signature and SHA-256"}}
	}
	key, _ := release.PackageKey(version, in.o.Platform.PlatformFolder)
	src, err := in.source(ctx)
	if err != nil {
		return []Step{{Action: "download", Detail: key}}
	}
	return []Step{
		{Action: "download", Detail: src.URL(key)},
		{Action: "verify", Detail: "OpenPGP signature " + src.URL(key+".sig") + " and SHA-256"},
	}
}

// unresolvedPlan is the dry-run plan when the version could not be resolved: the steps
// a real run would take, with the version still open.
func (in *installer) unresolvedPlan(installed bool) []Step {
	spec := in.o.VersionSpec
	if spec == "" {
		spec = "latest"
	}
	steps := []Step{
		{Action: "resolve", Detail: "version " + spec + " from the release source"},
		{Action: "download", Detail: "the " + in.o.Platform.PlatformFolder + " package of that version and its .sig"},
		{Action: "verify", Detail: "OpenPGP signature and SHA-256"},
	}
	file, _ := release.FileName(in.o.Platform.PlatformFolder)
	for _, c := range in.installCmds(in.o.Cache.Path("VERSION", in.o.Platform.PlatformFolder, file), ActionInstalled) {
		steps = append(steps, Step{Action: "run", Command: c.String()})
	}
	steps = append(steps, in.servicePlan(installed)...)
	return append(steps, Step{Action: "record", Detail: in.o.Root.Path(state.Path)})
}
