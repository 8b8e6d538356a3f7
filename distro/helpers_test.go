package distro

import (
	"debug/elf"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// symlink is the MapFile mode of a symbolic link; its Data is the target.
const symlink = fs.ModeSymlink | 0o777

// fixtureDir holds the os-release fixtures (see its README.md).
var fixtureDir = filepath.Join("..", "testdata", "os-release")

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// elfHeader returns the first 64 bytes of an ELF executable for machine, as found at the
// start of /bin/sh.
func elfHeader(class elf.Class, data elf.Data, machine elf.Machine) []byte {
	h := make([]byte, 64)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS] = byte(class)
	h[elf.EI_DATA] = byte(data)
	h[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var order binary.ByteOrder = binary.LittleEndian
	if data == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	order.PutUint16(h[16:], uint16(elf.ET_EXEC))
	order.PutUint16(h[18:], uint16(machine))
	return h
}

// elfFor is the ELF header of a little-endian executable of a Go architecture.
func elfFor(arch string) []byte {
	switch arch {
	case "amd64":
		return elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64)
	case "arm64":
		return elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_AARCH64)
	case "386":
		return elfHeader(elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_386)
	case "arm":
		return elfHeader(elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_ARM)
	case "riscv64":
		return elfHeader(elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_RISCV)
	}
	panic("elfFor: no header for " + arch)
}
