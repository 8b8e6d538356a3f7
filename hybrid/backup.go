package hybrid

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// BackupBase is where registration backups are made, inside the root. Each backup is a
// directory backup-<UTC time>-<random> with mode 0700: it holds the node's private key.
const BackupBase = "/var/lib/ssm-setup"

// backup is a copy of the registration (registrationPaths) taken before the agent
// touches it, so that a failed re-registration can be undone exactly.
type backup struct {
	root sysroot.Root
	// dir is the backup directory on the host.
	dir string
	// saved lists the in-root paths that existed and were copied; the others did not
	// exist, and restore leaves them absent.
	saved []string
}

// takeBackup copies every registration path of root that exists into a new backup
// directory under BackupBase.
func takeBackup(root sysroot.Root, now time.Time) (*backup, error) {
	base := root.Path(BackupBase)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, fmt.Errorf("create the backup directory: %w", err)
	}
	dir, err := os.MkdirTemp(base, "backup-"+now.UTC().Format("20060102T150405Z")+"-")
	if err != nil {
		return nil, fmt.Errorf("create the backup directory: %w", err)
	}
	b := &backup{root: root, dir: dir}
	for _, p := range registrationPaths {
		if _, err := os.Lstat(root.Path(p)); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("back up %s: %w", p, err)
		}
		if err := os.MkdirAll(filepath.Dir(b.copyOf(p)), 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("back up %s: %w", p, err)
		}
		if err := copyTree(root.Path(p), b.copyOf(p)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("back up %s: %w", p, err)
		}
		b.saved = append(b.saved, p)
	}
	return b, nil
}

// copyOf is where the copy of the in-root path p lives inside the backup.
func (b *backup) copyOf(p string) string {
	return filepath.Join(b.dir, filepath.FromSlash(sysroot.Rel(p)))
}

// restore puts the registration back as it was when the backup was taken: it removes
// whatever is at each registration path now (what the agent wrote, or half wrote) and
// copies the saved paths back. It tries every path and reports every failure.
func (b *backup) restore() error {
	var errs []error
	for _, p := range registrationPaths {
		if err := os.RemoveAll(b.root.Path(p)); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
		}
	}
	for _, p := range b.saved {
		dst := b.root.Path(p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", p, err))
			continue
		}
		if err := copyTree(b.copyOf(p), dst); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// remove deletes the backup directory.
func (b *backup) remove() error { return os.RemoveAll(b.dir) }

// copyTree copies the file, symlink or directory tree src to dst (which must not exist),
// keeping contents, permission bits and modification times. Directories get their modes
// after their contents are written, so read-only directories copy too.
func copyTree(src, dst string) error {
	type dirMode struct {
		path string
		mode fs.FileMode
		mod  time.Time
	}
	var dirs []dirMode
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirMode{target, info.Mode().Perm(), info.ModTime()})
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(path, target, info)
		}
		return fmt.Errorf("%s is not a regular file, directory or symlink", path)
	})
	if err != nil {
		return err
	}
	// Deepest first, so setting a parent's time is not undone by writing into it.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i].path, dirs[i].mode); err != nil {
			return err
		}
		if err := os.Chtimes(dirs[i].path, dirs[i].mod, dirs[i].mod); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies the regular file src (described by info) to the new file dst.
func copyFile(src, dst string, info fs.FileInfo) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(dst, info.Mode().Perm()); err != nil {
		return err
	}
	return os.Chtimes(dst, info.ModTime(), info.ModTime())
}
