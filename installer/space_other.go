//go:build !unix

package installer

import "github.com/ssm-setup/ssm-setup/internal/sysroot"

// checkFreeSpace is not implemented outside Unix: the installer runs only on Linux, and
// preflight refuses other systems before it gets here.
func checkFreeSpace(root sysroot.Root, need uint64) error { return nil }
