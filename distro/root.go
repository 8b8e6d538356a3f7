package distro

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
)

// maxSymlinks bounds how many symbolic links one lookup follows, like Linux's
// MAXSYMLINKS (40); a loop fails instead of spinning.
const maxSymlinks = 40

var errSymlinkLoop = errors.New("too many levels of symbolic links")

// root reads a filesystem root through an fs.FS. Every lookup resolves symbolic links
// itself, component by component and inside the root: an absolute link target such as
// "/usr/bin/dash" means that path under the root, and ".." stops at the root, as under
// chroot. os.DirFS alone would follow an absolute link to the running host's file, which
// would describe the host instead of the image.
//
// When the FS cannot read links (it does not implement fs.ReadLinkFS), the lookups use
// whatever the FS does itself.
type root struct {
	fsys fs.FS
}

// resolve returns name with every symbolic link in it replaced by its target inside the
// root, and the file's information. name is an fs.FS name ("etc/os-release").
func (r root) resolve(name string) (string, fs.FileInfo, error) {
	todo := strings.Split(name, "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := path.Join(append(done, part)...)
		info, err := fs.Lstat(r.fsys, cur)
		if err != nil {
			return "", nil, err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			if len(todo) > 0 && !info.IsDir() {
				return "", nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
			}
			done = append(done, part)
			continue
		}
		if links++; links > maxSymlinks {
			return "", nil, &fs.PathError{Op: "stat", Path: name, Err: errSymlinkLoop}
		}
		target, err := fs.ReadLink(r.fsys, cur)
		if err != nil {
			return "", nil, err
		}
		if strings.HasPrefix(target, "/") {
			done = nil
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	resolved := path.Join(done...)
	if resolved == "" {
		resolved = "."
	}
	info, err := fs.Stat(r.fsys, resolved)
	if err != nil {
		return "", nil, err
	}
	return resolved, info, nil
}

// stat is fs.Stat with symbolic links resolved inside the root.
func (r root) stat(name string) (fs.FileInfo, error) {
	_, info, err := r.resolve(name)
	return info, err
}

// exists reports whether name exists (a file, a directory or anything else).
func (r root) exists(name string) bool {
	_, err := r.stat(name)
	return err == nil
}

// isDir reports whether name is a directory.
func (r root) isDir(name string) bool {
	info, err := r.stat(name)
	return err == nil && info.IsDir()
}

// isFile reports whether name is a regular file.
func (r root) isFile(name string) bool {
	info, err := r.stat(name)
	return err == nil && info.Mode().IsRegular()
}

// readFile is fs.ReadFile with symbolic links resolved inside the root.
func (r root) readFile(name string) ([]byte, error) {
	resolved, _, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	return fs.ReadFile(r.fsys, resolved)
}

// open opens name for reading, with symbolic links resolved inside the root.
func (r root) open(name string) (fs.File, error) {
	resolved, _, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	return r.fsys.Open(resolved)
}

// readHead reads at most n bytes from the start of name.
func (r root) readHead(name string, n int) ([]byte, error) {
	f, err := r.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	got, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:got], nil
}

// glob is fs.Glob over the root: the directory part of pattern is resolved inside the
// root, and the file part (which must not contain "/") is matched in it.
func (r root) glob(pattern string) []string {
	dir, file := path.Split(pattern)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	resolved, info, err := r.resolve(dir)
	if err != nil || !info.IsDir() {
		return nil
	}
	matches, err := fs.Glob(r.fsys, path.Join(resolved, file))
	if err != nil {
		return nil
	}
	return matches
}
