//go:build windows

package fsutil

import "io/fs"

// modeDiffers compares only the owner write bit: Windows maps a file's mode to its
// read-only attribute and reports every other bit as set (0666 or 0444), so comparing
// all nine bits would rewrite the file on every run.
func modeDiffers(have, want fs.FileMode) bool { return have&0o200 != want&0o200 }

// syncDir does nothing: Windows cannot open a directory for syncing, and NTFS journals
// the rename itself (MoveFileEx with MOVEFILE_REPLACE_EXISTING).
func syncDir(string) error { return nil }
