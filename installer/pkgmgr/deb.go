package pkgmgr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// StatusFile is dpkg's database of installed packages, inside the root.
const StatusFile = "/var/lib/dpkg/status"

// debEnv keeps debconf from prompting in maintainer scripts: there is no one to answer.
var debEnv = []string{"DEBIAN_FRONTEND=noninteractive"}

// deb is dpkg or apt.
type deb struct {
	name string // Dpkg or Apt
	root sysroot.Root
}

func (m *deb) Name() string   { return m.name }
func (m *deb) Format() string { return FormatDeb }

// dpkg is the dpkg command with --root for an image root. dpkg >= 1.18.10 then uses
// DIR as its install directory and DIR/var/lib/dpkg as its database, and runs
// maintainer scripts chrooted into DIR.
func (m *deb) dpkg(args ...string) run.Cmd {
	if !m.root.IsHost() {
		args = append([]string{"--root=" + m.root.Dir()}, args...)
	}
	return run.Cmd{Name: "dpkg", Args: args, Env: debEnv}
}

// InstallCmds: dpkg -i installs, upgrades, downgrades and reinstalls alike, so it needs
// no options. apt-get only takes a local file given as a path with a slash in it, hence
// the absolute path; it refuses downgrades without --allow-downgrades and does nothing
// for the installed version without --reinstall.
func (m *deb) InstallCmds(pkgFile string, o InstallOptions) []run.Cmd {
	if m.name == Dpkg {
		return []run.Cmd{m.dpkg("-i", pkgFile)}
	}
	args := []string{"install", "-y"}
	switch {
	case o.Downgrade:
		args = append(args, "--allow-downgrades")
	case o.Reinstall:
		args = append(args, "--reinstall")
	}
	return []run.Cmd{{Name: "apt-get", Args: append(args, absFile(pkgFile)), Env: debEnv}}
}

// absFile makes pkgFile absolute; if the working directory is unknown it at least
// makes sure the path has a slash, which is what apt-get looks for.
func absFile(pkgFile string) string {
	if abs, err := filepath.Abs(pkgFile); err == nil {
		return abs
	}
	if !strings.ContainsRune(pkgFile, '/') {
		return "./" + pkgFile
	}
	return pkgFile
}

// RemoveCmds: purge also removes the configuration files dpkg knows of.
func (m *deb) RemoveCmds(purge bool) []run.Cmd {
	if m.name == Dpkg {
		if purge {
			return []run.Cmd{m.dpkg("-P", Package)}
		}
		return []run.Cmd{m.dpkg("-r", Package)}
	}
	verb := "remove"
	if purge {
		verb = "purge"
	}
	return []run.Cmd{{Name: "apt-get", Args: []string{verb, "-y", Package}, Env: debEnv}}
}

// ImportKeyCmds is nil: dpkg does not check signatures; ssm-setup verifies the .sig.
func (m *deb) ImportKeyCmds(string) []run.Cmd { return nil }

// Installed reads ROOT/var/lib/dpkg/status itself instead of running dpkg-query: it
// works the same on image roots and in a dry run, and needs no process. A missing
// status file means nothing is installed.
func (m *deb) Installed(context.Context) (string, bool, error) {
	path := m.root.Path(StatusFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fail.New(fail.PackageManager, "read the dpkg database %s: %w", path, err)
	}
	version, installed, err := parseDpkgStatus(b, Package)
	if err != nil {
		return "", false, fail.WithHint(
			fail.New(fail.PackageManager, "read the dpkg database %s: %w", path, err),
			"check it with 'dpkg --audit'")
	}
	return version, installed, nil
}

// parseDpkgStatus finds pkg in a dpkg status file (deb822 stanzas separated by blank
// lines) and returns its upstream version.
//
// A package counts as installed unless its state (the third word of Status) is
// "not-installed" or "config-files" (removed, configuration kept). Half-installed and
// unpacked packages count: they need a reinstall or a removal, not a fresh install.
// The version loses its epoch ("1:") and Debian revision ("-1"), which the agent's own
// four-part version does not have.
func parseDpkgStatus(b []byte, pkg string) (string, bool, error) {
	version, installed, _, err := parseDpkgStatusState(b, pkg)
	return version, installed, err
}

// DebIncomplete reports whether dpkg's database holds the agent in a state that is
// neither fully installed nor absent (half-installed, unpacked, half-configured,
// triggers pending, or flagged reinst-required), as a failed or interrupted dpkg run
// leaves it, and names that state. Such a package needs installing again even when
// its version is the one asked for.
func DebIncomplete(root sysroot.Root) (state string, incomplete bool) {
	b, err := os.ReadFile(root.Path(StatusFile))
	if err != nil {
		return "", false
	}
	_, installed, st, err := parseDpkgStatusState(b, Package)
	if err != nil || !installed {
		return "", false
	}
	return st, st != "installed"
}

// parseDpkgStatusState is parseDpkgStatus that also returns the package's state: the
// third word of Status, or "reinst-required" when dpkg flags the package so.
func parseDpkgStatusState(b []byte, pkg string) (string, bool, string, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	fields := map[string]string{}
	var found bool
	var version, status string
	flush := func() {
		if !found && fields["Package"] == pkg {
			found, version, status = true, fields["Version"], fields["Status"]
		}
		clear(fields)
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			// A continuation line (Description, Conffiles): not a field of interest.
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return "", false, "", fmt.Errorf("malformed line %q", line)
			}
			fields[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return "", false, "", err
	}
	flush()
	if !found {
		return "", false, "", nil
	}
	words := strings.Fields(status)
	if len(words) != 3 {
		return "", false, "", fmt.Errorf("package %s has a malformed Status %q", pkg, status)
	}
	if words[2] == "not-installed" || words[2] == "config-files" {
		return "", false, words[2], nil
	}
	if version == "" {
		return "", false, "", fmt.Errorf("package %s has no Version", pkg)
	}
	state := words[2]
	if words[1] == "reinstreq" {
		state = "reinst-required"
	}
	return upstreamVersion(version), true, state, nil
}

// upstreamVersion strips a Debian version's epoch and revision: "1:3.3.1142.0-1" ->
// "3.3.1142.0".
func upstreamVersion(v string) string {
	if _, rest, ok := strings.Cut(v, ":"); ok {
		v = rest
	}
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	return v
}
