package distro

import (
	"debug/elf"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

func TestNormalizeArch(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"x86_64", "amd64"}, {"amd64", "amd64"}, {"x64", "amd64"}, {" X86_64 ", "amd64"},
		{"aarch64", "arm64"}, {"arm64", "arm64"}, {"armv8", "arm64"}, {"ARMv8-a", "arm64"},
		{"i386", "386"}, {"i486", "386"}, {"i586", "386"}, {"i686", "386"}, {"x86", "386"}, {"386", "386"},
		{"armv6l", "arm"}, {"armv7l", "arm"}, {"armhf", "arm"}, {"arm", "arm"},
		{"armv8l", "arm"}, {"ARMV8L", "arm"}, {"armv7hl", "arm"}, {"armhfp", "arm"},
	}
	for _, tt := range tests {
		got, err := NormalizeArch(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeArch(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "riscv64", "ppc64le", "s390x", "x86-64", "armv5", "i786"} {
		got, err := NormalizeArch(bad)
		if err == nil {
			t.Errorf("NormalizeArch(%q) = %q, nil; want an error", bad, got)
			continue
		}
		if fail.KindOf(err) != fail.Usage {
			t.Errorf("NormalizeArch(%q): got kind %v, want usage", bad, fail.KindOf(err))
		}
		msg := err.Error()
		for _, want := range []string{`"` + bad + `"`, "amd64", "arm64", "386", "arm (", "x86_64", "aarch64", "armhf"} {
			if !strings.Contains(msg, want) {
				t.Errorf("NormalizeArch(%q) error %q does not mention %q", bad, msg, want)
			}
		}
	}
}

func TestElfArch(t *testing.T) {
	tests := []struct {
		name    string
		header  []byte
		want    string
		wantErr bool
	}{
		{"x86-64", elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64), "amd64", false},
		{"aarch64", elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_AARCH64), "arm64", false},
		{"i386", elfHeader(elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_386), "386", false},
		{"armhf", elfHeader(elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_ARM), "arm", false},
		{"riscv64", elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_RISCV), "riscv64", false},
		{"ppc64le", elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_PPC64), "ppc64le", false},
		{"ppc64 big-endian", elfHeader(elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_PPC64), "ppc64", false},
		{"s390x big-endian", elfHeader(elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_S390), "s390x", false},
		{"mips little-endian 32-bit", elfHeader(elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_MIPS), "mipsle", false},
		{"only the first 20 bytes", elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_AARCH64)[:20], "arm64", false},
		{"unknown machine", elfHeader(elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_SPARC), "", true},
		{"bad byte order", func() []byte { h := elfFor("amd64"); h[elf.EI_DATA] = 9; return h }(), "", true},
		{"shell script", []byte("#!/bin/sh\necho hello world\n"), "", true},
		{"truncated", elfFor("amd64")[:19], "", true},
		{"empty", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := elfArch(tt.header)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("elfArch = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRootArch(t *testing.T) {
	tests := []struct {
		name     string
		fsys     fstest.MapFS
		want     string
		wantFrom string
		wantOK   bool
	}{
		{
			name:     "bin/sh",
			fsys:     fstest.MapFS{"bin/sh": {Data: elfFor("arm64")}},
			want:     "arm64",
			wantFrom: "bin/sh",
			wantOK:   true,
		},
		{
			name: "usrmerge: bin -> usr/bin, sh -> dash",
			fsys: fstest.MapFS{
				"bin":           {Mode: symlink, Data: []byte("usr/bin")},
				"usr/bin/sh":    {Mode: symlink, Data: []byte("dash")},
				"usr/bin/dash":  {Data: elfFor("386")},
				"usr/bin/env":   {Data: elfFor("amd64")},
				"usr/bin/other": {Data: []byte("x")},
			},
			want:     "386",
			wantFrom: "bin/sh",
			wantOK:   true,
		},
		{
			name: "absolute link stays inside the root (busybox)",
			fsys: fstest.MapFS{
				"bin/sh":      {Mode: symlink, Data: []byte("/bin/busybox")},
				"bin/busybox": {Data: elfFor("arm")},
			},
			want:     "arm",
			wantFrom: "bin/sh",
			wantOK:   true,
		},
		{
			name: "sh is a script, env is ELF",
			fsys: fstest.MapFS{
				"bin/sh":      {Data: []byte("#!/bin/busybox sh\n")},
				"usr/bin/env": {Data: elfFor("riscv64")},
			},
			want:     "riscv64",
			wantFrom: "usr/bin/env",
			wantOK:   true,
		},
		{
			name:     "only bash",
			fsys:     fstest.MapFS{"bin/bash": {Data: elfFor("amd64")}},
			want:     "amd64",
			wantFrom: "bin/bash",
			wantOK:   true,
		},
		{
			name: "dangling link, nothing else",
			fsys: fstest.MapFS{"bin/sh": {Mode: symlink, Data: []byte("/usr/bin/dash")}},
		},
		{name: "empty root", fsys: fstest.MapFS{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from, ok := rootArch(root{fsys: tt.fsys})
			if got != tt.want || from != tt.wantFrom || ok != tt.wantOK {
				t.Errorf("rootArch = %q, %q, %v; want %q, %q, %v", got, from, ok, tt.want, tt.wantFrom, tt.wantOK)
			}
		})
	}
}
