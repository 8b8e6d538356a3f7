package distro

import "strings"

// prober answers questions about the files of a root. root implements it by reading the
// root; the choosers below only ask, so they are pure and table-tested with a fake.
type prober interface {
	exists(name string) bool
	isDir(name string) bool
	// target is name with its symbolic links followed inside the root, "" when missing.
	target(name string) string
}

// target implements prober.
func (r root) target(name string) string {
	resolved, _, err := r.resolve(name)
	if err != nil {
		return ""
	}
	return resolved
}

// packageManagers are the package managers ssm-setup can install the agent with, best
// first within each package format. dnf (dnf5 on Fedora 41+, dnf-3 on RHEL 8) replaced
// yum, which RHEL 8+ keeps only as a link to dnf, so dnf wins when both exist; zypper is
// SUSE's; plain rpm is the last resort. apt-get resolves dependencies, dpkg does not.
var packageManagers = []struct {
	name, format string
	paths        []string // any of them present means the manager is there
}{
	{"dnf", "rpm", []string{"usr/bin/dnf", "usr/bin/dnf5", "usr/bin/dnf-3"}},
	{"yum", "rpm", []string{"usr/bin/yum"}},
	{"zypper", "rpm", []string{"usr/bin/zypper"}},
	{"rpm", "rpm", []string{"usr/bin/rpm", "bin/rpm"}},
	{"apt", "deb", []string{"usr/bin/apt-get"}},
	{"dpkg", "deb", []string{"usr/bin/dpkg"}},
}

// choosePackageManager picks the package manager for format (rpm or deb) from the
// programs the root has. An agent installed as a snap is managed by snap whatever the
// format, because a deb or rpm install would conflict with it. The result is "" when
// none is found (a bare image, or a format ssm-setup has no package for).
func choosePackageManager(format, agentVia string, p prober) string {
	if agentVia == "snap" {
		return "snap"
	}
	for _, m := range packageManagers {
		if m.format != format {
			continue
		}
		for _, name := range m.paths {
			if p.exists(name) {
				return m.name
			}
		}
	}
	return ""
}

// initSystems are the init systems ssm-setup can run the agent under, in the order they
// are recognised; the first that matches wins, and "none" is left when none does.
//
// On the running host, systemd counts only when it runs: sd_booted(3) checks exactly for
// the directory /run/systemd/system. In another root nothing runs, so the systemd binary
// decides. upstart needs its control tool and job directory (Ubuntu 14.04, RHEL 6,
// Amazon Linux 1); sysvinit needs /etc/init.d and an /sbin/init that is not a link to
// systemd (Debian keeps /etc/init.d and links /sbin/init to systemd).
var initSystems = []struct {
	name  string
	found func(p prober, isHost bool) bool
}{
	{"systemd", func(p prober, isHost bool) bool {
		if isHost {
			return p.isDir("run/systemd/system")
		}
		return p.exists("lib/systemd/systemd") || p.exists("usr/lib/systemd/systemd")
	}},
	{"upstart", func(p prober, _ bool) bool {
		return p.exists("sbin/initctl") && p.isDir("etc/init")
	}},
	{"sysvinit", func(p prober, _ bool) bool {
		init := p.target("sbin/init")
		return p.isDir("etc/init.d") && init != "" && !strings.HasSuffix(init, "/systemd")
	}},
}

// chooseInit picks the init system of a root; isHost says the root is the running host.
func chooseInit(p prober, isHost bool) string {
	for _, s := range initSystems {
		if s.found(p, isHost) {
			return s.name
		}
	}
	return "none"
}
