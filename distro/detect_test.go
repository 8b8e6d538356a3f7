package distro

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
)

// rootSpec describes a fake root: an os-release fixture, the architecture of its
// /bin/sh, and marker files.
type rootSpec struct {
	fixture string   // a file of testdata/os-release, placed as its README says
	arch    string   // ELF architecture of bin/sh; "" for no bin/sh
	files   []string // empty files; a name ending in "/" is a directory
	extra   fstest.MapFS
}

// Marker sets: the package manager and init system files of common systems.
var (
	dnfSystemd    = []string{"usr/bin/dnf", "usr/bin/yum", "usr/bin/rpm", "usr/lib/systemd/systemd"}
	yumSystemd    = []string{"usr/bin/yum", "usr/bin/rpm", "usr/lib/systemd/systemd"}
	yumUpstart    = []string{"usr/bin/yum", "bin/rpm", "sbin/initctl", "sbin/init", "etc/init/", "etc/init.d/"}
	zypperSystemd = []string{"usr/bin/zypper", "usr/bin/rpm", "usr/lib/systemd/systemd"}
	aptSystemd    = []string{"usr/bin/apt-get", "usr/bin/dpkg", "lib/systemd/systemd"}
	aptUpstart    = []string{"usr/bin/apt-get", "usr/bin/dpkg", "sbin/initctl", "sbin/init", "etc/init/", "etc/init.d/"}
)

func (s rootSpec) build(t testing.TB) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	if s.fixture != "" {
		name := "etc/os-release"
		switch {
		case strings.HasSuffix(s.fixture, "-system-release"):
			name = "etc/system-release"
		case strings.HasSuffix(s.fixture, "-redhat-release"):
			name = "etc/redhat-release"
		case s.fixture == "usr-lib-only":
			name = "usr/lib/os-release"
		}
		fsys[name] = &fstest.MapFile{Data: readFixture(t, s.fixture)}
	}
	if s.arch != "" {
		fsys["bin/sh"] = &fstest.MapFile{Data: elfFor(s.arch)}
	}
	for _, f := range s.files {
		if dir, ok := strings.CutSuffix(f, "/"); ok {
			fsys[dir] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
		} else {
			fsys[f] = &fstest.MapFile{}
		}
	}
	for name, f := range s.extra {
		fsys[name] = f
	}
	return fsys
}

func dist(id, idLike, versionID, name, pretty string) Distro {
	return Distro{ID: id, IDLike: strings.Fields(idLike), VersionID: versionID, Name: name, PrettyName: pretty}
}

func with(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

// TestDetect runs Detect on a fake root per fixture (and odd case) and compares the
// whole Platform.
func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		root  rootSpec
		arch  string // Options.Arch
		host  bool   // Options.IsHost
		setup func(f *runtest.Fake)
		want  Platform
	}{
		// Amazon Linux
		{
			name: "amzn 1 from system-release",
			root: rootSpec{fixture: "amzn-1-system-release", arch: "amd64", files: yumUpstart},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("amzn", "rhel fedora", "2018.03", "Amazon Linux AMI", "Amazon Linux AMI release 2018.03"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "upstart", PlatformFolder: "linux_amd64",
				Support: Official, MaxAgentVersion: "3.0.1479.0"},
		},
		{
			name: "amzn 1 from os-release, 386",
			root: rootSpec{fixture: "amzn-2018.03", arch: "386", files: yumUpstart},
			want: Platform{OS: "linux", Arch: "386",
				Distro:        dist("amzn", "rhel fedora", "2018.03", "Amazon Linux AMI", "Amazon Linux AMI 2018.03"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "upstart", PlatformFolder: "linux_386",
				Support: Official, MaxAgentVersion: "3.0.1479.0"},
		},
		{
			name: "amzn 2 arm64",
			root: rootSpec{fixture: "amzn-2", arch: "arm64", files: yumSystemd},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("amzn", "centos rhel fedora", "2", "Amazon Linux", "Amazon Linux 2"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "systemd", PlatformFolder: "linux_arm64", Support: Official},
		},
		{
			name: "amzn 2022",
			root: rootSpec{fixture: "amzn-2022", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("amzn", "fedora", "2022", "Amazon Linux", "Amazon Linux 2022"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "amzn 2023 with the agent in the rpm database",
			root: rootSpec{fixture: "amzn-2023", arch: "amd64", files: with(dnfSystemd, "var/lib/rpm/rpmdb.sqlite", "usr/bin/amazon-ssm-agent")},
			setup: func(f *runtest.Fake) {
				f.SetPath("rpm", "/usr/bin/rpm").ExpectLine(rpmQuery, "3.3.1142.0")
			},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("amzn", "fedora", "2023", "Amazon Linux", "Amazon Linux 2023.6.20241212"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official,
				Agent: Agent{Installed: true, Version: "3.3.1142.0", Via: "rpm"}},
		},
		// RHEL and rebuilds
		{
			name: "rhel 6 from redhat-release",
			root: rootSpec{fixture: "rhel-6-redhat-release", arch: "amd64", files: yumUpstart},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("rhel", "fedora", "6.10", "Red Hat Enterprise Linux Server", "Red Hat Enterprise Linux Server release 6.10 (Santiago)"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "upstart", PlatformFolder: "linux_amd64",
				Support: Official, MaxAgentVersion: "3.0.1479.0"},
		},
		{
			name: "rhel 7",
			root: rootSpec{fixture: "rhel-7", arch: "amd64", files: yumSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("rhel", "fedora", "7.9", "Red Hat Enterprise Linux Server", "Red Hat Enterprise Linux Server 7.9 (Maipo)"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "rhel 8",
			root: rootSpec{fixture: "rhel-8", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("rhel", "fedora", "8.10", "Red Hat Enterprise Linux", "Red Hat Enterprise Linux 8.10 (Ootpa)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "rhel 9 arm64",
			root: rootSpec{fixture: "rhel-9", arch: "arm64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("rhel", "fedora", "9.4", "Red Hat Enterprise Linux", "Red Hat Enterprise Linux 9.4 (Plow)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_arm64", Support: Official},
		},
		{
			name: "rhel 9 on 32-bit arm: no rpm for it",
			root: rootSpec{fixture: "rhel-9", arch: "arm", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "arm",
				Distro:         dist("rhel", "fedora", "9.4", "Red Hat Enterprise Linux", "Red Hat Enterprise Linux 9.4 (Plow)"),
				PackageManager: "dnf", InitSystem: "systemd", Support: Unsupported,
				Reason: "AWS publishes no 32-bit ARM (arm) rpm package of the agent; only amd64, arm64 and 386"},
		},
		{
			name: "rhel 10",
			root: rootSpec{fixture: "rhel-10", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("rhel", "centos fedora", "10.0", "Red Hat Enterprise Linux", "Red Hat Enterprise Linux 10.0 (Coughlan)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "centos 6 from redhat-release",
			root: rootSpec{fixture: "centos-6-redhat-release", arch: "386", files: yumUpstart},
			want: Platform{OS: "linux", Arch: "386",
				Distro:        dist("centos", "rhel fedora", "6.10", "CentOS", "CentOS release 6.10 (Final)"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "upstart", PlatformFolder: "linux_386",
				Support: Official, MaxAgentVersion: "3.0.1479.0"},
		},
		{
			name: "centos 7",
			root: rootSpec{fixture: "centos-7", arch: "amd64", files: yumSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("centos", "rhel fedora", "7", "CentOS Linux", "CentOS Linux 7 (Core)"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "centos stream 8",
			root: rootSpec{fixture: "centos-stream-8", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("centos", "rhel fedora", "8", "CentOS Stream", "CentOS Stream 8"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "centos stream 9",
			root: rootSpec{fixture: "centos-stream-9", arch: "arm64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("centos", "rhel fedora", "9", "CentOS Stream", "CentOS Stream 9"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_arm64", Support: Official},
		},
		{
			name: "centos stream 10: every Stream is listed",
			root: rootSpec{fixture: "centos-stream-10", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("centos", "rhel fedora", "10", "CentOS Stream", "CentOS Stream 10 (Coughlan)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "rocky 8",
			root: rootSpec{fixture: "rocky-8", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("rocky", "rhel centos fedora", "8.10", "Rocky Linux", "Rocky Linux 8.10 (Green Obsidian)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "rocky 9",
			root: rootSpec{fixture: "rocky-9", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("rocky", "rhel centos fedora", "9.5", "Rocky Linux", "Rocky Linux 9.5 (Blue Onyx)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "rocky 10",
			root: rootSpec{fixture: "rocky-10", arch: "arm64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("rocky", "rhel centos fedora", "10.0", "Rocky Linux", "Rocky Linux 10.0 (Red Quartz)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_arm64", Support: Official},
		},
		{
			name: "almalinux 8",
			root: rootSpec{fixture: "almalinux-8", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("almalinux", "rhel centos fedora", "8.10", "AlmaLinux", "AlmaLinux 8.10 (Cerulean Leopard)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "almalinux 9",
			root: rootSpec{fixture: "almalinux-9", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("almalinux", "rhel centos fedora", "9.5", "AlmaLinux", "AlmaLinux 9.5 (Teal Serval)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "almalinux 10",
			root: rootSpec{fixture: "almalinux-10", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("almalinux", "rhel centos fedora", "10.0", "AlmaLinux", "AlmaLinux 10.0 (Purple Lion)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "oracle linux 6",
			root: rootSpec{fixture: "ol-6", arch: "amd64", files: yumUpstart},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ol", "", "6.10", "Oracle Linux Server", "Oracle Linux Server 6.10"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "upstart", PlatformFolder: "linux_amd64",
				Support: Official, MaxAgentVersion: "3.0.1479.0"},
		},
		{
			name: "oracle linux 6 from redhat-release",
			root: rootSpec{fixture: "ol-6-redhat-release", arch: "amd64", files: yumUpstart},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ol", "fedora", "6.10", "Oracle Linux Server", "Oracle Linux Server release 6.10"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "upstart", PlatformFolder: "linux_amd64",
				Support: Official, MaxAgentVersion: "3.0.1479.0"},
		},
		{
			name: "oracle linux 7",
			root: rootSpec{fixture: "ol-7", arch: "amd64", files: yumSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ol", "fedora", "7.9", "Oracle Linux Server", "Oracle Linux Server 7.9"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "oracle linux 8",
			root: rootSpec{fixture: "ol-8", arch: "amd64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ol", "fedora", "8.10", "Oracle Linux Server", "Oracle Linux Server 8.10"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "oracle linux 9",
			root: rootSpec{fixture: "ol-9", arch: "arm64", files: dnfSystemd},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("ol", "fedora", "9.5", "Oracle Linux Server", "Oracle Linux Server 9.5"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_arm64", Support: Official},
		},
		// SUSE
		{
			name: "sles 12",
			root: rootSpec{fixture: "sles-12", arch: "amd64", files: zypperSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("sles", "", "12.5", "SLES", "SUSE Linux Enterprise Server 12 SP5"),
				PackageFormat: "rpm", PackageManager: "zypper", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		{
			name: "sles 15",
			root: rootSpec{fixture: "sles-15", arch: "arm64", files: zypperSystemd},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("sles", "suse", "15.6", "SLES", "SUSE Linux Enterprise Server 15 SP6"),
				PackageFormat: "rpm", PackageManager: "zypper", InitSystem: "systemd", PlatformFolder: "linux_arm64", Support: Official},
		},
		{
			name: "sles for sap 15",
			root: rootSpec{fixture: "sles_sap-15", arch: "amd64", files: zypperSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("sles_sap", "suse", "15.5", "SLES_SAP", "SUSE Linux Enterprise Server for SAP Applications 15 SP5"),
				PackageFormat: "rpm", PackageManager: "zypper", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official},
		},
		// Debian, Ubuntu, Raspberry Pi OS
		{
			name: "debian 8",
			root: rootSpec{fixture: "debian-8", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "8", "Debian GNU/Linux", "Debian GNU/Linux 8 (jessie)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Official},
		},
		{
			name: "debian 9 i386",
			root: rootSpec{fixture: "debian-9", arch: "386", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "386",
				Distro:        dist("debian", "", "9", "Debian GNU/Linux", "Debian GNU/Linux 9 (stretch)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_386", Support: Official},
		},
		{
			name: "debian 10",
			root: rootSpec{fixture: "debian-10", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "10", "Debian GNU/Linux", "Debian GNU/Linux 10 (buster)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Official},
		},
		{
			name: "debian 11 armhf, not a Raspberry Pi",
			root: rootSpec{fixture: "debian-11", arch: "arm", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "arm",
				Distro:        dist("debian", "", "11", "Debian GNU/Linux", "Debian GNU/Linux 11 (bullseye)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm", Support: Official},
		},
		{
			name: "debian 12 with sysvinit and only dpkg",
			root: rootSpec{fixture: "debian-12", arch: "amd64", files: []string{"usr/bin/dpkg", "sbin/init", "etc/init.d/"}},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "12", "Debian GNU/Linux", "Debian GNU/Linux 12 (bookworm)"),
				PackageFormat: "deb", PackageManager: "dpkg", InitSystem: "sysvinit", PlatformFolder: "debian_amd64", Support: Official},
		},
		{
			name: "debian 13: newer than listed",
			root: rootSpec{fixture: "debian-13", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "13", "Debian GNU/Linux", "Debian GNU/Linux 13 (trixie)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Compatible,
				Reason: "Debian GNU/Linux 13 is newer than the versions AWS lists (8-12); the deb package should work"},
		},
		{
			name: "debian sid: no VERSION_ID",
			root: rootSpec{fixture: "debian-sid", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "", "Debian GNU/Linux", "Debian GNU/Linux trixie/sid"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Compatible,
				Reason: "Debian GNU/Linux has no numeric VERSION_ID (a testing or rolling release?), so it is not a release AWS lists; the deb package should work"},
		},
		{
			name: "raspberry pi os 64-bit: debian 12 arm64 with rpi markers",
			root: rootSpec{fixture: "debian-12", arch: "arm64", files: with(aptSystemd, "etc/rpi-issue", "usr/bin/raspi-config")},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("debian", "", "12", "Debian GNU/Linux", "Debian GNU/Linux 12 (bookworm)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm64", Support: Official,
				Notes: []string{"this Debian is Raspberry Pi OS (it has etc/rpi-issue), which AWS supports from version 8 on"}},
		},
		{
			name: "raspberry pi os 13 is listed as Raspberry Pi OS 8+",
			root: rootSpec{fixture: "debian-13", arch: "arm", files: with(aptSystemd, "etc/apt/sources.list.d/raspi.sources")},
			want: Platform{OS: "linux", Arch: "arm",
				Distro:        dist("debian", "", "13", "Debian GNU/Linux", "Debian GNU/Linux 13 (trixie)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm", Support: Official,
				Notes: []string{"this Debian is Raspberry Pi OS (it has etc/apt/sources.list.d/raspi.sources), which AWS supports from version 8 on"}},
		},
		{
			name: "rpi markers on amd64 mean nothing",
			root: rootSpec{fixture: "debian-13", arch: "amd64", files: with(aptSystemd, "etc/rpi-issue")},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "13", "Debian GNU/Linux", "Debian GNU/Linux 13 (trixie)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Compatible,
				Reason: "Debian GNU/Linux 13 is newer than the versions AWS lists (8-12); the deb package should work"},
		},
		{
			name: "raspbian 11",
			root: rootSpec{fixture: "raspbian-11", arch: "arm", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "arm",
				Distro:        dist("raspbian", "debian", "11", "Raspbian GNU/Linux", "Raspbian GNU/Linux 11 (bullseye)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm", Support: Official},
		},
		{
			name: "raspbian 12",
			root: rootSpec{fixture: "raspbian-12", arch: "arm", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "arm",
				Distro:        dist("raspbian", "debian", "12", "Raspbian GNU/Linux", "Raspbian GNU/Linux 12 (bookworm)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm", Support: Official},
		},
		{
			name: "ubuntu 14.04 with upstart",
			root: rootSpec{fixture: "ubuntu-14.04", arch: "amd64", files: aptUpstart},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ubuntu", "debian", "14.04", "Ubuntu", "Ubuntu 14.04.6 LTS"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "upstart", PlatformFolder: "debian_amd64", Support: Official},
		},
		{
			name: "ubuntu 16.04",
			root: rootSpec{fixture: "ubuntu-16.04", arch: "386", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "386",
				Distro:        dist("ubuntu", "debian", "16.04", "Ubuntu", "Ubuntu 16.04.7 LTS"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_386", Support: Official},
		},
		{
			name: "ubuntu 18.04 with the agent snap",
			root: rootSpec{fixture: "ubuntu-18.04", arch: "amd64", files: aptSystemd, extra: fstest.MapFS{
				"snap/amazon-ssm-agent/current":                  {Mode: symlink, Data: []byte("7628")},
				"snap/amazon-ssm-agent/7628/meta/snap.yaml":      {Data: []byte("name: amazon-ssm-agent\nversion: '3.2.582.0'\n")},
				"var/lib/snapd/snaps/amazon-ssm-agent_7628.snap": {},
			}},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ubuntu", "debian", "18.04", "Ubuntu", "Ubuntu 18.04.6 LTS"),
				PackageFormat: "deb", PackageManager: "snap", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Official,
				Agent: Agent{Installed: true, Version: "3.2.582.0", Via: "snap"}},
		},
		{
			name: "ubuntu 20.04 with both a deb and a snap agent",
			root: rootSpec{fixture: "ubuntu-20.04", arch: "arm64", files: aptSystemd, extra: fstest.MapFS{
				"var/lib/dpkg/status":                            {Data: []byte(dpkgStatus)},
				"var/lib/snapd/snaps/amazon-ssm-agent_7628.snap": {},
			}},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("ubuntu", "debian", "20.04", "Ubuntu", "Ubuntu 20.04.6 LTS"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm64", Support: Official,
				Agent: Agent{Installed: true, Version: "3.3.1142.0", Via: "deb"},
				Notes: []string{"the agent is installed both as a deb package (3.3.1142.0) and as a snap (version unknown); the two break each other: remove one"}},
		},
		{
			name: "ubuntu 22.04",
			root: rootSpec{fixture: "ubuntu-22.04", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ubuntu", "debian", "22.04", "Ubuntu", "Ubuntu 22.04.5 LTS"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Official},
		},
		{
			name: "ubuntu 23.10: not LTS",
			root: rootSpec{fixture: "ubuntu-23.10", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ubuntu", "debian", "23.10", "Ubuntu", "Ubuntu 23.10"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Compatible,
				Reason: "Ubuntu 23.10 is not an LTS release; AWS lists only Ubuntu LTS releases (14.04 and later), but the deb package should work"},
		},
		{
			name: "ubuntu 24.04",
			root: rootSpec{fixture: "ubuntu-24.04", arch: "arm64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("ubuntu", "debian", "24.04", "Ubuntu", "Ubuntu 24.04.1 LTS"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm64", Support: Official},
		},
		{
			name: "ubuntu 24.04 on riscv64: no package",
			root: rootSpec{fixture: "ubuntu-24.04", arch: "riscv64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "riscv64",
				Distro:         dist("ubuntu", "debian", "24.04", "Ubuntu", "Ubuntu 24.04.1 LTS"),
				PackageManager: "apt", InitSystem: "systemd", Support: Unsupported,
				Reason: "AWS publishes no deb package of the agent for riscv64 (only amd64, arm64, 386, arm)"},
		},
		{
			name: "usr/lib/os-release only",
			root: rootSpec{fixture: "usr-lib-only", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("ubuntu", "debian", "24.04", "Ubuntu", "Ubuntu 24.04.1 LTS"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Official},
		},
		{
			name: "etc/os-release wins over usr/lib/os-release",
			root: rootSpec{fixture: "debian-12", arch: "amd64", files: aptSystemd, extra: fstest.MapFS{
				"usr/lib/os-release": {Data: []byte("ID=alpine\nVERSION_ID=3.21.0\n")},
			}},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "12", "Debian GNU/Linux", "Debian GNU/Linux 12 (bookworm)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Official},
		},
		// Compatible: like a supported family
		{
			name: "fedora",
			root: rootSpec{fixture: "fedora-41", arch: "amd64", files: []string{"usr/bin/dnf5", "usr/bin/rpm", "usr/lib/systemd/systemd"}},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("fedora", "", "41", "Fedora Linux", "Fedora Linux 41 (Container Image)"),
				PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Compatible,
				Reason: "Fedora Linux 41 is not on AWS's list of supported distributions; it is in the rpm family, so the rpm package should work"},
		},
		{
			name: "opensuse tumbleweed",
			root: rootSpec{fixture: "opensuse-tumbleweed", arch: "amd64", files: zypperSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("opensuse-tumbleweed", "opensuse suse", "20241211", "openSUSE Tumbleweed", "openSUSE Tumbleweed"),
				PackageFormat: "rpm", PackageManager: "zypper", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Compatible,
				Reason: "openSUSE Tumbleweed 20241211 is not on AWS's list of supported distributions; it is in the rpm family, so the rpm package should work"},
		},
		{
			name: "linux mint",
			root: rootSpec{fixture: "linuxmint-22", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("linuxmint", "ubuntu debian", "22", "Linux Mint", "Linux Mint 22"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Compatible,
				Reason: "Linux Mint 22 is not on AWS's list of supported distributions; it is like ubuntu (ID_LIKE), so the deb package should work"},
		},
		{
			name: "pop!_os",
			root: rootSpec{fixture: "pop-22.04", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("pop", "ubuntu debian", "22.04", "Pop!_OS", "Pop!_OS 22.04 LTS"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Compatible,
				Reason: "Pop!_OS 22.04 is not on AWS's list of supported distributions; it is like ubuntu (ID_LIKE), so the deb package should work"},
		},
		{
			name: "kali",
			root: rootSpec{fixture: "kali-2024.4", arch: "arm64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("kali", "debian", "2024.4", "Kali GNU/Linux", "Kali GNU/Linux Rolling"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm64", Support: Compatible,
				Reason: "Kali GNU/Linux 2024.4 is not on AWS's list of supported distributions; it is like debian (ID_LIKE), so the deb package should work"},
		},
		{
			name: "quoting fixture",
			root: rootSpec{fixture: "quoting", arch: "amd64", files: aptSystemd},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("example", "ubuntu debian", "1.0", "Example Linux", "Example \"Quoted\" Linux $HOME `tick` back\\slash"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Compatible,
				Reason: "Example Linux 1.0 is not on AWS's list of supported distributions; it is like ubuntu (ID_LIKE), so the deb package should work"},
		},
		// Unsupported
		{
			name: "alpine, sh is an absolute link to busybox inside the root",
			root: rootSpec{fixture: "alpine-3.21", extra: fstest.MapFS{
				"bin/sh":      {Mode: symlink, Data: []byte("/bin/busybox")},
				"bin/busybox": {Data: elfFor("arm64")},
			}},
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:     dist("alpine", "", "3.21.0", "Alpine Linux", "Alpine Linux v3.21"),
				InitSystem: "none",
				Support:    Unsupported,
				Reason:     "Alpine Linux 3.21.0 is not a distribution AWS supports; AWS publishes the agent only as rpm and deb packages for the distributions it lists"},
		},
		{
			name: "arch",
			root: rootSpec{fixture: "arch", arch: "amd64", files: []string{"usr/lib/systemd/systemd"}},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:     dist("arch", "", "", "Arch Linux", "Arch Linux"),
				InitSystem: "systemd", Support: Unsupported,
				Reason: "Arch Linux is not a distribution AWS supports; AWS publishes the agent only as rpm and deb packages for the distributions it lists"},
		},
		{
			name: "gentoo",
			root: rootSpec{fixture: "gentoo", arch: "amd64"},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:     dist("gentoo", "", "2.17", "Gentoo", "Gentoo Linux"),
				InitSystem: "none", Support: Unsupported,
				Reason: "Gentoo 2.17 is not a distribution AWS supports; AWS publishes the agent only as rpm and deb packages for the distributions it lists"},
		},
		{
			name: "nixos",
			root: rootSpec{fixture: "nixos-24.11", arch: "amd64"},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:     dist("nixos", "", "24.11", "NixOS", "NixOS 24.11 (Vicuna)"),
				InitSystem: "none", Support: Unsupported,
				Reason: "NixOS 24.11 is not a distribution AWS supports; AWS publishes the agent only as rpm and deb packages for the distributions it lists"},
		},
		{
			name: "flatcar",
			root: rootSpec{fixture: "flatcar", arch: "amd64", files: []string{"usr/lib/systemd/systemd"}},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:     dist("flatcar", "coreos", "4081.2.1", "Flatcar Container Linux by Kinvolk", "Flatcar Container Linux by Kinvolk 4081.2.1 (Oklo)"),
				InitSystem: "systemd", Support: Unsupported,
				Reason: "Flatcar Container Linux by Kinvolk 4081.2.1 is not a distribution AWS supports, nor like one (ID_LIKE coreos); AWS publishes the agent only as rpm and deb packages for the distributions it lists"},
		},
		{
			name: "freebsd root",
			root: rootSpec{fixture: "freebsd-14", files: []string{"boot/kernel/kernel"}, extra: fstest.MapFS{
				"bin/sh": {Data: elfHeader(2, 1, 62)},
			}},
			want: Platform{OS: "freebsd", Arch: "amd64",
				Distro:     dist("freebsd", "", "14.2", "FreeBSD", "FreeBSD 14.2-RELEASE"),
				InitSystem: "none", Support: Unsupported,
				Reason: "AWS publishes the agent only for Linux, Windows and macOS, not for freebsd"},
		},
		// Other facts
		{
			name: "arch override in uname spelling beats the ELF header",
			root: rootSpec{fixture: "ubuntu-22.04", arch: "amd64", files: aptSystemd},
			arch: "aarch64",
			want: Platform{OS: "linux", Arch: "arm64",
				Distro:        dist("ubuntu", "debian", "22.04", "Ubuntu", "Ubuntu 22.04.5 LTS"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_arm64", Support: Official},
		},
		{
			name: "host kernel older than 3.2 caps the agent version",
			root: rootSpec{fixture: "debian-8", files: with(aptSystemd, "run/systemd/system/"), extra: fstest.MapFS{
				"proc/sys/kernel/osrelease": {Data: []byte("2.6.32-5-amd64\n")},
			}},
			host: true, arch: "amd64",
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "8", "Debian GNU/Linux", "Debian GNU/Linux 8 (jessie)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Official,
				Kernel: "2.6.32-5-amd64", MaxAgentVersion: "3.0.1479.0"},
		},
		{
			name: "image root: its newest installed kernel, never a /proc mounted inside it",
			root: rootSpec{fixture: "centos-7", arch: "amd64", files: with(yumSystemd,
				"lib/modules/3.10.0-1160.el7.x86_64/", "lib/modules/3.10.0-957.el7.x86_64/", "lib/modules/extra/"), extra: fstest.MapFS{
				"proc/sys/kernel/osrelease": {Data: []byte("2.6.32-754.el6.x86_64\n")},
			}},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("centos", "rhel fedora", "7", "CentOS Linux", "CentOS Linux 7 (Core)"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official,
				Kernel: "3.10.0-1160.el7.x86_64"},
		},
		{
			name: "image root with only an old kernel",
			root: rootSpec{fixture: "debian-8", arch: "amd64", files: with(aptSystemd, "lib/modules/2.6.32-5-amd64/")},
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("debian", "", "8", "Debian GNU/Linux", "Debian GNU/Linux 8 (jessie)"),
				PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd", PlatformFolder: "debian_amd64", Support: Official,
				Kernel: "2.6.32-5-amd64", MaxAgentVersion: "3.0.1479.0"},
		},
		{
			name: "host kernel 3.10 does not",
			root: rootSpec{fixture: "centos-7", files: with(yumSystemd, "run/systemd/system/"), extra: fstest.MapFS{
				"proc/sys/kernel/osrelease": {Data: []byte("3.10.0-1160.el7.x86_64\n")},
			}},
			host: true, arch: "x86_64",
			want: Platform{OS: "linux", Arch: "amd64",
				Distro:        dist("centos", "rhel fedora", "7", "CentOS Linux", "CentOS Linux 7 (Core)"),
				PackageFormat: "rpm", PackageManager: "yum", InitSystem: "systemd", PlatformFolder: "linux_amd64", Support: Official,
				Kernel: "3.10.0-1160.el7.x86_64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := runtest.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			o := Options{FS: tt.root.build(t), RootDir: "/mnt/image", Arch: tt.arch, IsHost: tt.host, Runner: fake}
			if tt.host {
				o.GOOS = "linux" // the fake root is a Linux host whatever runs the test
			}
			got, err := Detect(context.Background(), o)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Detect mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDetectUnknownArch: a root whose executables tell nothing is taken to have the
// architecture of ssm-setup itself, with a note saying so.
func TestDetectUnknownArch(t *testing.T) {
	fsys := rootSpec{fixture: "gentoo", extra: fstest.MapFS{"bin/sh": {Data: []byte("#!/bin/busybox\n")}}}.build(t)
	got, err := Detect(context.Background(), Options{FS: fsys, RootDir: "/mnt/image", Runner: runtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Arch != runtime.GOARCH {
		t.Errorf("got arch %q, want %q", got.Arch, runtime.GOARCH)
	}
	want := []string{"could not read the architecture of /mnt/image from bin/sh, usr/bin/env, bin/bash; assuming " + runtime.GOARCH +
		", the architecture of ssm-setup itself (pass --arch to set it)"}
	if diff := cmp.Diff(want, got.Notes); diff != "" {
		t.Errorf("notes mismatch (-want +got):\n%s", diff)
	}
}

func TestDetectErrors(t *testing.T) {
	tests := []struct {
		name     string
		fsys     fstest.MapFS
		opts     Options
		wantKind fail.Kind
		wantMsg  []string
		wantHint string
	}{
		{
			name:     "malformed os-release",
			fsys:     rootSpec{fixture: "malformed", arch: "amd64"}.build(t),
			wantKind: fail.Unsupported,
			wantMsg:  []string{"etc/os-release", "/mnt/image", "line 3", "unterminated double quote"},
		},
		{
			name:     "malformed usr/lib/os-release",
			fsys:     fstest.MapFS{"usr/lib/os-release": {Data: []byte("ID=x\nthis is not an assignment\n")}},
			wantKind: fail.Unsupported,
			wantMsg:  []string{"usr/lib/os-release", "line 2"},
		},
		{
			name:     "malformed system-release",
			fsys:     fstest.MapFS{"etc/system-release": {Data: []byte("Welcome\n")}},
			wantKind: fail.Unsupported,
			wantMsg:  []string{"etc/system-release", "line 1"},
		},
		{
			name:     "no release file at all",
			fsys:     fstest.MapFS{"bin/sh": {Data: elfFor("amd64")}},
			wantKind: fail.Usage,
			wantMsg:  []string{"no etc/os-release or usr/lib/os-release under /mnt/image"},
			wantHint: "point --root at the root of a Linux system",
		},
		{
			name:     "os-release is a link that leaves the root",
			fsys:     fstest.MapFS{"etc/os-release": {Mode: symlink, Data: []byte("../../../../../../host/etc/os-release")}},
			wantKind: fail.Usage,
			wantMsg:  []string{"no etc/os-release"},
		},
		{
			name:     "bad arch override",
			fsys:     rootSpec{fixture: "debian-12"}.build(t),
			opts:     Options{Arch: "sparc"},
			wantKind: fail.Usage,
			wantMsg:  []string{`"sparc"`, "amd64", "arm64", "386", "arm"},
		},
		{
			name:     "a Windows root that is not the host",
			fsys:     fstest.MapFS{"Windows/System32": {Mode: fs.ModeDir | 0o755}},
			wantKind: fail.Unsupported,
			wantMsg:  []string{"cannot read the Windows version of /mnt/image"},
		},
		{
			name:     "GOOS darwin without SystemVersion.plist",
			fsys:     fstest.MapFS{},
			opts:     Options{GOOS: "darwin"},
			wantKind: fail.Usage,
			wantMsg:  []string{"System/Library/CoreServices/SystemVersion.plist", "/mnt/image"},
		},
		{
			name:     "malformed SystemVersion.plist",
			fsys:     fstest.MapFS{systemVersionPlist: {Data: []byte("<plist><dict><key>ProductName</key>")}},
			wantKind: fail.Unsupported,
			wantMsg:  []string{"malformed /mnt/image/System/Library/CoreServices/SystemVersion.plist"},
		},
		{
			name:     "no FS",
			fsys:     nil,
			wantKind: fail.Unexpected,
			wantMsg:  []string{"FS is nil"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			if tt.fsys != nil {
				o.FS = tt.fsys
			}
			o.RootDir, o.Runner = "/mnt/image", runtest.New(t)
			_, err := Detect(context.Background(), o)
			if err == nil {
				t.Fatal("got no error")
			}
			if got := fail.KindOf(err); got != tt.wantKind {
				t.Errorf("got kind %v, want %v (%v)", got, tt.wantKind, err)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.wantHint != "" && fail.HintOf(err) != tt.wantHint {
				t.Errorf("got hint %q, want %q", fail.HintOf(err), tt.wantHint)
			}
		})
	}
}

// TestPlatformJSON pins the JSON shape of `ssm-setup detect --output json`: id_like is
// always a list, notes are left out when there are none.
func TestPlatformJSON(t *testing.T) {
	p, err := Detect(context.Background(), Options{FS: rootSpec{fixture: "debian-12", arch: "amd64", files: aptSystemd}.build(t), Runner: runtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"os":"linux","arch":"amd64","distro":{"id":"debian","id_like":[],"version_id":"12","name":"Debian GNU/Linux","pretty_name":"Debian GNU/Linux 12 (bookworm)"},` +
		`"package_format":"deb","package_manager":"apt","init_system":"systemd","platform_folder":"debian_amd64","support":"official","reason":"",` +
		`"max_agent_version":"","kernel":"","agent":{"installed":false,"version":"","via":""}}`
	if string(data) != want {
		t.Errorf("got JSON\n%s\nwant\n%s", data, want)
	}
}

// TestDetectHost runs Detect on the machine the test runs on, as `ssm-setup detect` does.
// It checks only what holds on any Linux host.
func TestDetectHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the host is not Linux")
	}
	if _, err := os.Stat("/etc/os-release"); err != nil {
		if _, err := os.Stat("/usr/lib/os-release"); err != nil {
			t.Skip("the host has no os-release")
		}
	}
	p, err := Detect(context.Background(), Options{FS: os.DirFS("/"), RootDir: "/", IsHost: true, Runner: run.Exec{}})
	if err != nil {
		t.Fatal(err)
	}
	if p.OS != "linux" || p.Arch != runtime.GOARCH || p.Distro.ID == "" || p.InitSystem == "" {
		t.Errorf("implausible host platform: %+v", p)
	}
	t.Logf("host: %s %s, %s/%s via %s, init %s, %s", p.Distro.PrettyName, p.Arch, p.PackageFormat, p.PlatformFolder, p.PackageManager, p.InitSystem, p.Support)
}

// BenchmarkDetectHost measures `detect` on this machine; it must stay well under 20 ms.
func BenchmarkDetectHost(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the host is not Linux")
	}
	o := Options{FS: os.DirFS("/"), RootDir: "/", IsHost: true, Runner: run.Exec{}}
	for b.Loop() {
		if _, err := Detect(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
}
