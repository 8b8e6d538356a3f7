// Package sysroot maps the paths ssm-setup reads and writes onto a filesystem root, so
// that tests and image builds can work on another tree than "/" (the --root flag).
package sysroot

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// Root is a filesystem root. The zero value means "/".
type Root struct {
	dir string
}

// New returns the root at dir (made absolute). An empty dir means "/".
func New(dir string) (Root, error) {
	if dir == "" || dir == "/" {
		return Root{}, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Root{}, err
	}
	if abs == "/" {
		return Root{}, nil
	}
	return Root{dir: abs}, nil
}

// Dir is the root's directory on the host, "/" for the host root.
func (r Root) Dir() string {
	if r.dir == "" {
		return "/"
	}
	return r.dir
}

// IsHost reports whether the root is the running host's "/".
func (r Root) IsHost() bool { return r.dir == "" }

// Path maps an absolute path inside the root (e.g. "/etc/os-release") to a host path.
//
// In another root, the directories on the way are resolved as symbolic links inside
// that root, the way a chroot would see them: an image's /var/lock -> /run/lock leads
// to ROOT/run/lock, never to the host's /run/lock, and no link can climb out of the
// root. The last element is kept as it is, so a link there is itself what is read,
// replaced or removed (as with lstat and unlink).
func (r Root) Path(p string) string {
	clean := filepath.Clean("/" + p)
	if r.dir == "" {
		return clean
	}
	if clean == "/" {
		return r.dir
	}
	parent, err := securejoin.SecureJoin(r.dir, filepath.Dir(clean))
	if err != nil {
		// SecureJoin fails only on link loops; the lexical path still stays in the root.
		parent = filepath.Join(r.dir, filepath.Dir(clean))
	}
	return filepath.Join(parent, filepath.Base(clean))
}

// FS is the root as an fs.FS, with names relative to the root ("etc/os-release").
func (r Root) FS() fs.FS { return os.DirFS(r.Dir()) }

// Rel turns an absolute in-root path into an fs.FS name ("/etc/x" -> "etc/x").
func Rel(p string) string {
	return strings.TrimPrefix(filepath.ToSlash(filepath.Clean("/"+p)), "/")
}
