// Package lock keeps two ssm-setup runs from changing one system at the same time. The
// lock is an advisory file lock (flock(2) on Unix, LockFileEx on Windows) on
// ROOT/run/lock/ssm-setup.lock. The kernel drops it when the holder exits, however it
// exits, so a crashed run never leaves a stale lock behind.
package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// dirs are the directories, inside the root, that may hold the lock file, in order of
// preference. /run/lock is the FHS 3.0 place and a tmpfs on systemd hosts; /var/lock is
// the older name, kept for images and systems without /run.
var dirs = []string{"/run/lock", "/var/lock"}

// Name is the lock file's name.
const Name = "ssm-setup.lock"

// pollInterval is how often Acquire retries a held lock while it waits.
const pollInterval = 100 * time.Millisecond

// Lock is a held lock. Release it when the run ends. It is safe for concurrent use, so
// a signal handler may release it while the run is still unwinding.
type Lock struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// Path is the lock file on the host.
func (l *Lock) Path() string { return l.path }

// Acquire takes the ssm-setup lock of root, waiting up to wait for another run to
// release it (zero means try once). It creates the lock directory when missing, and
// falls back to /var/lock when a directory cannot be created or opened (a
// read-only /run in an image, say). The lock file then holds the pid of this process,
// which the error of a later contender names.
//
// A lock held beyond wait is a fail.Locked error; a cancelled ctx ends the wait with
// ctx's error.
func Acquire(ctx context.Context, root sysroot.Root, wait time.Duration) (*Lock, error) {
	f, path, err := open(root)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		locked, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fail.New(fail.Unexpected, "lock %s: %w", path, err)
		}
		if locked {
			break
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fail.WithHint(
				fail.New(fail.Locked, "another ssm-setup run (%s) holds the lock %s", holder(path), path),
				"wait for it to finish, or pass --lock-wait")
		}
		t := time.NewTimer(min(pollInterval, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("wait for the lock %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
	if err := writePID(f); err != nil {
		_ = unlock(f)
		f.Close()
		return nil, fail.New(fail.Unexpected, "lock %s: write pid: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Release drops the lock. It keeps the file: removing a lock file races with a
// contender that has opened it but not yet locked it, and would let two runs in. Calling
// Release again, or on nil, does nothing.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	errUnlock := unlock(f)
	errClose := f.Close()
	if err := errors.Join(errUnlock, errClose); err != nil {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}

// open opens (creating it if needed) the lock file in the first usable directory.
func open(root sysroot.Root) (*os.File, string, error) {
	var errs []error
	for _, d := range dirs {
		dir := root.Path(d)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		path := filepath.Join(dir, Name)
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return f, path, nil
	}
	err := fail.New(fail.Unexpected, "open the ssm-setup lock file: %w", errors.Join(errs...))
	if anyPermission(errs) {
		err = fail.WithHint(fail.Wrap(fail.NeedRoot, err), "re-run as root")
	}
	return nil, "", err
}

func anyPermission(errs []error) bool {
	for _, e := range errs {
		if errors.Is(e, os.ErrPermission) {
			return true
		}
	}
	return false
}

// writePID replaces the file's content with this process's pid.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

// holder describes the run that holds the lock, from the pid in the file. The holder
// may not have written it yet, hence "pid unknown".
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "pid unknown"
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return "pid unknown"
	}
	return "pid " + strconv.Itoa(pid)
}
