package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	tests := []struct {
		name        string
		existing    []byte // nil: no file
		existingMod fs.FileMode
		data        []byte
		perm        fs.FileMode
		want        bool
		wantMode    fs.FileMode
	}{
		{name: "new file", data: []byte("a\n"), perm: 0o644, want: true, wantMode: 0o644},
		{name: "same content and mode", existing: []byte("a\n"), existingMod: 0o644, data: []byte("a\n"), perm: 0o644, want: false, wantMode: 0o644},
		{name: "content differs", existing: []byte("a\n"), existingMod: 0o644, data: []byte("b\n"), perm: 0o644, want: true, wantMode: 0o644},
		{name: "only mode differs", existing: []byte("a\n"), existingMod: 0o644, data: []byte("a\n"), perm: 0o600, want: true, wantMode: 0o600},
		{name: "empty content", existing: []byte("a\n"), existingMod: 0o600, data: []byte{}, perm: 0o600, want: true, wantMode: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.name == "only mode differs" {
				t.Skip("Windows keeps only the read-only bit")
			}
			path := filepath.Join(t.TempDir(), "sub", "dir", "f.conf")
			if tt.existing != nil {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tt.existing, tt.existingMod); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.existingMod); err != nil {
					t.Fatal(err)
				}
			}
			got, err := WriteFileAtomic(path, tt.data, tt.perm)
			if err != nil {
				t.Fatalf("WriteFileAtomic: %v", err)
			}
			if got != tt.want {
				t.Errorf("changed: got %v, want %v", got, tt.want)
			}
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(content) != string(tt.data) {
				t.Errorf("content: got %q, want %q", content, tt.data)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" && info.Mode().Perm() != tt.wantMode {
				t.Errorf("mode: got %v, want %v", info.Mode().Perm(), tt.wantMode)
			}
			entries, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want 1 (temporary file left behind?)", len(entries))
			}
		})
	}
}

func TestWriteFileAtomicUnchangedKeepsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if _, err := WriteFileAtomic(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := WriteFileAtomic(path, []byte("x"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if changed {
		t.Errorf("changed: got true, want false")
	}
	if !os.SameFile(before, after) {
		t.Errorf("file was replaced although its content and mode were unchanged")
	}
}

func TestWriteFileAtomicParentIsFile(t *testing.T) {
	dir := t.TempDir()
	parent := filepath.Join(dir, "file")
	if err := os.WriteFile(parent, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFileAtomic(filepath.Join(parent, "child"), []byte("x"), 0o644); err == nil {
		t.Errorf("got nil error, want an error when the parent is a regular file")
	}
}
