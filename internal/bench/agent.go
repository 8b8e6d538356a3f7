//go:build linux

package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// agentCache holds the stand-in agents built by this test process, by version.
var agentCache = struct {
	sync.Mutex
	dir   string
	paths map[string]string
}{paths: map[string]string{}}

// ModuleRoot returns the directory of ssm-setup's go.mod, found with `go env GOMOD`
// from the test's working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("bench: go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		t.Fatal("bench: not inside the ssm-setup module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod)
}

// goTool is the go command that runs the tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// BuildAgent returns the path of a static build (CGO_ENABLED=0) of testdata/fakeagent
// that reports version. Each version is built once per test process; the binaries live
// in one directory under os.TempDir() named after the process id, removed by
// a later test run once this process is gone.
func BuildAgent(t testing.TB, version string) string {
	t.Helper()
	agentCache.Lock()
	defer agentCache.Unlock()
	if p, ok := agentCache.paths[version]; ok {
		return p
	}
	if agentCache.dir == "" {
		sweepStaleAgents()
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("ssm-setup-bench-agent-%d", os.Getpid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("bench: %v", err)
		}
		agentCache.dir = dir
	}
	out := filepath.Join(agentCache.dir, "amazon-ssm-agent-"+version)
	cmd := exec.Command(goTool(), "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", out, "./testdata/fakeagent")
	cmd.Dir = ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: building the fake agent %s: %v\n%s", version, err, stderr.String())
	}
	agentCache.paths[version] = out
	return out
}

// sweepStaleAgents removes agent build directories of test processes that are gone.
func sweepStaleAgents() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "ssm-setup-bench-agent-*"))
	for _, m := range matches {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(m), "ssm-setup-bench-agent-%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		if !processAlive(pid) {
			os.RemoveAll(m)
		}
	}
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}
