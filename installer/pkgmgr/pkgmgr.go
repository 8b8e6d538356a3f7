// Package pkgmgr installs, removes and queries the amazon-ssm-agent package with the
// system's own package manager: dpkg or apt for deb, rpm, dnf, yum or zypper for rpm,
// and snap. Changes are returned as command lists (data), so a dry run can print the
// exact plan and the caller runs it later; only Installed runs anything, and it only
// reads.
package pkgmgr

import (
	"context"
	"errors"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// Package is the agent's package name in every format, the snap included.
const Package = "amazon-ssm-agent"

// Manager names.
const (
	Dpkg   = "dpkg"
	Apt    = "apt"
	RPM    = "rpm"
	DNF    = "dnf"
	Yum    = "yum"
	Zypper = "zypper"
	Snap   = "snap"
)

// Package formats.
const (
	FormatDeb  = "deb"
	FormatRPM  = "rpm"
	FormatSnap = "snap"
)

// Manager is one package manager acting on one root.
type Manager interface {
	// Name is the manager's name: dpkg, apt, rpm, dnf, yum, zypper or snap.
	Name() string
	// Format is the package format it installs: deb, rpm or snap.
	Format() string
	// Installed reports the installed agent version ("3.3.1142.0"). It only reads, so a
	// dry run may call it.
	Installed(ctx context.Context) (version string, installed bool, err error)
	// InstallCmds installs the package file pkgFile (ignored by snap, which installs
	// from the Snap Store).
	InstallCmds(pkgFile string, o InstallOptions) []run.Cmd
	// RemoveCmds removes the agent package; purge also removes its configuration
	// where the format distinguishes the two (deb, snap).
	RemoveCmds(purge bool) []run.Cmd
	// ImportKeyCmds imports an armored OpenPGP public key into the rpm database, so
	// that rpm front ends accept the signed package. Nil for deb and snap, whose
	// packages ssm-setup verifies itself.
	ImportKeyCmds(armoredKeyFile string) []run.Cmd
}

// InstallOptions says how an install relates to what is installed. The caller compares
// versions; the manager picks the verb or flag that its tool needs for the case.
type InstallOptions struct {
	// Upgrade: an older version is installed. rpm front ends, dpkg and apt upgrade
	// with their install verb; snap needs "refresh" instead of "install".
	Upgrade bool
	// Downgrade: a newer version is installed. Wins over Reinstall when both are set.
	Downgrade bool
	// Reinstall: the same version is installed.
	Reinstall bool
}

// replacing reports whether some version is installed already.
func (o InstallOptions) replacing() bool { return o.Upgrade || o.Downgrade || o.Reinstall }

// New returns the manager called name for root.
//
// Only dpkg and rpm work on an image root (root.IsHost() false): apt, dnf, yum and
// zypper read the running system's configuration, repositories and caches, and snap
// talks to the running snapd; pointed at an image they would mix the host into it. New
// refuses them there with fail.Unsupported. An unknown name is fail.Unsupported too.
func New(name string, root sysroot.Root, r run.Runner) (Manager, error) {
	switch name {
	case Dpkg:
		return &deb{name: Dpkg, root: root}, nil
	case RPM:
		return &rpmFamily{name: RPM, root: root, r: r}, nil
	case Apt, DNF, Yum, Zypper, Snap:
		if !root.IsHost() {
			return nil, fail.WithHint(
				fail.New(fail.Unsupported, "package manager %s cannot install into the image root %s: it needs a running system", name, root.Dir()),
				"use dpkg or rpm for image roots, or leave the package manager to ssm-setup")
		}
		switch name {
		case Apt:
			return &deb{name: Apt, root: root}, nil
		case Snap:
			return &snapMgr{r: r}, nil
		}
		return &rpmFamily{name: name, root: root, r: r}, nil
	}
	return nil, fail.New(fail.Unsupported, "package manager %q is not supported (want one of dpkg, apt, rpm, dnf, yum, zypper, snap)", name)
}

// candidate is one entry of the ordered list Choose walks.
type candidate struct {
	format string
	name   string // manager name
	tool   string // program that must be on PATH
	image  bool   // usable on an image root
}

// candidates is Choose's order of preference, best first, per format.
//
// deb: apt-get before dpkg, because apt takes the dpkg frontend lock properly and
// installs dependencies. rpm: dnf first (on RHEL 8+ and Amazon Linux 2023 yum is only a
// link to it), then yum (Amazon Linux 2, RHEL/CentOS 7), zypper (SUSE), and bare rpm
// when none of the front ends is there. On an image root only dpkg and rpm qualify (see
// New).
var candidates = []candidate{
	{format: FormatDeb, name: Apt, tool: "apt-get"},
	{format: FormatDeb, name: Dpkg, tool: "dpkg", image: true},
	{format: FormatRPM, name: DNF, tool: "dnf"},
	{format: FormatRPM, name: Yum, tool: "yum"},
	{format: FormatRPM, name: Zypper, tool: "zypper"},
	{format: FormatRPM, name: RPM, tool: "rpm", image: true},
	{format: FormatSnap, name: Snap, tool: "snap"},
}

// Choose picks the manager for packages of format (deb, rpm, snap): the first of an
// ordered list whose program available reports present (apt-get, dpkg, dnf, yum, zypper,
// rpm, snap). With imageRoot only dpkg and rpm are considered. It runs nothing.
func Choose(format string, available func(tool string) bool, imageRoot bool) (string, error) {
	var looked []string
	for _, c := range candidates {
		if c.format != format || imageRoot && !c.image {
			continue
		}
		if available(c.tool) {
			return c.name, nil
		}
		looked = append(looked, c.tool)
	}
	switch {
	case format != FormatDeb && format != FormatRPM && format != FormatSnap:
		return "", fail.New(fail.Unsupported, "package format %q is not supported (want deb, rpm or snap)", format)
	case len(looked) == 0:
		return "", fail.WithHint(
			fail.New(fail.Unsupported, "%s packages cannot be installed into an image root: snapd needs a running system", format),
			"install the deb or rpm package into the image instead")
	}
	return "", fail.WithHint(
		fail.New(fail.Unsupported, "no package manager for %s packages found (looked for %s)", format, strings.Join(looked, ", ")),
		"install one of them, or check PATH")
}

// Describe turns a failed package manager command into an error for the user: kind
// fail.PackageManager, the quoted command and its output (from run.ExitError), and a
// hint for failures with a known next step. Errors that already have a kind pass
// through; nil stays nil.
func Describe(err error) error {
	if err == nil {
		return nil
	}
	var fe *fail.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	wrapped := fail.Wrap(fail.PackageManager, err)
	var ee *run.ExitError
	if !errors.As(err, &ee) {
		return wrapped
	}
	if hint := hintFor(ee.Output); hint != "" {
		return fail.WithHint(wrapped, hint)
	}
	return wrapped
}

// hints maps output fragments to the next step, first match wins. The fragments are the
// tools' own messages (C locale).
var hints = []struct{ fragment, hint string }{
	// apt/dpkg: "Could not get lock /var/lib/dpkg/lock-frontend", "dpkg: error: dpkg frontend lock was locked by another process".
	{"could not get lock", "another package manager is running; wait and re-run"},
	{"lock was locked by another process", "another package manager is running; wait and re-run"},
	{"dpkg status database is locked", "another package manager is running; wait and re-run"},
	// yum: "Existing lock /var/run/yum.pid: another copy is running as pid 1234."
	{"another copy is running", "another package manager is running; wait and re-run"},
	// zypper: "System management is locked by the application with pid 1234 (zypper)."
	{"system management is locked", "another package manager is running; wait and re-run"},
	// dpkg: "dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem."
	{"dpkg --configure -a", "repair the interrupted dpkg run with 'dpkg --configure -a', then re-run"},
	// dpkg: "requested operation requires superuser privilege"; rpm: "can't create transaction lock ... (Permission denied)".
	{"superuser privilege", "re-run as root"},
	{"permission denied", "re-run as root"},
	{"you need to be root", "re-run as root"},
	// rpm -U of an older version: "package amazon-ssm-agent-3.3.1142.0-1.x86_64 (which is newer than amazon-ssm-agent-3.2.0.0-1.x86_64) is already installed".
	{"which is newer than", "a newer version is installed; ask for a downgrade explicitly"},
	// rpm: "package amazon-ssm-agent-3.3.1142.0-1.x86_64 is already installed".
	{"is already installed", "this version is already installed; ask for a reinstall to install it again"},
	// yum: "Package ... of higher version already installed, cannot downgrade".
	{"cannot downgrade", "a newer version is installed; ask for a downgrade explicitly"},
	// rpm --import or signature checks.
	{"nokey", "the package signature key is not trusted by rpm; import the SSM Agent key first"},
}

func hintFor(output string) string {
	lower := strings.ToLower(output)
	for _, h := range hints {
		if strings.Contains(lower, h.fragment) {
			return h.hint
		}
	}
	return ""
}
