package uninstall

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/installer/pkgmgr"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

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

// Paths inside the root.
const (
	dropIn       = "/etc/systemd/system/amazon-ssm-agent.service.d/50-ssm-setup-proxy.conf"
	agentJSON    = "/etc/amazon/ssm/amazon-ssm-agent.json"
	seelog       = "/etc/amazon/ssm/seelog.xml"
	agentState   = "/var/lib/amazon/ssm"
	agentLogs    = "/var/log/amazon/ssm"
	registration = "/var/lib/amazon/ssm/registration"
	sudoersRule  = "/etc/sudoers.d/ssm-agent-users"
	ssmUserHome  = "/home/ssm-user"
	nodeID       = "mi-0123456789abcdef0"
)

var testNow = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

// fixture is a root with an installed agent as ssm-setup leaves it, built from parts.
type fixture struct {
	agent      string // installed version in the dpkg database, "" for none
	manager    string // the manager recorded in the state file, "" for no agent record
	dropIn     bool   // the proxy drop-in ssm-setup wrote (recorded in the state file)
	agentFiles bool   // configuration, state with a hybrid registration, and logs
	ssmUser    bool   // the ssm-user account, its home and its sudoers rule
}

func tempRoot(t *testing.T) sysroot.Root {
	t.Helper()
	root, err := sysroot.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func writeFile(t *testing.T, root sysroot.Root, path, content string) {
	t.Helper()
	p := root.Path(path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) build(t *testing.T, root sysroot.Root) {
	t.Helper()
	if f.agent != "" {
		writeFile(t, root, pkgmgr.StatusFile, "Package: amazon-ssm-agent\nStatus: install ok installed\nVersion: "+f.agent+"-1\n")
	}
	st := state.New()
	if f.manager != "" {
		format := "deb"
		if f.manager == "rpm" {
			format = "rpm"
		}
		st.Agent = &state.AgentRecord{Version: "3.3.100.0", PackageFormat: format, PackageManager: f.manager, Source: "/srv/mirror", InstalledAt: testNow, UpdatedAt: testNow}
	}
	if f.dropIn {
		writeFile(t, root, dropIn, "[Service]\nEnvironment=\"https_proxy=http://proxy:3128\"\n")
		st.AddFile(dropIn, "proxy drop-in", "0000")
		st.Proxy = &state.ProxyRecord{Files: []string{dropIn}, HTTPSProxy: "http://proxy:3128"}
	}
	if f.agentFiles {
		writeFile(t, root, agentJSON, "{}\n")
		writeFile(t, root, seelog, "<seelog/>\n")
		writeFile(t, root, registration, `{"ManagedInstanceID":"`+nodeID+`","Region":"us-east-1"}`)
		writeFile(t, root, agentState+"/Vault/Store/RegistrationKey", "{}")
		writeFile(t, root, agentLogs+"/amazon-ssm-agent.log", "started\n")
		st.Registration = &state.RegistrationRecord{ManagedInstanceID: nodeID, Region: "us-east-1", RegisteredAt: testNow}
	}
	if f.ssmUser {
		writeFile(t, root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nssm-user:x:1001:1001::/home/ssm-user:/bin/sh\n")
		writeFile(t, root, ssmUserHome+"/.profile", "# ssm-user\n")
		writeFile(t, root, sudoersRule, "ssm-user ALL=(ALL) NOPASSWD:ALL\n")
	}
	st.Record(testNow, "installed", "none -> 3.3.100.0 via "+f.manager)
	if f.manager != "" || f.dropIn || f.agentFiles {
		if err := st.Save(root); err != nil {
			t.Fatal(err)
		}
	}
}

// ssmUserLeftovers are the Leftovers of fixture.ssmUser.
var ssmUserLeftovers = []Leftover{
	{What: "user account ssm-user", Path: "/etc/passwd", RemoveWith: "userdel ssm-user"},
	{What: "home directory of ssm-user", Path: ssmUserHome, RemoveWith: "rm -rf /home/ssm-user"},
	{What: "sudoers rule for ssm-user", Path: sudoersRule, RemoveWith: "rm /etc/sudoers.d/ssm-agent-users"},
}

// purgeSteps are the steps that remove the agent's own files with --purge.
var purgeSteps = []Step{
	{Action: "purge", Path: agentJSON},
	{Action: "purge", Path: seelog},
	{Action: "purge", Path: agentState},
	{Action: "purge", Path: agentLogs},
}

func cmdStep(action, line string) Step { return Step{Action: action, Command: line} }

func dropInStep() Step {
	return Step{Action: "remove file ssm-setup wrote (proxy drop-in)", Path: dropIn}
}

// stepsOpt compares Steps by their exported fields.
var stepsOpt = cmpopts.IgnoreUnexported(Step{})

// files lists the regular files under dir, relative and sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, "/"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestUninstall(t *testing.T) {
	const (
		dpkgRemove = "dpkg --root={ROOT} -r amazon-ssm-agent"
		dpkgPurge  = "dpkg --root={ROOT} -P amazon-ssm-agent"
		rpmQuery   = `rpm --root {ROOT} -q --qf '%{VERSION}\n' amazon-ssm-agent`
		rpmErase   = "rpm --root {ROOT} -e amazon-ssm-agent"
	)
	tests := []struct {
		name     string
		platform distro.Platform
		fixture  fixture
		purge    bool
		// setup runs after the fixture is built and before the plan is made.
		setup func(t *testing.T, root sysroot.Root)
		// calls are the commands expected, with their answers; {ROOT} is the root.
		calls []runtest.Call
		// calls run in this order.
		wantPlan Plan // exported fields only
		// between runs after the plan is made and before it is applied.
		between     func(t *testing.T, root sysroot.Root)
		wantChanged bool
		wantDone    []Step
		wantFailed  []string // "action: error substring" of each failure
		wantKind    fail.Kind
		wantMsgs    []string
		// wantFiles are the files left under the root, state file aside.
		wantFiles []string
		// wantState checks the state file afterwards; nil: it must not exist.
		wantState func(t *testing.T, st *state.State)
	}{
		{
			name: "not installed", platform: debPlatform,
			wantPlan: Plan{PackageManager: "dpkg", LeftInPlace: []Leftover{}},
			wantDone: []Step{},
		},
		{
			name: "not installed leaves ssm-user alone and says how to remove it", platform: debPlatform,
			fixture:   fixture{ssmUser: true},
			purge:     true,
			wantPlan:  Plan{PackageManager: "dpkg", LeftInPlace: ssmUserLeftovers},
			wantDone:  []Step{},
			wantFiles: []string{"/etc/passwd", sudoersRule, ssmUserHome + "/.profile"},
		},
		{
			name: "installed deb", platform: debPlatform,
			fixture: fixture{agent: "3.3.100.0", manager: "dpkg", dropIn: true, agentFiles: true},
			calls:   []runtest.Call{{Line: dpkgRemove}},
			wantPlan: Plan{
				Installed: true, Version: "3.3.100.0", PackageManager: "dpkg", LeftInPlace: []Leftover{},
				Steps: []Step{cmdStep("remove the package", dpkgRemove), dropInStep()},
			},
			wantChanged: true,
			wantDone:    []Step{cmdStep("remove the package", dpkgRemove), dropInStep()},
			// Without --purge the agent's configuration, state and logs stay.
			wantFiles: []string{agentJSON, seelog, agentState + "/Vault/Store/RegistrationKey", registration, agentLogs + "/amazon-ssm-agent.log", pkgmgr.StatusFile},
			wantState: func(t *testing.T, st *state.State) {
				if st.Agent != nil || st.Proxy != nil || len(st.Files) != 0 {
					t.Errorf("got agent %+v, proxy %+v, files %+v in the state, want none", st.Agent, st.Proxy, st.Files)
				}
				if st.Registration == nil || st.Registration.ManagedInstanceID != nodeID {
					t.Errorf("got registration %+v, want %s kept without --purge", st.Registration, nodeID)
				}
				checkLastEvent(t, st, "uninstalled", "3.3.100.0 via dpkg")
			},
		},
		{
			name: "purge removes the agent's files and names the registration", platform: debPlatform,
			fixture: fixture{agent: "3.3.100.0", manager: "dpkg", dropIn: true, agentFiles: true, ssmUser: true},
			purge:   true,
			calls:   []runtest.Call{{Line: dpkgPurge}},
			wantPlan: Plan{
				Installed: true, Version: "3.3.100.0", PackageManager: "dpkg", Registration: nodeID, LeftInPlace: ssmUserLeftovers,
				Steps: append([]Step{cmdStep("remove the package", dpkgPurge), dropInStep()}, purgeSteps...),
			},
			wantChanged: true,
			wantDone:    append([]Step{cmdStep("remove the package", dpkgPurge), dropInStep()}, purgeSteps...),
			wantFiles:   []string{"/etc/passwd", sudoersRule, ssmUserHome + "/.profile", pkgmgr.StatusFile},
			wantState: func(t *testing.T, st *state.State) {
				if st.Agent != nil || st.Proxy != nil || st.Registration != nil || len(st.Files) != 0 {
					t.Errorf("got agent %+v, proxy %+v, registration %+v, files %+v in the state, want none", st.Agent, st.Proxy, st.Registration, st.Files)
				}
				checkLastEvent(t, st, "uninstalled", "3.3.100.0 via dpkg")
			},
		},
		{
			name: "purge plans only what exists", platform: debPlatform,
			fixture: fixture{agent: "3.3.100.0", manager: "dpkg"},
			purge:   true,
			setup:   func(t *testing.T, root sysroot.Root) { writeFile(t, root, agentLogs+"/errors.log", "x\n") },
			calls:   []runtest.Call{{Line: dpkgPurge}},
			wantPlan: Plan{
				Installed: true, Version: "3.3.100.0", PackageManager: "dpkg", LeftInPlace: []Leftover{},
				Steps: []Step{cmdStep("remove the package", dpkgPurge), {Action: "purge", Path: agentLogs}},
			},
			wantChanged: true,
			wantDone:    []Step{cmdStep("remove the package", dpkgPurge), {Action: "purge", Path: agentLogs}},
			wantFiles:   []string{pkgmgr.StatusFile},
			wantState:   func(t *testing.T, st *state.State) { checkLastEvent(t, st, "uninstalled", "3.3.100.0 via dpkg") },
		},
		{
			name: "the manager in the state file wins over the detected one", platform: debPlatform,
			fixture: fixture{manager: "rpm", dropIn: true},
			calls:   []runtest.Call{{Line: rpmQuery, Stdout: "3.3.99.0\n"}, {Line: rpmErase}},
			wantPlan: Plan{
				Installed: true, Version: "3.3.99.0", PackageManager: "rpm", LeftInPlace: []Leftover{},
				Steps: []Step{cmdStep("remove the package", rpmErase), dropInStep()},
			},
			wantChanged: true,
			wantDone:    []Step{cmdStep("remove the package", rpmErase), dropInStep()},
			wantState: func(t *testing.T, st *state.State) {
				if st.Agent != nil {
					t.Errorf("got agent record %+v, want none", st.Agent)
				}
				checkLastEvent(t, st, "uninstalled", "3.3.99.0 via rpm")
			},
		},
		{
			name: "package manager from the platform without a state file", platform: rpmPlatform,
			calls: []runtest.Call{{Line: rpmQuery, ExitCode: 1, Stdout: "package amazon-ssm-agent is not installed\n"}},
			wantPlan: Plan{
				PackageManager: "rpm", LeftInPlace: []Leftover{},
			},
			wantDone: []Step{},
		},
		{
			name: "a proxy drop-in that could not be removed stays recorded", platform: debPlatform,
			fixture: fixture{agent: "3.3.100.0", manager: "dpkg", dropIn: true},
			calls:   []runtest.Call{{Line: dpkgRemove}},
			wantPlan: Plan{
				Installed: true, Version: "3.3.100.0", PackageManager: "dpkg", LeftInPlace: []Leftover{},
				Steps: []Step{cmdStep("remove the package", dpkgRemove), dropInStep()},
			},
			between:     func(t *testing.T, root sysroot.Root) { undeletable(t, root.Path(filepath.Dir(dropIn))) },
			wantChanged: true,
			wantDone:    []Step{cmdStep("remove the package", dpkgRemove)},
			wantFailed:  []string{"remove file ssm-setup wrote (proxy drop-in): "},
			wantKind:    fail.PackageManager,
			wantMsgs:    []string{"uninstall failed in 1 of 2 steps: "},
			wantFiles:   []string{dropIn, pkgmgr.StatusFile},
			wantState: func(t *testing.T, st *state.State) {
				if st.Agent != nil {
					t.Errorf("got agent record %+v, want none: the package is gone", st.Agent)
				}
				// The drop-in is still there: status must still show the proxy, and the
				// next uninstall must still know the file is ssm-setup's.
				if st.Proxy == nil || len(st.Files) != 1 || st.Files[0].Path != dropIn {
					t.Errorf("got proxy %+v, files %+v in the state, want the drop-in's record kept", st.Proxy, st.Files)
				}
			},
		},
		{
			name: "a failing step does not stop the others and every failure is reported", platform: debPlatform,
			fixture: fixture{agent: "3.3.100.0", manager: "dpkg", dropIn: true, agentFiles: true},
			purge:   true,
			calls: []runtest.Call{{Line: dpkgPurge, ExitCode: 1,
				Stderr: "dpkg: error processing package amazon-ssm-agent (--purge):\n installed amazon-ssm-agent package pre-removal script subprocess returned error exit status 1"}},
			wantPlan: Plan{
				Installed: true, Version: "3.3.100.0", PackageManager: "dpkg", Registration: nodeID, LeftInPlace: []Leftover{},
				Steps: append([]Step{cmdStep("remove the package", dpkgPurge), dropInStep()}, purgeSteps...),
			},
			between:     func(t *testing.T, root sysroot.Root) { undeletable(t, root.Path("/etc/amazon/ssm")) },
			wantChanged: true,
			wantDone:    []Step{dropInStep(), {Action: "purge", Path: agentState}, {Action: "purge", Path: agentLogs}},
			wantFailed: []string{
				"remove the package: dpkg --root={ROOT} -P amazon-ssm-agent exited with status 1: dpkg: error processing package amazon-ssm-agent",
				"purge: ",
				"purge: ",
			},
			wantKind: fail.PackageManager,
			wantMsgs: []string{
				"uninstall failed in 3 of 6 steps: ",
				"remove the package: dpkg --root={ROOT} -P amazon-ssm-agent exited with status 1",
				"purge: unlinkat {ROOT}/etc/amazon/ssm/amazon-ssm-agent.json: ",
				"purge: unlinkat {ROOT}/etc/amazon/ssm/seelog.xml: ",
			},
			wantFiles: []string{agentJSON, seelog, pkgmgr.StatusFile},
			wantState: func(t *testing.T, st *state.State) {
				// The package is still installed: the state must still say by what.
				if st.Agent == nil || st.Agent.PackageManager != "dpkg" {
					t.Errorf("got agent record %+v, want the dpkg record kept", st.Agent)
				}
				if len(st.Files) != 0 {
					t.Errorf("got file records %+v, want the removed drop-in forgotten", st.Files)
				}
				checkLastEvent(t, st, "uninstalled", "3.3.100.0 via dpkg")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tempRoot(t)
			tt.fixture.build(t, root)
			if tt.setup != nil {
				tt.setup(t, root)
			}
			fake := runtest.New(t)
			for _, tool := range []string{"apt-get", "dpkg", "dnf", "rpm"} {
				fake.SetPath(tool, "/usr/bin/"+tool)
			}
			expand := strings.NewReplacer("{ROOT}", root.Dir()).Replace
			var wantRan []string
			for _, c := range tt.calls {
				c.Line = expand(c.Line)
				fake.Expect(c)
				wantRan = append(wantRan, c.Line)
			}

			p, err := MakePlan(context.Background(), Options{Root: root, Runner: fake, Platform: tt.platform, Purge: tt.purge, Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatalf("MakePlan: %v", err)
			}
			want := tt.wantPlan
			want.Steps = expandSteps(want.Steps, expand)
			if diff := cmp.Diff(want, *p, stepsOpt, cmpopts.IgnoreUnexported(Plan{})); diff != "" {
				t.Errorf("Plan mismatch (-want +got):\n%s", diff)
			}
			if tt.between != nil {
				tt.between(t, root)
			}

			res, err := p.Apply(context.Background())
			checkErr(t, err, tt.wantKind)
			for _, m := range tt.wantMsgs {
				if !strings.Contains(err.Error(), expand(m)) {
					t.Errorf("got error %q, want it to contain %q", err, expand(m))
				}
			}
			if diff := cmp.Diff(wantRan, fake.Ran); diff != "" {
				t.Errorf("commands run (-want +got):\n%s", diff)
			}
			wantRes := Result{
				Changed: tt.wantChanged, VersionRemoved: want.Version, PackageManager: want.PackageManager,
				Done: expandSteps(tt.wantDone, expand), Failed: res.Failed, LeftInPlace: want.LeftInPlace,
			}
			if diff := cmp.Diff(wantRes, res, stepsOpt); diff != "" {
				t.Errorf("Result mismatch (-want +got):\n%s", diff)
			}
			var failed []string
			for _, f := range res.Failed {
				failed = append(failed, f.Step.Action+": "+f.Error)
			}
			if len(failed) != len(tt.wantFailed) {
				t.Errorf("got failures %q, want %d like %q", failed, len(tt.wantFailed), tt.wantFailed)
			} else {
				for i := range failed {
					if !strings.HasPrefix(failed[i], expand(tt.wantFailed[i])) {
						t.Errorf("got failure %q, want it to start with %q", failed[i], expand(tt.wantFailed[i]))
					}
				}
			}

			gotFiles := slices.DeleteFunc(files(t, root.Dir()), func(f string) bool { return f == state.Path })
			if diff := cmp.Diff(sortedCopy(tt.wantFiles), gotFiles, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("files left under the root (-want +got):\n%s", diff)
			}
			if tt.fixture.ssmUser {
				checkSSMUserUntouched(t, root)
			}
			_, statErr := os.Stat(root.Path(state.Path))
			switch {
			case tt.wantState == nil && statErr == nil:
				t.Errorf("got a state file, want none")
			case tt.wantState != nil && statErr != nil:
				t.Errorf("got no state file: %v", statErr)
			case tt.wantState != nil:
				st, err := state.Load(root)
				if err != nil {
					t.Fatal(err)
				}
				tt.wantState(t, st)
			}
		})
	}
}

func expandSteps(steps []Step, expand func(string) string) []Step {
	if steps == nil {
		return nil
	}
	out := make([]Step, len(steps))
	for i, s := range steps {
		out[i] = Step{Action: s.Action, Command: expand(s.Command), Path: s.Path}
	}
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func checkErr(t *testing.T, err error, wantKind fail.Kind) {
	t.Helper()
	switch {
	case wantKind == 0 && err != nil:
		t.Fatalf("got error %v, want none", err)
	case wantKind != 0 && err == nil:
		t.Fatalf("got no error, want a %v error", wantKind)
	case wantKind != 0 && fail.KindOf(err) != wantKind:
		t.Fatalf("got error kind %v (%v), want %v", fail.KindOf(err), err, wantKind)
	}
}

func checkLastEvent(t *testing.T, st *state.State, action, detail string) {
	t.Helper()
	if len(st.History) == 0 {
		t.Fatalf("got no history, want a %q event", action)
	}
	got := st.History[len(st.History)-1]
	if want := (state.Event{Time: testNow, Action: action, Detail: detail}); !cmp.Equal(got, want) {
		t.Errorf("got last event %+v, want %+v", got, want)
	}
}

// checkSSMUserUntouched fails t unless ssm-user's account, home and sudoers rule are
// as the fixture made them.
func checkSSMUserUntouched(t *testing.T, root sysroot.Root) {
	t.Helper()
	for path, want := range map[string]string{
		"/etc/passwd":             "root:x:0:0:root:/root:/bin/bash\nssm-user:x:1001:1001::/home/ssm-user:/bin/sh\n",
		ssmUserHome + "/.profile": "# ssm-user\n",
		sudoersRule:               "ssm-user ALL=(ALL) NOPASSWD:ALL\n",
	} {
		got, err := os.ReadFile(root.Path(path))
		if err != nil || string(got) != want {
			t.Errorf("%s: got %q (%v), want it untouched: %q", path, got, err, want)
		}
	}
}

// undeletable makes the entries of dir impossible to remove until the test ends: a
// read-only directory for an ordinary user, the immutable attribute for root (who
// ignores permissions). It skips the test where neither works.
func undeletable(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("cannot make a file undeletable for root: chattr not found")
	}
	if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make a file undeletable for root: chattr +i: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(chattr, "-i", dir).CombinedOutput(); err != nil {
			t.Errorf("chattr -i %s: %v: %s", dir, err, out)
		}
	})
}

// TestApplyOptionalStep: a failing optional step (stopping a service that is not
// running) is logged and skipped, and neither counts as done nor as failed.
func TestApplyOptionalStep(t *testing.T) {
	root := tempRoot(t)
	fixture{agent: "3.3.100.0", manager: "dpkg"}.build(t, root)
	fake := runtest.New(t)
	disable := run.Cmd{Name: "systemctl", Args: []string{"disable", "--now", "amazon-ssm-agent"}}
	fake.Expect(runtest.Call{Line: disable.String(), ExitCode: 5, Stderr: "Failed to disable unit: Unit file amazon-ssm-agent.service does not exist."})
	fake.ExpectLine("dpkg --root="+root.Dir()+" -r amazon-ssm-agent", "")
	p, err := MakePlan(context.Background(), Options{Root: root, Runner: fake, Platform: debPlatform, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	// The service step is planned on the host root only; put it first as MakePlan would.
	steps := p.Steps
	p.Steps = nil
	p.addCmd("stop and disable the service", disable, true)
	p.Steps = append(p.Steps, steps...)

	res, err := p.Apply(context.Background())
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := []Step{cmdStep("remove the package", "dpkg --root="+root.Dir()+" -r amazon-ssm-agent")}
	if diff := cmp.Diff(want, res.Done, stepsOpt); diff != "" {
		t.Errorf("Done (-want +got):\n%s", diff)
	}
	if len(res.Failed) != 0 {
		t.Errorf("got failures %+v, want none", res.Failed)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	root := tempRoot(t)
	fixture{agent: "3.3.100.0", manager: "dpkg", dropIn: true, agentFiles: true, ssmUser: true}.build(t, root)
	before := snapshot(t, root.Dir())
	fake := runtest.New(t) // nothing may run
	fake.SetPath("dpkg", "/usr/bin/dpkg")
	p, err := MakePlan(context.Background(), Options{Root: root, Runner: fake, Platform: debPlatform, Purge: true, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	got := p.DryRun()
	want := Result{
		VersionRemoved: "3.3.100.0", PackageManager: "dpkg", DryRun: true, Failed: []Failure{}, LeftInPlace: ssmUserLeftovers,
		Done: append([]Step{cmdStep("remove the package", "dpkg --root="+root.Dir()+" -P amazon-ssm-agent"), dropInStep()}, purgeSteps...),
	}
	if diff := cmp.Diff(want, got, stepsOpt); diff != "" {
		t.Errorf("DryRun result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, snapshot(t, root.Dir())); diff != "" {
		t.Errorf("the root changed (-before +after):\n%s", diff)
	}
	if len(fake.Ran) != 0 {
		t.Errorf("got commands %q run, want none", fake.Ran)
	}
}

// snapshot maps every file under dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range files(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	return out
}

// TestMakePlanHostService covers the step MakePlan adds on the running system only:
// stopping and disabling the service before the package goes. It makes a plan for the
// host root "/" and never applies it; with rpm the installed version comes from the
// fake, so the plan does not depend on the host's packages.
func TestMakePlanHostService(t *testing.T) {
	if _, err := os.Stat(state.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Skipf("this host has an ssm-setup state file %s (%v): the plan would follow it", state.Path, err)
	}
	svc, err := service.New(service.Systemd, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	disable := svc.DisableStopCmds()[0].String()
	fake := runtest.New(t)
	fake.SetPath("dnf", "/usr/bin/dnf").SetPath("rpm", "/usr/bin/rpm")
	fake.ExpectLine(`rpm -q --qf '%{VERSION}\n' amazon-ssm-agent`, "3.3.100.0\n")
	p, err := MakePlan(context.Background(), Options{Root: sysroot.Root{}, Runner: fake, Platform: rpmPlatform})
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		cmdStep("stop and disable the service", disable),
		cmdStep("remove the package", "dnf remove -y amazon-ssm-agent"),
	}
	if diff := cmp.Diff(want, p.Steps, stepsOpt); diff != "" {
		t.Errorf("Steps (-want +got):\n%s", diff)
	}
	if p.Steps[0].optional != true || p.Steps[1].optional != false {
		t.Errorf("got optional %v, %v; want the service step optional and the removal not", p.Steps[0].optional, p.Steps[1].optional)
	}
}

// TestUninstallLeavesNoEmptyDropInDir: removing ssm-setup's proxy drop-in also removes
// the amazon-ssm-agent.service.d directory it leaves empty.
func TestUninstallLeavesNoEmptyDropInDir(t *testing.T) {
	root := tempRoot(t)
	fixture{agent: "3.3.100.0", manager: "dpkg", dropIn: true}.build(t, root)
	fake := runtest.New(t)
	fake.SetPath("dpkg", "/usr/bin/dpkg")
	fake.Expect(runtest.Call{Line: "dpkg --root=" + root.Dir() + " -r amazon-ssm-agent"})
	p, err := MakePlan(context.Background(), Options{Root: root, Runner: fake, Platform: debPlatform, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root.Path(filepath.Dir(dropIn))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %s still there (err %v), want it removed once empty", filepath.Dir(dropIn), err)
	}
}

// TestUninstallImageRootFrontEnd: an agent recorded as installed with apt (or dnf) is
// removed from an image root with dpkg (or rpm): front ends need a running system.
func TestUninstallImageRootFrontEnd(t *testing.T) {
	tests := []struct {
		name     string
		recorded string
		want     string
	}{
		{name: "apt", recorded: "apt", want: "dpkg"},
		{name: "dnf", recorded: "dnf", want: "rpm"},
		{name: "zypper", recorded: "zypper", want: "rpm"},
		{name: "dpkg stays", recorded: "dpkg", want: "dpkg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lowLevelTool(tt.recorded); got != tt.want {
				t.Errorf("lowLevelTool(%q): got %q, want %q", tt.recorded, got, tt.want)
			}
		})
	}
	root := tempRoot(t)
	fixture{agent: "3.3.100.0", manager: "apt"}.build(t, root)
	p, err := MakePlan(context.Background(), Options{Root: root, Runner: runtest.New(t), Platform: debPlatform, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("MakePlan with apt recorded on an image root: %v", err)
	}
	if p.PackageManager != "dpkg" {
		t.Errorf("got manager %q, want dpkg", p.PackageManager)
	}
}
