package distro

import "testing"

// fakeProber is a root described by its files: path -> link target ("" for a plain file),
// and dirs.
type fakeProber struct {
	files map[string]string
	dirs  []string
}

func (f fakeProber) exists(name string) bool {
	_, ok := f.files[name]
	return ok || f.isDir(name)
}

func (f fakeProber) isDir(name string) bool {
	for _, d := range f.dirs {
		if d == name {
			return true
		}
	}
	return false
}

func (f fakeProber) target(name string) string {
	t, ok := f.files[name]
	switch {
	case !ok:
		return ""
	case t == "":
		return name
	}
	return t
}

func files(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = ""
	}
	return m
}

func TestChoosePackageManager(t *testing.T) {
	tests := []struct {
		name     string
		format   string
		agentVia string
		files    map[string]string
		want     string
	}{
		{"dnf beats yum (RHEL 8 links yum to dnf)", "rpm", "", files("usr/bin/dnf", "usr/bin/yum", "usr/bin/rpm"), "dnf"},
		{"dnf5 (Fedora 41)", "rpm", "", files("usr/bin/dnf5", "usr/bin/rpm"), "dnf"},
		{"dnf-3 alone", "rpm", "", files("usr/bin/dnf-3"), "dnf"},
		{"yum (Amazon Linux 2)", "rpm", "", files("usr/bin/yum", "usr/bin/rpm"), "yum"},
		{"yum beats zypper", "rpm", "", files("usr/bin/zypper", "usr/bin/yum"), "yum"},
		{"zypper (SUSE)", "rpm", "", files("usr/bin/zypper", "usr/bin/rpm"), "zypper"},
		{"rpm only", "rpm", "", files("usr/bin/rpm"), "rpm"},
		{"rpm in /bin (RHEL 6)", "rpm", "", files("bin/rpm"), "rpm"},
		{"rpm root ignores apt", "rpm", "", files("usr/bin/apt-get", "usr/bin/dpkg"), ""},
		{"apt", "deb", "", files("usr/bin/apt-get", "usr/bin/dpkg"), "apt"},
		{"dpkg only", "deb", "", files("usr/bin/dpkg"), "dpkg"},
		{"deb root ignores dnf", "deb", "", files("usr/bin/dnf"), ""},
		{"agent snap wins", "deb", "snap", files("usr/bin/apt-get"), "snap"},
		{"agent deb does not change it", "deb", "deb", files("usr/bin/apt-get"), "apt"},
		{"no format", "", "", files("usr/bin/apt-get", "usr/bin/dnf"), ""},
		{"bare root", "deb", "", files(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := choosePackageManager(tt.format, tt.agentVia, fakeProber{files: tt.files})
			if got != tt.want {
				t.Errorf("choosePackageManager = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChooseInit(t *testing.T) {
	sysv := map[string]string{"sbin/init": ""}
	tests := []struct {
		name   string
		isHost bool
		p      fakeProber
		want   string
	}{
		{"host: systemd running", true, fakeProber{dirs: []string{"run/systemd/system"}}, "systemd"},
		{"host: systemd installed, not running (a container)", true,
			fakeProber{files: map[string]string{"lib/systemd/systemd": "", "sbin/init": "usr/lib/systemd/systemd"}, dirs: []string{"etc/init.d", "run/systemd"}}, "none"},
		{"root: systemd binary in lib", false, fakeProber{files: files("lib/systemd/systemd")}, "systemd"},
		{"root: systemd binary in usr/lib", false, fakeProber{files: files("usr/lib/systemd/systemd")}, "systemd"},
		{"root: run/systemd/system does not count", false, fakeProber{dirs: []string{"run/systemd/system"}}, "none"},
		{"systemd beats sysvinit", false, fakeProber{files: map[string]string{"lib/systemd/systemd": "", "sbin/init": ""}, dirs: []string{"etc/init.d"}}, "systemd"},
		{"upstart", false, fakeProber{files: files("sbin/initctl", "sbin/init"), dirs: []string{"etc/init", "etc/init.d"}}, "upstart"},
		{"upstart needs etc/init", false, fakeProber{files: files("sbin/initctl")}, "none"},
		{"host: upstart", true, fakeProber{files: files("sbin/initctl"), dirs: []string{"etc/init"}}, "upstart"},
		{"sysvinit", false, fakeProber{files: sysv, dirs: []string{"etc/init.d"}}, "sysvinit"},
		{"sysvinit needs etc/init.d", false, fakeProber{files: sysv}, "none"},
		{"sbin/init linked to systemd is not sysvinit", true,
			fakeProber{files: map[string]string{"sbin/init": "usr/lib/systemd/systemd"}, dirs: []string{"etc/init.d"}}, "none"},
		{"nothing", false, fakeProber{}, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chooseInit(tt.p, tt.isHost); got != tt.want {
				t.Errorf("chooseInit = %q, want %q", got, tt.want)
			}
		})
	}
}
