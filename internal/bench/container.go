//go:build linux

package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BootTimeout bounds how long Boot waits for the container's systemd to finish booting.
const BootTimeout = 60 * time.Second

// containerEnv is the environment of commands run inside a container: nothing leaks in
// from the host's environment.
var containerEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C.UTF-8",
	"TERM=dumb",
	"DEBIAN_FRONTEND=noninteractive",
}

// Container is a Debian root booted with systemd-nspawn, sharing the host's network.
type Container struct {
	name    string
	root    string
	nspawn  *exec.Cmd
	exited  chan struct{} // closed when nspawn exits
	waitErr error         // nspawn's exit status, valid once exited is closed
	initPID int
	log     string
	nsenter string
}

// Boot starts root (from DebianRoot) as a container with
// `systemd-nspawn -b --register=no --keep-unit -D ROOT -M NAME`, waits until
// `systemctl is-system-running` reports running or degraded (at most BootTimeout), and
// powers it off in t.Cleanup. The container shares the host's network, so it can reach
// a Server on 127.0.0.1. The console output goes to a log that is shown when the test
// fails.
func Boot(t testing.TB, root string) *Container {
	t.Helper()
	RequireSystem(t)
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatalf("bench: %v", err)
	}
	c := &Container{
		name:    "ssmbench-" + hex.EncodeToString(suffix),
		root:    root,
		exited:  make(chan struct{}),
		log:     filepath.Join(t.TempDir(), "console.log"),
		nsenter: nsenter,
	}
	logFile, err := os.Create(c.log)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	// The host's PID 1 is not always systemd (CI sandboxes), so there is no machined to
	// register with and no unit to move into: --register=no --keep-unit.
	c.nspawn = exec.Command("systemd-nspawn", "-b", "--register=no", "--keep-unit",
		"--console=read-only", "-D", root, "-M", c.name)
	c.nspawn.Stdout, c.nspawn.Stderr = logFile, logFile
	// Keep the root's own /tmp (no tmpfs on top), so files put below Root()/tmp from the
	// host are visible inside.
	c.nspawn.Env = append(os.Environ(), "SYSTEMD_NSPAWN_TMPFS_TMP=0")
	// Own process group: a Ctrl-C meant for go test does not reach the container
	// directly. Pdeathsig: if the test binary dies (go test -timeout), nspawn powers the
	// container off instead of running on; sweepStaleWork catches what is left.
	c.nspawn.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	start := time.Now()
	if err := c.nspawn.Start(); err != nil {
		logFile.Close()
		t.Fatalf("bench: starting systemd-nspawn: %v", err)
	}
	go func() {
		c.waitErr = c.nspawn.Wait()
		logFile.Close()
		close(c.exited)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLog(t)
		}
		if err := c.stop(); err != nil {
			t.Errorf("bench: stopping container %s: %v", c.name, err)
		}
	})

	deadline := time.Now().Add(BootTimeout)
	for c.initPID == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("bench: container %s: no init process after %s", c.name, BootTimeout)
		}
		select {
		case <-c.exited:
			c.dumpLog(t)
			t.Fatalf("bench: systemd-nspawn exited early: %v", c.waitErr)
		case <-time.After(50 * time.Millisecond):
		}
		c.initPID = containerInit(c.nspawn.Process.Pid)
	}
	var state string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, _, _, err := c.Exec(ctx, "systemctl", "is-system-running")
		cancel()
		state = strings.TrimSpace(out)
		if err == nil && (state == "running" || state == "degraded") {
			break
		}
		if time.Now().After(deadline) {
			failed, _, _, _ := c.Exec(context.Background(), "systemctl", "--failed", "--no-pager", "--no-legend")
			t.Fatalf("bench: container %s did not finish booting in %s (state %q, err %v); failed units:\n%s", c.name, BootTimeout, state, err, failed)
		}
		select {
		case <-c.exited:
			t.Fatalf("bench: systemd-nspawn exited while booting: %v", c.waitErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("bench: container %s booted (%s) in %s", c.name, state, time.Since(start).Round(time.Millisecond))
	return c
}

// containerInit finds the container's init: the child of nspawn that is PID 1 in its
// own PID namespace. It returns 0 while there is none yet.
func containerInit(nspawnPID int) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		var ppid int
		var nspid []string
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "PPid:"); ok {
				ppid, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
				nspid = strings.Fields(v)
			}
		}
		if ppid == nspawnPID && len(nspid) > 1 && nspid[len(nspid)-1] == "1" {
			return pid
		}
	}
	return 0
}

// Name is the container's machine name.
func (c *Container) Name() string { return c.name }

// Root is the host path of the container's root directory. Files written below it
// appear inside the running container, except under the container's own mounts (/run,
// /dev, /proc, /sys); use CopyIn for those.
func (c *Container) Root() string { return c.root }

// InitPID is the host pid of the container's systemd.
func (c *Container) InitPID() int { return c.initPID }

// Exec runs args inside the container (all its namespaces, via nsenter) with a clean
// environment (PATH, HOME=/root, LANG=C.UTF-8, DEBIAN_FRONTEND=noninteractive). code
// is the exit status; err is set only when the command could not be run or ctx ended.
func (c *Container) Exec(ctx context.Context, args ...string) (stdout, stderr string, code int, err error) {
	return c.ExecEnv(ctx, nil, args...)
}

// ExecEnv is Exec with extra KEY=VALUE environment entries.
func (c *Container) ExecEnv(ctx context.Context, env []string, args ...string) (stdout, stderr string, code int, err error) {
	if len(args) == 0 {
		return "", "", -1, errors.New("bench: Exec needs a command")
	}
	nsArgs := append([]string{"-t", strconv.Itoa(c.initPID), "-a", "--"}, args...)
	cmd := exec.CommandContext(ctx, c.nsenter, nsArgs...)
	cmd.Env = append(append([]string{}, containerEnv...), env...)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	runErr := cmd.Run()
	stdout, stderr = outBuf.String(), errBuf.String()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return stdout, stderr, -1, fmt.Errorf("running %q in %s: %w", strings.Join(args, " "), c.name, ctx.Err())
	case errors.As(runErr, &exitErr):
		return stdout, stderr, exitErr.ExitCode(), nil
	case runErr != nil:
		return stdout, stderr, -1, fmt.Errorf("running %q in %s: %w", strings.Join(args, " "), c.name, runErr)
	}
	return stdout, stderr, 0, nil
}

// Run runs args inside the container like Exec (with a 2 minute limit) and returns its
// stdout; it fails the test when the command cannot run or exits non-zero.
func (c *Container) Run(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, errOut, code, err := c.Exec(ctx, args...)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	if code != 0 {
		t.Fatalf("bench: %q in %s exited %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), c.name, code, out, errOut)
	}
	return out
}

// CopyIn copies hostPath (a regular file, or a directory tree) to containerPath inside
// the running container, creating parent directories. It writes through the container's
// own mounts, so paths under /run or /tmp work too. A file keeps its permission bits.
func (c *Container) CopyIn(hostPath, containerPath string) error {
	fail := func(err error) error {
		return fmt.Errorf("copying %s into %s:%s: %w", hostPath, c.name, containerPath, err)
	}
	if !filepath.IsAbs(containerPath) {
		return fail(errors.New("the container path is not absolute"))
	}
	fi, err := os.Stat(hostPath)
	if err != nil {
		return fail(err)
	}
	var script string
	var stdin *os.File
	var tarCmd *exec.Cmd
	if fi.IsDir() {
		// Stream a tar of the directory's contents into the container.
		tarCmd = exec.Command("tar", "-C", hostPath, "-cf", "-", ".")
		pipe, err := tarCmd.StdoutPipe()
		if err != nil {
			return fail(err)
		}
		stdin = pipe.(*os.File)
		if err := tarCmd.Start(); err != nil {
			return fail(err)
		}
		script = `mkdir -p "$1" && tar -C "$1" -xpf -`
	} else {
		f, err := os.Open(hostPath)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		stdin = f
		script = fmt.Sprintf(`mkdir -p "$(dirname "$1")" && cat > "$1" && chmod %o "$1"`, fi.Mode().Perm())
	}
	cmd := exec.Command(c.nsenter, "-t", strconv.Itoa(c.initPID), "-a", "--", "/bin/sh", "-c", script, "sh", containerPath)
	cmd.Env = containerEnv
	cmd.Stdin = stdin
	out, runErr := cmd.CombinedOutput()
	if tarCmd != nil {
		stdin.Close()
		if err := tarCmd.Wait(); err != nil && runErr == nil {
			runErr = fmt.Errorf("tar: %w", err)
		}
	}
	if runErr != nil {
		return fail(fmt.Errorf("%v: %s", runErr, bytes.TrimSpace(out)))
	}
	return nil
}

// Log returns the container's console output so far.
func (c *Container) Log() string {
	b, _ := os.ReadFile(c.log)
	return string(b)
}

// dumpLog logs the tail of the console output and the journal of a failed test.
func (c *Container) dumpLog(t testing.TB) {
	select {
	case <-c.exited:
	default:
		if c.initPID != 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			j, _, _, _ := c.Exec(ctx, "journalctl", "-b", "--no-pager", "-n", "80")
			cancel()
			t.Logf("bench: journal of %s (last 80 lines):\n%s", c.name, j)
		}
	}
	log := c.Log()
	if len(log) > 6000 {
		log = log[len(log)-6000:]
	}
	t.Logf("bench: console of %s:\n%s", c.name, log)
}

// stop shuts the container down: SIGTERM to nspawn (which asks systemd to power off),
// then SIGKILL to the container's init and nspawn if that takes over 20 s.
func (c *Container) stop() error {
	select {
	case <-c.exited:
		return nil
	default:
	}
	c.nspawn.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		return nil
	case <-time.After(20 * time.Second):
	}
	if c.initPID != 0 {
		syscall.Kill(c.initPID, syscall.SIGKILL)
	}
	c.nspawn.Process.Kill()
	select {
	case <-c.exited:
		return errors.New("did not power off within 20 s; killed it")
	case <-time.After(10 * time.Second):
		return errors.New("systemd-nspawn did not exit after SIGKILL")
	}
}
