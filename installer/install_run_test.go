//go:build linux

package installer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/installer/pkgmgr"
	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/bench"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// env is one Install run's world: an image root, a cache, a bucket directory, the
// strict fake runner and a counted OpenSource.
type env struct {
	root   sysroot.Root
	cache  string
	bucket string
	pkgDir string // a directory for --package files
	fake   *runtest.Fake
	open   func(context.Context) (release.Source, error)
	opens  *atomic.Int32
	now    time.Time
	shas   map[string]string
}

// newEnv builds an env whose bucket publishes versions (none: an empty directory).
func newEnv(t *testing.T, versions ...string) *env {
	t.Helper()
	e := &env{root: tempRoot(t), cache: t.TempDir(), pkgDir: t.TempDir(), fake: runtest.New(t), now: testNow(), shas: map[string]string{}}
	if len(versions) > 0 {
		e.bucket = newBucket(t, versions...)
	} else {
		e.bucket = t.TempDir()
	}
	e.open, e.opens = countingOpen(t, e.bucket)
	for _, tool := range []string{"apt-get", "dpkg", "dnf", "rpm"} {
		e.fake.SetPath(tool, "/usr/bin/"+tool)
	}
	for _, v := range []string{oldVersion, newVersion} {
		deb, rpm := packages(t, v)
		e.shas[v+" deb"], e.shas[v+" rpm"] = sha256File(t, deb), sha256File(t, rpm)
	}
	return e
}

// expand replaces the placeholders {ROOT}, {CACHE}, {BUCKET}, {PKGDIR} and
// {SHA VERSION FORMAT} in s.
func (e *env) expand(s string) string {
	for k, v := range e.shas {
		s = strings.ReplaceAll(s, "{SHA "+k+"}", v)
	}
	return strings.NewReplacer("{ROOT}", e.root.Dir(), "{CACHE}", e.cache, "{BUCKET}", e.bucket, "{PKGDIR}", e.pkgDir).Replace(s)
}

func (e *env) expandAll(ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, e.expand(s))
	}
	return out
}

// expandResult expands the placeholders of a wanted Result. A wanted warning may also
// hold "{...}" for text the test does not pin down (another package's wording).
func (e *env) expandResult(r Result) Result {
	r.Source, r.SHA256 = e.expand(r.Source), e.expand(r.SHA256)
	r.Warnings = e.expandAll(r.Warnings)
	var plan []Step
	for _, s := range r.Plan {
		plan = append(plan, Step{Action: s.Action, Detail: e.expand(s.Detail), Command: e.expand(s.Command)})
	}
	r.Plan = plan
	return r
}

// options are the Install options of a run in e, trusting the test key.
func (e *env) options(t *testing.T, p distro.Platform, spec string) Options {
	return Options{
		Root: e.root, Runner: e.fake, Platform: p, Now: func() time.Time { return e.now },
		OpenSource: e.open, VersionSpec: spec, Keyring: testKeyring(t), Cache: release.Cache{Dir: e.cache},
		Health: service.HealthOptions{Stable: 5 * time.Millisecond, Interval: time.Millisecond, Timeout: 200 * time.Millisecond},
	}
}

// rpmQuery is the answer of rpm's installed-version query on the root: version, or
// "not installed" when version is "".
func rpmQuery(version string) runtest.Call {
	c := runtest.Call{Line: rpmQueryLine, Stdout: version + "\n"}
	if version == "" {
		c = runtest.Call{Line: rpmQueryLine, ExitCode: 1, Stdout: "package amazon-ssm-agent is not installed\n"}
	}
	return c
}

const rpmQueryLine = `rpm --root {ROOT} -q --qf '%{VERSION}\n' amazon-ssm-agent`

// debVersionQuery answers the version query of the --package file agent.deb.
var debVersionQuery = runtest.Call{Line: "dpkg-deb -f {PKGDIR}/agent.deb Version", Stdout: "3.3.100.0-1\n"}

// writeDpkgStatus records version of the agent as installed in the root's dpkg database.
func writeDpkgStatus(t *testing.T, root sysroot.Root, version string) {
	t.Helper()
	p := root.Path(pkgmgr.StatusFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	status := "Package: base-files\nStatus: install ok installed\nVersion: 12.4\n\n" +
		"Package: amazon-ssm-agent\nStatus: install ok installed\nVersion: " + version + "-1\n"
	if err := os.WriteFile(p, []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Bucket and cache paths, as placeholders for env.expand.
const (
	newDebInCache = "{CACHE}/3.3.100.0/debian_amd64/amazon-ssm-agent.deb"
	oldDebInCache = "{CACHE}/3.3.99.0/debian_amd64/amazon-ssm-agent.deb"
	newRPMInCache = "{CACHE}/3.3.100.0/linux_amd64/amazon-ssm-agent.rpm"
	oldRPMInCache = "{CACHE}/3.3.99.0/linux_amd64/amazon-ssm-agent.rpm"
	stateFile     = "var/lib/ssm-setup/state.json"
	dpkgStatus    = "var/lib/dpkg/status"
)

// rpmImports are the `rpm --import` lines of the five AWS keys, in order.
var rpmImports = []string{
	"rpm --root {ROOT} --import {ROOT}/var/lib/ssm-setup/rpm-keys/aws-ssm-agent-1.asc",
	"rpm --root {ROOT} --import {ROOT}/var/lib/ssm-setup/rpm-keys/aws-ssm-agent-2.asc",
	"rpm --root {ROOT} --import {ROOT}/var/lib/ssm-setup/rpm-keys/aws-ssm-agent-3.asc",
	"rpm --root {ROOT} --import {ROOT}/var/lib/ssm-setup/rpm-keys/aws-ssm-agent-4.asc",
	"rpm --root {ROOT} --import {ROOT}/var/lib/ssm-setup/rpm-keys/aws-ssm-agent-5.asc",
}

// rpmKeyFiles are the key files importKeyCmds writes into the root.
var rpmKeyFiles = []string{
	"var/lib/ssm-setup/rpm-keys/aws-ssm-agent-1.asc",
	"var/lib/ssm-setup/rpm-keys/aws-ssm-agent-2.asc",
	"var/lib/ssm-setup/rpm-keys/aws-ssm-agent-3.asc",
	"var/lib/ssm-setup/rpm-keys/aws-ssm-agent-4.asc",
	"var/lib/ssm-setup/rpm-keys/aws-ssm-agent-5.asc",
}

func cat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// cacheFiles are the store keys of a cached package and its signature.
func cacheFiles(version, folder, file string) []string {
	k := version + "/" + folder + "/" + file
	return []string{k, k + ".sig"}
}

// TestInstall runs Install on an image root (t.TempDir()), so the package manager is
// dpkg or rpm with --root and no service is started; TestInstallService covers the
// service steps. Every command is expected by the strict fake, in order.
func TestInstall(t *testing.T) {
	unsupported := debPlatform
	unsupported.Support, unsupported.Reason = distro.Unsupported, "not a test platform"

	tests := []struct {
		name      string
		platform  distro.Platform
		installed string // installed agent version, "" for none
		spec      string
		setup     func(t *testing.T, e *env, o *Options)
		// cmds are the commands expected to run, in this order; placeholders as in
		// env.expand. They succeed and print nothing unless answers has a call with
		// the same line.
		cmds       []string
		answers    []runtest.Call
		want       Result
		wantOpens  int32
		wantKind   fail.Kind
		wantMsg    string
		wantHint   string
		wantAgent  *state.AgentRecord // the state file's agent record; nil: no state file
		wantEvents []string           // the state file's history actions
		// wantRoot and wantCache are the files expected under the root and in the
		// cache afterwards, relative.
		wantRoot  []string
		wantCache []string
	}{
		{
			name: "fresh deb install", platform: debPlatform, spec: "latest",
			cmds: []string{"dpkg --root={ROOT} -i " + newDebInCache},
			want: Result{
				Changed: true, Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionInstalled},
			wantRoot:   []string{stateFile},
			wantCache:  cacheFiles(newVersion, "debian_amd64", "amazon-ssm-agent.deb"),
		},
		{
			name: "deb upgrade", platform: debPlatform, installed: oldVersion, spec: "latest",
			cmds: []string{"dpkg --root={ROOT} -i " + newDebInCache},
			want: Result{
				Changed: true, Action: ActionUpgraded, VersionBefore: oldVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionUpgraded},
			wantRoot:   []string{stateFile, dpkgStatus},
			wantCache:  cacheFiles(newVersion, "debian_amd64", "amazon-ssm-agent.deb"),
		},
		{
			name: "unchanged pinned re-run opens no source", platform: debPlatform, installed: newVersion, spec: newVersion,
			want: Result{
				Action: ActionUnchanged, VersionBefore: newVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "",
			},
			wantOpens: 0,
			wantRoot:  []string{dpkgStatus},
		},
		{
			name: "unchanged latest re-run downloads nothing", platform: debPlatform, installed: newVersion, spec: "latest",
			want: Result{
				Action: ActionUnchanged, VersionBefore: newVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "",
			},
			wantOpens: 1, // to read latest/VERSION
			wantRoot:  []string{dpkgStatus},
		},
		{
			name: "forced reinstall of the same version", platform: debPlatform, installed: newVersion, spec: newVersion,
			setup: func(t *testing.T, e *env, o *Options) { o.ForceReinstall = true },
			cmds:  []string{"dpkg --root={ROOT} -i " + newDebInCache},
			want: Result{
				Changed: true, Action: ActionReinstalled, VersionBefore: newVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionReinstalled},
			wantRoot:   []string{stateFile, dpkgStatus},
			wantCache:  cacheFiles(newVersion, "debian_amd64", "amazon-ssm-agent.deb"),
		},
		{
			name: "a half-installed package at the asked version is installed again", platform: debPlatform, installed: newVersion, spec: newVersion,
			setup: func(t *testing.T, e *env, o *Options) {
				p := e.root.Path(pkgmgr.StatusFile)
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				data = []byte(strings.Replace(string(data), "Package: amazon-ssm-agent\nStatus: install ok installed", "Package: amazon-ssm-agent\nStatus: install ok unpacked", 1))
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			cmds: []string{"dpkg --root={ROOT} -i " + newDebInCache},
			want: Result{
				Changed: true, Action: ActionReinstalled, VersionBefore: newVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionReinstalled},
			wantRoot:   []string{stateFile, dpkgStatus},
			wantCache:  cacheFiles(newVersion, "debian_amd64", "amazon-ssm-agent.deb"),
		},
		{
			name: "pinned version in the cache needs no source", platform: debPlatform, spec: newVersion,
			setup: func(t *testing.T, e *env, o *Options) { seedCache(t, e.cache, newVersion, "debian_amd64") },
			cmds:  []string{"dpkg --root={ROOT} -i " + newDebInCache},
			want: Result{
				Changed: true, Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "cache", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  0,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "cache", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionInstalled},
			wantRoot:   []string{stateFile},
			wantCache:  cacheFiles(newVersion, "debian_amd64", "amazon-ssm-agent.deb"),
		},
		{
			name: "corrupt cached copy is downloaded again", platform: debPlatform, spec: newVersion,
			setup: func(t *testing.T, e *env, o *Options) { corrupt(t, seedCache(t, e.cache, newVersion, "debian_amd64")) },
			cmds:  []string{"dpkg --root={ROOT} -i " + newDebInCache},
			want: Result{
				Changed: true, Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionInstalled},
			wantRoot:   []string{stateFile},
			wantCache:  cacheFiles(newVersion, "debian_amd64", "amazon-ssm-agent.deb"),
		},
		{
			name: "older version is refused before the download", platform: debPlatform, installed: newVersion, spec: oldVersion,
			wantOpens: 1, wantKind: fail.Usage, wantMsg: "agent 3.3.100.0 is installed and 3.3.99.0 is older: refusing to downgrade", wantHint: "--allow-downgrade",
			wantRoot: []string{dpkgStatus},
		},
		{
			name: "fresh rpm install imports the AWS keys first", platform: rpmPlatform, spec: "latest",
			answers: []runtest.Call{rpmQuery("")},
			cmds: cat(
				[]string{rpmQueryLine},
				rpmImports,
				[]string{"rpm --root {ROOT} -U " + newRPMInCache},
			),
			want: Result{
				Changed: true, Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "rpm", PackageManager: "rpm",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 rpm}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "rpm", PackageManager: "rpm", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 rpm}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionInstalled},
			wantRoot:   cat([]string{stateFile}, rpmKeyFiles),
			wantCache:  cacheFiles(newVersion, "linux_amd64", "amazon-ssm-agent.rpm"),
		},
		{
			name: "rpm downgrade with allow", platform: rpmPlatform, installed: newVersion, spec: oldVersion,
			setup:   func(t *testing.T, e *env, o *Options) { o.AllowDowngrade = true },
			answers: []runtest.Call{rpmQuery(newVersion)},
			cmds: cat(
				[]string{rpmQueryLine},
				rpmImports,
				[]string{"rpm --root {ROOT} -U --oldpackage " + oldRPMInCache},
			),
			want: Result{
				Changed: true, Action: ActionDowngraded, VersionBefore: newVersion, VersionAfter: oldVersion, PackageFormat: "rpm", PackageManager: "rpm",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 rpm}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: oldVersion, PackageFormat: "rpm", PackageManager: "rpm", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 rpm}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionDowngraded},
			wantRoot:   cat([]string{stateFile}, rpmKeyFiles),
			wantCache:  cacheFiles(oldVersion, "linux_amd64", "amazon-ssm-agent.rpm"),
		},
		{
			name: "corrupted package installs nothing and leaves nothing in the cache", platform: debPlatform, spec: "latest",
			setup: func(t *testing.T, e *env, o *Options) {
				corrupt(t, filepath.Join(e.bucket, "3.3.100.0/debian_amd64/amazon-ssm-agent.deb"))
			},
			wantOpens: 1, wantKind: fail.Verification, wantMsg: "verify {BUCKET}/3.3.100.0/debian_amd64/amazon-ssm-agent.deb",
		},
		{
			name: "missing signature installs nothing", platform: debPlatform, spec: newVersion,
			setup: func(t *testing.T, e *env, o *Options) {
				if err := os.Remove(filepath.Join(e.bucket, "3.3.100.0/debian_amd64/amazon-ssm-agent.deb.sig")); err != nil {
					t.Fatal(err)
				}
			},
			wantOpens: 1, wantKind: fail.Verification, wantMsg: "missing signature",
		},
		{
			name: "package file with its signature", platform: debPlatform, installed: oldVersion,
			setup: func(t *testing.T, e *env, o *Options) {
				deb, _ := packages(t, newVersion)
				o.PackageFile = filepath.Join(e.pkgDir, "agent.deb")
				copyFile(t, deb, o.PackageFile)
				bench.Sign(t, signer(t), o.PackageFile, false)
			},
			cmds:    []string{"dpkg-deb -f {PKGDIR}/agent.deb Version", "dpkg --root={ROOT} -i {PKGDIR}/agent.deb"},
			answers: []runtest.Call{debVersionQuery},
			want: Result{
				Changed: true, Action: ActionUpgraded, VersionBefore: oldVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{PKGDIR}/agent.deb", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  0,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{PKGDIR}/agent.deb", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionUpgraded},
			wantRoot:   []string{stateFile, dpkgStatus},
		},
		{
			name: "package file with an explicit signature file", platform: debPlatform,
			setup: func(t *testing.T, e *env, o *Options) {
				deb, _ := packages(t, newVersion)
				o.PackageFile = filepath.Join(e.pkgDir, "agent.deb")
				copyFile(t, deb, o.PackageFile)
				bench.Sign(t, signer(t), o.PackageFile, true)
				o.SignatureFile = filepath.Join(e.pkgDir, "agent.asc")
				if err := os.Rename(o.PackageFile+".sig", o.SignatureFile); err != nil {
					t.Fatal(err)
				}
			},
			cmds:    []string{"dpkg-deb -f {PKGDIR}/agent.deb Version", "dpkg --root={ROOT} -i {PKGDIR}/agent.deb"},
			answers: []runtest.Call{debVersionQuery},
			want: Result{
				Changed: true, Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{PKGDIR}/agent.deb", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{PKGDIR}/agent.deb", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionInstalled},
			wantRoot:   []string{stateFile},
		},
		{
			name: "package file that does not verify is not even read", platform: debPlatform,
			setup: func(t *testing.T, e *env, o *Options) {
				deb, _ := packages(t, newVersion)
				o.PackageFile = filepath.Join(e.pkgDir, "agent.deb")
				copyFile(t, deb, o.PackageFile)
				bench.Sign(t, signer(t), o.PackageFile, false)
				corrupt(t, o.PackageFile)
			},
			wantKind: fail.Verification,
		},
		{
			name: "package file without a signature", platform: debPlatform,
			setup: func(t *testing.T, e *env, o *Options) {
				deb, _ := packages(t, newVersion)
				o.PackageFile = filepath.Join(e.pkgDir, "agent.deb")
				copyFile(t, deb, o.PackageFile)
			},
			wantKind: fail.Verification, wantMsg: "missing signature: {PKGDIR}/agent.deb.sig",
		},
		{
			name: "package file that is not an agent package", platform: debPlatform,
			setup: func(t *testing.T, e *env, o *Options) {
				deb, _ := packages(t, newVersion)
				o.PackageFile = filepath.Join(e.pkgDir, "agent.deb")
				copyFile(t, deb, o.PackageFile)
				bench.Sign(t, signer(t), o.PackageFile, false)
			},
			answers:  []runtest.Call{{Line: "dpkg-deb -f {PKGDIR}/agent.deb Version", Stdout: "1.2-3\n"}},
			cmds:     []string{"dpkg-deb -f {PKGDIR}/agent.deb Version"},
			wantKind: fail.Usage, wantMsg: `package {PKGDIR}/agent.deb has version "1.2", not an agent version`,
		},
		{
			name: "package file above the platform's ceiling", platform: withCeiling(debPlatform, oldVersion),
			setup: func(t *testing.T, e *env, o *Options) {
				deb, _ := packages(t, newVersion)
				o.PackageFile = filepath.Join(e.pkgDir, "agent.deb")
				copyFile(t, deb, o.PackageFile)
				bench.Sign(t, signer(t), o.PackageFile, false)
			},
			answers:  []runtest.Call{debVersionQuery},
			cmds:     []string{"dpkg-deb -f {PKGDIR}/agent.deb Version"},
			wantKind: fail.Usage, wantMsg: "package {PKGDIR}/agent.deb holds agent 3.3.100.0, newer than 3.3.99.0, the newest this platform can run",
			wantHint: "3.3.99.0 or older",
		},
		{
			name: "package manager failure is reported and records nothing", platform: debPlatform, spec: "latest",
			cmds: []string{"dpkg --root={ROOT} -i " + newDebInCache},
			answers: []runtest.Call{{Line: "dpkg --root={ROOT} -i " + newDebInCache, ExitCode: 2,
				Stderr: "dpkg: error: dpkg frontend lock was locked by another process with pid 77"}},
			wantOpens: 1, wantKind: fail.PackageManager, wantMsg: "exited with status 2: dpkg: error: dpkg frontend lock", wantHint: "another package manager is running",
			wantCache: cacheFiles(newVersion, "debian_amd64", "amazon-ssm-agent.deb"),
		},
		{
			name: "unreachable source", platform: debPlatform, spec: "latest",
			setup: func(t *testing.T, e *env, o *Options) {
				o.OpenSource = func(context.Context) (release.Source, error) {
					e.opens.Add(1)
					return nil, fail.New(fail.Download, "get https://s3.us-east-1.amazonaws.com/amazon-ssm-us-east-1/latest/VERSION: connection refused")
				}
			},
			wantOpens: 1, wantKind: fail.Download, wantMsg: "connection refused",
		},
		{
			name: "version that does not exist", platform: debPlatform, spec: "3.3.101.0",
			wantOpens: 1, wantKind: fail.Download, wantMsg: "3.3.101.0",
		},
		{
			name: "unsupported platform", platform: unsupported, spec: "latest",
			wantKind: fail.Unsupported, wantMsg: "unsupported platform debian 12 amd64: not a test platform",
		},

		// Dry runs: only read-only queries run, nothing is written.
		{
			name: "dry run lists the download and the commands", platform: debPlatform, spec: "latest",
			setup: func(t *testing.T, e *env, o *Options) { o.DryRun = true },
			want: Result{
				Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", DryRun: true,
				Plan: []Step{
					{Action: "download", Detail: "{BUCKET}/3.3.100.0/debian_amd64/amazon-ssm-agent.deb"},
					{Action: "verify", Detail: "OpenPGP signature {BUCKET}/3.3.100.0/debian_amd64/amazon-ssm-agent.deb.sig and SHA-256"},
					{Action: "run", Command: "dpkg --root={ROOT} -i " + newDebInCache},
					{Action: "record", Detail: "{ROOT}/var/lib/ssm-setup/state.json"},
				},
			},
			wantOpens: 1,
		},
		{
			name: "dry run of an rpm upgrade writes no key files", platform: rpmPlatform, installed: oldVersion, spec: "latest",
			setup:   func(t *testing.T, e *env, o *Options) { o.DryRun = true },
			answers: []runtest.Call{rpmQuery(oldVersion)},
			cmds:    []string{rpmQueryLine},
			want: Result{
				Action: ActionUpgraded, VersionBefore: oldVersion, VersionAfter: newVersion, PackageFormat: "rpm", PackageManager: "rpm",
				Service: "inactive", Source: "{BUCKET}", DryRun: true,
				Plan: []Step{
					{Action: "download", Detail: "{BUCKET}/3.3.100.0/linux_amd64/amazon-ssm-agent.rpm"},
					{Action: "verify", Detail: "OpenPGP signature {BUCKET}/3.3.100.0/linux_amd64/amazon-ssm-agent.rpm.sig and SHA-256"},
					{Action: "run", Command: rpmImports[0]},
					{Action: "run", Command: rpmImports[1]},
					{Action: "run", Command: rpmImports[2]},
					{Action: "run", Command: rpmImports[3]},
					{Action: "run", Command: rpmImports[4]},
					{Action: "run", Command: "rpm --root {ROOT} -U " + newRPMInCache},
					{Action: "record", Detail: "{ROOT}/var/lib/ssm-setup/state.json"},
				},
			},
			wantOpens: 1,
		},
		{
			name: "dry run with a cached package", platform: debPlatform, spec: newVersion,
			setup: func(t *testing.T, e *env, o *Options) {
				seedCache(t, e.cache, newVersion, "debian_amd64")
				o.DryRun = true
			},
			want: Result{
				Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "cache", DryRun: true,
				Plan: []Step{
					{Action: "verify", Detail: "cached package " + newDebInCache + ": OpenPGP signature and SHA-256"},
					{Action: "run", Command: "dpkg --root={ROOT} -i " + newDebInCache},
					{Action: "record", Detail: "{ROOT}/var/lib/ssm-setup/state.json"},
				},
			},
			wantOpens: 0,
			wantCache: cacheFiles(newVersion, "debian_amd64", "amazon-ssm-agent.deb"),
		},
		{
			name: "dry run with a package file", platform: debPlatform,
			setup: func(t *testing.T, e *env, o *Options) {
				deb, _ := packages(t, newVersion)
				o.PackageFile = filepath.Join(e.pkgDir, "agent.deb")
				copyFile(t, deb, o.PackageFile)
				bench.Sign(t, signer(t), o.PackageFile, false)
				o.DryRun = true
			},
			cmds:    []string{"dpkg-deb -f {PKGDIR}/agent.deb Version"},
			answers: []runtest.Call{debVersionQuery},
			want: Result{
				Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{PKGDIR}/agent.deb", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP, DryRun: true,
				Plan: []Step{
					{Action: "verify", Detail: "{PKGDIR}/agent.deb: signed by " + testSignerFP + ", sha256 {SHA 3.3.100.0 deb}"},
					{Action: "run", Command: "dpkg --root={ROOT} -i {PKGDIR}/agent.deb"},
					{Action: "record", Detail: "{ROOT}/var/lib/ssm-setup/state.json"},
				},
			},
		},
		{
			name: "dry run with an unreachable source warns and succeeds", platform: debPlatform, spec: "latest",
			setup: func(t *testing.T, e *env, o *Options) {
				o.DryRun = true
				o.OpenSource = func(context.Context) (release.Source, error) {
					e.opens.Add(1)
					return nil, fail.New(fail.Download, "get https://s3.us-east-1.amazonaws.com/amazon-ssm-us-east-1/latest/VERSION: connection refused")
				}
			},
			want: Result{
				Action: "unknown", VersionAfter: "latest", PackageFormat: "deb", PackageManager: "dpkg", DryRun: true,
				Warnings: []string{`cannot resolve version "latest" now: get https://s3.us-east-1.amazonaws.com/amazon-ssm-us-east-1/latest/VERSION: connection refused; a real run stops here (exit 5)`},
				Plan: []Step{
					{Action: "resolve", Detail: "version latest from the release source"},
					{Action: "download", Detail: "the debian_amd64 package of that version and its .sig"},
					{Action: "verify", Detail: "OpenPGP signature and SHA-256"},
					{Action: "run", Command: "dpkg --root={ROOT} -i {CACHE}/VERSION/debian_amd64/amazon-ssm-agent.deb"},
					{Action: "record", Detail: "{ROOT}/var/lib/ssm-setup/state.json"},
				},
			},
			wantOpens: 1,
		},
		{
			name: "dry run with a missing version warns", platform: debPlatform, spec: "3.3.101.0",
			setup: func(t *testing.T, e *env, o *Options) { o.DryRun = true },
			want: Result{
				Action: "unknown", VersionAfter: "3.3.101.0", PackageFormat: "deb", PackageManager: "dpkg", DryRun: true,
				Warnings: []string{`cannot resolve version "3.3.101.0" now: agent version 3.3.101.0 for debian_amd64: not found: {BUCKET}/3.3.101.0/debian_amd64/amazon-ssm-agent.deb; {...}; a real run stops here (exit 5)`},
				Plan: []Step{
					{Action: "resolve", Detail: "version 3.3.101.0 from the release source"},
					{Action: "download", Detail: "the debian_amd64 package of that version and its .sig"},
					{Action: "verify", Detail: "OpenPGP signature and SHA-256"},
					{Action: "run", Command: "dpkg --root={ROOT} -i {CACHE}/VERSION/debian_amd64/amazon-ssm-agent.deb"},
					{Action: "record", Detail: "{ROOT}/var/lib/ssm-setup/state.json"},
				},
			},
			wantOpens: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, oldVersion, newVersion)
			if tt.installed != "" && tt.platform.PackageFormat == "deb" {
				writeDpkgStatus(t, e.root, tt.installed)
			}
			o := e.options(t, tt.platform, tt.spec)
			if tt.setup != nil {
				tt.setup(t, e, &o)
			}
			for _, line := range tt.cmds {
				call := runtest.Call{Line: line}
				for _, a := range tt.answers {
					if a.Line == line {
						call = a
					}
				}
				call.Line = e.expand(call.Line)
				e.fake.Expect(call)
			}

			got, err := Install(context.Background(), o)
			checkErr(t, err, tt.wantKind, e.expand(tt.wantMsg))
			if hint := fail.HintOf(err); !strings.Contains(hint, tt.wantHint) {
				t.Errorf("got hint %q, want it to contain %q", hint, tt.wantHint)
			}
			if diff := cmp.Diff(e.expandAll(tt.cmds), e.fake.Ran); diff != "" {
				t.Errorf("commands run (-want +got):\n%s", diff)
			}
			if got := e.opens.Load(); got != tt.wantOpens {
				t.Errorf("got OpenSource called %d times, want %d", got, tt.wantOpens)
			}
			if err == nil {
				want := e.expandResult(tt.want)
				got.Warnings = elide(got.Warnings, want.Warnings)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Result mismatch (-want +got):\n%s", diff)
				}
			}
			checkState(t, e, tt.wantAgent, tt.wantEvents)
			if got, want := regularFiles(t, e.root.Dir()), sorted(tt.wantRoot); !cmp.Equal(got, want) {
				t.Errorf("got files %q under the root, want %q", got, want)
			}
			if got := regularFiles(t, e.cache); !cmp.Equal(got, tt.wantCache) {
				t.Errorf("got files %q in the cache, want %q", got, tt.wantCache)
			}
		})
	}
}

// checkState compares the state file's agent record and history actions with want;
// a nil want means there must be no state file.
func checkState(t *testing.T, e *env, want *state.AgentRecord, wantEvents []string) {
	t.Helper()
	_, statErr := os.Stat(e.root.Path(state.Path))
	if want == nil {
		if statErr == nil {
			t.Errorf("got a state file %s, want none", e.root.Path(state.Path))
		}
		return
	}
	if statErr != nil {
		t.Fatalf("got no state file: %v", statErr)
	}
	st, err := state.Load(e.root)
	if err != nil {
		t.Fatal(err)
	}
	w := *want
	w.Source, w.SHA256 = e.expand(w.Source), e.expand(w.SHA256)
	w.InstalledAt, w.UpdatedAt = e.now, e.now
	if diff := cmp.Diff(&w, st.Agent); diff != "" {
		t.Errorf("state agent record (-want +got):\n%s", diff)
	}
	// Every file ssm-setup wrote into the root (the rpm key files) is recorded, so that
	// uninstall can remove it.
	recorded := map[string]bool{}
	for _, f := range st.Files {
		recorded[f.Path] = true
	}
	keyFiles, _ := filepath.Glob(e.root.Path(rpmKeyDir) + "/*")
	for _, kf := range keyFiles {
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(kf, e.root.Dir()), "/")
		if !recorded[rel] {
			t.Errorf("%s was written but is not recorded in the state file", rel)
		}
	}
	var events []string
	for _, ev := range st.History {
		events = append(events, ev.Action)
		if !ev.Time.Equal(e.now) {
			t.Errorf("got history time %v, want %v", ev.Time, e.now)
		}
	}
	if diff := cmp.Diff(wantEvents, events); diff != "" {
		t.Errorf("state history actions (-want +got):\n%s", diff)
	}
	if info, err := os.Stat(e.root.Path(state.Path)); err == nil && info.Mode().Perm() != 0o600 {
		t.Errorf("got state file mode %v, want 0600", info.Mode().Perm())
	}
}

// TestInstallRPMKeyFiles checks that the files the rpm imports read are AWS's five
// keys, one armored block each (rpm imports only the first key of a file).
func TestInstallRPMKeyFiles(t *testing.T) {
	e := newEnv(t, newVersion)
	q := rpmQuery("")
	q.Line = e.expand(q.Line)
	e.fake.Expect(q)
	for _, c := range cat(rpmImports, []string{"rpm --root {ROOT} -U " + newRPMInCache}) {
		e.fake.ExpectLine(e.expand(c), "")
	}
	o := e.options(t, rpmPlatform, "latest")
	if _, err := Install(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	blocks := splitArmoredBlocks(verify.AWSKeysArmored())
	if len(blocks) != 5 {
		t.Fatalf("got %d AWS key blocks, want 5", len(blocks))
	}
	for i, f := range rpmKeyFiles {
		got, err := os.ReadFile(filepath.Join(e.root.Dir(), f))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(blocks[i]) {
			t.Errorf("%s: got %q..., want AWS key block %d", f, firstLine(got), i+1)
		}
		if n := strings.Count(string(got), "-----BEGIN PGP PUBLIC KEY BLOCK-----"); n != 1 {
			t.Errorf("%s: got %d key blocks, want 1", f, n)
		}
	}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

// Answers of `systemctl show` for the agent's unit.
const (
	showLine     = "systemctl show amazon-ssm-agent -p ActiveState -p SubState -p UnitFileState -p MainPID -p ActiveEnterTimestamp"
	showActive   = "ActiveState=active\nSubState=running\nUnitFileState=enabled\nMainPID=4242\nActiveEnterTimestamp=Fri 2026-11-27 15:00:00 UTC\n"
	showFailed   = "ActiveState=failed\nSubState=failed\nUnitFileState=enabled\nMainPID=0\nActiveEnterTimestamp=\n"
	showDisabled = "ActiveState=inactive\nSubState=dead\nUnitFileState=disabled\nMainPID=0\nActiveEnterTimestamp=\n"
)

// enableLine is the command that enables and starts the agent's systemd unit, as the
// service package words it (its flags are that package's business; that Install runs
// it, and when, is this package's).
var enableLine = func() string {
	svc, err := service.New(service.Systemd, false, nil)
	if err != nil {
		panic(err)
	}
	return svc.EnableStartCmds()[0].String()
}()

// disableLine stops and disables the agent's systemd unit (install --no-start).
var disableLine = func() string {
	svc, err := service.New(service.Systemd, false, nil)
	if err != nil {
		panic(err)
	}
	return svc.DisableStopCmds()[0].String()
}()

// healthRunner is the strict fake, except that it answers the service state query
// itself: with health[k-1] after the k-th start of the service (health[0] before any),
// the last answer repeating. The health check polls at its own pace, so the number of
// queries is not part of any test; what the service reports after each start is.
type healthRunner struct {
	*runtest.Fake
	health []string
	starts int
	shows  int
}

func (h *healthRunner) Run(ctx context.Context, c run.Cmd) (run.Output, error) {
	switch c.String() {
	case showLine:
		h.shows++
		return run.Output{Stdout: []byte(h.health[min(max(h.starts-1, 0), len(h.health)-1)])}, nil
	case enableLine:
		h.starts++
	}
	return h.Fake.Run(ctx, c)
}

// newServiceInstaller is Install without preflight, with a systemd service manager on
// an image root. Preflight starts the service only on the host root ("/"), which a test
// must not install into; TestPreflight covers that choice, and this covers what
// follows it.
func newServiceInstaller(t *testing.T, o Options, manager string) *installer {
	t.Helper()
	pm, err := pkgmgr.New(manager, o.Root, o.Runner)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Systemd, false, o.Runner)
	if err != nil {
		t.Fatal(err)
	}
	return &installer{o: o, log: slog.New(slog.DiscardHandler), pm: pm, svc: svc, start: !o.NoStart, format: pm.Format()}
}

// TestInstallService covers starting the agent, the health check, the rollback of an
// unhealthy upgrade and the report of an unhealthy install.
func TestInstallService(t *testing.T) {
	logLines := make([]string, 30)
	for i := range logLines {
		logLines[i] = fmt.Sprintf("2026-11-27 15:00:%02d ERROR line %d", i, i+1)
	}
	tests := []struct {
		name      string
		platform  distro.Platform
		installed string
		spec      string
		bucket    []string // versions in the bucket
		setup     func(t *testing.T, e *env, o *Options)
		// calls are the expected calls, in the order they must run.
		calls []runtest.Call
		// health is what the service reports after each start (see healthRunner).
		health     []string
		want       Result
		wantOpens  int32
		wantKind   fail.Kind
		wantMsgs   []string // substrings of the error
		wantNot    string   // a substring the error must not have
		wantAgent  *state.AgentRecord
		wantEvents []string
	}{
		{
			name: "fresh install starts the agent and checks its health", platform: debPlatform, spec: "latest", bucket: []string{newVersion},
			calls: []runtest.Call{
				{Line: "dpkg --root={ROOT} -i " + newDebInCache},
				{Line: enableLine},
			},
			health: []string{showActive},
			want: Result{
				Changed: true, Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "active", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionInstalled},
		},
		{
			name: "unhealthy fresh install reports the agent log", platform: debPlatform, spec: "latest", bucket: []string{newVersion},
			setup: func(t *testing.T, e *env, o *Options) {
				p := e.root.Path(service.LogFile)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(strings.Join(logLines, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			calls: []runtest.Call{
				{Line: "dpkg --root={ROOT} -i " + newDebInCache},
				{Line: enableLine},
			},
			health: []string{showFailed},
			want: Result{
				Changed: true, Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens: 1, wantKind: fail.Unhealthy,
			wantMsgs: []string{
				"agent 3.3.100.0 is installed but not healthy: service amazon-ssm-agent failed",
				"last agent log lines:\n==> /var/log/amazon/ssm/amazon-ssm-agent.log <==\n2026-11-27 15:00:10 ERROR line 11\n",
				"2026-11-27 15:00:29 ERROR line 30",
			},
			wantNot:    "ERROR line 10\n",
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionInstalled},
		},
		{
			name: "unhealthy upgrade rolls back to the cached previous version", platform: rpmPlatform, installed: oldVersion, spec: "latest",
			bucket: []string{newVersion}, // the old version is only in the cache
			setup:  func(t *testing.T, e *env, o *Options) { seedCache(t, e.cache, oldVersion, "linux_amd64") },
			calls: cat2(
				[]runtest.Call{rpmQuery(oldVersion)},
				lineCalls(rpmImports),
				[]runtest.Call{
					{Line: "rpm --root {ROOT} -U " + newRPMInCache},
					{Line: enableLine},
					{Line: "rpm --root {ROOT} -U --oldpackage " + oldRPMInCache},
					{Line: enableLine},
				},
			),
			health: []string{showFailed, showActive},
			want: Result{
				Changed: true, Action: ActionUpgraded, VersionBefore: oldVersion, VersionAfter: oldVersion, PackageFormat: "rpm", PackageManager: "rpm",
				Service: "active", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 rpm}", SignerFingerprint: testSignerFP, RolledBack: true,
			},
			wantOpens: 1, wantKind: fail.Unhealthy,
			wantMsgs:   []string{"agent 3.3.100.0 was not healthy after the upgrade; rolled back to 3.3.99.0: service amazon-ssm-agent failed"},
			wantAgent:  &state.AgentRecord{Version: oldVersion, PackageFormat: "rpm", PackageManager: "rpm", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 rpm}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionUpgraded, "rollback"},
		},
		{
			name: "unhealthy deb upgrade rolls back from the source", platform: debPlatform, installed: oldVersion, spec: "latest",
			bucket: []string{oldVersion, newVersion},
			calls: []runtest.Call{
				{Line: "dpkg --root={ROOT} -i " + newDebInCache},
				{Line: enableLine},
				{Line: "dpkg --root={ROOT} -i " + oldDebInCache},
				{Line: enableLine},
			},
			health: []string{showFailed, showActive},
			want: Result{
				Changed: true, Action: ActionUpgraded, VersionBefore: oldVersion, VersionAfter: oldVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "active", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 deb}", SignerFingerprint: testSignerFP, RolledBack: true,
			},
			wantOpens: 1, wantKind: fail.Unhealthy,
			wantMsgs:   []string{"rolled back to 3.3.99.0"},
			wantAgent:  &state.AgentRecord{Version: oldVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionUpgraded, "rollback"},
		},
		{
			name: "failed rollback is reported with the health failure", platform: debPlatform, installed: oldVersion, spec: "latest",
			bucket: []string{newVersion}, // the old version is nowhere
			calls: []runtest.Call{
				{Line: "dpkg --root={ROOT} -i " + newDebInCache},
				{Line: enableLine},
			},
			health: []string{showFailed},
			want: Result{
				Changed: true, Action: ActionUpgraded, VersionBefore: oldVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens: 1, wantKind: fail.Unhealthy,
			wantMsgs:   []string{"service amazon-ssm-agent failed", "roll back to 3.3.99.0 failed: missing signature"},
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionUpgraded},
		},
		{
			name: "unhealthy downgrade is not rolled back", platform: debPlatform, installed: newVersion, spec: oldVersion, bucket: []string{oldVersion, newVersion},
			setup: func(t *testing.T, e *env, o *Options) { o.AllowDowngrade = true },
			calls: []runtest.Call{
				{Line: "dpkg --root={ROOT} -i " + oldDebInCache},
				{Line: enableLine},
			},
			health: []string{showFailed},
			want: Result{
				Changed: true, Action: ActionDowngraded, VersionBefore: newVersion, VersionAfter: oldVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens: 1, wantKind: fail.Unhealthy,
			wantMsgs:   []string{"agent 3.3.99.0 is installed but not healthy"},
			wantNot:    "last agent log lines", // there is no log
			wantAgent:  &state.AgentRecord{Version: oldVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionDowngraded},
		},
		{
			name: "rollback whose previous version is unhealthy too records that version", platform: debPlatform, installed: oldVersion, spec: "latest",
			bucket: []string{oldVersion, newVersion},
			calls: []runtest.Call{
				{Line: "dpkg --root={ROOT} -i " + newDebInCache},
				{Line: enableLine},
				{Line: "dpkg --root={ROOT} -i " + oldDebInCache},
				{Line: enableLine},
			},
			health: []string{showFailed, showFailed},
			want: Result{
				Changed: true, Action: ActionUpgraded, VersionBefore: oldVersion, VersionAfter: oldVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "inactive", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 deb}", SignerFingerprint: testSignerFP, RolledBack: true,
			},
			wantOpens: 1, wantKind: fail.Unhealthy,
			wantMsgs:   []string{"agent 3.3.100.0 was not healthy after the upgrade", "rolled back to 3.3.99.0, but it is not healthy either"},
			wantNot:    "roll back to 3.3.99.0 failed",
			wantAgent:  &state.AgentRecord{Version: oldVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.99.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionUpgraded, "rollback"},
		},
		{
			name: "no start on a first install stops what the package started", platform: debPlatform, spec: "latest", bucket: []string{newVersion},
			setup: func(t *testing.T, e *env, o *Options) { o.NoStart = true },
			calls: []runtest.Call{
				{Line: "dpkg --root={ROOT} -i " + newDebInCache},
				{Line: disableLine},
			},
			health: []string{showDisabled},
			want: Result{
				Changed: true, Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "disabled", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionInstalled},
		},
		{
			name: "no start on an upgrade leaves the service as it is and reports it", platform: debPlatform, installed: oldVersion, spec: "latest", bucket: []string{newVersion},
			setup: func(t *testing.T, e *env, o *Options) { o.NoStart = true },
			calls: []runtest.Call{
				{Line: "dpkg --root={ROOT} -i " + newDebInCache},
			},
			health: []string{showActive},
			want: Result{
				Changed: true, Action: ActionUpgraded, VersionBefore: oldVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "active", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP,
			},
			wantOpens:  1,
			wantAgent:  &state.AgentRecord{Version: newVersion, PackageFormat: "deb", PackageManager: "dpkg", Source: "{BUCKET}", SHA256: "{SHA 3.3.100.0 deb}", SignerFingerprint: testSignerFP},
			wantEvents: []string{ActionUpgraded},
		},
		{
			name: "dry run with no start plans the stop", platform: debPlatform, spec: "latest", bucket: []string{newVersion},
			setup:  func(t *testing.T, e *env, o *Options) { o.DryRun, o.NoStart = true, true },
			health: []string{showDisabled},
			want: Result{
				Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "disabled", Source: "{BUCKET}", DryRun: true,
				Plan: []Step{
					{Action: "download", Detail: "{BUCKET}/3.3.100.0/debian_amd64/amazon-ssm-agent.deb"},
					{Action: "verify", Detail: "OpenPGP signature {BUCKET}/3.3.100.0/debian_amd64/amazon-ssm-agent.deb.sig and SHA-256"},
					{Action: "run", Command: "dpkg --root={ROOT} -i " + newDebInCache},
					{Action: "run", Detail: "--no-start: stop the service the package's scripts started", Command: disableLine},
					{Action: "record", Detail: "{ROOT}/var/lib/ssm-setup/state.json"},
				},
			},
			wantOpens: 1,
		},
		{
			name: "unchanged re-run only reads the service state", platform: debPlatform, installed: newVersion, spec: newVersion, bucket: []string{newVersion},
			health: []string{showActive},
			want: Result{
				Action: ActionUnchanged, VersionBefore: newVersion, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "active", Source: "",
			},
		},
		{
			name: "dry run plans the service start and only reads its state", platform: debPlatform, spec: "latest", bucket: []string{newVersion},
			setup:  func(t *testing.T, e *env, o *Options) { o.DryRun = true },
			health: []string{showDisabled},
			want: Result{
				Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "deb", PackageManager: "dpkg",
				Service: "disabled", Source: "{BUCKET}", DryRun: true,
				Plan: []Step{
					{Action: "download", Detail: "{BUCKET}/3.3.100.0/debian_amd64/amazon-ssm-agent.deb"},
					{Action: "verify", Detail: "OpenPGP signature {BUCKET}/3.3.100.0/debian_amd64/amazon-ssm-agent.deb.sig and SHA-256"},
					{Action: "run", Command: "dpkg --root={ROOT} -i " + newDebInCache},
					{Action: "run", Command: enableLine},
					{Action: "check health", Detail: "the service is active and the agent stays up"},
					{Action: "record", Detail: "{ROOT}/var/lib/ssm-setup/state.json"},
				},
			},
			wantOpens: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.bucket...)
			if tt.installed != "" && tt.platform.PackageFormat == "deb" {
				writeDpkgStatus(t, e.root, tt.installed)
			}
			o := e.options(t, tt.platform, tt.spec)
			if tt.setup != nil {
				tt.setup(t, e, &o)
			}
			var wantOrder []string
			for _, c := range tt.calls {
				c.Line = e.expand(c.Line)
				e.fake.Expect(c)
				wantOrder = append(wantOrder, c.Line)
			}
			hr := &healthRunner{Fake: e.fake, health: tt.health}
			o.Runner = hr
			in := newServiceInstaller(t, o, map[string]string{"deb": "dpkg", "rpm": "rpm"}[tt.platform.PackageFormat])

			got, err := in.install(context.Background())
			checkErr(t, err, tt.wantKind, "")
			for _, m := range tt.wantMsgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("got error %q, want it to contain %q", err, m)
				}
			}
			if err != nil && tt.wantNot != "" && strings.Contains(err.Error(), tt.wantNot) {
				t.Errorf("got error %q, want it without %q", err, tt.wantNot)
			}
			if diff := cmp.Diff(e.expandResult(tt.want), got); diff != "" {
				t.Errorf("Result mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantOrder, e.fake.Ran); diff != "" {
				t.Errorf("commands run (-want +got):\n%s", diff)
			}
			if hr.shows == 0 {
				t.Errorf("the service state was never queried")
			}
			if got := e.opens.Load(); got != tt.wantOpens {
				t.Errorf("got OpenSource called %d times, want %d", got, tt.wantOpens)
			}
			checkState(t, e, tt.wantAgent, tt.wantEvents)
		})
	}
}

func cat2(lists ...[]runtest.Call) []runtest.Call {
	var out []runtest.Call
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// lineCalls makes succeeding calls of lines.
func lineCalls(lines []string) []runtest.Call {
	var out []runtest.Call
	for _, l := range lines {
		out = append(out, runtest.Call{Line: l})
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// elide returns got with each string that matches the "{...}" pattern at the same
// index of want replaced by that pattern, so that cmp reports only real differences.
func elide(got, want []string) []string {
	out := slices.Clone(got)
	for i := range min(len(got), len(want)) {
		prefix, suffix, ok := strings.Cut(want[i], "{...}")
		if ok && len(got[i]) >= len(prefix)+len(suffix) && strings.HasPrefix(got[i], prefix) && strings.HasSuffix(got[i], suffix) {
			out[i] = want[i]
		}
	}
	return out
}

// TestInstallHostNoInitSystem runs Install for the host root "/" on a platform without
// an init system. A real run stops in preflight, before anything is read or run; a dry
// run shows the plan with a warning and writes nothing (checked on /var/lib/ssm-setup,
// where a real run would write).
func TestInstallHostNoInitSystem(t *testing.T) {
	const hostDir = "/var/lib/ssm-setup"
	if _, err := os.Stat(hostDir); !errors.Is(err, fs.ErrNotExist) {
		t.Skipf("this host has %s (%v); the test checks that a dry run does not create it", hostDir, err)
	}
	noInit := rpmPlatform
	noInit.InitSystem = "none"
	tests := []struct {
		name     string
		dryRun   bool
		calls    []runtest.Call
		want     Result
		wantKind fail.Kind
	}{
		{name: "real run stops with exit 3", wantKind: fail.Unsupported},
		{
			name: "dry run warns", dryRun: true,
			calls: []runtest.Call{{Line: `rpm -q --qf '%{VERSION}\n' amazon-ssm-agent`, ExitCode: 1, Stdout: "package amazon-ssm-agent is not installed\n"}},
			want: Result{
				Action: ActionInstalled, VersionAfter: newVersion, PackageFormat: "rpm", PackageManager: "dnf",
				Service: "inactive", Source: "{BUCKET}", DryRun: true,
				Warnings: []string{"no init system found to run the agent service: a real run stops here (exit 3); pass --no-start"},
				Plan: []Step{
					{Action: "download", Detail: "{BUCKET}/3.3.100.0/linux_amd64/amazon-ssm-agent.rpm"},
					{Action: "verify", Detail: "OpenPGP signature {BUCKET}/3.3.100.0/linux_amd64/amazon-ssm-agent.rpm.sig and SHA-256"},
					{Action: "run", Command: "rpm --import /var/lib/ssm-setup/rpm-keys/aws-ssm-agent-1.asc"},
					{Action: "run", Command: "rpm --import /var/lib/ssm-setup/rpm-keys/aws-ssm-agent-2.asc"},
					{Action: "run", Command: "rpm --import /var/lib/ssm-setup/rpm-keys/aws-ssm-agent-3.asc"},
					{Action: "run", Command: "rpm --import /var/lib/ssm-setup/rpm-keys/aws-ssm-agent-4.asc"},
					{Action: "run", Command: "rpm --import /var/lib/ssm-setup/rpm-keys/aws-ssm-agent-5.asc"},
					{Action: "run", Command: "dnf install -y " + newRPMInCache},
					{Action: "record", Detail: "/var/lib/ssm-setup/state.json"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, newVersion)
			for _, c := range tt.calls {
				e.fake.Expect(c)
			}
			o := e.options(t, noInit, "latest")
			o.Root = sysroot.Root{}
			o.DryRun = tt.dryRun
			got, err := Install(context.Background(), o)
			checkErr(t, err, tt.wantKind, "no init system found to run the agent service")
			if tt.wantKind != 0 {
				if fail.Code(err) != 3 {
					t.Errorf("got exit code %d, want 3", fail.Code(err))
				}
				if e.opens.Load() != 0 || len(e.fake.Ran) != 0 {
					t.Errorf("got %d source opens and commands %q, want none before preflight passes", e.opens.Load(), e.fake.Ran)
				}
				return
			}
			if diff := cmp.Diff(e.expandResult(tt.want), got); diff != "" {
				t.Errorf("Result mismatch (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(hostDir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a dry run created %s", hostDir)
			}
			if files := regularFiles(t, e.cache); files != nil {
				t.Errorf("got files %q in the cache after a dry run, want none", files)
			}
		})
	}
}

// TestInstallCorruptStateChangesNothing: a state file that does not parse stops the run
// before the download and the package manager, and is left as it was: replacing it
// would lose the record of the files ssm-setup wrote earlier.
func TestInstallCorruptStateChangesNothing(t *testing.T) {
	e := newEnv(t, newVersion)
	p := e.root.Path(state.Path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	const corrupt = `{"files": [{"path": "/etc/systemd/system/amazon-ssm-agent.service.d/ssm-setup-proxy.conf"`
	if err := os.WriteFile(p, []byte(corrupt), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Install(context.Background(), e.options(t, debPlatform, "latest"))
	checkErr(t, err, fail.Unexpected, "is corrupt")
	if len(e.fake.Ran) != 0 {
		t.Errorf("got commands %q, want none", e.fake.Ran)
	}
	if files := regularFiles(t, e.cache); files != nil {
		t.Errorf("got files %q in the cache, want none", files)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != corrupt {
		t.Errorf("got state file %q (%v), want it unchanged", got, err)
	}
}

// withCeiling is p on a machine that cannot run agents newer than ceiling.
func withCeiling(p distro.Platform, ceiling string) distro.Platform {
	p.MaxAgentVersion = ceiling
	return p
}
