package distro

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "comments and blank lines", in: "# c\n\n   # indented\nID=debian\n\n", want: map[string]string{"ID": "debian"}},
		{name: "bare value", in: "ID=ubuntu", want: map[string]string{"ID": "ubuntu"}},
		{name: "empty value", in: "VERSION_CODENAME=", want: map[string]string{"VERSION_CODENAME": ""}},
		{name: "empty quoted value", in: `VERSION_CODENAME=""`, want: map[string]string{"VERSION_CODENAME": ""}},
		{name: "double quotes with spaces", in: `NAME="Red Hat Enterprise Linux"`, want: map[string]string{"NAME": "Red Hat Enterprise Linux"}},
		{name: "single quotes are literal", in: `X='a \" $b'`, want: map[string]string{"X": `a \" $b`}},
		{name: "escapes in double quotes", in: `X="\$HOME \"q\" \\ \` + "`" + `"`, want: map[string]string{"X": "$HOME \"q\" \\ `"}},
		{name: "other backslash kept in double quotes", in: `X="a\nb"`, want: map[string]string{"X": `a\nb`}},
		{name: "backslash escapes bare characters", in: `X=a\ b`, want: map[string]string{"X": "a b"}},
		{name: "CRLF line ends", in: "ID=fedora\r\nVERSION_ID=41\r\n", want: map[string]string{"ID": "fedora", "VERSION_ID": "41"}},
		{name: "later assignment wins", in: "ID=a\nID=b", want: map[string]string{"ID": "b"}},
		{name: "equals sign in value", in: `X="a=b"`, want: map[string]string{"X": "a=b"}},
		{name: "no equals sign", in: "ID=debian\nnonsense", wantErr: "line 2"},
		{name: "bad key", in: "\n\n1ID=x", wantErr: "line 3"},
		{name: "unterminated double quote", in: `ID="debian`, wantErr: "line 1"},
		{name: "unterminated single quote", in: `ID='debian`, wantErr: "line 1"},
		{name: "text after closing quote", in: `ID="a"b`, wantErr: "line 1"},
		{name: "trailing backslash", in: `ID=a\`, wantErr: "line 1"},
		{name: "unquoted space", in: `NAME=Red Hat`, wantErr: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOSRelease([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseOSRelease mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseOSReleaseFixtures parses every fixture of an os-release file: each real one
// must parse and have an ID, and the hand-made odd cases must give what they are for.
func TestParseOSReleaseFixtures(t *testing.T) {
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == "README.md" || strings.HasSuffix(name, "-release") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			got, err := ParseOSRelease(readFixture(t, name))
			if name == "malformed" {
				if err == nil || !strings.Contains(err.Error(), "line 3") {
					t.Fatalf("got error %v, want one naming line 3", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got["ID"] == "" {
				t.Errorf("got no ID in %v", got)
			}
		})
	}
	t.Run("quoting values", func(t *testing.T) {
		got, err := ParseOSRelease(readFixture(t, "quoting"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"NAME":        "Example Linux",
			"ID":          "example",
			"ID_LIKE":     "ubuntu debian",
			"VERSION_ID":  "1.0",
			"PRETTY_NAME": "Example \"Quoted\" Linux $HOME `tick` back\\slash",
			"VARIANT":     `single \n no escapes`,
			"VERSION":     "plain escaped",
			"HOME_URL":    "https://example.org/",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("quoting fixture mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestParseLegacyRelease(t *testing.T) {
	tests := []struct {
		in      string
		want    Distro
		wantErr bool
	}{
		{in: "Amazon Linux AMI release 2018.03\n", want: Distro{ID: "amzn", IDLike: []string{"rhel", "fedora"}, VersionID: "2018.03", Name: "Amazon Linux AMI", PrettyName: "Amazon Linux AMI release 2018.03"}},
		{in: "CentOS release 6.10 (Final)", want: Distro{ID: "centos", IDLike: []string{"rhel", "fedora"}, VersionID: "6.10", Name: "CentOS", PrettyName: "CentOS release 6.10 (Final)"}},
		{in: "Red Hat Enterprise Linux Server release 6.10 (Santiago)", want: Distro{ID: "rhel", IDLike: []string{"fedora"}, VersionID: "6.10", Name: "Red Hat Enterprise Linux Server", PrettyName: "Red Hat Enterprise Linux Server release 6.10 (Santiago)"}},
		{in: "Oracle Linux Server release 6.10", want: Distro{ID: "ol", IDLike: []string{"fedora"}, VersionID: "6.10", Name: "Oracle Linux Server", PrettyName: "Oracle Linux Server release 6.10"}},
		{in: "Scientific Linux release 6.10 (Carbon)", want: Distro{ID: "scientific", IDLike: []string{"rhel", "fedora"}, VersionID: "6.10", Name: "Scientific Linux", PrettyName: "Scientific Linux release 6.10 (Carbon)"}},
		{in: "Welcome to my server", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLegacyRelease([]byte(tt.in))
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "line 1") {
					t.Fatalf("got error %v, want one naming line 1", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseLegacyRelease mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
