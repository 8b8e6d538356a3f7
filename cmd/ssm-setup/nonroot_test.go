//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNonRoot runs the real binary as the unprivileged user nobody: read-only commands
// and dry runs work without root (and say what they cannot see), changes exit 9.
func TestNonRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a command as another user")
	}
	dir, err := os.MkdirTemp("", "ssm-setup-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ssm-setup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "root")
	write := func(path, content string, mode os.FileMode) {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nNAME=\"Debian GNU/Linux\"\n", 0o644)
	write("var/lib/dpkg/status", "Package: amazon-ssm-agent\nStatus: install ok installed\nVersion: 3.3.100.0-1\n", 0o644)
	// The state file is root's only, as ssm-setup writes it.
	write("var/lib/ssm-setup/state.json", `{"schema_version":1,"files":[{"path":"/etc/systemd/system/amazon-ssm-agent.service.d/ssm-setup-proxy.conf","purpose":"proxy"}],"history":[]}`, 0o600)

	run := func(args ...string) (stdout, stderr string, code int) {
		cmd := exec.Command(bin, append([]string{"--root", root}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "HOME="+dir, "XDG_CACHE_HOME="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return o.String(), e.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatalf("run %v: %v", args, err)
		}
		return o.String(), e.String(), 0
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
		wantStdout string
	}{
		{name: "status", args: []string{"status", "-o", "json", "--source", dir}, wantCode: 0},
		{name: "status says what it cannot see", args: []string{"status", "--source", dir}, wantCode: 0, wantStdout: "readable by root only"},
		{name: "uninstall dry run", args: []string{"uninstall", "--dry-run", "--purge", "-o", "json"}, wantCode: 0, wantStderr: "cannot read ssm-setup's state file without root"},
		{name: "uninstall", args: []string{"uninstall", "--yes"}, wantCode: 9, wantStderr: "hint: re-run with sudo"},
		{name: "install", args: []string{"install", "--source", dir, "--version", "3.3.100.0"}, wantCode: 9, wantStderr: "must run as root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(tt.args...)
			if code != tt.wantCode {
				t.Fatalf("got exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			if tt.wantStdout != "" && !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantStdout, stdout)
			}
			if tt.wantStderr != "" && !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr)
			}
		})
	}
}
