package installer

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/installer/pkgmgr"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
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

// TestInstallSnapRollback: an unhealthy snap refresh is undone with "snap revert" (snapd
// keeps the previous revision); no deb or rpm is fetched for it.
func TestInstallSnapRollback(t *testing.T) {
	root, err := sysroot.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const before, after = "3.3.1000.0", "3.3.1142.0"
	fake := runtest.New(t)
	for _, c := range []runtest.Call{
		{Line: "snap list amazon-ssm-agent", Stdout: snapList(before)},
		{Line: "snap refresh amazon-ssm-agent"},
		{Line: "snap list amazon-ssm-agent", Stdout: snapList(after)},
		{Line: "snap start --enable amazon-ssm-agent"},
		{Line: "snap revert amazon-ssm-agent"},
		{Line: "snap start --enable amazon-ssm-agent"},
	} {
		fake.Expect(c)
	}
	hr := &snapHealthRunner{Fake: fake, health: []string{snapShowFailed, snapShowActive}}
	pm, err := pkgmgr.New("snap", sysroot.Root{}, hr)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Systemd, true, hr)
	if err != nil {
		t.Fatal(err)
	}
	in := &installer{
		o: Options{
			Root: root, Runner: hr, Logger: slog.New(slog.DiscardHandler),
			Platform: distro.Platform{OS: "linux", Arch: "amd64", PackageFormat: "deb", Agent: distro.Agent{Installed: true, Version: before, Via: "snap"}},
			Now:      func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) },
			Health:   service.HealthOptions{Stable: 5 * time.Millisecond, Interval: time.Millisecond, Timeout: 200 * time.Millisecond},
		},
		log: slog.New(slog.DiscardHandler), pm: pm, svc: svc, start: true, format: "snap",
	}
	res, err := in.install(context.Background())
	checkErr(t, err, fail.Unhealthy, "agent 3.3.1142.0 was not healthy after the upgrade; rolled back to 3.3.1000.0")
	if !res.RolledBack || res.VersionAfter != before || res.Service != "active" {
		t.Errorf("got rolled back %v, version after %q, service %q; want true, %q, active", res.RolledBack, res.VersionAfter, res.Service, before)
	}
	st, err := state.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if st.Agent == nil || st.Agent.Version != before {
		t.Errorf("got state agent record %+v, want version %s", st.Agent, before)
	}
}

// Answers of `systemctl show` for the snap's unit.
const (
	snapShowActive = "ActiveState=active\nSubState=running\nUnitFileState=enabled\nMainPID=4242\nActiveEnterTimestamp=Fri 2026-11-27 15:00:00 UTC\n"
	snapShowFailed = "ActiveState=failed\nSubState=failed\nUnitFileState=enabled\nMainPID=0\nActiveEnterTimestamp=\n"
)

// snapHealthRunner answers the snap unit's state query with health[k-1] after the k-th
// start (health[0] before any), the last answer repeating; other calls go to the fake.
type snapHealthRunner struct {
	*runtest.Fake
	health []string
	starts int
}

func (h *snapHealthRunner) Run(ctx context.Context, c run.Cmd) (run.Output, error) {
	switch {
	case strings.HasPrefix(c.String(), "systemctl show "+service.SnapUnit+" "):
		return run.Output{Stdout: []byte(h.health[min(max(h.starts-1, 0), len(h.health)-1)])}, nil
	case c.String() == "snap start --enable amazon-ssm-agent":
		h.starts++
	}
	return h.Fake.Run(ctx, c)
}
