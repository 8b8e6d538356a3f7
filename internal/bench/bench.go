//go:build linux

package bench

import (
	"os"
	"os/exec"
	"testing"
)

// EnvVar is the environment variable that turns the real-system tests on.
const EnvVar = "SSM_SETUP_BENCH"

// systemTools are the host programs DebianRoot and Boot run.
var systemTools = []string{"debootstrap", "systemd-nspawn", "nsenter", "rpm", "mount", "umount", "cp"}

// RequireSystem skips t unless real-system tests are enabled (SSM_SETUP_BENCH=1), the
// test runs as root, and every host tool the bench needs is installed.
func RequireSystem(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvVar) != "1" {
		t.Skipf("real-system test: set %s=1 to run it (as root, with debootstrap, systemd-container and rpm installed)", EnvVar)
	}
	if os.Geteuid() != 0 {
		t.Skip("real-system test: needs root (mounts and containers); re-run as root")
	}
	for _, tool := range systemTools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("real-system test: %s not found on PATH; install it with `apt-get install debootstrap systemd-container rpm`", tool)
		}
	}
}
