package distro

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func TestRootResolve(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/os-release":     {Mode: symlink, Data: []byte("../usr/lib/os-release")},
		"usr/lib/os-release": {Data: []byte("ID=x\n")},
		"bin":                {Mode: symlink, Data: []byte("usr/bin")},
		"usr/bin/sh":         {Mode: symlink, Data: []byte("/bin/dash")},
		"usr/bin/dash":       {Data: []byte("elf")},
		"up":                 {Mode: symlink, Data: []byte("../../../../usr/bin/dash")},
		"loop1":              {Mode: symlink, Data: []byte("loop2")},
		"loop2":              {Mode: symlink, Data: []byte("loop1")},
		"file":               {Data: []byte("plain")},
		"dir/sub":            {Mode: fs.ModeDir | 0o755},
	}
	r := root{fsys: fsys}
	tests := []struct {
		name, want string
		wantErr    error
	}{
		{name: "etc/os-release", want: "usr/lib/os-release"},
		{name: "bin/sh", want: "usr/bin/dash"},
		{name: "./bin/../bin/sh", want: "usr/bin/dash"},
		{name: "up", want: "usr/bin/dash"},
		{name: "dir/sub", want: "dir/sub"},
		{name: ".", want: "."},
		{name: "loop1", wantErr: errSymlinkLoop},
		{name: "file/x", wantErr: fs.ErrNotExist},
		{name: "missing", wantErr: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := r.resolve(tt.name)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("resolve(%q) error = %v, want %v", tt.name, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("resolve(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
			}
		})
	}
	if !r.isDir("dir/sub") || r.isDir("file") || !r.isFile("bin/sh") || r.exists("missing") {
		t.Errorf("isDir/isFile/exists disagree with the tree")
	}
	if data, err := r.readFile("etc/os-release"); err != nil || string(data) != "ID=x\n" {
		t.Errorf("readFile(etc/os-release) = %q, %v; want the usr/lib file", data, err)
	}
}

// TestRootStaysInside checks, on a real directory through os.DirFS, that an absolute
// link is read inside the root even when the same path exists on the host.
func TestRootStaysInside(t *testing.T) {
	host := t.TempDir()
	outside := filepath.Join(host, "outside")
	if err := os.WriteFile(outside, []byte("host file"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(host, "root")
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// etc/os-release -> <absolute host path of outside>: inside the root, that path
	// does not exist.
	if err := os.Symlink(outside, filepath.Join(dir, "etc", "os-release")); err != nil {
		t.Fatal(err)
	}
	r := root{fsys: os.DirFS(dir)}
	if data, err := r.readFile("etc/os-release"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("readFile through an absolute link = %q, %v; want not-exist (the link must not leave the root)", data, err)
	}
	// The same target, recreated inside the root, is what the link means.
	inside := filepath.Join(dir, filepath.FromSlash(outside))
	if err := os.MkdirAll(filepath.Dir(inside), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inside, []byte("ID=inside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := r.readFile("etc/os-release"); err != nil || string(data) != "ID=inside\n" {
		t.Fatalf("readFile = %q, %v; want the file inside the root", data, err)
	}
}
