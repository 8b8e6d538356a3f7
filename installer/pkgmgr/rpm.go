package pkgmgr

import (
	"context"
	"errors"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// rpmFamily is rpm and its front ends dnf, yum and zypper. They share rpm's database,
// so queries and key imports always use rpm itself.
type rpmFamily struct {
	name string // RPM, DNF, Yum or Zypper
	root sysroot.Root
	r    run.Runner
}

func (m *rpmFamily) Name() string   { return m.name }
func (m *rpmFamily) Format() string { return FormatRPM }

// rpm is the rpm command, with --root for an image root (New allows only bare rpm
// there): rpm then uses DIR's database and runs scriptlets chrooted into DIR.
func (m *rpmFamily) rpm(args ...string) run.Cmd {
	if !m.root.IsHost() {
		args = append([]string{"--root", m.root.Dir()}, args...)
	}
	return run.Cmd{Name: "rpm", Args: args}
}

// InstallCmds uses each tool's own verb or flag: dnf and yum refuse to go back a
// version with "install" and need "downgrade", and do nothing for the installed
// version without "reinstall"; zypper needs --oldpackage and --force; rpm -U needs
// --oldpackage and --replacepkgs.
func (m *rpmFamily) InstallCmds(pkgFile string, o InstallOptions) []run.Cmd {
	switch m.name {
	case DNF, Yum:
		verb := "install"
		switch {
		case o.Downgrade:
			verb = "downgrade"
		case o.Reinstall:
			verb = "reinstall"
		}
		return []run.Cmd{{Name: m.name, Args: []string{verb, "-y", pkgFile}}}
	case Zypper:
		args := []string{"--non-interactive", "install"}
		switch {
		case o.Downgrade:
			args = append(args, "--oldpackage")
		case o.Reinstall:
			args = append(args, "--force")
		}
		return []run.Cmd{{Name: "zypper", Args: append(args, pkgFile)}}
	}
	args := []string{"-U"}
	switch {
	case o.Downgrade:
		args = append(args, "--oldpackage")
	case o.Reinstall:
		args = append(args, "--replacepkgs")
	}
	return []run.Cmd{m.rpm(append(args, pkgFile)...)}
}

// RemoveCmds: rpm has no purge; changed configuration files are kept as .rpmsave.
func (m *rpmFamily) RemoveCmds(bool) []run.Cmd {
	switch m.name {
	case DNF, Yum:
		return []run.Cmd{{Name: m.name, Args: []string{"remove", "-y", Package}}}
	case Zypper:
		return []run.Cmd{{Name: "zypper", Args: []string{"--non-interactive", "remove", Package}}}
	}
	return []run.Cmd{m.rpm("-e", Package)}
}

// ImportKeyCmds imports the key into the rpm database, which dnf, yum and zypper all
// check package signatures against.
func (m *rpmFamily) ImportKeyCmds(armoredKeyFile string) []run.Cmd {
	return []run.Cmd{m.rpm("--import", armoredKeyFile)}
}

// Installed asks rpm for the version. rpm answers a missing package with exit status 1
// and "package amazon-ssm-agent is not installed". The query format ends each version
// with a newline so that two installed versions (left by an interrupted upgrade) show
// as two lines, which is an error rather than a guess.
func (m *rpmFamily) Installed(ctx context.Context) (string, bool, error) {
	out, err := m.r.Run(ctx, m.rpm("-q", "--qf", `%{VERSION}\n`, Package))
	var ee *run.ExitError
	if errors.As(err, &ee) && ee.ExitCode == 1 && strings.Contains(string(out.Stdout)+string(out.Stderr), "is not installed") {
		return "", false, nil
	}
	if err != nil {
		return "", false, Describe(err)
	}
	versions := strings.Fields(string(out.Stdout))
	if len(versions) != 1 {
		return "", false, fail.WithHint(
			fail.New(fail.PackageManager, "query the installed %s version: rpm printed %q, want one version", Package, strings.TrimSpace(string(out.Stdout))),
			"check 'rpm -q "+Package+"': an interrupted upgrade can leave two versions installed")
	}
	return versions[0], true, nil
}
