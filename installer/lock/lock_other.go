//go:build !unix && !windows

package lock

import (
	"errors"
	"os"
)

// tryLock fails: this platform has no file locks ssm-setup knows how to take.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("file locks are not supported on this platform")
}

func unlock(*os.File) error { return nil }
