package distro

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
)

const dpkgStatus = `Package: adduser
Status: install ok installed
Priority: important
Version: 3.134
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands.
 .
 Package: amazon-ssm-agent
Status: install ok installed

Package: amazon-ssm-agent
Status: deinstall ok config-files
Architecture: i386
Version: 3.2.0.0-1

Package: amazon-ssm-agent
Status: install ok installed
Priority: optional
Section: admin
Architecture: amd64
Version: 3.3.1142.0-1
Description: Manage EC2 Instances using SSM APIs

Package: zlib1g
Status: install ok installed
Version: 1:1.2.13.dfsg-1
`

func TestParseDpkgStatus(t *testing.T) {
	tests := []struct {
		name, in, pkg string
		wantVersion   string
		wantInstalled bool
	}{
		{"installed after a removed stanza and a continuation that looks like a field", dpkgStatus, "amazon-ssm-agent", "3.3.1142.0-1", true},
		{"last stanza without trailing blank line", dpkgStatus, "zlib1g", "1:1.2.13.dfsg-1", true},
		{"held package is installed", "Package: amazon-ssm-agent\nStatus: hold ok installed\nVersion: 3.2.1.0-1\n", "amazon-ssm-agent", "3.2.1.0-1", true},
		{"config files only", "Package: amazon-ssm-agent\nStatus: deinstall ok config-files\nVersion: 3.2.1.0-1\n\n", "amazon-ssm-agent", "", false},
		{"half installed", "Package: amazon-ssm-agent\nStatus: install reinstreq half-installed\nVersion: 3.2.1.0-1\n", "amazon-ssm-agent", "", false},
		{"absent", dpkgStatus, "amazon-ssm-agent-snap", "", false},
		{"empty", "", "amazon-ssm-agent", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok, err := parseDpkgStatus(strings.NewReader(tt.in), tt.pkg)
			if err != nil || v != tt.wantVersion || ok != tt.wantInstalled {
				t.Errorf("parseDpkgStatus = %q, %v, %v; want %q, %v, nil", v, ok, err, tt.wantVersion, tt.wantInstalled)
			}
		})
	}
}

func TestUpstreamVersion(t *testing.T) {
	for in, want := range map[string]string{
		"3.3.1142.0-1":    "3.3.1142.0",
		"1:3.3.1142.0-1":  "3.3.1142.0",
		"3.3.1142.0":      "3.3.1142.0",
		"2:1.2-3-ubuntu1": "1.2-3",
	} {
		if got := upstreamVersion(in); got != want {
			t.Errorf("upstreamVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSnapVersion(t *testing.T) {
	for in, want := range map[string]string{
		"name: amazon-ssm-agent\nversion: '3.3.1142.0'\nsummary: x\n": "3.3.1142.0",
		"name: amazon-ssm-agent\nversion: 3.2.582.0\n":                "3.2.582.0",
		"name: amazon-ssm-agent\nversion: \"3.1.0.0\"\n":              "3.1.0.0",
		"name: amazon-ssm-agent\n  version: nested\n":                 "",
	} {
		if got := snapVersion([]byte(in)); got != want {
			t.Errorf("snapVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseAgentVersion(t *testing.T) {
	for in, want := range map[string]string{
		"SSM Agent version: 3.3.1142.0\n":                    "3.3.1142.0",
		"Starting Agent\nSSM Agent version: 3.2.582.0 (x)\n": "3.2.582.0",
		"usage: amazon-ssm-agent\n":                          "",
		"":                                                   "",
	} {
		if got := parseAgentVersion(in); got != want {
			t.Errorf("parseAgentVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

const rpmQuery = "/usr/bin/rpm --root /mnt/image -q --qf '%{VERSION}' amazon-ssm-agent"

func TestDetectLinuxAgent(t *testing.T) {
	dir := &fstest.MapFile{Mode: fs.ModeDir | 0o755}
	empty := &fstest.MapFile{}
	tests := []struct {
		name      string
		fsys      fstest.MapFS
		isHost    bool
		setup     func(f *runtest.Fake)
		want      Agent
		wantNotes []string // substrings, one per note
	}{
		{
			name: "nothing installed, Debian root with an empty var/lib/rpm: rpm is not run",
			fsys: fstest.MapFS{"var/lib/dpkg/status": {Data: []byte("Package: bash\nStatus: install ok installed\nVersion: 5.2\n")}, "var/lib/rpm": dir},
			setup: func(f *runtest.Fake) {
				f.SetPath("rpm", "/usr/bin/rpm")
			},
		},
		{
			name: "deb",
			fsys: fstest.MapFS{"var/lib/dpkg/status": {Data: []byte(dpkgStatus)}, "usr/bin/amazon-ssm-agent": empty},
			want: Agent{Installed: true, Version: "3.3.1142.0", Via: "deb"},
		},
		{
			name: "rpm with a SQLite database",
			fsys: fstest.MapFS{"var/lib/rpm/rpmdb.sqlite": empty, "usr/bin/amazon-ssm-agent": empty},
			setup: func(f *runtest.Fake) {
				f.SetPath("rpm", "/usr/bin/rpm").ExpectLine(rpmQuery, "3.3.1142.0")
			},
			want: Agent{Installed: true, Version: "3.3.1142.0", Via: "rpm"},
		},
		{
			name: "rpm database under usr/lib/sysimage, agent not installed",
			fsys: fstest.MapFS{"usr/lib/sysimage/rpm/Packages.db": empty},
			setup: func(f *runtest.Fake) {
				f.SetPath("rpm", "/usr/bin/rpm").Expect(runtest.Call{Line: rpmQuery, Stdout: "package amazon-ssm-agent is not installed\n", ExitCode: 1})
			},
		},
		{
			name: "rpm database but no rpm on PATH",
			fsys: fstest.MapFS{"var/lib/rpm/Packages": empty},
		},
		{
			name: "rpm fails: a note, not an error",
			fsys: fstest.MapFS{"var/lib/rpm/Packages": empty},
			setup: func(f *runtest.Fake) {
				f.SetPath("rpm", "/usr/bin/rpm").Expect(runtest.Call{Line: rpmQuery, Stderr: "error: cannot open Packages database", ExitCode: 2})
			},
			wantNotes: []string{"could not query the rpm database", "cannot open Packages database"},
		},
		{
			name: "rpm cannot start",
			fsys: fstest.MapFS{"var/lib/rpm/Packages": empty},
			setup: func(f *runtest.Fake) {
				f.SetPath("rpm", "/usr/bin/rpm").Expect(runtest.Call{Line: rpmQuery, Err: errors.New("permission denied")})
			},
			wantNotes: []string{"permission denied"},
		},
		{
			name: "snap, mounted",
			fsys: fstest.MapFS{
				"snap/amazon-ssm-agent/current":                  {Mode: symlink, Data: []byte("7993")},
				"snap/amazon-ssm-agent/7993/meta/snap.yaml":      {Data: []byte("name: amazon-ssm-agent\nversion: '3.3.1142.0'\n")},
				"var/lib/snapd/snaps/amazon-ssm-agent_7993.snap": empty,
			},
			want: Agent{Installed: true, Version: "3.3.1142.0", Via: "snap"},
		},
		{
			name: "snap, only in snapd's store (an image)",
			fsys: fstest.MapFS{"var/lib/snapd/snaps/amazon-ssm-agent_7993.snap": empty, "var/lib/snapd/snaps/core22_1380.snap": empty},
			want: Agent{Installed: true, Via: "snap"},
		},
		{
			name: "deb and snap: the deb, and a note",
			fsys: fstest.MapFS{
				"var/lib/dpkg/status":                          {Data: []byte(dpkgStatus)},
				"snap/amazon-ssm-agent/current/meta/snap.yaml": {Data: []byte("version: 3.2.582.0\n")},
			},
			want:      Agent{Installed: true, Version: "3.3.1142.0", Via: "deb"},
			wantNotes: []string{"both as a deb package (3.3.1142.0) and as a snap (3.2.582.0)"},
		},
		{
			name: "binary in another root: not run",
			fsys: fstest.MapFS{"usr/bin/amazon-ssm-agent": empty},
			setup: func(f *runtest.Fake) {
				f.SetPath("rpm", "/usr/bin/rpm")
			},
			want: Agent{Installed: true, Via: "binary"},
		},
		{
			name:   "binary on the host: run for its version",
			isHost: true,
			fsys:   fstest.MapFS{"usr/bin/amazon-ssm-agent": empty},
			setup: func(f *runtest.Fake) {
				f.ExpectLine("/mnt/image/usr/bin/amazon-ssm-agent -version", "SSM Agent version: 3.3.987.0\n")
			},
			want: Agent{Installed: true, Version: "3.3.987.0", Via: "binary"},
		},
		{
			name:   "binary on the host that fails: installed, version unknown",
			isHost: true,
			fsys:   fstest.MapFS{"usr/bin/amazon-ssm-agent": empty},
			setup: func(f *runtest.Fake) {
				f.Expect(runtest.Call{Line: "/mnt/image/usr/bin/amazon-ssm-agent -version", ExitCode: 126})
			},
			want: Agent{Installed: true, Via: "binary"},
		},
		{
			name: "a directory named like the binary is not the agent",
			fsys: fstest.MapFS{"usr/bin/amazon-ssm-agent": dir},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := runtest.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			o := Options{FS: tt.fsys, RootDir: "/mnt/image", IsHost: tt.isHost, Runner: fake}
			got, notes := detectLinuxAgent(context.Background(), o, root{fsys: tt.fsys}, "/mnt/image", slog.New(slog.DiscardHandler))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("agent mismatch (-want +got):\n%s", diff)
			}
			joined := strings.Join(notes, "\n")
			for _, w := range tt.wantNotes {
				if !strings.Contains(joined, w) {
					t.Errorf("notes %q do not mention %q", notes, w)
				}
			}
			if len(tt.wantNotes) == 0 && len(notes) > 0 {
				t.Errorf("got notes %q, want none", notes)
			}
		})
	}
}
