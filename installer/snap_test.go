package installer

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/installer/pkgmgr"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// snapList is `snap list amazon-ssm-agent` output for version v.
func snapList(v string) string {
	return "Name              Version     Rev    Tracking       Publisher   Notes\n" +
		"amazon-ssm-agent  " + v + "  9882   latest/stable  aws✓        classic\n"
}

// TestInstallSnap: a snap agent is managed through snap; the store decides the version,
// so a refresh that finds nothing newer reports no change, and one that does reports
// the upgrade with the version snap then lists.
func TestInstallSnap(t *testing.T) {
	tests := []struct {
		name        string
		before      string // "" = not installed
		after       string
		wantAction  string
		wantChanged bool
		wantCmd     string
	}{
		{name: "fresh install", after: "3.3.1142.0", wantAction: ActionInstalled, wantChanged: true, wantCmd: "snap install amazon-ssm-agent --classic"},
		{name: "refresh finds a newer revision", before: "3.3.1000.0", after: "3.3.1142.0", wantAction: ActionUpgraded, wantChanged: true, wantCmd: "snap refresh amazon-ssm-agent"},
		{name: "refresh finds nothing newer", before: "3.3.1142.0", after: "3.3.1142.0", wantAction: ActionUnchanged, wantChanged: false, wantCmd: "snap refresh amazon-ssm-agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := sysroot.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			fake := runtest.New(t)
			first := runtest.Call{Line: "snap list amazon-ssm-agent", Stdout: snapList(tt.before)}
			if tt.before == "" {
				first = runtest.Call{Line: "snap list amazon-ssm-agent", ExitCode: 1, Stderr: "error: no matching snaps installed"}
			}
			fake.Expect(first)
			fake.Expect(runtest.Call{Line: tt.wantCmd})
			fake.Expect(runtest.Call{Line: "snap list amazon-ssm-agent", Stdout: snapList(tt.after)})
			// snap manages the running system only (pkgmgr refuses it for image roots);
			// the state file still goes to the test's root.
			pm, err := pkgmgr.New("snap", sysroot.Root{}, fake)
			if err != nil {
				t.Fatal(err)
			}
			in := &installer{
				o: Options{
					Root: root, Runner: fake, Logger: slog.New(slog.DiscardHandler),
					Platform: distro.Platform{OS: "linux", Arch: "amd64", PackageFormat: "deb", Agent: distro.Agent{Installed: tt.before != "", Version: tt.before, Via: "snap"}},
					Now:      func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) },
				},
				log: slog.New(slog.DiscardHandler), pm: pm, format: "snap",
			}
			res, err := in.install(context.Background())
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if res.Action != tt.wantAction || res.Changed != tt.wantChanged || res.VersionAfter != tt.after || res.VersionBefore != tt.before {
				t.Errorf("got action %s changed %v %q -> %q, want %s %v %q -> %q", res.Action, res.Changed, res.VersionBefore, res.VersionAfter, tt.wantAction, tt.wantChanged, tt.before, tt.after)
			}
			if res.Source != "snap store" {
				t.Errorf("got source %q, want snap store", res.Source)
			}
		})
	}
}
