package pkgmgr

import (
	"bufio"
	"context"
	"errors"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
)

// snapMgr installs the agent from the Snap Store, the way Ubuntu AMIs ship it. The
// store's channel decides the version: a snap cannot be pinned to an agent release.
type snapMgr struct {
	r run.Runner
}

func (m *snapMgr) Name() string   { return Snap }
func (m *snapMgr) Format() string { return FormatSnap }

// InstallCmds ignores pkgFile. The agent snap is classic (it needs the whole host), so
// a first install needs --classic; when a version is installed, "snap install" would
// do nothing and "snap refresh" is the way to a newer (or the channel's) revision.
func (m *snapMgr) InstallCmds(_ string, o InstallOptions) []run.Cmd {
	if o.replacing() {
		return []run.Cmd{{Name: "snap", Args: []string{"refresh", Package}}}
	}
	return []run.Cmd{{Name: "snap", Args: []string{"install", Package, "--classic"}}}
}

// RemoveCmds: without purge snapd keeps a snapshot of the snap's data for 31 days;
// --purge removes it too.
func (m *snapMgr) RemoveCmds(purge bool) []run.Cmd {
	if purge {
		return []run.Cmd{{Name: "snap", Args: []string{"remove", "--purge", Package}}}
	}
	return []run.Cmd{{Name: "snap", Args: []string{"remove", Package}}}
}

// ImportKeyCmds is nil: snapd verifies store assertions itself.
func (m *snapMgr) ImportKeyCmds(string) []run.Cmd { return nil }

// Installed runs "snap list amazon-ssm-agent". snap answers a missing snap with exit
// status 1 and "error: no matching snaps installed".
func (m *snapMgr) Installed(ctx context.Context) (string, bool, error) {
	out, err := m.r.Run(ctx, run.Cmd{Name: "snap", Args: []string{"list", Package}})
	var ee *run.ExitError
	if errors.As(err, &ee) && strings.Contains(string(out.Stderr)+string(out.Stdout), "no matching snaps installed") {
		return "", false, nil
	}
	if err != nil {
		return "", false, Describe(err)
	}
	version, err := parseSnapList(string(out.Stdout), Package)
	if err != nil {
		return "", false, fail.New(fail.PackageManager, "read 'snap list %s': %w", Package, err)
	}
	return version, true, nil
}

// parseSnapList finds name's version in "snap list" output:
//
//	Name              Version     Rev   Tracking       Publisher  Notes
//	amazon-ssm-agent  3.3.1142.0  9882  latest/stable  aws✓       classic
func parseSnapList(out, name string) (string, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	header := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		if !header {
			if f[0] != "Name" || f[1] != "Version" {
				return "", errors.New("unexpected header " + strings.Join(f, " "))
			}
			header = true
			continue
		}
		if f[0] == name {
			return f[1], nil
		}
	}
	if !header {
		return "", errors.New("no output")
	}
	return "", errors.New(name + " is not listed")
}
