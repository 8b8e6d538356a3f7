//go:build !windows

package fsutil

import (
	"io/fs"
	"os"
)

// modeDiffers compares all nine permission bits.
func modeDiffers(have, want fs.FileMode) bool { return have != want }

// syncDir makes a rename in dir durable: on POSIX systems the new directory entry is
// only on disk once the directory itself is synced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
