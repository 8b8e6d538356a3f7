//go:build linux

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The install-lifecycle scenarios: ssm-setup itself, built from this tree, run inside a
// booted Debian 12 container against a local bucket, with every assertion made on the
// machine's real state (dpkg/rpm database, systemctl, files, users).

const (
	v1, v2, vBad = "3.3.100.0", "3.3.200.0", "3.3.300.0"
	region       = "us-east-1"
	badRegion    = "us-west-2" // its bucket serves a tampered package
)

// world is what every scenario shares: the ssm-setup binary, signed packages, and the
// local buckets.
type world struct {
	bin    string // ssm-setup, static
	keyPub string // armored test public key (trusted with --trusted-key)
	srv    *Server
	debs   map[string]string
	rpms   map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{debs: map[string]string{}, rpms: map[string]string{}}
	w.bin = buildSSMSetup(t)
	signer, pub := NewTestKey(t)
	w.keyPub = pub
	var releases []Release
	for _, v := range []string{v1, v2, vBad} {
		deb, rpm := BuildPackages(t, PkgOptions{Version: v})
		w.debs[v], w.rpms[v] = deb, rpm
		releases = append(releases, Release{Version: v, Deb: deb, RPM: rpm})
	}
	dir := t.TempDir()
	BuildBucket(t, dir, region, Bucket{Releases: releases, Latest: v2, Stable: v1, Signer: signer})
	w.srv = ServeBucket(t, dir, region)

	// A second bucket whose v2 deb was altered after signing: verification must fail.
	bad := t.TempDir()
	BuildBucket(t, bad, badRegion, Bucket{Releases: releases, Latest: v2, Stable: v1, Signer: signer})
	tampered := filepath.Join(bad, v2, DebFolder, DebFile)
	data, err := os.ReadFile(tampered)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(tampered, data, 0o644); err != nil {
		t.Fatal(err)
	}
	w.srv.AddBucket("amazon-ssm-"+badRegion, bad)
	return w
}

// buildSSMSetup builds a static ssm-setup from this module.
func buildSSMSetup(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ssm-setup")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/ssm-setup")
	cmd.Dir = ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ssm-setup: %v\n%s", err, b)
	}
	return out
}

// env is the environment of ssm-setup runs: the local bucket through the SDK's
// standard endpoint setting, and no instance metadata.
func (w *world) env() []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + w.srv.Endpoint(),
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// boot starts a container with ssm-setup and the test key in it.
func (w *world) boot(t *testing.T) *Container {
	t.Helper()
	c := Boot(t, DebianRoot(t))
	for host, ctr := range map[string]string{w.bin: "/usr/local/bin/ssm-setup", w.keyPub: "/root/test-key.asc"} {
		if err := c.CopyIn(host, ctr); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// result is one ssm-setup run.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	return m
}

// ssmSetup runs ssm-setup inside c with the trusted test key and JSON output.
func (w *world) ssmSetup(t *testing.T, c *Container, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	full := append([]string{"/usr/local/bin/ssm-setup"}, args...)
	full = append(full, "--output", "json")
	start := time.Now()
	stdout, stderr, code, err := c.ExecEnv(ctx, w.env(), full...)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	t.Logf("ssm-setup %s -> exit %d in %s", strings.Join(args, " "), code, took.Round(time.Millisecond))
	return result{stdout, stderr, code, took}
}

func (w *world) install(t *testing.T, c *Container, args ...string) result {
	return w.ssmSetup(t, c, append([]string{"install", "--region", region, "--trusted-key", "/root/test-key.asc"}, args...)...)
}

func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// debVersion is the agent version in the container's dpkg database ("" when not installed).
func debVersion(t *testing.T, c *Container) string {
	t.Helper()
	out, _, code, err := c.Exec(context.Background(), "dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", PackageName)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || !strings.HasPrefix(out, "ii") {
		return ""
	}
	_, v, _ := strings.Cut(out, "|")
	return strings.TrimSuffix(v, "-1")
}

func rpmVersion(t *testing.T, c *Container) string {
	t.Helper()
	out, _, code, err := c.Exec(context.Background(), "rpm", "-q", "--qf", "%{VERSION}", PackageName)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		return ""
	}
	return out
}

func isActive(t *testing.T, c *Container) string {
	t.Helper()
	out, _, _, err := c.Exec(context.Background(), "systemctl", "is-active", "amazon-ssm-agent")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// runningVersion waits for the log line of the agent version that is running now.
func runningVersion(t *testing.T, c *Container, version string) {
	t.Helper()
	waitFor(t, "agent "+version+" running", func() bool {
		pid := strings.TrimSpace(c.Run(t, "systemctl", "show", "-p", "MainPID", "--value", "amazon-ssm-agent"))
		if pid == "0" || pid == "" {
			return false
		}
		exe, _, _, _ := c.Exec(context.Background(), "sh", "-c", "/proc/"+pid+"/exe -version")
		return strings.Contains(exe, version)
	})
}

func fileExists(c *Container, path string) bool {
	_, err := os.Lstat(filepath.Join(c.Root(), path))
	return err == nil
}

func lineCount(t *testing.T, c *Container, path string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.Root(), path))
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n"))
}

// TestLifecycleDeb walks one Debian machine through the whole life of the agent.
func TestLifecycleDeb(t *testing.T) {
	RequireSystem(t)
	w := newWorld(t)
	c := w.boot(t)

	t.Run("dry run changes nothing", func(t *testing.T) {
		r := w.install(t, c, "--version", v1, "--dry-run")
		wantCode(t, r, 0)
		plan := r.json(t)
		if plan["action"] != "installed" || plan["changed"] != false {
			t.Errorf("dry-run result: got action %v changed %v, want installed false", plan["action"], plan["changed"])
		}
		if !strings.Contains(r.stdout, "apt-get install") && !strings.Contains(r.stdout, "dpkg") {
			t.Errorf("plan does not show the package manager command:\n%s", r.stdout)
		}
		if v := debVersion(t, c); v != "" {
			t.Errorf("dpkg: got %s installed after --dry-run", v)
		}
		for _, p := range []string{"/var/lib/ssm-setup/state.json", "/var/cache/ssm-setup/" + v1} {
			if fileExists(c, p) {
				t.Errorf("%s exists after --dry-run", p)
			}
		}
	})

	t.Run("corrupted package is refused and nothing installed", func(t *testing.T) {
		r := w.ssmSetup(t, c, "install", "--region", badRegion, "--trusted-key", "/root/test-key.asc", "--version", v2)
		wantCode(t, r, 4)
		if !strings.Contains(r.stderr, "signature") {
			t.Errorf("stderr does not say which check failed:\n%s", r.stderr)
		}
		if v := debVersion(t, c); v != "" {
			t.Errorf("dpkg: got %s installed from a corrupted package", v)
		}
		if fileExists(c, "/var/cache/ssm-setup/"+v2+"/"+DebFolder+"/"+DebFile) {
			t.Error("the corrupted package was left in the cache")
		}
	})

	t.Run("fresh install", func(t *testing.T) {
		r := w.install(t, c, "--version", v1)
		wantCode(t, r, 0)
		if got := debVersion(t, c); got != v1 {
			t.Fatalf("dpkg: got %q, want %s", got, v1)
		}
		if got := isActive(t, c); got != "active" {
			t.Errorf("systemctl is-active: got %s, want active", got)
		}
		if got := strings.TrimSpace(c.Run(t, "systemctl", "is-enabled", "amazon-ssm-agent")); got != "enabled" {
			t.Errorf("systemctl is-enabled: got %s", got)
		}
		waitFor(t, "ssm-user created by the agent", func() bool { return fileExists(c, "/etc/sudoers.d/ssm-agent-users") })
		var st struct {
			Agent struct {
				Version, PackageManager, SHA256 string
			}
		}
		data, err := os.ReadFile(filepath.Join(c.Root(), "var/lib/ssm-setup/state.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatal(err)
		}
		if st.Agent.Version != v1 || st.Agent.SHA256 == "" {
			t.Errorf("state.json agent: got %+v", st.Agent)
		}
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		dpkgLog := lineCount(t, c, "/var/log/dpkg.log")
		before := w.srv.Requests(v1 + "/" + DebFolder + "/" + DebFile)
		pid := c.Run(t, "systemctl", "show", "-p", "MainPID", "--value", "amazon-ssm-agent")
		r := w.install(t, c, "--version", v1)
		wantCode(t, r, 0)
		res := r.json(t)
		if res["changed"] != false || res["action"] != "unchanged" {
			t.Errorf("got changed %v action %v, want false unchanged", res["changed"], res["action"])
		}
		if got := lineCount(t, c, "/var/log/dpkg.log"); got != dpkgLog {
			t.Errorf("dpkg.log grew from %d to %d lines: the package manager ran", dpkgLog, got)
		}
		if got := w.srv.Requests(v1 + "/" + DebFolder + "/" + DebFile); got != before {
			t.Errorf("bucket requests for the package: got %d, want %d (no network for a pinned, installed version)", got, before)
		}
		if got := c.Run(t, "systemctl", "show", "-p", "MainPID", "--value", "amazon-ssm-agent"); got != pid {
			t.Errorf("agent restarted: MainPID %s -> %s", strings.TrimSpace(pid), strings.TrimSpace(got))
		}
		t.Logf("timing: unchanged pinned re-run took %s (whole process, inside the container)", r.took.Round(time.Millisecond))
	})

	t.Run("upgrade to latest", func(t *testing.T) {
		r := w.install(t, c)
		wantCode(t, r, 0)
		if res := r.json(t); res["action"] != "upgraded" || res["version_before"] != v1 || res["version_after"] != v2 {
			t.Errorf("got %v", res)
		}
		if got := debVersion(t, c); got != v2 {
			t.Fatalf("dpkg: got %q, want %s", got, v2)
		}
		runningVersion(t, c, v2)
	})

	t.Run("downgrade refused", func(t *testing.T) {
		r := w.install(t, c, "--version", v1)
		wantCode(t, r, 2)
		if !strings.Contains(r.stderr, "--allow-downgrade") {
			t.Errorf("no hint to --allow-downgrade:\n%s", r.stderr)
		}
		if got := debVersion(t, c); got != v2 {
			t.Errorf("dpkg: got %q, want %s still", got, v2)
		}
	})

	t.Run("downgrade allowed, from the cache", func(t *testing.T) {
		before := w.srv.Requests(v1 + "/" + DebFolder + "/" + DebFile)
		r := w.install(t, c, "--version", v1, "--allow-downgrade", "--yes")
		wantCode(t, r, 0)
		if got := debVersion(t, c); got != v1 {
			t.Fatalf("dpkg: got %q, want %s", got, v1)
		}
		runningVersion(t, c, v1)
		if got := w.srv.Requests(v1 + "/" + DebFolder + "/" + DebFile); got != before {
			t.Errorf("the cached package was downloaded again (%d -> %d requests)", before, got)
		}
	})

	t.Run("unhealthy upgrade is rolled back", func(t *testing.T) {
		c.Run(t, "touch", "/etc/amazon/ssm/fakeagent-fail-"+vBad)
		defer c.Run(t, "rm", "-f", "/etc/amazon/ssm/fakeagent-fail-"+vBad)
		r := w.install(t, c, "--version", vBad)
		wantCode(t, r, 10)
		if !strings.Contains(r.stderr, "rolled back to "+v1) {
			t.Errorf("stderr does not report the rollback:\n%s", r.stderr)
		}
		if got := debVersion(t, c); got != v1 {
			t.Fatalf("dpkg after rollback: got %q, want %s", got, v1)
		}
		waitActive(t, c, "active")
		runningVersion(t, c, v1)
	})

	t.Run("two concurrent installs", func(t *testing.T) {
		var wg sync.WaitGroup
		var first result
		wg.Add(1)
		go func() {
			defer wg.Done()
			first = w.install(t, c, "--version", v1, "--force-reinstall", "--yes")
		}()
		waitFor(t, "the first install holds the lock", func() bool {
			out, _, _, _ := c.Exec(context.Background(), "sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c 'force-reinstall' || true")
			return strings.TrimSpace(out) != "0"
		})
		time.Sleep(300 * time.Millisecond)
		second := w.install(t, c, "--version", v1)
		third := w.install(t, c, "--version", v1, "--lock-wait", "2m")
		wg.Wait()
		wantCode(t, first, 0)
		wantCode(t, second, 8)
		if !strings.Contains(second.stderr, "another ssm-setup run (pid") {
			t.Errorf("exit 8 without the holder's pid:\n%s", second.stderr)
		}
		wantCode(t, third, 0)
		if res := third.json(t); res["action"] != "unchanged" {
			t.Errorf("waiting install: got action %v, want unchanged", res["action"])
		}
	})

	t.Run("status", func(t *testing.T) {
		r := w.ssmSetup(t, c, "status", "--region", region)
		wantCode(t, r, 0)
		res := r.json(t)
		svc, _ := res["service"].(map[string]any)
		if res["version"] != v1 || svc["state"] != "active" || res["latest"] != v2 || res["update_available"] != true {
			t.Errorf("status: got %s", r.stdout)
		}
	})

	t.Run("uninstall keeps ssm-user", func(t *testing.T) {
		r := w.ssmSetup(t, c, "uninstall")
		wantCode(t, r, 0)
		if got := debVersion(t, c); got != "" {
			t.Errorf("dpkg: %s still installed", got)
		}
		if got := isActive(t, c); got == "active" {
			t.Error("service still active")
		}
		if fileExists(c, DebUnitPath) {
			t.Error("unit file left behind")
		}
		if !strings.Contains(c.Run(t, "cat", "/etc/passwd"), "\nssm-user:") {
			t.Error("ssm-user was removed")
		}
		if !fileExists(c, "/etc/sudoers.d/ssm-agent-users") {
			t.Error("sudoers rule was removed")
		}
		if !strings.Contains(r.stdout, `"userdel ssm-user"`) {
			t.Errorf("left_in_place does not list ssm-user with its removal command:\n%s", r.stdout)
		}
		again := w.ssmSetup(t, c, "uninstall")
		wantCode(t, again, 0)
		if res := again.json(t); res["changed"] != false {
			t.Errorf("second uninstall: got changed %v, want false", res["changed"])
		}
	})

	t.Run("purge", func(t *testing.T) {
		wantCode(t, w.install(t, c, "--version", v1), 0)
		c.Run(t, "sh", "-c", "cp /etc/amazon/ssm/amazon-ssm-agent.json.template /etc/amazon/ssm/amazon-ssm-agent.json")
		r := w.ssmSetup(t, c, "uninstall", "--purge", "--yes")
		wantCode(t, r, 0)
		for _, p := range []string{"/etc/amazon/ssm/amazon-ssm-agent.json", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"} {
			if fileExists(c, p) {
				t.Errorf("%s left after --purge", p)
			}
		}
		if !strings.Contains(c.Run(t, "cat", "/etc/passwd"), "\nssm-user:") {
			t.Error("ssm-user was removed by --purge")
		}
	})

	t.Run("no start installs a stopped, disabled agent", func(t *testing.T) {
		// The package's own scripts enable and start the agent; --no-start undoes that.
		r := w.install(t, c, "--version", v1, "--no-start")
		wantCode(t, r, 0)
		if res := r.json(t); res["action"] != "installed" || res["service"] != "disabled" {
			t.Errorf("got action %v service %v, want installed disabled", res["action"], res["service"])
		}
		if got := debVersion(t, c); got != v1 {
			t.Fatalf("dpkg: got %q, want %s", got, v1)
		}
		if got := isActive(t, c); got == "active" {
			t.Errorf("systemctl is-active: got %s, want the agent stopped", got)
		}
		if got := strings.TrimSpace(c.Run(t, "sh", "-c", "systemctl is-enabled amazon-ssm-agent || true")); got == "enabled" {
			t.Errorf("systemctl is-enabled: got %s, want not enabled", got)
		}
	})
}

// TestLifecycleRPM installs, upgrades and removes the rpm with rpm itself under systemd,
// on a root whose os-release says Rocky Linux 9 and which has no dnf or yum: the case
// of minimal systems where rpm is the only front end.
func TestLifecycleRPM(t *testing.T) {
	RequireSystem(t)
	w := newWorld(t)
	c := w.boot(t)
	rocky := "NAME=\"Rocky Linux\"\nVERSION=\"9.4 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n"
	c.Run(t, "sh", "-c", "rm -f /etc/os-release && printf '%s' '"+rocky+"' > /etc/os-release")

	r := w.ssmSetup(t, c, "detect")
	wantCode(t, r, 0)
	if d := r.json(t); d["package_format"] != "rpm" || d["package_manager"] != "rpm" || d["platform_folder"] != RPMFolder {
		t.Fatalf("detect on the rpm root: %s", r.stdout)
	}

	r = w.install(t, c, "--version", v1)
	wantCode(t, r, 0)
	if got := rpmVersion(t, c); got != v1 {
		t.Fatalf("rpm -q: got %q, want %s", got, v1)
	}
	if got := isActive(t, c); got != "active" {
		t.Errorf("systemctl is-active: got %s", got)
	}
	if !strings.Contains(c.Run(t, "rpm", "-q", "gpg-pubkey", "--qf", "%{SUMMARY}\n"), "ssm-agent-signer@amazon.com") {
		t.Error("AWS's key was not imported into the rpm database")
	}

	r = w.install(t, c, "--version", v2)
	wantCode(t, r, 0)
	if got := rpmVersion(t, c); got != v2 {
		t.Fatalf("rpm -q after upgrade: got %q, want %s", got, v2)
	}
	runningVersion(t, c, v2)

	r = w.ssmSetup(t, c, "uninstall")
	wantCode(t, r, 0)
	if got := rpmVersion(t, c); got != "" {
		t.Errorf("rpm -q after uninstall: got %q", got)
	}
	if fileExists(c, RPMUnitPath) {
		t.Error("unit file left behind")
	}
}

// TestImageRoot installs into an unbooted image root from the host: the CI image-build
// case. Nothing may start, and the host must be untouched.
func TestImageRoot(t *testing.T) {
	RequireSystem(t)
	w := newWorld(t)
	root := DebianRoot(t)
	cache := t.TempDir()
	cmd := exec.Command(w.bin, "install", "--root", root, "--region", region, "--version", v1,
		"--trusted-key", w.keyPub, "--cache-dir", cache, "--output", "json")
	cmd.Env = append(os.Environ(), w.env()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("install --root: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "Package: amazon-ssm-agent\nStatus: install ok installed") {
		t.Error("the image's dpkg database does not list the agent as installed")
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin/amazon-ssm-agent")); err != nil {
		t.Error("agent binary missing from the image")
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/ssm-setup/state.json")); err != nil {
		t.Error("state.json missing from the image")
	}
	if _, err := os.Stat("/usr/bin/amazon-ssm-agent"); err == nil {
		t.Error("the host got an agent binary")
	}
	if _, err := os.Stat(filepath.Join(root, "var/cache/ssm-setup")); err == nil {
		t.Error("the package cache was written into the image")
	}
	var res map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res["package_manager"] != "dpkg" || res["service"] == "active" {
		t.Errorf("install --root result: %s", stdout.String())
	}
}
