package installer

import (
	"strings"
	"testing"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// debPlatform and rpmPlatform are supported amd64 platforms with systemd; tests change
// copies of them.
var (
	debPlatform = distro.Platform{
		OS: "linux", Arch: "amd64", Distro: distro.Distro{ID: "debian", VersionID: "12"},
		PackageFormat: "deb", PackageManager: "apt", InitSystem: "systemd",
		PlatformFolder: "debian_amd64", Support: distro.Official,
	}
	rpmPlatform = distro.Platform{
		OS: "linux", Arch: "amd64", Distro: distro.Distro{ID: "amzn", VersionID: "2023"},
		PackageFormat: "rpm", PackageManager: "dnf", InitSystem: "systemd",
		PlatformFolder: "linux_amd64", Support: distro.Official,
	}
)

// withSnapAgent returns p with an agent installed as a snap.
func withSnapAgent(p distro.Platform) distro.Platform {
	p.Agent = distro.Agent{Installed: true, Version: "3.3.1142.0", Via: "snap"}
	return p
}

// tempRoot is an image root in a new temporary directory.
func tempRoot(t *testing.T) sysroot.Root {
	t.Helper()
	root, err := sysroot.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// checkErr fails t unless err matches: no error when wantKind is 0, else an error of
// wantKind whose message contains wantMsg.
func checkErr(t *testing.T, err error, wantKind fail.Kind, wantMsg string) {
	t.Helper()
	switch {
	case wantKind == 0 && err != nil:
		t.Fatalf("got error %v (kind %v), want none", err, fail.KindOf(err))
	case wantKind == 0:
	case err == nil:
		t.Fatalf("got no error, want a %v error containing %q", wantKind, wantMsg)
	case fail.KindOf(err) != wantKind:
		t.Fatalf("got error kind %v (%v), want %v", fail.KindOf(err), err, wantKind)
	case !strings.Contains(err.Error(), wantMsg):
		t.Fatalf("got error %q, want it to contain %q", err, wantMsg)
	}
}

func TestChooseManager(t *testing.T) {
	allTools := []string{"apt-get", "dpkg", "dnf", "yum", "zypper", "rpm", "snap"}
	tests := []struct {
		name        string
		platform    distro.Platform
		requested   string
		image       bool     // a t.TempDir root instead of the host's "/"
		tools       []string // programs on the fake PATH
		wantFormat  string
		wantManager string
		wantKind    fail.Kind
		wantMsg     string
	}{
		{name: "deb platform picks apt", platform: debPlatform, tools: allTools, wantFormat: "deb", wantManager: "apt"},
		{name: "deb platform without apt-get picks dpkg", platform: debPlatform, tools: []string{"dpkg"}, wantFormat: "deb", wantManager: "dpkg"},
		{name: "rpm platform picks dnf", platform: rpmPlatform, tools: allTools, wantFormat: "rpm", wantManager: "dnf"},
		{name: "rpm platform with yum only", platform: rpmPlatform, tools: []string{"yum", "rpm"}, wantFormat: "rpm", wantManager: "yum"},
		{name: "explicit deb on a deb platform", platform: debPlatform, requested: "deb", tools: allTools, wantFormat: "deb", wantManager: "apt"},
		{name: "explicit snap", platform: debPlatform, requested: "snap", tools: allTools, wantFormat: "snap", wantManager: "snap"},
		{name: "snap agent is managed with snap", platform: withSnapAgent(debPlatform), tools: allTools, wantFormat: "snap", wantManager: "snap"},
		{name: "snap agent and snap requested", platform: withSnapAgent(debPlatform), requested: "snap", tools: allTools, wantFormat: "snap", wantManager: "snap"},
		{
			name: "snap agent and deb requested", platform: withSnapAgent(debPlatform), requested: "deb", tools: allTools,
			wantKind: fail.Usage, wantMsg: "the agent is installed as a snap; a deb agent beside it would break both",
		},
		{
			name: "rpm requested on a deb platform", platform: debPlatform, requested: "rpm", tools: allTools,
			wantKind: fail.Usage, wantMsg: `invalid --package-format "rpm": this platform uses deb packages`,
		},
		{
			name: "invalid value", platform: debPlatform, requested: "msi", tools: allTools,
			wantKind: fail.Usage, wantMsg: `invalid --package-format "msi": must be deb, rpm or snap`,
		},
		{
			name: "invalid value is refused before the snap rule", platform: withSnapAgent(debPlatform), requested: "Deb", tools: allTools,
			wantKind: fail.Usage, wantMsg: `invalid --package-format "Deb"`,
		},
		{name: "image root uses dpkg", platform: debPlatform, image: true, tools: allTools, wantFormat: "deb", wantManager: "dpkg"},
		{name: "image root uses rpm", platform: rpmPlatform, image: true, tools: allTools, wantFormat: "rpm", wantManager: "rpm"},
		{
			name: "snap into an image root", platform: debPlatform, requested: "snap", image: true, tools: allTools,
			wantKind: fail.Usage, wantMsg: "snap installs need a running system",
		},
		{
			name: "no package format", platform: distro.Platform{OS: "linux", Arch: "amd64"}, tools: allTools,
			wantKind: fail.Unsupported, wantMsg: "no package format for this platform",
		},
		{
			name: "no tool for the format", platform: rpmPlatform, tools: []string{"apt-get", "dpkg"},
			wantKind: fail.Unsupported, wantMsg: "no package manager for rpm packages found (looked for dnf, yum, zypper, rpm)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := runtest.New(t) // ChooseManager only looks up programs: any Run fails the test
			for _, tool := range tt.tools {
				fake.SetPath(tool, "/usr/bin/"+tool)
			}
			root := sysroot.Root{}
			if tt.image {
				root = tempRoot(t)
			}
			format, manager, err := ChooseManager(tt.platform, tt.requested, root, fake)
			checkErr(t, err, tt.wantKind, tt.wantMsg)
			if format != tt.wantFormat || manager != tt.wantManager {
				t.Errorf("got format %q, manager %q; want %q, %q", format, manager, tt.wantFormat, tt.wantManager)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name           string
		before         string
		installed      bool
		target         string
		allowDowngrade bool
		force          bool
		want           string
		wantKind       fail.Kind
		wantMsg        string
		wantHint       string
	}{
		{name: "not installed", target: "3.3.100.0", want: ActionInstalled},
		{name: "not installed ignores a stale version", before: "9.9.9.9", target: "3.3.100.0", want: ActionInstalled},
		{name: "same version", before: "3.3.100.0", installed: true, target: "3.3.100.0", want: ActionUnchanged},
		{name: "same version with force", before: "3.3.100.0", installed: true, target: "3.3.100.0", force: true, want: ActionReinstalled},
		{name: "newer", before: "3.3.99.0", installed: true, target: "3.3.100.0", want: ActionUpgraded},
		{name: "newer with force is still an upgrade", before: "3.3.99.0", installed: true, target: "3.3.100.0", force: true, want: ActionUpgraded},
		{name: "newer in the fourth part", before: "3.3.100.0", installed: true, target: "3.3.100.1", want: ActionUpgraded},
		{name: "four parts compare as numbers", before: "3.3.100.0", installed: true, target: "3.3.99.0", allowDowngrade: true, want: ActionDowngraded},
		{
			name: "older", before: "3.3.100.0", installed: true, target: "3.3.99.0",
			wantKind: fail.Usage, wantMsg: "agent 3.3.100.0 is installed and 3.3.99.0 is older: refusing to downgrade", wantHint: "--allow-downgrade",
		},
		{
			name: "older with force is still refused", before: "3.3.100.0", installed: true, target: "3.2.0.0", force: true,
			wantKind: fail.Usage, wantMsg: "refusing to downgrade", wantHint: "--allow-downgrade",
		},
		{name: "older with allow", before: "3.3.100.0", installed: true, target: "3.2.2303.0", allowDowngrade: true, want: ActionDowngraded},
		{name: "snap refresh has no target", before: "3.3.100.0", installed: true, want: ActionUpgraded},
		{
			name: "unreadable installed version", before: "3.3", installed: true, target: "3.3.100.0",
			wantKind: fail.Unexpected, wantMsg: "installed agent version",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decide(tt.before, tt.installed, tt.target, tt.allowDowngrade, tt.force)
			if tt.wantKind == fail.Unexpected {
				if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantMsg)
				}
				return
			}
			checkErr(t, err, tt.wantKind, tt.wantMsg)
			if got != tt.want {
				t.Errorf("got action %q, want %q", got, tt.want)
			}
			if hint := fail.HintOf(err); !strings.Contains(hint, tt.wantHint) {
				t.Errorf("got hint %q, want it to contain %q", hint, tt.wantHint)
			}
			if tt.wantKind != 0 && fail.Code(err) != 2 {
				t.Errorf("got exit code %d, want 2", fail.Code(err))
			}
		})
	}
}

// TestPreflight covers the checks Install makes before it reads or changes anything.
// Rows with the host root only look up programs on the fake PATH and read the free
// space of /usr: preflight writes nothing.
func TestPreflight(t *testing.T) {
	noInit := debPlatform
	noInit.InitSystem = "none"
	unsupported := debPlatform
	unsupported.Support = distro.Unsupported
	unsupported.Reason = "Debian 8 is too old"
	windows := debPlatform
	windows.OS, windows.PackageFormat, windows.PlatformFolder = "windows", "exe", "windows_amd64"
	upstart := rpmPlatform
	upstart.InitSystem = "upstart"

	tests := []struct {
		name        string
		platform    distro.Platform
		image       bool
		noStart     bool
		dryRun      bool
		wantManager string
		wantUnit    string // "" means no service manager
		wantStart   bool   // the run starts and checks the service
		wantWarning string
		wantKind    fail.Kind
		wantMsg     string
		wantHint    string
	}{
		{name: "host with systemd", platform: debPlatform, wantManager: "apt", wantUnit: "amazon-ssm-agent", wantStart: true},
		{name: "host with upstart", platform: upstart, wantManager: "dnf", wantUnit: "amazon-ssm-agent", wantStart: true},
		{name: "snap agent uses the snap unit", platform: withSnapAgent(debPlatform), wantManager: "snap", wantUnit: service.SnapUnit, wantStart: true},
		// With --no-start the service manager still reports the real state.
		{name: "no start", platform: debPlatform, noStart: true, wantManager: "apt", wantUnit: "amazon-ssm-agent"},
		{name: "image root starts nothing", platform: debPlatform, image: true, wantManager: "dpkg"},
		{
			name: "no init system", platform: noInit,
			wantKind: fail.Unsupported, wantMsg: "no init system found to run the agent service", wantHint: "--no-start",
		},
		{
			name: "no init system in a dry run warns", platform: noInit, dryRun: true, wantManager: "apt",
			wantWarning: "no init system found to run the agent service: a real run stops here (exit 3); pass --no-start",
		},
		{name: "no init system with no start", platform: noInit, noStart: true, wantManager: "apt"},
		{
			name: "unsupported platform", platform: unsupported,
			wantKind: fail.Unsupported, wantMsg: "unsupported platform debian 12 amd64: Debian 8 is too old", wantHint: "ssm-setup detect",
		},
		{name: "not linux", platform: windows, wantKind: fail.Unsupported, wantMsg: "install on windows is not supported yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := runtest.New(t)
			for _, tool := range []string{"apt-get", "dpkg", "dnf", "rpm", "snap"} {
				fake.SetPath(tool, "/usr/bin/"+tool)
			}
			root := sysroot.Root{}
			if tt.image {
				root = tempRoot(t)
			}
			in := &installer{o: Options{Root: root, Runner: fake, Platform: tt.platform, NoStart: tt.noStart, DryRun: tt.dryRun}}
			err := in.preflight()
			checkErr(t, err, tt.wantKind, tt.wantMsg)
			if hint := fail.HintOf(err); !strings.Contains(hint, tt.wantHint) {
				t.Errorf("got hint %q, want it to contain %q", hint, tt.wantHint)
			}
			if err != nil {
				return
			}
			if got := in.pm.Name(); got != tt.wantManager {
				t.Errorf("got package manager %q, want %q", got, tt.wantManager)
			}
			gotUnit := ""
			if in.svc != nil {
				gotUnit = in.svc.Unit()
			}
			if gotUnit != tt.wantUnit {
				t.Errorf("got service unit %q, want %q", gotUnit, tt.wantUnit)
			}
			if in.start != tt.wantStart {
				t.Errorf("got start %v, want %v", in.start, tt.wantStart)
			}
			gotWarnings := strings.Join(in.warnings, "\n")
			if !strings.Contains(gotWarnings, tt.wantWarning) || (tt.wantWarning == "") != (gotWarnings == "") {
				t.Errorf("got warnings %q, want %q", gotWarnings, tt.wantWarning)
			}
		})
	}
}
