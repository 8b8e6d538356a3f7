//go:build linux

package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The hybrid registration scenarios: `ssm-setup register`, `install --activation-id`,
// `status` and `deregister` inside a booted Debian 12 container. The stand-in agent
// registers offline (testdata/fakeagent); the SSM API that deregister calls is an
// httptest server on 127.0.0.1, reached through AWS_ENDPOINT_URL_SSM (the container
// shares the host's network).

const (
	activationID = "4f1e8c2a-1b2c-4d5e-8f90-123456789abc"
	// activationCode looks like a real code (20 characters) and occurs nowhere else.
	activationCode = "kQ7vX2pL9mN4rT8wZ1cY"
	codeFile       = "/root/code"
)

var miRE = regexp.MustCompile(`^mi-[0-9a-f]{17}$`)

// registrationPaths are the agent's registration state (facts, section 5).
var registrationPaths = []string{"/var/lib/amazon/ssm/registration", "/var/lib/amazon/ssm/Vault", "/var/lib/amazon/ssm/runtimeconfig"}

// expectedMI is the node id the stand-in agent derives from an activation id and code.
func expectedMI(id, code string) string {
	sum := sha256.Sum256([]byte(id + "\n" + code))
	return "mi-" + hex.EncodeToString(sum[:])[:17]
}

// ssmRequest is one call the SSM stand-in received.
type ssmRequest struct {
	Target string
	Body   map[string]any
	Signed bool
}

// ssmStandIn is a local stand-in for the SSM API: it answers every call with an empty
// JSON object (DeregisterManagedInstance's response) and records it.
type ssmStandIn struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []ssmRequest
}

func newSSMStandIn(t *testing.T) *ssmStandIn {
	s := &ssmStandIn{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := ssmRequest{Target: r.Header.Get("X-Amz-Target"), Signed: strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDBENCHTEST/")}
		_ = json.Unmarshal(b, &req.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
		rw.Write([]byte("{}"))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *ssmStandIn) requests() []ssmRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ssmRequest(nil), s.reqs...)
}

// env is what ssm-setup needs to reach the stand-in: its endpoint and static test
// credentials (nothing here reaches AWS).
func (s *ssmStandIn) env() []string {
	return []string{
		"AWS_ENDPOINT_URL_SSM=" + s.srv.URL,
		"AWS_ACCESS_KEY_ID=AKIDBENCHTEST",
		"AWS_SECRET_ACCESS_KEY=bench-secret-key",
	}
}

// writeCode puts an activation code file into the container with mode 0600.
func writeCode(t *testing.T, c *Container, path, code string) {
	t.Helper()
	host := filepath.Join(t.TempDir(), "code")
	if err := os.WriteFile(host, []byte(code+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.CopyIn(host, path); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(c.Run(t, "stat", "-c", "%a", path)); got != "600" {
		t.Fatalf("%s: mode %s, want 600", path, got)
	}
}

// registration reads the agent's registration file ("" id when there is none).
func registration(t *testing.T, c *Container) (id, region string) {
	t.Helper()
	b := readRoot(t, c, registrationPaths[0])
	if b == "" {
		return "", ""
	}
	var reg struct{ ManagedInstanceID, Region string }
	if err := json.Unmarshal([]byte(b), &reg); err != nil {
		t.Fatalf("registration file: %v\n%s", err, b)
	}
	return reg.ManagedInstanceID, reg.Region
}

// snapshot is every file and directory of the registration, with mode and content.
func snapshot(t *testing.T, c *Container) map[string]string {
	t.Helper()
	snap := map[string]string{}
	for _, p := range registrationPaths {
		err := filepath.WalkDir(filepath.Join(c.Root(), p), func(path string, d fs.DirEntry, err error) error {
			if os.IsNotExist(err) {
				return nil
			}
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			v := info.Mode().String()
			if d.Type().IsRegular() {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				v += " " + string(b)
			}
			snap[strings.TrimPrefix(path, c.Root())] = v
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

func diffSnapshots(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range before {
		if got, ok := after[p]; !ok {
			t.Errorf("%s is gone", p)
		} else if got != v {
			t.Errorf("%s changed:\n got %q\nwant %q", p, got, v)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s is new", p)
		}
	}
}

// watchArgv samples every process's command line on the host (which sees the
// container's processes too) until stop is called, and returns the command lines that
// held secret.
func watchArgv(secret string) (stop func() []string) {
	var done atomic.Bool
	var seen []string
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		uniq := map[string]bool{}
		for !done.Load() {
			entries, _ := os.ReadDir("/proc")
			for _, e := range entries {
				if _, err := strconv.Atoi(e.Name()); err != nil {
					continue
				}
				b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				if err != nil || !strings.Contains(string(b), secret) {
					continue
				}
				line := strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
				if !uniq[line] {
					uniq[line] = true
					seen = append(seen, line)
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return func() []string {
		done.Store(true)
		<-finished
		return seen
	}
}

// wantArgvOnlyAgent checks that only the agent's own registration command held the code.
func wantArgvOnlyAgent(t *testing.T, lines []string) {
	t.Helper()
	for _, l := range lines {
		if !strings.HasPrefix(l, "/usr/bin/amazon-ssm-agent -register") {
			t.Errorf("the activation code is on the command line of: %s", strings.ReplaceAll(l, activationCode, "<code>"))
		}
	}
	t.Logf("command lines seen with the code: %d (the agent's -register only)", len(lines))
}

func wantNoCode(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.stdout, activationCode) || strings.Contains(r.stderr, activationCode) {
		t.Errorf("ssm-setup printed the activation code:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

// TestRegistration registers one machine with an activation, re-runs, fails a forced
// re-registration, refuses a code on the command line, shows the status and deregisters
// against the SSM stand-in; a second machine installs and registers in one run.
func TestRegistration(t *testing.T) {
	RequireSystem(t)
	w := newWorld(t)
	api := newSSMStandIn(t)
	mi := expectedMI(activationID, activationCode)

	t.Run("machine with the agent", func(t *testing.T) {
		t.Parallel()
		c := w.boot(t)
		wantCode(t, w.install(t, c, "--version", v1), 0)
		writeCode(t, c, codeFile, activationCode)
		register := func(t *testing.T, extra ...string) result {
			args := append([]string{"register", "--activation-id", activationID, "--activation-code-file", codeFile, "--region", region}, extra...)
			return w.runEnv(t, c, api.env(), args...)
		}

		t.Run("register", func(t *testing.T) {
			pid, _ := agentProc(t, c)
			stop := watchArgv(activationCode)
			r := register(t)
			argv := stop()
			wantCode(t, r, 0)
			wantNoCode(t, r)
			wantArgvOnlyAgent(t, argv)
			id, reg := registration(t, c)
			if !miRE.MatchString(id) || id != mi || reg != region {
				t.Fatalf("registration file: got %q in %q, want %s in %s", id, reg, mi, region)
			}
			waitActive(t, c, "active")
			newPID, _ := agentProc(t, c)
			if newPID == pid {
				t.Errorf("the agent was not restarted around the registration (MainPID %d)", pid)
			}
			if log := readRoot(t, c, "/var/log/amazon/ssm/amazon-ssm-agent.log"); !strings.Contains(log, "registered as "+mi+" in "+region) {
				t.Errorf("the agent did not start with the registration; its log:\n%s", log)
			}
			if res := r.json(t); res["managed_instance_id"] != mi || res["changed"] != true {
				t.Errorf("result: %s", r.stdout)
			}
		})

		t.Run("same again changes nothing", func(t *testing.T) {
			before := snapshot(t, c)
			pid := mainPID(t, c)
			r := register(t)
			wantCode(t, r, 0)
			if res := r.json(t); res["changed"] != false || res["managed_instance_id"] != mi {
				t.Errorf("got changed %v id %v, want false %s", res["changed"], res["managed_instance_id"], mi)
			}
			diffSnapshots(t, before, snapshot(t, c))
			if got := mainPID(t, c); got != pid {
				t.Errorf("the agent was restarted: MainPID %d -> %d", pid, got)
			}
		})

		t.Run("failed forced re-registration restores the old one", func(t *testing.T) {
			writeCode(t, c, "/root/expired", "expired")
			before := snapshot(t, c)
			if len(before) < 4 {
				t.Fatalf("registration snapshot too small to mean anything: %v", before)
			}
			r := w.runEnv(t, c, api.env(), "register", "--activation-id", activationID, "--activation-code-file", "/root/expired", "--region", region, "--force")
			wantCode(t, r, 7)
			if !strings.Contains(r.stderr, "activation has expired") {
				t.Errorf("stderr does not say the activation expired:\n%s", r.stderr)
			}
			diffSnapshots(t, before, snapshot(t, c))
			waitActive(t, c, "active")
			if backups, _ := filepath.Glob(filepath.Join(c.Root(), "var/lib/ssm-setup/backup-*")); len(backups) != 0 {
				t.Errorf("registration backups left (they hold the private key): %v", backups)
			}
		})

		t.Run("code on the command line is refused", func(t *testing.T) {
			before := snapshot(t, c)
			pid := mainPID(t, c)
			// Another code than the one the parallel scenario's watcher looks for: this
			// one is on ssm-setup's command line by the user's doing.
			const typed = "Zz9TypedOnTheCmdLine"
			r := w.runEnv(t, c, api.env(), "register", "--activation-id", activationID, "--activation-code", typed, "--region", region, "--force")
			wantCode(t, r, 2)
			if strings.Contains(r.stdout+r.stderr, typed) {
				t.Errorf("ssm-setup printed the refused code:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, "--activation-code-file") {
				t.Errorf("no hint to a safe way:\n%s", r.stderr)
			}
			diffSnapshots(t, before, snapshot(t, c))
			if got := mainPID(t, c); got != pid {
				t.Errorf("the agent was restarted: MainPID %d -> %d", pid, got)
			}
		})

		t.Run("status shows the hybrid registration", func(t *testing.T) {
			r := w.ssmSetup(t, c, "status", "--region", region)
			wantCode(t, r, 0)
			reg, _ := r.json(t)["registration"].(map[string]any)
			if reg["type"] != "hybrid" || reg["managed_instance_id"] != mi || reg["region"] != region {
				t.Errorf("status registration: got %v, want hybrid %s in %s", reg, mi, region)
			}
		})

		t.Run("deregister", func(t *testing.T) {
			r := w.runEnv(t, c, api.env(), "deregister", "--yes")
			wantCode(t, r, 0)
			var got []ssmRequest
			for _, q := range api.requests() {
				if q.Target == "AmazonSSM.DeregisterManagedInstance" {
					got = append(got, q)
				}
			}
			if len(got) != 1 || got[0].Body["InstanceId"] != mi || !got[0].Signed {
				t.Errorf("the SSM stand-in got %+v, want one signed DeregisterManagedInstance of %s", api.requests(), mi)
			}
			for _, p := range registrationPaths {
				if fileExists(c, p) {
					t.Errorf("%s left after deregister", p)
				}
			}
			waitActive(t, c, "inactive")
			var st struct{ Registration any }
			if err := json.Unmarshal([]byte(readRoot(t, c, "/var/lib/ssm-setup/state.json")), &st); err != nil {
				t.Fatal(err)
			}
			if st.Registration != nil {
				t.Errorf("state.json still records the registration: %v", st.Registration)
			}
		})

		// Registering calls AWS from the agent's -register run, which ssm-setup starts
		// itself, outside the service: on a network that needs the proxy it must get
		// the proxy settings the service has. A wrapper records that run's environment.
		t.Run("register goes through the configured proxy", func(t *testing.T) {
			wantCode(t, w.runEnv(t, c, proxyPasswordEnv(), "proxy", "set", "--proxy", proxyUserURL), 0)
			c.Run(t, "sh", "-c", `mv /usr/bin/amazon-ssm-agent /usr/bin/amazon-ssm-agent.real && printf '%s\n' '#!/bin/sh' `+
				`'case " $* " in *" -register "*) env > /root/register-env;; esac' 'exec /usr/bin/amazon-ssm-agent.real "$@"' > /usr/bin/amazon-ssm-agent && chmod 755 /usr/bin/amazon-ssm-agent`)
			defer c.Run(t, "mv", "/usr/bin/amazon-ssm-agent.real", "/usr/bin/amazon-ssm-agent")
			r := register(t)
			wantCode(t, r, 0)
			if id, _ := registration(t, c); id != mi {
				t.Errorf("registration file: got %q, want %s", id, mi)
			}
			env := map[string]string{}
			for _, kv := range strings.Split(readRoot(t, c, "/root/register-env"), "\n") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
			if len(env) == 0 {
				t.Fatal("the agent's -register run was not seen")
			}
			for _, v := range []string{"https_proxy", "HTTPS_PROXY", "http_proxy"} {
				if env[v] != proxyCredURL {
					t.Errorf("the agent's -register run: %s=%q, want the proxy", v, env[v])
				}
			}
			wantNoProxy(t, env, "169.254.169.254")
			if strings.Contains(r.stdout+r.stderr, proxyPassword) {
				t.Errorf("ssm-setup printed the proxy password:\n%s\n%s", r.stdout, r.stderr)
			}
		})
	})

	t.Run("install and register in one run", func(t *testing.T) {
		t.Parallel()
		c := w.boot(t)
		writeCode(t, c, codeFile, activationCode)
		stop := watchArgv(activationCode)
		r := w.runEnv(t, c, api.env(), "install", "--region", region, "--trusted-key", "/root/test-key.asc", "--version", v1,
			"--activation-id", activationID, "--activation-code-file", codeFile)
		argv := stop()
		wantCode(t, r, 0)
		wantNoCode(t, r)
		wantArgvOnlyAgent(t, argv)
		if got := debVersion(t, c); got != v1 {
			t.Fatalf("dpkg: got %q, want %s", got, v1)
		}
		if id, reg := registration(t, c); id != mi || reg != region {
			t.Errorf("registration file: got %q in %q, want %s in %s", id, reg, mi, region)
		}
		waitActive(t, c, "active")
		waitFor(t, "the agent running with the registration", func() bool {
			return strings.Contains(readRoot(t, c, "/var/log/amazon/ssm/amazon-ssm-agent.log"), "registered as "+mi)
		})
	})
}
