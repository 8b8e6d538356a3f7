package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/installer"
	"github.com/ssm-setup/ssm-setup/installer/lock"
	"github.com/ssm-setup/ssm-setup/installer/proxy"
	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// requireRoot fails with exit 9 unless ssm-setup runs as root.
func (f *Factory) requireRoot(what string) error {
	if f.IsRoot() {
		return nil
	}
	return fail.WithHint(fail.New(fail.NeedRoot, "%s must run as root", what), "re-run with sudo, or pass --dry-run to see the plan")
}

// lock takes the machine-wide ssm-setup lock for the root, waiting up to wait.
func (f *Factory) lock(ctx context.Context, wait time.Duration) (*lock.Lock, error) {
	return lock.Acquire(ctx, f.Root(), wait)
}

// confirm asks a yes/no question on the terminal. Without a terminal on stdin it never
// asks and answers yes: scripts pass their intent with flags.
func (f *Factory) confirm(question string) bool {
	if !f.IO.InTTY {
		return true
	}
	fmt.Fprintf(f.IO.ErrOut, "%s [y/N] ", question)
	line, _ := bufio.NewReader(f.IO.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// InstallOptions are the inputs of `ssm-setup install`.
type InstallOptions struct {
	Release        ReleaseFlags
	Version        string
	Package        string
	Signature      string
	PackageFormat  string
	AllowDowngrade bool
	ForceReinstall bool
	NoStart        bool
	DryRun         bool
	Yes            bool
	LockWait       time.Duration
	// Proxy and NoProxy configure the agent's proxy after the install (install --proxy).
	Proxy         string
	NoProxy       string
	ProxyPassword ProxyPasswordFlags
	// Register registers the node after the install (install --activation-id ...).
	Register RegisterFlags
}

// installOutput is install's JSON result: the install, and the proxy and registration
// steps when they were asked for.
type installOutput struct {
	installer.Result
	Proxy        *proxy.Result   `json:"proxy,omitempty"`
	Registration *registerOutput `json:"registration,omitempty"`
}

func newInstallCmd(f *Factory) *cobra.Command {
	opts := &InstallOptions{}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install, upgrade or downgrade the agent, start it and check it",
		Long: `Install the SSM Agent, or bring an installed agent to the requested version.

The release is resolved (--version), downloaded from the source and verified (OpenPGP
signature and SHA-256) before anything is installed; a package already in the cache is
used without network access. It is installed with the distro's own tool (dnf, yum,
zypper, apt/dpkg, rpm, or snap), the service is enabled and started, and the agent must
stay up for a few seconds: an unhealthy upgrade is rolled back to the previous version
(exit 10). A second run with the same version changes nothing. An older version is
refused unless --allow-downgrade.

With --root DIR other than / the package is installed into that image root with the
package manager's root option, and no service is started (the image-build case).
What ssm-setup did is recorded in /var/lib/ssm-setup/state.json.

--proxy configures the agent's proxy after the install (see 'ssm-setup proxy set') and is
used for the download too. --activation-id registers the node after the install (see
'ssm-setup register'); the activation code is read before anything is installed. With
both --proxy-password-stdin and --activation-code-stdin, the first line of standard
input is the proxy password and the next one the activation code.`,
		Example: `  sudo ssm-setup install --region us-east-1 --dry-run
  sudo ssm-setup install --region us-east-1
  sudo ssm-setup install --region eu-west-1 --version 3.3.1142.0
  sudo ssm-setup install --source ./mirror --version stable --output json
  sudo ssm-setup install --package ./amazon-ssm-agent.deb --signature ./amazon-ssm-agent.deb.sig
  sudo ssm-setup install --root /mnt/image --region us-east-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Signature != "" && opts.Package == "" {
				return fail.Usagef("--signature needs --package")
			}
			if opts.Release.Region != "" {
				if err := release.ValidateRegion(opts.Release.Region); err != nil {
					return err
				}
			}
			if err := opts.ProxyPassword.apply(f.Getenv, f.IO.In, proxyFlag{"--proxy", &opts.Proxy}); err != nil {
				return err
			}
			if err := checkInstallProxyFlags(opts.Proxy, opts.NoProxy); err != nil {
				return err
			}
			if opts.Register.Given() {
				// The code is read now, before anything is installed.
				if err := opts.Register.prepare(f); err != nil {
					return err
				}
			}
			if opts.Package != "" && cmd.Flags().Changed("version") {
				return fail.Usagef("--version and --package cannot be used together: the package file has its own version")
			}
			return runInstall(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	opts.Release.addSource(fl)
	opts.Release.addTrust(fl)
	opts.Release.addCache(fl)
	fl.StringVar(&opts.Version, "version", "latest", "latest, stable, an exact version (3.3.1142.0) or a constraint (3.3.*, '>=3.2 <3.3')")
	fl.StringVar(&opts.Package, "package", "", "install this package file instead of downloading (verified like a download)")
	fl.StringVar(&opts.Signature, "signature", "", "detached signature of --package (default: the package path + .sig)")
	fl.StringVar(&opts.PackageFormat, "package-format", "", "deb, rpm or snap (default: the platform's; Ubuntu gets the verified deb unless snap)")
	fl.BoolVar(&opts.AllowDowngrade, "allow-downgrade", false, "allow installing an older version than the installed one")
	fl.BoolVar(&opts.ForceReinstall, "force-reinstall", false, "reinstall even when the version is already installed")
	fl.BoolVar(&opts.NoStart, "no-start", false, "install without enabling and starting the service")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan (steps, URLs, commands) and change nothing")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	fl.DurationVar(&opts.LockWait, "lock-wait", 0, "how long to wait for another ssm-setup run to finish (default: do not wait)")
	fl.StringVar(&opts.Proxy, "proxy", "", "after installing, route the agent through this proxy (sets http_proxy and https_proxy; see 'ssm-setup proxy set')")
	fl.StringVar(&opts.NoProxy, "no-proxy", "", "with --proxy: comma-separated hosts that bypass the proxy (the instance metadata addresses are always added)")
	opts.ProxyPassword.addFlags(fl)
	opts.Register.addFlags(fl)
	return cmd
}

func runInstall(ctx context.Context, f *Factory, opts *InstallOptions) error {
	p, err := f.Platform(ctx, "")
	if err != nil {
		return err
	}
	if !opts.DryRun {
		if err := f.requireRoot("install"); err != nil {
			return err
		}
		l, err := f.lock(ctx, opts.LockWait)
		if err != nil {
			return err
		}
		defer l.Release()
	}
	kr, err := f.keyring(&opts.Release)
	if err != nil {
		return err
	}
	// ssm-setup's own downloads take the agent's proxy too (they face the same network).
	opts.Release.Proxy, opts.Release.NoProxy = opts.Proxy, opts.NoProxy
	cache := f.cache(&opts.Release)
	if opts.DryRun && opts.Release.CacheDir == "" && !f.IsRoot() {
		// A dry run shows what the real run, as root, would do: that run uses root's
		// cache, so the plan looks there (a dry run only reads it) and names its paths.
		cache = release.Cache{Dir: release.DefaultCacheDir(true, f.Getenv)}
	}
	io := installer.Options{
		Root: f.Root(), Runner: f.Runner, Logger: f.Logger(), Platform: p, Now: f.Now,
		VersionSpec: opts.Version, PackageFile: opts.Package, SignatureFile: opts.Signature,
		PackageFormat: opts.PackageFormat, Keyring: kr, Cache: cache,
		Progress:       f.progress("amazon-ssm-agent"),
		AllowDowngrade: opts.AllowDowngrade, ForceReinstall: opts.ForceReinstall,
		NoStart: opts.NoStart || !f.Root().IsHost(), DryRun: opts.DryRun,
	}
	io.MirrorLock = isMirror(opts.Release.Source)
	io.OpenSource = func(ctx context.Context) (release.Source, error) {
		src, _, err := f.source(ctx, &opts.Release)
		return src, err
	}
	if (opts.AllowDowngrade || opts.ForceReinstall) && !opts.Yes && !opts.DryRun && !f.confirm("Replace the installed agent?") {
		return fail.Usagef("install cancelled")
	}
	res, err := installer.Install(ctx, io)
	if err != nil {
		if res.Changed {
			return withResult(err, res) // e.g. installed but unhealthy, rolled back
		}
		return err
	}
	out := installOutput{Result: res}
	if opts.Proxy != "" {
		pr, err := applyProxyAfterInstall(ctx, f, opts.Proxy, opts.NoProxy, opts.DryRun)
		if err != nil {
			return fmt.Errorf("the agent is installed, but its proxy is not configured: %w", err)
		}
		out.Proxy = &pr
	}
	if opts.Register.Given() {
		ro := opts.Register
		ro.DryRun = opts.DryRun
		if ro.Region, err = f.resolveRegion(ctx, opts.Release.Region); err != nil {
			return err
		}
		reg, err := registerAfterInstall(ctx, f, ro)
		if err != nil {
			return fmt.Errorf("the agent is installed, but not registered: %w", err)
		}
		out.Registration = &reg
	}
	return f.Print(out, func(t *textPrinter) {
		printInstall(t, res)
		if out.Proxy != nil {
			t.Field("proxy", proxySummary(*out.Proxy))
		}
		if out.Registration != nil {
			t.Field("registered", out.Registration.ManagedInstanceID+" in "+out.Registration.Region)
		}
	})
}

func proxySummary(r proxy.Result) string {
	s := "https " + orNone(r.HTTPSProxy) + ", http " + orNone(r.HTTPProxy)
	if !r.Changed {
		s += " (unchanged)"
	}
	return s
}

func printInstall(t *textPrinter, r installer.Result) {
	if r.DryRun {
		t.Linef("plan (dry run, nothing changed): %s %s -> %s with %s", r.Action, orNone(r.VersionBefore), r.VersionAfter, r.PackageManager)
		for _, w := range r.Warnings {
			t.Linef("  warning: %s", w)
		}
		for i, s := range r.Plan {
			line := s.Action
			if s.Detail != "" {
				line += ": " + s.Detail
			}
			if s.Command != "" {
				line += ": " + s.Command
			}
			t.Linef("  %d. %s", i+1, line)
		}
		return
	}
	switch r.Action {
	case installer.ActionUnchanged:
		t.Linef("agent %s is already installed; nothing changed (service %s)", r.VersionAfter, r.Service)
	default:
		t.Linef("agent %s: %s -> %s with %s (service %s)", r.Action, orNone(r.VersionBefore), r.VersionAfter, r.PackageManager, r.Service)
		if r.SignerFingerprint != "" {
			t.Field("sha256", r.SHA256)
			t.Field("signed by", r.SignerFingerprint)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
