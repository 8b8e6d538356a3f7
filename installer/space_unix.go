//go:build unix

package installer

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// checkFreeSpace fails when the filesystem that will hold the agent (/usr under root,
// or the nearest existing parent) has less than need bytes free.
func checkFreeSpace(root sysroot.Root, need uint64) error {
	dir := root.Path("/usr")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		dir = root.Dir()
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("check free space on %s: %w", dir, err)
	}
	free := st.Bavail * uint64(st.Bsize)
	if free < need {
		return fail.WithHint(fail.New(fail.PackageManager, "not enough free space on %s: %d MiB free, %d MiB needed", dir, free>>20, need>>20), "free some space and run again")
	}
	return nil
}
