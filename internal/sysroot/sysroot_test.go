package sysroot

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestNew(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX paths")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir      string
		wantDir  string
		wantHost bool
	}{
		{"", "/", true},
		{"/", "/", true},
		{"/.", "/", true},
		{"/mnt/image/", "/mnt/image", false},
		{"/mnt/../mnt/image", "/mnt/image", false},
		{"image", filepath.Join(wd, "image"), false},
	}
	for _, tt := range tests {
		r, err := New(tt.dir)
		if err != nil {
			t.Fatalf("New(%q): %v", tt.dir, err)
		}
		if r.Dir() != tt.wantDir || r.IsHost() != tt.wantHost {
			t.Errorf("New(%q) = dir %q host %v, want %q %v", tt.dir, r.Dir(), r.IsHost(), tt.wantDir, tt.wantHost)
		}
	}
	if (Root{}).Dir() != "/" || !(Root{}).IsHost() {
		t.Error("the zero Root is not the host's /")
	}
}

func TestPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX paths")
	}
	img, _ := New("/mnt/image")
	tests := []struct {
		root Root
		in   string
		want string
	}{
		{Root{}, "/etc/os-release", "/etc/os-release"},
		{Root{}, "etc/os-release", "/etc/os-release"},
		{img, "/etc/os-release", "/mnt/image/etc/os-release"},
		{img, "etc/os-release", "/mnt/image/etc/os-release"},
		{img, "/", "/mnt/image"},
		// ".." never climbs out of the root, as under chroot
		{img, "/../../etc/shadow", "/mnt/image/etc/shadow"},
		{img, "/var/lib/../../../../etc/passwd", "/mnt/image/etc/passwd"},
	}
	for _, tt := range tests {
		if got := tt.root.Path(tt.in); got != tt.want {
			t.Errorf("%q.Path(%q) = %q, want %q", tt.root.Dir(), tt.in, got, tt.want)
		}
	}
}

func TestRel(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/os-release": "etc/os-release",
		"etc/os-release":  "etc/os-release",
		"/":               "",
		"/a/../../b":      "b",
	} {
		if got := Rel(in); got != want {
			t.Errorf("Rel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFS(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "os-release"), []byte("ID=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := fs.ReadFile(r.FS(), Rel("/etc/os-release"))
	if err != nil || string(data) != "ID=x\n" {
		t.Errorf("FS read %q, %v; want the root's file", data, err)
	}
}

// TestPathSymlinks: links on the way are followed inside the root, never onto the host;
// a link as the last element is left for the caller (lstat, unlink).
func TestPathSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX symlinks")
	}
	dir := t.TempDir()
	for _, d := range []string{"run/lock", "opt/etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"var/lock":     "/run/lock",   // absolute, as in Debian images
		"etc":          "/opt/etc",    // absolute directory link
		"escape":       "../../../..", // relative, climbing
		"run/lock/pid": "/etc/passwd", // a link as the last element
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	root, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want string // relative to the root
	}{
		{"/var/lock/ssm-setup.lock", "run/lock/ssm-setup.lock"},
		{"/etc/systemd/system/x.conf", "opt/etc/systemd/system/x.conf"},
		{"/escape/etc/shadow", "opt/etc/shadow"}, // stops at the root, then follows /etc
		{"/run/lock/pid", "run/lock/pid"},
	}
	for _, tt := range tests {
		if got, want := root.Path(tt.in), filepath.Join(root.Dir(), tt.want); got != want {
			t.Errorf("Path(%q) = %q, want %q", tt.in, got, want)
		}
	}
}
