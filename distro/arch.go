package distro

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// archSpellings maps every accepted spelling of an architecture (uname -m, dpkg, rpm and
// Go names) to the Go name ssm-setup reports. A spelling ending in "*" is a prefix.
var archSpellings = []struct {
	arch      string
	spellings []string
}{
	{"amd64", []string{"amd64", "x86_64", "x64"}},
	{"arm64", []string{"arm64", "aarch64", "armv8*"}},
	{"386", []string{"386", "i386", "i486", "i586", "i686", "x86"}},
	// armv8l is what uname -m prints for a 32-bit ARM userland on a 64-bit ARM
	// CPU (Linux's COMPAT_UTS_MACHINE): it runs armhf packages, not arm64 ones.
	{"arm", []string{"arm", "armv6l", "armv7l", "armv8l", "armhf", "armv7hl", "armhfp"}},
}

// NormalizeArch turns an architecture in any common spelling into the Go name ssm-setup
// uses: x86_64, amd64, x64 -> amd64; aarch64, arm64, armv8* -> arm64; i386 to i686, x86,
// 386 -> 386; armv6l, armv7l, armv8l, armhf, arm -> arm. Exact spellings win over
// prefixes (armv8l is 32-bit). Case and surrounding spaces are ignored. Any other value
// is a usage error that names it and lists the accepted values.
func NormalizeArch(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	for _, prefixes := range []bool{false, true} {
		for _, a := range archSpellings {
			for _, sp := range a.spellings {
				prefix, isPrefix := strings.CutSuffix(sp, "*")
				if isPrefix == prefixes && (isPrefix && strings.HasPrefix(v, prefix) || v == sp) {
					return a.arch, nil
				}
			}
		}
	}
	var accepted []string
	for _, a := range archSpellings {
		accepted = append(accepted, fmt.Sprintf("%s (%s)", a.arch, strings.Join(a.spellings[1:], ", ")))
	}
	return "", fail.WithHint(
		fail.Usagef("unknown architecture %q: use one of %s", s, strings.Join(accepted, "; ")),
		"pass --arch amd64, arm64, 386 or arm, or leave --arch out to detect it")
}

// elfArch returns the Go name of the architecture an ELF file was built for, from its
// header's class, byte order and e_machine. Machines AWS publishes no agent for still get
// their Go name (riscv64, ppc64le, s390x, ...) so that Detect can say why they are
// unsupported.
func elfArch(header []byte) (string, error) {
	if len(header) < 20 || string(header[:4]) != elf.ELFMAG {
		return "", errors.New("not an ELF file")
	}
	class, data := elf.Class(header[elf.EI_CLASS]), elf.Data(header[elf.EI_DATA])
	var order binary.ByteOrder
	switch data {
	case elf.ELFDATA2LSB:
		order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		order = binary.BigEndian
	default:
		return "", fmt.Errorf("unknown ELF byte order %d", data)
	}
	le := data == elf.ELFDATA2LSB
	is64 := class == elf.ELFCLASS64
	switch m := elf.Machine(order.Uint16(header[18:20])); m {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_386:
		return "386", nil
	case elf.EM_ARM:
		return "arm", nil
	case elf.EM_RISCV:
		if is64 {
			return "riscv64", nil
		}
		return "riscv", nil
	case elf.EM_PPC64:
		if le {
			return "ppc64le", nil
		}
		return "ppc64", nil
	case elf.EM_S390:
		return "s390x", nil
	case elf.EM_LOONGARCH:
		return "loong64", nil
	case elf.EM_MIPS:
		switch {
		case is64 && le:
			return "mips64le", nil
		case is64:
			return "mips64", nil
		case le:
			return "mipsle", nil
		}
		return "mips", nil
	default:
		return "", fmt.Errorf("unknown ELF machine %v", m)
	}
}

// archProbes are the executables whose ELF header tells a root's architecture, in order:
// every Linux system has /bin/sh, nearly every one /usr/bin/env, and bash as a last try.
var archProbes = []string{"bin/sh", "usr/bin/env", "bin/bash"}

// rootArch reads the architecture of another root from its executables. ok is false
// when none of archProbes is a readable ELF file.
func rootArch(r root) (arch, from string, ok bool) {
	for _, name := range archProbes {
		head, err := r.readHead(name, 20)
		if err != nil {
			continue
		}
		if a, err := elfArch(head); err == nil {
			return a, name, true
		}
	}
	return "", "", false
}
