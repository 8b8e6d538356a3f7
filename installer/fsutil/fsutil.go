// Package fsutil writes files the way every ssm-setup config edit must: atomically, and
// only when the content or the mode would change, so a re-run that changes nothing
// touches nothing (and triggers no daemon-reload or restart).
package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFileAtomic makes path hold data with permission bits perm.
//
// It reports changed=false and writes nothing when the file already has that content and
// mode. When only the mode differs it changes the mode in place. Otherwise it writes a
// temporary file in the same directory (so the rename cannot cross filesystems), syncs
// it, sets its mode and renames it over path, then syncs the directory: a reader sees
// the old file or the new one, never a half-written one, even after a crash. Missing
// parent directories are created with mode 0755.
//
// A replaced file gets the owner of the running process, not the old file's owner, and
// a symlink at path is replaced by a regular file rather than followed.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) (changed bool, err error) {
	perm = perm.Perm()
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		info, statErr := os.Stat(path)
		if statErr != nil {
			return false, fmt.Errorf("write %s: %w", path, statErr)
		}
		if bytes.Equal(old, data) {
			if !modeDiffers(info.Mode().Perm(), perm) {
				return false, nil
			}
			if err := os.Chmod(path, perm); err != nil {
				return false, fmt.Errorf("write %s: %w", path, err)
			}
			return true, nil
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return false, fmt.Errorf("write %s: %w", path, err)
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return false, fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; set the wanted mode before it becomes visible.
	if err = os.Chmod(tmpName, perm); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err = syncDir(dir); err != nil {
		return true, fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return true, nil
}
