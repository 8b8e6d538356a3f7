package state

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

func newRoot(t *testing.T) sysroot.Root {
	t.Helper()
	root, err := sysroot.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func writeState(t *testing.T, root sysroot.Root, content string) {
	t.Helper()
	path := root.Path(Path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMissing(t *testing.T) {
	got, err := Load(newRoot(t))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(New(), got); diff != "" {
		t.Errorf("state of a fresh root (-want +got):\n%s", diff)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	root := newRoot(t)
	at := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	s := New()
	s.Agent = &AgentRecord{
		Version: "3.3.1142.0", PackageFormat: "deb", PackageManager: "apt",
		Source: "https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/3.3.1142.0/debian_amd64/amazon-ssm-agent.deb",
		SHA256: strings.Repeat("ab", 32), SignerFingerprint: "1C5B395CBE5E74E2F1CA21592784DBF388D19D46",
		InstalledAt: at, UpdatedAt: at.Add(time.Hour),
	}
	s.AddFile("/etc/systemd/system/amazon-ssm-agent.service.d/proxy.conf", "proxy drop-in", strings.Repeat("01", 32))
	s.Proxy = &ProxyRecord{
		Files:     []string{"/etc/systemd/system/amazon-ssm-agent.service.d/proxy.conf"},
		HTTPProxy: "http://user:***@proxy:3128", HTTPSProxy: "http://proxy:3128", NoProxy: "169.254.169.254",
	}
	s.Registration = &RegistrationRecord{ManagedInstanceID: "mi-0123456789abcdef0", Region: "eu-west-1", ActivationID: "b1c2", RegisteredAt: at}
	s.Record(at, "install", "3.3.1142.0")

	if err := s.Save(root); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := Load(root)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	info, err := os.Stat(root.Path(Path))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("mode: got %v, want 0600", info.Mode().Perm())
	}
}

func TestSaveEmptyListsAreArrays(t *testing.T) {
	root := newRoot(t)
	if err := (&State{}).Save(root); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(root.Path(Path))
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"schema_version\": 1,\n  \"files\": [],\n  \"history\": []\n}\n"
	if string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
}

func TestLoadBad(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantMsg string // substring of the error
	}{
		{name: "truncated", content: `{"schema_version": 1, "files": [`, wantMsg: "is corrupt"},
		{name: "not json", content: "hello\n", wantMsg: "is corrupt"},
		{name: "wrong type", content: `{"schema_version": "one"}`, wantMsg: "is corrupt"},
		{name: "two objects", content: `{"schema_version": 1} {}`, wantMsg: "is corrupt: trailing data"},
		{name: "newer schema", content: `{"schema_version": 99}`, wantMsg: "schema version 99, newer than the 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t)
			writeState(t, root, tt.content)
			_, err := Load(root)
			if err == nil {
				t.Fatalf("Load: got nil error, want one containing %q", tt.wantMsg)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), root.Path(Path)) {
				t.Errorf("error: got %q, want it to name %s and contain %q", err, root.Path(Path), tt.wantMsg)
			}
			if fail.HintOf(err) == "" {
				t.Errorf("hint: got none, want the fix")
			}
		})
	}
}

func TestLoadFillsDefaults(t *testing.T) {
	root := newRoot(t)
	writeState(t, root, `{"agent": {"version": "3.2.1.0"}}`)
	got, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	want := New()
	want.Agent = &AgentRecord{Version: "3.2.1.0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFiles(t *testing.T) {
	type op struct {
		add           bool
		path, purpose string
	}
	tests := []struct {
		name string
		ops  []op
		want []FileRecord
	}{
		{
			name: "add two",
			ops:  []op{{add: true, path: "/a", purpose: "x"}, {add: true, path: "/b", purpose: "y"}},
			want: []FileRecord{{Path: "/a", Purpose: "x", SHA256: "sha-/a"}, {Path: "/b", Purpose: "y", SHA256: "sha-/b"}},
		},
		{
			name: "re-add replaces in place",
			ops:  []op{{add: true, path: "/a", purpose: "x"}, {add: true, path: "/b", purpose: "y"}, {add: true, path: "/a", purpose: "z"}},
			want: []FileRecord{{Path: "/a", Purpose: "z", SHA256: "sha-/a"}, {Path: "/b", Purpose: "y", SHA256: "sha-/b"}},
		},
		{
			name: "remove",
			ops:  []op{{add: true, path: "/a"}, {add: true, path: "/b"}, {path: "/a"}},
			want: []FileRecord{{Path: "/b", SHA256: "sha-/b"}},
		},
		{
			name: "remove unknown",
			ops:  []op{{add: true, path: "/a"}, {path: "/c"}},
			want: []FileRecord{{Path: "/a", SHA256: "sha-/a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			for _, o := range tt.ops {
				if o.add {
					s.AddFile(o.path, o.purpose, "sha-"+o.path)
				} else {
					s.RemoveFile(o.path)
				}
			}
			if diff := cmp.Diff(tt.want, s.Files); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, w := range tt.want {
				if got, ok := s.FindFile(w.Path); !ok || got != w {
					t.Errorf("FindFile(%s): got %v, %v, want %v, true", w.Path, got, ok, w)
				}
			}
		})
	}
}

func TestRecordKeepsNewest(t *testing.T) {
	s := New()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	for i := range MaxHistory + 5 {
		s.Record(start.Add(time.Duration(i)*time.Minute), "upgrade", "")
	}
	if len(s.History) != MaxHistory {
		t.Fatalf("history length: got %d, want %d", len(s.History), MaxHistory)
	}
	if got, want := s.History[0].Time, start.Add(5*time.Minute).UTC(); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("oldest kept event: got %v, want %v in UTC", got, want)
	}
}
