//go:build !windows

package distro

import "errors"

// readWindowsVersion needs the registry of a running Windows.
func readWindowsVersion() (productName, currentBuild string, err error) {
	return "", "", errors.New("the Windows registry can be read only on Windows")
}
