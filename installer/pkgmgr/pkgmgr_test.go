package pkgmgr

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

const imageDir = "/srv/image"

func imageRoot(t *testing.T) sysroot.Root {
	t.Helper()
	root, err := sysroot.New(imageDir)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func lines(cmds []run.Cmd) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.String())
	}
	return out
}

func TestInstallCmds(t *testing.T) {
	const file = "/var/cache/ssm-setup/amazon-ssm-agent.pkg"
	tests := []struct {
		name  string
		mgr   string
		image bool
		o     InstallOptions
		want  []string
	}{
		{name: "dpkg", mgr: Dpkg, want: []string{"dpkg -i " + file}},
		{name: "dpkg downgrade", mgr: Dpkg, o: InstallOptions{Downgrade: true}, want: []string{"dpkg -i " + file}},
		{name: "dpkg image", mgr: Dpkg, image: true, want: []string{"dpkg --root=/srv/image -i " + file}},
		{name: "apt", mgr: Apt, want: []string{"apt-get install -y " + file}},
		{name: "apt upgrade", mgr: Apt, o: InstallOptions{Upgrade: true}, want: []string{"apt-get install -y " + file}},
		{name: "apt downgrade", mgr: Apt, o: InstallOptions{Downgrade: true}, want: []string{"apt-get install -y --allow-downgrades " + file}},
		{name: "apt reinstall", mgr: Apt, o: InstallOptions{Reinstall: true}, want: []string{"apt-get install -y --reinstall " + file}},
		{name: "rpm", mgr: RPM, want: []string{"rpm -U " + file}},
		{name: "rpm downgrade", mgr: RPM, o: InstallOptions{Downgrade: true}, want: []string{"rpm -U --oldpackage " + file}},
		{name: "rpm reinstall", mgr: RPM, o: InstallOptions{Reinstall: true}, want: []string{"rpm -U --replacepkgs " + file}},
		{name: "rpm image", mgr: RPM, image: true, want: []string{"rpm --root /srv/image -U " + file}},
		{name: "rpm image downgrade", mgr: RPM, image: true, o: InstallOptions{Downgrade: true}, want: []string{"rpm --root /srv/image -U --oldpackage " + file}},
		{name: "dnf", mgr: DNF, want: []string{"dnf install -y " + file}},
		{name: "dnf upgrade", mgr: DNF, o: InstallOptions{Upgrade: true}, want: []string{"dnf install -y " + file}},
		{name: "dnf downgrade", mgr: DNF, o: InstallOptions{Downgrade: true}, want: []string{"dnf downgrade -y " + file}},
		{name: "dnf reinstall", mgr: DNF, o: InstallOptions{Reinstall: true}, want: []string{"dnf reinstall -y " + file}},
		{name: "dnf downgrade wins over reinstall", mgr: DNF, o: InstallOptions{Downgrade: true, Reinstall: true}, want: []string{"dnf downgrade -y " + file}},
		{name: "yum", mgr: Yum, want: []string{"yum install -y " + file}},
		{name: "yum downgrade", mgr: Yum, o: InstallOptions{Downgrade: true}, want: []string{"yum downgrade -y " + file}},
		{name: "yum reinstall", mgr: Yum, o: InstallOptions{Reinstall: true}, want: []string{"yum reinstall -y " + file}},
		{name: "zypper", mgr: Zypper, want: []string{"zypper --non-interactive install " + file}},
		{name: "zypper downgrade", mgr: Zypper, o: InstallOptions{Downgrade: true}, want: []string{"zypper --non-interactive install --oldpackage " + file}},
		{name: "zypper reinstall", mgr: Zypper, o: InstallOptions{Reinstall: true}, want: []string{"zypper --non-interactive install --force " + file}},
		{name: "snap", mgr: Snap, want: []string{"snap install amazon-ssm-agent --classic"}},
		{name: "snap upgrade", mgr: Snap, o: InstallOptions{Upgrade: true}, want: []string{"snap refresh amazon-ssm-agent"}},
		{name: "snap reinstall", mgr: Snap, o: InstallOptions{Reinstall: true}, want: []string{"snap refresh amazon-ssm-agent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := sysroot.Root{}
			if tt.image {
				root = imageRoot(t)
			}
			m, err := New(tt.mgr, root, runtest.New(t))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if diff := cmp.Diff(tt.want, lines(m.InstallCmds(file, tt.o))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAptUsesAbsolutePathAndNoninteractive(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	m, err := New(Apt, sysroot.Root{}, runtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	cmds := m.InstallCmds("amazon-ssm-agent.deb", InstallOptions{})
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	want := "apt-get install -y " + filepath.Join(wd, "amazon-ssm-agent.deb")
	if got := cmds[0].String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, c := range append(cmds, m.RemoveCmds(true)...) {
		if diff := cmp.Diff([]string{"DEBIAN_FRONTEND=noninteractive"}, c.Env); diff != "" {
			t.Errorf("%s: env (-want +got):\n%s", c, diff)
		}
	}
}

func TestRemoveAndImportKeyCmds(t *testing.T) {
	const key = "/tmp/ssm-agent.asc"
	tests := []struct {
		name       string
		mgr        string
		image      bool
		purge      bool
		wantRemove []string
		wantImport []string
	}{
		{name: "dpkg", mgr: Dpkg, wantRemove: []string{"dpkg -r amazon-ssm-agent"}},
		{name: "dpkg purge", mgr: Dpkg, purge: true, wantRemove: []string{"dpkg -P amazon-ssm-agent"}},
		{name: "dpkg image purge", mgr: Dpkg, image: true, purge: true, wantRemove: []string{"dpkg --root=/srv/image -P amazon-ssm-agent"}},
		{name: "apt", mgr: Apt, wantRemove: []string{"apt-get remove -y amazon-ssm-agent"}},
		{name: "apt purge", mgr: Apt, purge: true, wantRemove: []string{"apt-get purge -y amazon-ssm-agent"}},
		{name: "rpm", mgr: RPM, wantRemove: []string{"rpm -e amazon-ssm-agent"}, wantImport: []string{"rpm --import " + key}},
		{name: "rpm purge", mgr: RPM, purge: true, wantRemove: []string{"rpm -e amazon-ssm-agent"}, wantImport: []string{"rpm --import " + key}},
		{name: "rpm image", mgr: RPM, image: true, wantRemove: []string{"rpm --root /srv/image -e amazon-ssm-agent"}, wantImport: []string{"rpm --root /srv/image --import " + key}},
		{name: "dnf", mgr: DNF, wantRemove: []string{"dnf remove -y amazon-ssm-agent"}, wantImport: []string{"rpm --import " + key}},
		{name: "yum", mgr: Yum, wantRemove: []string{"yum remove -y amazon-ssm-agent"}, wantImport: []string{"rpm --import " + key}},
		{name: "zypper", mgr: Zypper, wantRemove: []string{"zypper --non-interactive remove amazon-ssm-agent"}, wantImport: []string{"rpm --import " + key}},
		{name: "snap", mgr: Snap, wantRemove: []string{"snap remove amazon-ssm-agent"}},
		{name: "snap purge", mgr: Snap, purge: true, wantRemove: []string{"snap remove --purge amazon-ssm-agent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := sysroot.Root{}
			if tt.image {
				root = imageRoot(t)
			}
			m, err := New(tt.mgr, root, runtest.New(t))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if diff := cmp.Diff(tt.wantRemove, lines(m.RemoveCmds(tt.purge))); diff != "" {
				t.Errorf("RemoveCmds (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantImport, lines(m.ImportKeyCmds(key))); diff != "" {
				t.Errorf("ImportKeyCmds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name       string
		mgr        string
		image      bool
		wantFormat string
		wantKind   fail.Kind // 0 = success
	}{
		{name: "dpkg", mgr: Dpkg, wantFormat: FormatDeb},
		{name: "apt", mgr: Apt, wantFormat: FormatDeb},
		{name: "rpm", mgr: RPM, wantFormat: FormatRPM},
		{name: "dnf", mgr: DNF, wantFormat: FormatRPM},
		{name: "yum", mgr: Yum, wantFormat: FormatRPM},
		{name: "zypper", mgr: Zypper, wantFormat: FormatRPM},
		{name: "snap", mgr: Snap, wantFormat: FormatSnap},
		{name: "dpkg image", mgr: Dpkg, image: true, wantFormat: FormatDeb},
		{name: "rpm image", mgr: RPM, image: true, wantFormat: FormatRPM},
		{name: "apt image", mgr: Apt, image: true, wantKind: fail.Unsupported},
		{name: "dnf image", mgr: DNF, image: true, wantKind: fail.Unsupported},
		{name: "zypper image", mgr: Zypper, image: true, wantKind: fail.Unsupported},
		{name: "snap image", mgr: Snap, image: true, wantKind: fail.Unsupported},
		{name: "unknown", mgr: "pacman", wantKind: fail.Unsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := sysroot.Root{}
			if tt.image {
				root = imageRoot(t)
			}
			m, err := New(tt.mgr, root, runtest.New(t))
			if tt.wantKind != 0 {
				if got := fail.KindOf(err); err == nil || got != tt.wantKind {
					t.Fatalf("got error %v (kind %v), want kind %v", err, got, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if m.Name() != tt.mgr || m.Format() != tt.wantFormat {
				t.Errorf("got %s/%s, want %s/%s", m.Name(), m.Format(), tt.mgr, tt.wantFormat)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	tests := []struct {
		name      string
		format    string
		tools     []string
		image     bool
		want      string
		wantKind  fail.Kind
		wantInMsg string
	}{
		{name: "debian", format: FormatDeb, tools: []string{"dpkg", "apt-get"}, want: Apt},
		{name: "deb without apt", format: FormatDeb, tools: []string{"dpkg"}, want: Dpkg},
		{name: "deb image uses dpkg", format: FormatDeb, tools: []string{"dpkg", "apt-get"}, image: true, want: Dpkg},
		{name: "deb image without dpkg", format: FormatDeb, tools: []string{"apt-get"}, image: true, wantKind: fail.Unsupported, wantInMsg: "looked for dpkg"},
		{name: "deb nothing", format: FormatDeb, wantKind: fail.Unsupported, wantInMsg: "looked for apt-get, dpkg"},
		{name: "al2023 dnf and yum link", format: FormatRPM, tools: []string{"rpm", "yum", "dnf"}, want: DNF},
		{name: "al2 yum", format: FormatRPM, tools: []string{"rpm", "yum"}, want: Yum},
		{name: "sles zypper", format: FormatRPM, tools: []string{"rpm", "zypper"}, want: Zypper},
		{name: "bare rpm", format: FormatRPM, tools: []string{"rpm"}, want: RPM},
		{name: "rpm image uses rpm", format: FormatRPM, tools: []string{"rpm", "dnf"}, image: true, want: RPM},
		{name: "rpm nothing", format: FormatRPM, wantKind: fail.Unsupported, wantInMsg: "looked for dnf, yum, zypper, rpm"},
		{name: "snap", format: FormatSnap, tools: []string{"snap", "apt-get"}, want: Snap},
		{name: "snap missing", format: FormatSnap, wantKind: fail.Unsupported, wantInMsg: "looked for snap"},
		{name: "snap image", format: FormatSnap, tools: []string{"snap"}, image: true, wantKind: fail.Unsupported, wantInMsg: "image root"},
		{name: "unknown format", format: "apk", tools: []string{"apk"}, wantKind: fail.Unsupported, wantInMsg: `"apk" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			available := func(tool string) bool {
				for _, x := range tt.tools {
					if x == tool {
						return true
					}
				}
				return false
			}
			got, err := Choose(tt.format, available, tt.image)
			if tt.wantKind != 0 {
				if err == nil || fail.KindOf(err) != tt.wantKind || !strings.Contains(err.Error(), tt.wantInMsg) {
					t.Fatalf("got %q, %v (kind %v), want a %v error containing %q", got, err, fail.KindOf(err), tt.wantKind, tt.wantInMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Choose: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

const dpkgStatus = `Package: adduser
Status: install ok installed
Priority: important
Version: 3.118
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands.
 .
 Package: amazon-ssm-agent

Package: amazon-ssm-agent
Status: %s
Priority: optional
Section: admin
Architecture: amd64
Version: %s
Conffiles:
 /etc/amazon/ssm/seelog.xml.template 0123
Description: Amazon SSM Agent
 Manage EC2 instances.
`

func TestDebInstalled(t *testing.T) {
	tests := []struct {
		name          string
		status        string // file content; "-" = no file
		want          string
		wantInstalled bool
		wantErr       bool
	}{
		{name: "installed with revision", status: fmtStatus("install ok installed", "3.3.1142.0-1"), want: "3.3.1142.0", wantInstalled: true},
		{name: "installed with epoch", status: fmtStatus("install ok installed", "1:3.2.582.0-1"), want: "3.2.582.0", wantInstalled: true},
		{name: "installed plain", status: fmtStatus("install ok installed", "3.3.1142.0"), want: "3.3.1142.0", wantInstalled: true},
		{name: "half-configured counts", status: fmtStatus("install reinstreq half-configured", "3.3.1142.0-1"), want: "3.3.1142.0", wantInstalled: true},
		{name: "config files only", status: fmtStatus("deinstall ok config-files", "3.3.1142.0-1")},
		{name: "not installed", status: fmtStatus("purge ok not-installed", "3.3.1142.0-1")},
		{name: "other packages only", status: "Package: adduser\nStatus: install ok installed\nVersion: 3.118\n"},
		{name: "no status file", status: "-"},
		{name: "empty status file", status: ""},
		{name: "malformed status", status: fmtStatus("installed", "3.3.1142.0-1"), wantErr: true},
		{name: "malformed line", status: "Package amazon-ssm-agent\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{Dpkg, Apt} {
				root := statusRoot(t, tt.status)
				// Built directly: New refuses apt for a root other than the host's.
				m := &deb{name: name, root: root}
				got, installed, err := m.Installed(context.Background())
				if tt.wantErr {
					if err == nil || fail.KindOf(err) != fail.PackageManager {
						t.Errorf("%s: got %q, %v, %v, want a package_manager error", name, got, installed, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: Installed: %v", name, err)
				}
				if got != tt.want || installed != tt.wantInstalled {
					t.Errorf("%s: got %q, %v, want %q, %v", name, got, installed, tt.want, tt.wantInstalled)
				}
			}
		})
	}
}

func fmtStatus(status, version string) string {
	return strings.Replace(strings.Replace(dpkgStatus, "Status: %s", "Status: "+status, 1), "Version: %s", "Version: "+version, 1)
}

func TestRPMInstalled(t *testing.T) {
	tests := []struct {
		name          string
		mgr           string
		image         bool
		call          runtest.Call
		want          string
		wantInstalled bool
		wantKind      fail.Kind
	}{
		{
			name: "installed", mgr: DNF,
			call: runtest.Call{Line: `rpm -q --qf '%{VERSION}\n' amazon-ssm-agent`, Stdout: "3.3.1142.0\n"},
			want: "3.3.1142.0", wantInstalled: true,
		},
		{
			name: "installed image", mgr: RPM, image: true,
			call: runtest.Call{Line: `rpm --root /srv/image -q --qf '%{VERSION}\n' amazon-ssm-agent`, Stdout: "3.2.582.0\n"},
			want: "3.2.582.0", wantInstalled: true,
		},
		{
			name: "not installed", mgr: Yum,
			call: runtest.Call{Line: `rpm -q --qf '%{VERSION}\n' amazon-ssm-agent`, Stdout: "package amazon-ssm-agent is not installed\n", ExitCode: 1},
		},
		{
			name: "two versions", mgr: Zypper,
			call:     runtest.Call{Line: `rpm -q --qf '%{VERSION}\n' amazon-ssm-agent`, Stdout: "3.2.582.0\n3.3.1142.0\n"},
			wantKind: fail.PackageManager,
		},
		{
			name: "rpm database broken", mgr: RPM,
			call:     runtest.Call{Line: `rpm -q --qf '%{VERSION}\n' amazon-ssm-agent`, Stderr: "error: rpmdb: BDB0113 Thread/process 1234 failed", ExitCode: 1},
			wantKind: fail.PackageManager,
		},
		{
			name: "rpm missing", mgr: RPM,
			call:     runtest.Call{Line: `rpm -q --qf '%{VERSION}\n' amazon-ssm-agent`, Err: errors.New(`exec: "rpm": executable file not found in $PATH`)},
			wantKind: fail.PackageManager,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := sysroot.Root{}
			if tt.image {
				root = imageRoot(t)
			}
			m, err := New(tt.mgr, root, runtest.New(t).Expect(tt.call))
			if err != nil {
				t.Fatal(err)
			}
			got, installed, err := m.Installed(context.Background())
			if tt.wantKind != 0 {
				if err == nil || fail.KindOf(err) != tt.wantKind {
					t.Fatalf("got %q, %v, %v, want a %v error", got, installed, err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatalf("Installed: %v", err)
			}
			if got != tt.want || installed != tt.wantInstalled {
				t.Errorf("got %q, %v, want %q, %v", got, installed, tt.want, tt.wantInstalled)
			}
		})
	}
}

func TestSnapInstalled(t *testing.T) {
	tests := []struct {
		name          string
		call          runtest.Call
		want          string
		wantInstalled bool
		wantErr       bool
	}{
		{
			name: "installed",
			call: runtest.Call{Stdout: "Name              Version     Rev   Tracking       Publisher  Notes\namazon-ssm-agent  3.3.1142.0  9882  latest/stable  aws✓       classic\n"},
			want: "3.3.1142.0", wantInstalled: true,
		},
		{name: "not installed", call: runtest.Call{Stderr: "error: no matching snaps installed\n", ExitCode: 1}},
		{name: "unexpected output", call: runtest.Call{Stdout: "something else\n"}, wantErr: true},
		{name: "other snap only", call: runtest.Call{Stdout: "Name  Version  Rev\ncore  16  1\n"}, wantErr: true},
		{name: "snapd down", call: runtest.Call{Stderr: "error: cannot communicate with server", ExitCode: 1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := tt.call
			call.Line = "snap list amazon-ssm-agent"
			m, err := New(Snap, sysroot.Root{}, runtest.New(t).Expect(call))
			if err != nil {
				t.Fatal(err)
			}
			got, installed, err := m.Installed(context.Background())
			if tt.wantErr {
				if err == nil || fail.KindOf(err) != fail.PackageManager {
					t.Fatalf("got %q, %v, %v, want a package_manager error", got, installed, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Installed: %v", err)
			}
			if got != tt.want || installed != tt.wantInstalled {
				t.Errorf("got %q, %v, want %q, %v", got, installed, tt.want, tt.wantInstalled)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	exit := func(out string) error {
		return &run.ExitError{Cmd: "apt-get install -y /tmp/a.deb", ExitCode: 100, Output: out}
	}
	tests := []struct {
		name     string
		err      error
		wantKind fail.Kind
		wantHint string
	}{
		{name: "nil", err: nil, wantKind: 0},
		{name: "apt lock", err: exit("E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)"), wantKind: fail.PackageManager, wantHint: "another package manager is running; wait and re-run"},
		{name: "dpkg frontend lock", err: exit("dpkg: error: dpkg frontend lock was locked by another process with pid 4242"), wantKind: fail.PackageManager, wantHint: "another package manager is running; wait and re-run"},
		{name: "yum lock", err: exit("Existing lock /var/run/yum.pid: another copy is running as pid 4242."), wantKind: fail.PackageManager, wantHint: "another package manager is running; wait and re-run"},
		{name: "zypper lock", err: exit("System management is locked by the application with pid 4242 (zypper)."), wantKind: fail.PackageManager, wantHint: "another package manager is running; wait and re-run"},
		{name: "dpkg interrupted", err: exit("E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem."), wantKind: fail.PackageManager, wantHint: "repair the interrupted dpkg run with 'dpkg --configure -a', then re-run"},
		{name: "not root", err: exit("dpkg: error: requested operation requires superuser privilege"), wantKind: fail.PackageManager, wantHint: "re-run as root"},
		{name: "rpm newer installed", err: exit("package amazon-ssm-agent-3.3.1142.0-1.x86_64 (which is newer than amazon-ssm-agent-3.2.582.0-1.x86_64) is already installed"), wantKind: fail.PackageManager, wantHint: "a newer version is installed; ask for a downgrade explicitly"},
		{name: "rpm same installed", err: exit("package amazon-ssm-agent-3.3.1142.0-1.x86_64 is already installed"), wantKind: fail.PackageManager, wantHint: "this version is already installed; ask for a reinstall to install it again"},
		{name: "unknown failure", err: exit("E: Sub-process /usr/bin/dpkg returned an error code (1)"), wantKind: fail.PackageManager},
		{name: "could not start", err: errors.New(`run apt-get: exec: "apt-get": executable file not found in $PATH`), wantKind: fail.PackageManager},
		{name: "kind kept", err: fail.New(fail.Usage, "bad"), wantKind: fail.Usage},
		{name: "cancelled", err: context.Canceled, wantKind: fail.Unexpected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.err)
			if tt.err == nil {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if k := fail.KindOf(got); k != tt.wantKind {
				t.Errorf("kind: got %v, want %v", k, tt.wantKind)
			}
			if h := fail.HintOf(got); h != tt.wantHint {
				t.Errorf("hint: got %q, want %q", h, tt.wantHint)
			}
			if got.Error() != tt.err.Error() {
				t.Errorf("message: got %q, want the original %q", got.Error(), tt.err.Error())
			}
		})
	}
}

func TestDebIncomplete(t *testing.T) {
	tests := []struct {
		name           string
		status         string // file content; "-" = no file
		wantState      string
		wantIncomplete bool
	}{
		{name: "fully installed", status: fmtStatus("install ok installed", "3.3.1142.0-1"), wantState: "installed"},
		{name: "unpacked after a failed configure", status: fmtStatus("install ok unpacked", "3.3.1142.0-1"), wantState: "unpacked", wantIncomplete: true},
		{name: "half-installed", status: fmtStatus("install ok half-installed", "3.3.1142.0-1"), wantState: "half-installed", wantIncomplete: true},
		{name: "flagged for reinstall", status: fmtStatus("install reinstreq half-configured", "3.3.1142.0-1"), wantState: "reinst-required", wantIncomplete: true},
		{name: "removed", status: fmtStatus("deinstall ok config-files", "3.3.1142.0-1")},
		{name: "no status file", status: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, incomplete := DebIncomplete(statusRoot(t, tt.status))
			if state != tt.wantState || incomplete != tt.wantIncomplete {
				t.Errorf("got %q, %v, want %q, %v", state, incomplete, tt.wantState, tt.wantIncomplete)
			}
		})
	}
}

// statusRoot is a temp root whose dpkg status file holds status ("-": no file).
func statusRoot(t *testing.T, status string) sysroot.Root {
	t.Helper()
	root, err := sysroot.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if status != "-" {
		path := root.Path(StatusFile)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(status), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
