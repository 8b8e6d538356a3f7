package distro

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"runtime"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
)

// Options are the inputs of Detect.
type Options struct {
	// FS is the root as an fs.FS, with names like "etc/os-release". Symbolic links in it
	// are followed inside the root, never out to the running host.
	FS fs.FS
	// RootDir is the root's directory on the host ("/" for the host; "" means "/"). It
	// names files in messages and is passed to `rpm --root`.
	RootDir string
	// IsHost says the root is the running host's "/": then the architecture and init
	// system are those running now, and the agent binary may be run for its version.
	IsHost bool
	// GOOS is the operating system of the root. "" means runtime.GOOS on the host, and
	// for another root what its files show (Windows, macOS, FreeBSD markers), else linux.
	GOOS string
	// Arch overrides the detected architecture, in any spelling NormalizeArch accepts.
	Arch string
	// Runner runs `rpm --root DIR -q --qf %{VERSION} amazon-ssm-agent` when the root has
	// an rpm database and rpm is on PATH, and the agent binary with -version on the host.
	// nil runs nothing.
	Runner run.Runner
	// Logger gets debug records of the decisions; nil discards them.
	Logger *slog.Logger
}

// Detect finds the platform of the root that o describes. It reads files through o.FS and
// spawns a process only when it must (rpm for an rpm database, the agent binary on the
// host when no package database knows it).
//
// Errors: an invalid o.Arch is a fail.Usage error; a Linux root without os-release (and
// without a legacy release file) is a fail.Usage error with a hint; a malformed release
// file is a fail.Unsupported error naming the file and line. An unsupported platform is
// no error: Platform.Support says so, with the reason.
func Detect(ctx context.Context, o Options) (Platform, error) {
	if o.FS == nil {
		return Platform{}, fail.New(fail.Unexpected, "distro: Options.FS is nil")
	}
	d := detection{o: o, r: root{fsys: o.FS}, rootDir: o.RootDir, log: o.Logger}
	if d.rootDir == "" {
		d.rootDir = "/"
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	var arch string
	if o.Arch != "" {
		a, err := NormalizeArch(o.Arch)
		if err != nil {
			return Platform{}, err
		}
		arch = a
	}
	goos := o.GOOS
	if goos == "" {
		if o.IsHost {
			goos = runtime.GOOS
		} else {
			goos = inferGOOS(d.r)
		}
	}
	d.log.Debug("detecting platform", "root", d.rootDir, "host", o.IsHost, "goos", goos, "arch_override", arch)
	switch goos {
	case "linux":
		return d.linux(ctx, arch)
	case "windows":
		return d.windows(ctx, arch)
	case "darwin":
		return d.darwin(ctx, arch)
	default:
		return d.other(goos, arch)
	}
}

// detection is one run of Detect.
type detection struct {
	o       Options
	r       root
	rootDir string
	log     *slog.Logger
}

// osMarkers tell the operating system of a root that is not the host, in order; a root
// with none of them is Linux.
var osMarkers = []struct{ goos, path string }{
	{"windows", "Windows/System32"},
	{"darwin", "System/Library/CoreServices/SystemVersion.plist"},
	{"freebsd", "boot/kernel/kernel"},
}

func inferGOOS(r root) string {
	for _, m := range osMarkers {
		if r.exists(m.path) {
			return m.goos
		}
	}
	return "linux"
}

// raspberryPiMarkers are files only Raspberry Pi OS has: its release stamp, its config
// tool and its apt source. The 64-bit Raspberry Pi OS says ID=debian in os-release.
var raspberryPiMarkers = []string{
	"etc/rpi-issue",
	"usr/bin/raspi-config",
	"etc/apt/sources.list.d/raspi.list",
	"etc/apt/sources.list.d/raspi.sources",
}

func (d detection) linux(ctx context.Context, arch string) (Platform, error) {
	dist, err := readDistro(d.r, d.rootDir)
	if err != nil {
		return Platform{}, err
	}
	p := Platform{OS: "linux", Distro: withIDLike(dist)}
	var notes []string
	p.Arch, notes = d.arch(arch)
	p.Kernel = d.kernel()

	raspberryPi := false
	if p.Distro.ID == "debian" && (p.Arch == "arm" || p.Arch == "arm64") {
		for _, m := range raspberryPiMarkers {
			if d.r.exists(m) {
				raspberryPi = true
				notes = append(notes, fmt.Sprintf("this Debian is Raspberry Pi OS (it has %s), which AWS supports from version 8 on", m))
				break
			}
		}
	}
	v := classify(p.Distro, p.Arch, p.Kernel, raspberryPi)
	p.Support, p.Reason, p.PlatformFolder, p.MaxAgentVersion = v.support, v.reason, v.folder, v.maxAgentVersion
	if v.family != nil {
		p.PackageFormat = v.family.format
	}

	agent, agentNotes := detectLinuxAgent(ctx, d.o, d.r, d.rootDir, d.log)
	p.Agent = agent
	notes = append(notes, agentNotes...)

	// The package manager is a fact of the system, reported even when no agent package
	// fits (an arm rpm system still has dnf).
	var format string
	if fam, _ := familyOf(p.Distro); fam != nil {
		format = fam.format
	}
	p.PackageManager = choosePackageManager(format, p.Agent.Via, d.r)
	p.InitSystem = chooseInit(d.r, d.o.IsHost)
	p.Notes = notes
	return p, nil
}

// arch is the root's architecture: the override, else the running one on the host, else
// read from the root's executables, else the running one with a note saying so.
func (d detection) arch(override string) (string, []string) {
	switch {
	case override != "":
		return override, nil
	case d.o.IsHost:
		return runtime.GOARCH, nil
	}
	if a, from, ok := rootArch(d.r); ok {
		d.log.Debug("read architecture from ELF header", "file", from, "arch", a)
		return a, nil
	}
	return runtime.GOARCH, []string{fmt.Sprintf(
		"could not read the architecture of %s from %s; assuming %s, the architecture of ssm-setup itself (pass --arch to set it)",
		d.rootDir, strings.Join(archProbes, ", "), runtime.GOARCH)}
}

// kernel is the root's Linux kernel release, "" when unknown. On the host it is the
// running kernel (/proc). Another root boots its own kernel, so it is the newest one
// installed under lib/modules: a /proc mounted inside an image root (a chroot build)
// would describe the running host, which --root must never read.
func (d detection) kernel() string {
	if d.o.IsHost {
		data, err := d.r.readFile("proc/sys/kernel/osrelease")
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(data))
	}
	newest := ""
	for _, m := range d.r.glob("lib/modules/*") {
		k := path.Base(m)
		v := parseVersion(k)
		if len(v) == 0 {
			continue
		}
		if newest == "" || compareVersions(v, parseVersion(newest)) > 0 {
			newest = k
		}
	}
	return newest
}

// other describes an operating system AWS publishes no agent for (FreeBSD, ...), with its
// os-release identity when it has one.
func (d detection) other(goos, arch string) (Platform, error) {
	p := Platform{OS: goos, Support: Unsupported,
		Reason: fmt.Sprintf("AWS publishes the agent only for Linux, Windows and macOS, not for %s", goos)}
	p.Arch, p.Notes = d.arch(arch)
	if dist, err := readDistro(d.r, d.rootDir); err == nil {
		p.Distro = withIDLike(dist)
	} else {
		p.Distro = Distro{ID: goos, IDLike: []string{}, Name: goos, PrettyName: goos}
	}
	p.InitSystem = chooseInit(d.r, d.o.IsHost)
	return p, nil
}

// withIDLike gives d an empty, non-nil ID_LIKE list when it has none, so that the JSON
// output always holds a list ("id_like": []), never null.
func withIDLike(d Distro) Distro {
	if d.IDLike == nil {
		d.IDLike = []string{}
	}
	return d
}
