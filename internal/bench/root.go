//go:build linux

package bench

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// CacheDir holds the debootstrapped Debian roots, one per day, shared between test runs.
const CacheDir = "/var/cache/ssm-setup-bench"

// workDir holds each test's copy of the root (overlay upper/work/merged or a full copy).
// It is on disk, not tmpfs, so large copies and overlay upper dirs are fine.
const workDir = "/var/tmp"

// debootstrapPackages are installed on top of minbase: systemd as init, dbus for
// systemctl, rpm for the rpm tests, passwd for useradd, sudo for the sudoers rule.
const debootstrapPackages = "systemd,systemd-sysv,dbus,rpm,passwd,sudo"

// cacheVersion changes whenever prepareRoot changes, so old caches are not reused.
const cacheVersion = "2"

// defaultMirror is used when the host's apt sources name no Debian mirror.
const defaultMirror = "http://deb.debian.org/debian"

// DebianRoot returns the path of a fresh, private, writable Debian 12 (bookworm) root
// with systemd, ready for Boot. The first call of a day runs debootstrap (about a
// minute) into CacheDir; later calls, also from parallel tests and processes, reuse it
// and give each test its own overlayfs on top of it (or a cp -a --reflink=auto copy
// where overlayfs is unavailable). Everything is unmounted and removed in t.Cleanup.
func DebianRoot(t testing.TB) string {
	t.Helper()
	RequireSystem(t)
	sweepStaleWork()
	cached := cachedRoot(t)

	work, err := os.MkdirTemp(workDir, fmt.Sprintf("ssm-setup-bench-%d-", os.Getpid()))
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	merged := filepath.Join(work, "merged")
	t.Cleanup(func() {
		if err := removeWork(work); err != nil {
			t.Errorf("bench: cleaning up %s: %v", work, err)
		}
	})
	if err := overlay(cached, work); err != nil {
		t.Logf("bench: overlayfs unavailable (%v); copying the root instead", err)
		if out, err := exec.Command("cp", "-a", "--reflink=auto", cached, merged).CombinedOutput(); err != nil {
			t.Fatalf("bench: copying %s: %v\n%s", cached, err, out)
		}
	}
	// Each machine gets its own machine-id, as a cloned image would after first boot.
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		t.Fatalf("bench: %v", err)
	}
	if err := os.WriteFile(filepath.Join(merged, "etc/machine-id"), []byte(hex.EncodeToString(id)+"\n"), 0o444); err != nil {
		t.Fatalf("bench: %v", err)
	}
	return merged
}

// overlay mounts an overlayfs with lower as its read-only layer at work/merged.
func overlay(lower, work string) error {
	dirs := map[string]string{}
	for _, d := range []string{"upper", "work", "merged"} {
		dirs[d] = filepath.Join(work, d)
		if err := os.Mkdir(dirs[d], 0o755); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, dirs["upper"], dirs["work"])
	if out, err := exec.Command("mount", "-t", "overlay", "overlay", "-o", opts, dirs["merged"]).CombinedOutput(); err != nil {
		os.Remove(dirs["merged"])
		return fmt.Errorf("mount -t overlay: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// removeWork unmounts everything under work (deepest first) and removes it.
func removeWork(work string) error {
	for _, m := range mountsUnder(work) {
		if err := syscall.Unmount(m, 0); err != nil {
			// Busy (a process still inside): detach it lazily so removal proceeds.
			if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
				return fmt.Errorf("unmounting %s: %w", m, err)
			}
		}
	}
	return os.RemoveAll(work)
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	// Later entries in mountinfo are mounted on top of earlier ones: undo in reverse.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// unescapeMount undoes the octal escapes (\040 for space, ...) of /proc mount tables.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(byte(c))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// sweepStaleWork removes the work directories of bench processes that are gone (a
// test binary killed by a timeout cannot run its cleanups).
func sweepStaleWork() {
	matches, _ := filepath.Glob(filepath.Join(workDir, "ssm-setup-bench-*-*"))
	for _, m := range matches {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(m), "ssm-setup-bench-%d-", &pid); err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		killContainers(filepath.Join(m, "merged"))
		removeWork(m)
	}
}

// killContainers kills the systemd-nspawn processes (and their containers) left running
// on root by a bench process that died.
func killContainers(root string) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if !strings.HasSuffix(args[0], "systemd-nspawn") || !slices.Contains(args, root) {
			continue
		}
		if init := containerInit(pid); init != 0 {
			syscall.Kill(init, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
	time.Sleep(200 * time.Millisecond) // let the kernel tear the namespaces down
}

// cachedRoot returns today's cached root, building it under a lock when missing.
func cachedRoot(t testing.TB) string {
	t.Helper()
	if err := os.MkdirAll(CacheDir, 0o755); err != nil {
		t.Fatalf("bench: %v", err)
	}
	name := fmt.Sprintf("bookworm-v%s-%s", cacheVersion, time.Now().UTC().Format("20060102"))
	dir := filepath.Join(CacheDir, name)
	if _, err := os.Stat(filepath.Join(dir, "etc/os-release")); err == nil {
		return dir
	}
	lock, err := os.OpenFile(filepath.Join(CacheDir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("bench: locking %s: %v", CacheDir, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(filepath.Join(dir, "etc/os-release")); err == nil {
		return dir // another process built it while we waited
	}

	tmp := filepath.Join(CacheDir, ".build-"+name)
	os.RemoveAll(tmp)
	mirror := hostMirror()
	start := time.Now()
	t.Logf("bench: debootstrap bookworm from %s into %s (cached for today)", mirror, CacheDir)
	cmd := exec.Command("debootstrap", "--variant=minbase", "--include="+debootstrapPackages, "bookworm", tmp, mirror)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tail := out.String()
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		os.RemoveAll(tmp)
		t.Fatalf("bench: %s failed: %v\n%s", strings.Join(cmd.Args, " "), err, tail)
	}
	if err := prepareRoot(tmp); err != nil {
		os.RemoveAll(tmp)
		t.Fatalf("bench: preparing the root: %v", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		t.Fatalf("bench: %v", err)
	}
	t.Logf("bench: built the Debian root in %s", time.Since(start).Round(time.Second))
	removeOldCaches(name)
	return dir
}

// removeOldCaches deletes cached roots of other days (or older cache versions) that no
// overlay uses any more.
func removeOldCaches(keep string) {
	entries, err := os.ReadDir(CacheDir)
	if err != nil {
		return
	}
	inUse := map[string]bool{}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, e := range entries {
			if strings.Contains(string(b), "lowerdir="+filepath.Join(CacheDir, e.Name())+",") {
				inUse[e.Name()] = true
			}
		}
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "bookworm-") && e.Name() != keep && !inUse[e.Name()] {
			os.RemoveAll(filepath.Join(CacheDir, e.Name()))
		}
	}
}

// hostMirror returns the Debian mirror named in the host's apt sources (one-line or
// deb822 format), falling back to deb.debian.org.
func hostMirror() string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	files = append([]string{"/etc/apt/sources.list"}, files...)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		if m := mirrorFrom(string(b)); m != "" {
			return m
		}
	}
	return defaultMirror
}

// mirrorFrom finds the first URI of a main Debian archive (not debian-security) in an
// apt sources file.
func mirrorFrom(src string) string {
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		var uris []string
		if rest, ok := strings.CutPrefix(line, "URIs:"); ok {
			uris = strings.Fields(rest)
		} else if strings.HasPrefix(line, "deb ") {
			for _, f := range strings.Fields(line)[1:] {
				if !strings.HasPrefix(f, "[") && strings.Contains(f, "://") {
					uris = append(uris, f)
					break
				}
			}
		}
		for _, u := range uris {
			u = strings.TrimRight(u, "/")
			if strings.HasSuffix(u, "/debian") {
				return u
			}
		}
	}
	return ""
}

// prepareRoot makes the fresh debootstrap quick and quiet to boot in a container:
// no gettys, timers or first-boot wizard, short stop timeouts, an empty /run and no
// apt cache.
func prepareRoot(root string) error {
	mask := []string{
		"console-getty.service", "getty@tty1.service", "getty.target",
		"systemd-firstboot.service", "systemd-pstore.service", "e2scrub_reap.service",
		"apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
		"e2scrub_all.timer", "fstrim.timer", "systemd-tmpfiles-clean.timer",
	}
	for _, u := range mask {
		p := filepath.Join(root, "etc/systemd/system", u)
		os.Remove(p)
		if err := os.Symlink("/dev/null", p); err != nil {
			return err
		}
	}
	for _, dir := range []string{"getty.target.wants", "timers.target.wants"} {
		if err := os.RemoveAll(filepath.Join(root, "etc/systemd/system", dir)); err != nil {
			return err
		}
	}
	confDir := filepath.Join(root, "etc/systemd/system.conf.d")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return err
	}
	conf := "# ssm-setup test bench: stop quickly.\n[Manager]\nDefaultTimeoutStopSec=10s\nDefaultTimeoutStartSec=30s\n"
	if err := os.WriteFile(filepath.Join(confDir, "50-ssm-setup-bench.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("ssm-bench\n"), 0o644); err != nil {
		return err
	}
	// Per-copy machine ids are written by DebianRoot; the cache holds none.
	if err := os.WriteFile(filepath.Join(root, "etc/machine-id"), nil, 0o444); err != nil {
		return err
	}
	// /run is a tmpfs on a running system; debootstrap leaves its own leftovers there
	// (/run/systemd among them), which would mislead chroot installs into an image.
	leftovers, _ := filepath.Glob(filepath.Join(root, "run/*"))
	for _, l := range leftovers {
		if err := os.RemoveAll(l); err != nil {
			return err
		}
	}
	archives, _ := filepath.Glob(filepath.Join(root, "var/cache/apt/archives/*.deb"))
	for _, a := range archives {
		os.Remove(a)
	}
	return nil
}
