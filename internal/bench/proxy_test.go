//go:build linux

package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The proxy scenarios: `ssm-setup proxy set/show/unset` and `install --proxy` inside a
// booted Debian 12 container, asserting what systemd and the running agent process
// really have (systemctl show, /proc/MAINPID/environ), not what ssm-setup reports.

const (
	proxyURL      = "http://proxy.example:3128"
	proxyPassword = "s3cret"
	proxyCredURL  = "http://user:" + proxyPassword + "@proxy.example:3128"
	// proxyUserURL is what the command line carries: the user only. The password
	// comes from SSM_SETUP_PROXY_PASSWORD (proxyPasswordEnv), never from argv.
	proxyUserURL = "http://user@proxy.example:3128"
	// dropInDir is the directory systemd reads the agent unit's drop-ins from (facts,
	// section 3).
	dropInDir = "/etc/systemd/system/amazon-ssm-agent.service.d"
)

// proxyVars are every variable ssm-setup may set on the agent's service.
var proxyVars = []string{"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}

// runEnv is w.ssmSetup with extra KEY=VALUE entries in ssm-setup's environment.
// proxyPasswordEnv passes the proxy password the way scripts should: in the environment.
func proxyPasswordEnv() []string { return []string{"SSM_SETUP_PROXY_PASSWORD=" + proxyPassword} }

func (w *world) runEnv(t *testing.T, c *Container, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	full := append([]string{"/usr/local/bin/ssm-setup"}, args...)
	full = append(full, "--output", "json")
	start := time.Now()
	stdout, stderr, code, err := c.ExecEnv(ctx, append(w.env(), env...), full...)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	t.Logf("ssm-setup %s -> exit %d in %s", strings.Join(args, " "), code, took.Round(time.Millisecond))
	return result{stdout, stderr, code, took}
}

// mainPID is systemd's MainPID of the agent service (0 when it does not run).
func mainPID(t *testing.T, c *Container) int {
	t.Helper()
	out := strings.TrimSpace(c.Run(t, "systemctl", "show", "-p", "MainPID", "--value", "amazon-ssm-agent"))
	pid, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("systemctl show -p MainPID: %q is not a number", out)
	}
	return pid
}

// agentProc waits until the agent service's main process is the agent itself, running
// (it has written its pid file), and returns its pid and its environment as the kernel
// has it (/proc/PID/environ inside the container).
func agentProc(t *testing.T, c *Container) (int, map[string]string) {
	t.Helper()
	var pid int
	waitFor(t, "the agent's main process", func() bool {
		out, _, code, _ := c.Exec(context.Background(), "systemctl", "show", "-p", "MainPID", "--value", "amazon-ssm-agent")
		if code != 0 {
			return false
		}
		pid, _ = strconv.Atoi(strings.TrimSpace(out))
		if pid <= 0 {
			return false
		}
		b, err := os.ReadFile(filepath.Join(c.Root(), "var/lib/amazon/ssm/fakeagent-pid"))
		return err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid)
	})
	out := c.Run(t, "cat", "/proc/"+strconv.Itoa(pid)+"/environ")
	env := map[string]string{}
	for _, kv := range strings.Split(out, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return pid, env
}

// readRoot reads a file of the container's root from the host ("" when missing).
func readRoot(t *testing.T, c *Container, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Root(), p))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// dropIns lists the *.conf drop-ins of the agent's unit (container paths).
func dropIns(t *testing.T, c *Container) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(c.Root(), dropInDir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = strings.TrimPrefix(m[i], c.Root())
	}
	return m
}

// wantNoProxy checks the agent's no_proxy: the user's entries first, then both instance
// metadata addresses.
func wantNoProxy(t *testing.T, env map[string]string, first string) {
	t.Helper()
	np, ok := env["no_proxy"]
	if !ok {
		t.Errorf("the agent has no no_proxy")
		return
	}
	entries := strings.Split(np, ",")
	if first != "" && entries[0] != first {
		t.Errorf("no_proxy %q: got first entry %q, want %q", np, entries[0], first)
	}
	for _, imds := range []string{"169.254.169.254", "fd00:ec2::254"} {
		found := false
		for _, e := range entries {
			found = found || e == imds
		}
		if !found {
			t.Errorf("no_proxy %q lacks %s", np, imds)
		}
	}
}

// TestProxy walks one machine with the agent through proxy set, set again, set with
// credentials, show, unset, an upgrade with a proxy and an uninstall; and installs with
// --proxy on a second machine.
func TestProxy(t *testing.T) {
	RequireSystem(t)
	w := newWorld(t)

	t.Run("machine with the agent", func(t *testing.T) {
		t.Parallel()
		c := w.boot(t)
		wantCode(t, w.install(t, c, "--version", v1), 0)
		unitBefore := readRoot(t, c, DebUnitPath)
		if unitBefore == "" {
			t.Fatalf("%s missing after install", DebUnitPath)
		}
		pidBefore, _ := agentProc(t, c)

		t.Run("set reaches the running agent", func(t *testing.T) {
			r := w.ssmSetup(t, c, "proxy", "set", "--http-proxy", proxyURL, "--no-proxy", "10.0.0.0/8")
			wantCode(t, r, 0)
			if res := r.json(t); res["changed"] != true {
				t.Errorf("changed: got %v, want true", res["changed"])
			}
			pid, env := agentProc(t, c)
			if pid == pidBefore {
				t.Errorf("the agent was not restarted (MainPID %d before and after)", pid)
			}
			if got := env["http_proxy"]; got != proxyURL {
				t.Errorf("the agent's http_proxy: got %q, want %q", got, proxyURL)
			}
			wantNoProxy(t, env, "10.0.0.0/8")
			confs := dropIns(t, c)
			if len(confs) == 0 {
				t.Fatalf("no drop-in under %s", dropInDir)
			}
			paths := c.Run(t, "systemctl", "show", "-p", "DropInPaths", "--value", "amazon-ssm-agent")
			for _, p := range confs {
				if !strings.Contains(paths, p) {
					t.Errorf("systemd does not read %s (DropInPaths: %s)", p, strings.TrimSpace(paths))
				}
			}
			if got := readRoot(t, c, DebUnitPath); got != unitBefore {
				t.Errorf("the shipped unit %s was changed:\n%s", DebUnitPath, got)
			}
		})

		t.Run("same set again changes nothing", func(t *testing.T) {
			pid := mainPID(t, c)
			r := w.ssmSetup(t, c, "proxy", "set", "--http-proxy", proxyURL, "--no-proxy", "10.0.0.0/8")
			wantCode(t, r, 0)
			if res := r.json(t); res["changed"] != false {
				t.Errorf("changed: got %v, want false", res["changed"])
			}
			if got := mainPID(t, c); got != pid {
				t.Errorf("the agent was restarted: MainPID %d -> %d", pid, got)
			}
		})

		t.Run("credentials stay secret", func(t *testing.T) {
			r := w.runEnv(t, c, proxyPasswordEnv(), "proxy", "set", "--https-proxy", proxyUserURL)
			wantCode(t, r, 0)
			_, env := agentProc(t, c)
			if got := env["https_proxy"]; got != proxyCredURL {
				t.Errorf("the agent's https_proxy: got %q, want the URL with credentials", got)
			}
			if _, ok := env["http_proxy"]; ok {
				t.Error("http_proxy is still set: set replaces the settings as a whole")
			}
			wantNoProxy(t, env, "169.254.169.254")

			files := strings.Fields(c.Run(t, "systemctl", "show", "-p", "EnvironmentFiles", "--value", "amazon-ssm-agent"))
			if len(files) == 0 {
				t.Fatal("the agent's unit has no EnvironmentFile")
			}
			if got := strings.TrimSpace(c.Run(t, "stat", "-c", "%a %U %G", files[0])); got != "600 root root" {
				t.Errorf("%s: got mode and owner %q, want \"600 root root\"", files[0], got)
			}
			if !strings.Contains(readRoot(t, c, files[0]), proxyPassword) {
				t.Errorf("%s does not hold the credentials", files[0])
			}
			show := c.Run(t, "systemctl", "show", "amazon-ssm-agent")
			cat := c.Run(t, "systemctl", "cat", "amazon-ssm-agent")
			journal := c.Run(t, "journalctl", "-b", "--no-pager")
			shown := w.ssmSetup(t, c, "proxy", "show")
			wantCode(t, shown, 0)
			for what, text := range map[string]string{
				"systemctl show":           show,
				"systemctl cat":            cat,
				"the journal":              journal,
				"proxy set's stdout":       r.stdout,
				"proxy set's stderr":       r.stderr,
				"proxy show's stdout":      shown.stdout,
				"proxy show's stderr":      shown.stderr,
				"/var/lib/ssm-setup/state": readRoot(t, c, "/var/lib/ssm-setup/state.json"),
			} {
				if strings.Contains(text, proxyPassword) {
					t.Errorf("the password appears in %s", what)
				}
			}
			// World-readable files under /etc must not hold it either.
			if out, _, _, _ := c.Exec(context.Background(), "sh", "-c", "grep -rl -D skip "+proxyPassword+" /etc /var/lib/ssm-setup /run/systemd 2>/dev/null; true"); strings.TrimSpace(out) != files[0] {
				t.Errorf("files holding the password: got %q, want only %s", strings.TrimSpace(out), files[0])
			}
			if st := readRoot(t, c, "/var/lib/ssm-setup/state.json"); !strings.Contains(st, "user:***@proxy.example:3128") {
				t.Errorf("state.json does not record the masked proxy:\n%s", st)
			}
			res := shown.json(t)
			if res["https_proxy"] != "http://user:***@proxy.example:3128" {
				t.Errorf("proxy show https_proxy: got %v, want it masked as user:***@", res["https_proxy"])
			}
			if res["in_effect"] != true {
				t.Errorf("proxy show in_effect: got %v, want true", res["in_effect"])
			}
		})

		t.Run("unset removes the drop-in and restarts the agent", func(t *testing.T) {
			pid := mainPID(t, c)
			r := w.ssmSetup(t, c, "proxy", "unset")
			wantCode(t, r, 0)
			if confs := dropIns(t, c); len(confs) != 0 {
				t.Errorf("drop-ins left: %v", confs)
			}
			if readRoot(t, c, "/etc/amazon/ssm/ssm-setup-proxy.env") != "" {
				t.Error("the environment file is left")
			}
			newPID, env := agentProc(t, c)
			if newPID == pid {
				t.Errorf("the agent was not restarted (MainPID %d)", pid)
			}
			for _, v := range proxyVars {
				if val, ok := env[v]; ok {
					t.Errorf("the agent still has %s=%q", v, val)
				}
			}
			if got := strings.TrimSpace(c.Run(t, "systemctl", "show", "-p", "Environment", "--value", "amazon-ssm-agent")); got != "" {
				t.Errorf("systemd still sets Environment=%s", got)
			}
		})

		t.Run("proxy survives an upgrade", func(t *testing.T) {
			wantCode(t, w.runEnv(t, c, proxyPasswordEnv(), "proxy", "set", "--proxy", proxyUserURL, "--no-proxy", ".corp.example"), 0)
			wantCode(t, w.install(t, c, "--version", v2), 0)
			runningVersion(t, c, v2)
			_, env := agentProc(t, c)
			for _, v := range []string{"http_proxy", "https_proxy"} {
				if env[v] != proxyCredURL {
					t.Errorf("the v2 agent's %s: got %q, want the proxy", v, env[v])
				}
			}
			wantNoProxy(t, env, ".corp.example")
			if got := readRoot(t, c, DebUnitPath); got != unitBefore {
				t.Errorf("the unit after the upgrade differs from the shipped one:\n%s", got)
			}
		})

		t.Run("uninstall removes the files ssm-setup wrote", func(t *testing.T) {
			written := append(dropIns(t, c), "/etc/amazon/ssm/ssm-setup-proxy.env")
			wantCode(t, w.ssmSetup(t, c, "uninstall"), 0)
			for _, p := range written {
				if fileExists(c, p) {
					t.Errorf("%s left after uninstall", p)
				}
			}
			if confs := dropIns(t, c); len(confs) != 0 {
				t.Errorf("drop-ins left: %v", confs)
			}
			if fileExists(c, dropInDir) {
				t.Logf("note: the empty directory %s is left after uninstall", dropInDir)
			}
		})
	})

	t.Run("install --proxy on a fresh machine", func(t *testing.T) {
		t.Parallel()
		c := w.boot(t)
		r := w.install(t, c, "--version", v1, "--proxy", proxyURL, "--no-proxy", "localhost")
		wantCode(t, r, 0)
		if got := debVersion(t, c); got != v1 {
			t.Fatalf("dpkg: got %q, want %s", got, v1)
		}
		if res := r.json(t); res["proxy"] == nil {
			t.Errorf("the result has no proxy step:\n%s", r.stdout)
		}
		waitActive(t, c, "active")
		_, env := agentProc(t, c)
		for _, v := range []string{"http_proxy", "https_proxy"} {
			if env[v] != proxyURL {
				t.Errorf("the agent's %s: got %q, want %q", v, env[v], proxyURL)
			}
		}
		wantNoProxy(t, env, "localhost")
		if len(dropIns(t, c)) == 0 {
			t.Errorf("no drop-in under %s", dropInDir)
		}
	})
}
