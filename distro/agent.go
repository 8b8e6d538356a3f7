package distro

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/run"
)

const agentPackage = "amazon-ssm-agent"

// Where the agent's files are, inside a root (facts file, section 3).
const (
	dpkgStatusPath  = "var/lib/dpkg/status"
	agentBinaryPath = "usr/bin/amazon-ssm-agent"
	snapCurrentPath = "snap/amazon-ssm-agent/current"
	snapYAMLPath    = "snap/amazon-ssm-agent/current/meta/snap.yaml"
	snapStoreGlob   = "var/lib/snapd/snaps/amazon-ssm-agent_*.snap"
)

// rpmDatabases are the files of an rpm database, any of which means the root has one:
// Berkeley DB (RHEL 6-8, SLES, Amazon Linux 2), ndb (SUSE) and SQLite (RHEL 9+, Fedora
// 33+, Amazon Linux 2023), under /var/lib/rpm or the newer /usr/lib/sysimage/rpm. An empty
// /var/lib/rpm, as the Debian rpm package leaves, is no database, and rpm is not run.
var rpmDatabases = []string{
	"var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages", "var/lib/rpm/Packages.db",
	"usr/lib/sysimage/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/Packages", "usr/lib/sysimage/rpm/Packages.db",
}

// detectLinuxAgent finds an installed agent in a Linux root. A deb or rpm package wins
// over a snap, which wins over a bare binary; a deb or rpm beside a snap gets a note,
// because the two break each other. It runs rpm only when the root has an rpm database
// and rpm is on PATH, and runs the agent binary (for its version) only on the host.
func detectLinuxAgent(ctx context.Context, o Options, r root, rootDir string, log *slog.Logger) (Agent, []string) {
	var notes []string
	pkg, found, err := dpkgAgent(r)
	if err != nil {
		notes = append(notes, fmt.Sprintf("could not read the dpkg database: %v", err))
	}
	if !found {
		pkg, found, err = rpmAgent(ctx, o.Runner, r, rootDir, log)
		if err != nil {
			notes = append(notes, fmt.Sprintf("could not query the rpm database: %v", err))
		}
	}
	snap, snapFound := snapAgent(r)
	switch {
	case found && snapFound:
		notes = append(notes, fmt.Sprintf("the agent is installed both as a %s package (%s) and as a snap (%s); the two break each other: remove one",
			pkg.Via, orUnknown(pkg.Version), orUnknown(snap.Version)))
		return pkg, notes
	case found:
		return pkg, notes
	case snapFound:
		return snap, notes
	}
	if !r.isFile(agentBinaryPath) {
		return Agent{}, notes
	}
	a := Agent{Installed: true, Via: "binary"}
	if o.IsHost {
		a.Version = agentBinaryVersion(ctx, o.Runner, filepath.Join(rootDir, filepath.FromSlash(agentBinaryPath)), log)
	}
	return a, notes
}

func orUnknown(s string) string {
	if s == "" {
		return "version unknown"
	}
	return s
}

// dpkgAgent reads the agent's entry in the root's dpkg status file.
func dpkgAgent(r root) (Agent, bool, error) {
	f, err := r.open(dpkgStatusPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Agent{}, false, nil
	}
	if err != nil {
		return Agent{}, false, err
	}
	defer f.Close()
	version, ok, err := parseDpkgStatus(f, agentPackage)
	if err != nil || !ok {
		return Agent{}, false, err
	}
	return Agent{Installed: true, Version: upstreamVersion(version), Via: "deb"}, true, nil
}

// parseDpkgStatus finds package in a dpkg status file (deb822 stanzas separated by blank
// lines) and returns its Version when its Status says it is installed. The Status field
// is "WANT FLAG STATE"; only the state "installed" counts, so a held package ("hold ok
// installed") is installed and a removed one ("deinstall ok config-files") is not. A
// multi-arch package has a stanza per architecture; the first installed one wins.
func parseDpkgStatus(rd io.Reader, pkg string) (version string, installed bool, err error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var isPkg bool
	var status, ver string
	// flush ends a stanza: it reports whether it was pkg, installed, and starts the next.
	flush := func() (string, bool) {
		state := strings.Fields(status)
		v, ok := ver, isPkg && len(state) == 3 && state[2] == "installed"
		isPkg, status, ver = false, "", ""
		return v, ok
	}
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			if v, ok := flush(); ok {
				return v, true, nil
			}
		case line[0] == ' ' || line[0] == '\t':
			// continuation of a multi-line field such as Description
		default:
			key, value, _ := bytes.Cut(line, []byte(":"))
			switch string(key) { // no allocation: the compiler converts in place
			case "Package": // dpkg writes it first in every stanza
				isPkg = string(bytes.TrimSpace(value)) == pkg
			case "Status":
				if isPkg {
					status = string(bytes.TrimSpace(value))
				}
			case "Version":
				if isPkg {
					ver = string(bytes.TrimSpace(value))
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", false, err
	}
	if v, ok := flush(); ok {
		return v, true, nil
	}
	return "", false, nil
}

// upstreamVersion strips a Debian epoch ("1:") and revision ("-1") from a package
// version, leaving the agent's own four-part version ("3.3.1142.0").
func upstreamVersion(v string) string {
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	return v
}

// rpmAgent asks the root's rpm database for the agent. It runs nothing unless the root
// has an rpm database and rpm is on PATH: `rpm --root` reads another root's database
// with the host's rpm.
func rpmAgent(ctx context.Context, runner run.Runner, r root, rootDir string, log *slog.Logger) (Agent, bool, error) {
	if runner == nil || !hasAny(r, rpmDatabases) {
		return Agent{}, false, nil
	}
	rpm, err := runner.LookPath("rpm")
	if err != nil {
		log.Debug("rpm database found but rpm is not on PATH", "err", err)
		return Agent{}, false, nil
	}
	out, err := runner.Run(ctx, run.Cmd{Name: rpm, Args: []string{"--root", rootDir, "-q", "--qf", "%{VERSION}", agentPackage}})
	var exit *run.ExitError
	if errors.As(err, &exit) && exit.ExitCode == 1 {
		// rpm -q exits 1 and prints "package amazon-ssm-agent is not installed".
		return Agent{}, false, nil
	}
	if err != nil {
		return Agent{}, false, err
	}
	return Agent{Installed: true, Version: strings.TrimSpace(string(out.Stdout)), Via: "rpm"}, true, nil
}

func hasAny(r root, names []string) bool {
	for _, n := range names {
		if r.exists(n) {
			return true
		}
	}
	return false
}

// snapAgent finds the agent snap: the mounted revision under /snap (with its version in
// meta/snap.yaml), or, when the snap is not mounted (an image), its file in snapd's store,
// which tells no version.
func snapAgent(r root) (Agent, bool) {
	if r.isDir(snapCurrentPath) {
		a := Agent{Installed: true, Via: "snap"}
		if data, err := r.readFile(snapYAMLPath); err == nil {
			a.Version = snapVersion(data)
		}
		return a, true
	}
	if len(r.glob(snapStoreGlob)) > 0 {
		return Agent{Installed: true, Via: "snap"}, true
	}
	return Agent{}, false
}

// snapVersion reads the top-level "version:" of a snap.yaml, without its quotes.
func snapVersion(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "version:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

// agentBinaryVersion runs `AGENT -version` and parses its "SSM Agent version: X" line.
// It returns "" when the binary cannot run or prints no version: the agent is there
// all the same.
func agentBinaryVersion(ctx context.Context, runner run.Runner, bin string, log *slog.Logger) string {
	if runner == nil {
		return ""
	}
	out, err := runner.Run(ctx, run.Cmd{Name: bin, Args: []string{"-version"}})
	if err != nil {
		log.Debug("agent binary did not tell its version", "bin", bin, "err", err)
		return ""
	}
	return parseAgentVersion(string(out.Stdout))
}

// parseAgentVersion finds "SSM Agent version: 3.3.1142.0" in the output of -version.
func parseAgentVersion(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if _, v, ok := strings.Cut(line, "SSM Agent version:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}
