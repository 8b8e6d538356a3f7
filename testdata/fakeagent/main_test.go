package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// runAgent runs the stand-in on root with args and returns exit code and output.
func runAgent(t *testing.T, root string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("SSM_FAKEAGENT_ROOT", root)
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func exists(t *testing.T, root, rel string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(root, rel))
	return err == nil
}

func TestVersion(t *testing.T) {
	code, out, _ := runAgent(t, t.TempDir(), "-version")
	if want := "SSM Agent version: " + version + "\n"; code != 0 || out != want {
		t.Errorf("got %d %q, want 0 %q", code, out, want)
	}
}

const activationID = "4a0b5f2e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"

func TestRegister(t *testing.T) {
	root := t.TempDir()
	code, out, errOut := runAgent(t, root, "-register", "-code", "good", "-id", activationID, "-region", "eu-west-1")
	if code != 0 {
		t.Fatalf("register: got exit %d (%s), want 0", code, errOut)
	}
	want := instanceID(activationID, "good")
	if !regexp.MustCompile(`^mi-[0-9a-f]{17}$`).MatchString(want) {
		t.Fatalf("instance id %q does not look like a node id", want)
	}
	if !strings.Contains(out, want) {
		t.Errorf("output %q does not name %s", out, want)
	}
	var reg registration
	b, err := os.ReadFile(filepath.Join(root, registrationFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &reg); err != nil {
		t.Fatal(err)
	}
	if reg.ManagedInstanceID != want || reg.Region != "eu-west-1" {
		t.Errorf("got registration %+v, want %s in eu-west-1", reg, want)
	}
	var key map[string]string
	b, err = os.ReadFile(filepath.Join(root, vaultKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &key); err != nil {
		t.Fatal(err)
	}
	if key["instanceID"] != want || key["region"] != "eu-west-1" {
		t.Errorf("got vault key %v, want instanceID %s region eu-west-1", key, want)
	}
	for _, rel := range []string{vaultManifest, identityConfig} {
		if !exists(t, root, rel) {
			t.Errorf("%s missing after registration", rel)
		}
	}

	// Already registered: refuse without -y, keep the registration.
	if code, _, _ := runAgent(t, root, "-register", "-code", "other", "-id", activationID, "-region", "eu-west-1"); code != 1 {
		t.Errorf("re-register without -y: got exit %d, want 1", code)
	}
	if !exists(t, root, registrationFile) {
		t.Error("re-register without -y removed the registration")
	}

	// A failed re-registration with -y leaves the node unregistered.
	code, _, errOut = runAgent(t, root, "-register", "-code", "expired", "-id", activationID, "-region", "eu-west-1", "-y")
	if code != 1 || !strings.Contains(errOut, "ActivationExpired") {
		t.Errorf("expired: got %d %q, want 1 and ActivationExpired", code, errOut)
	}
	for _, rel := range []string{registrationFile, vaultKey, identityConfig} {
		if exists(t, root, rel) {
			t.Errorf("%s survived a failed -y registration", rel)
		}
	}
}

func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name, code, id, want string
	}{
		{"expired", "expired", activationID, "ActivationExpired"},
		{"invalid", "invalid", activationID, "InvalidActivation"},
		{"bad id", "good", "not-a-uuid", "not a valid UUID"},
		{"missing code", "", activationID, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			code, _, errOut := runAgent(t, root, "-register", "-code", tt.code, "-id", tt.id, "-region", "us-east-1")
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("got %d %q, want 1 and %q", code, errOut, tt.want)
			}
			if exists(t, root, registrationFile) {
				t.Error("registration written despite the error")
			}
		})
	}
}

func TestClear(t *testing.T) {
	root := t.TempDir()
	if code, _, errOut := runAgent(t, root, "-register", "-code", "c", "-id", activationID, "-region", "us-east-1"); code != 0 {
		t.Fatalf("register: %s", errOut)
	}
	if code, _, errOut := runAgent(t, root, "-clear"); code != 0 {
		t.Fatalf("clear: got %d (%s), want 0", code, errOut)
	}
	for _, rel := range []string{registrationFile, vaultDir} {
		if exists(t, root, rel) {
			t.Errorf("%s survived -clear", rel)
		}
	}
}

// fakeUseradd puts a useradd on PATH that appends the user to ROOT/etc/passwd.
func fakeUseradd(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = --root ] || exit 9\necho \"$4:x:1001:1001::/home/$4:/bin/sh\" >> \"$2/etc/passwd\"\n"
	if err := os.WriteFile(filepath.Join(bin, "useradd"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func daemonOnce(t *testing.T, root string) int {
	t.Helper()
	t.Setenv("SSM_FAKEAGENT_ROOT", root)
	t.Setenv("https_proxy", "http://proxy.example:3128")
	stop := make(chan os.Signal, 1)
	stop <- syscall.SIGTERM
	var stderr bytes.Buffer
	return agent{root: root, stdout: &stderr, stderr: &stderr}.daemon(stop)
}

func TestDaemonCreatesUser(t *testing.T) {
	fakeUseradd(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code := daemonOnce(t, root); code != 0 {
		t.Fatalf("daemon: got exit %d, want 0", code)
	}
	fi, err := os.Stat(filepath.Join(root, sudoersFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o440 {
		t.Errorf("sudoers mode: got %o, want 440", fi.Mode().Perm())
	}
	env, err := os.ReadFile(filepath.Join(root, envFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(env), "https_proxy=http://proxy.example:3128\n") {
		t.Errorf("env file lacks https_proxy:\n%s", env)
	}
	if !exists(t, root, pidFile) || !exists(t, root, logFile) {
		t.Error("pid file or log missing")
	}
}

func TestDaemonKeepsExistingUser(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, passwdFile), []byte("ssm-user:x:900:900::/home/ssm-user:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := daemonOnce(t, root); code != 0 {
		t.Fatalf("daemon: got exit %d, want 0", code)
	}
	if exists(t, root, sudoersFile) {
		t.Error("sudoers written for a pre-existing ssm-user")
	}
}

func TestDaemonFailMarkers(t *testing.T) {
	for _, marker := range []string{failFile, failFile + "-" + version} {
		t.Run(filepath.Base(marker), func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, filepath.Dir(marker)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, marker), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if code := daemonOnce(t, root); code != 1 {
				t.Errorf("got exit %d, want 1", code)
			}
			log, _ := os.ReadFile(filepath.Join(root, logFile))
			if !strings.Contains(string(log), "failing on purpose") {
				t.Errorf("log does not say why:\n%s", log)
			}
		})
	}
	root := t.TempDir()
	other := filepath.Join(root, failFile+"-9.9.9.9")
	if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, passwdFile), []byte("ssm-user:x:900:900::/home/ssm-user:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := daemonOnce(t, root); code != 0 {
		t.Errorf("marker for another version: got exit %d, want 0", code)
	}
}
