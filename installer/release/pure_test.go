package release

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

func TestResolveRegion(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	profile := func(r string) func(context.Context) string { return func(context.Context) string { return r } }
	imds := func(r string, err error) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return r, err }
	}
	tests := []struct {
		name     string
		flag     string
		env      map[string]string
		profile  func(context.Context) string
		imds     func(context.Context) (string, error)
		want     string
		wantErr  string
		wantHint string
	}{
		{name: "flag wins", flag: "eu-west-1", env: map[string]string{"AWS_REGION": "us-east-1"}, profile: profile("us-west-2"), imds: imds("ap-south-1", nil), want: "eu-west-1"},
		{name: "AWS_REGION", env: map[string]string{"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-1"}, profile: profile("us-west-2"), want: "us-east-2"},
		{name: "AWS_DEFAULT_REGION", env: map[string]string{"AWS_DEFAULT_REGION": "cn-north-1"}, profile: profile("us-west-2"), want: "cn-north-1"},
		{name: "profile", profile: profile("us-gov-west-1"), imds: imds("us-east-1", nil), want: "us-gov-west-1"},
		{name: "instance metadata", profile: profile(""), imds: imds("ap-southeast-3", nil), want: "ap-southeast-3"},
		{name: "instance metadata fails", imds: imds("", errors.New("no IMDS")), wantErr: "region required", wantHint: "pass --region REGION (e.g. --region us-east-1) or set AWS_REGION"},
		{name: "nothing at all", wantErr: "region required", wantHint: "pass --region REGION (e.g. --region us-east-1) or set AWS_REGION"},
		{name: "bad flag", flag: "useast1", env: map[string]string{"AWS_REGION": "us-east-1"}, wantErr: `region from --region: region "useast1" is not an AWS region name`},
		{name: "bad env", env: map[string]string{"AWS_REGION": "US-EAST-1"}, wantErr: `region from AWS_REGION: region "US-EAST-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveRegion(context.Background(), tt.flag, env(tt.env), tt.profile, tt.imds)
			if tt.wantErr != "" {
				checkErr(t, err, fail.Usage, tt.wantErr)
				if tt.wantHint != "" && fail.HintOf(err) != tt.wantHint {
					t.Errorf("got hint %q, want %q", fail.HintOf(err), tt.wantHint)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResolveRegionNilGetenv(t *testing.T) {
	got, err := ResolveRegion(context.Background(), "", nil, nil, func(context.Context) (string, error) { return "eu-north-1", nil })
	if err != nil || got != "eu-north-1" {
		t.Errorf("got %q, %v, want eu-north-1, nil", got, err)
	}
}

func TestValidateRegion(t *testing.T) {
	tests := []struct {
		region   string
		wantErr  bool
		wantHint string
	}{
		{region: "us-east-1"},
		{region: "ap-southeast-3"},
		{region: "mx-central-1"},
		{region: "cn-north-1"},
		{region: "cn-northwest-1"},
		{region: "us-gov-west-1"},
		{region: "us-gov-east-1"},
		{region: "us-iso-east-1"},
		{region: "us-isob-east-1"},
		{region: "us-isof-south-1"},
		{region: "eu-isoe-west-1"},
		{region: "eusc-de-east-1"},
		{region: "", wantErr: true},
		{region: "us-east", wantErr: true},
		{region: "US-EAST-1", wantErr: true},
		{region: "useast1", wantErr: true},
		{region: "us-east-0", wantErr: true},
		{region: "us-east-1/../x", wantErr: true},
		{region: "aws-global", wantErr: true},
		{region: "us-foo-east-1", wantErr: true},
		{region: "us-east-1a", wantErr: true, wantHint: "use --region us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			err := ValidateRegion(tt.region)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			checkErr(t, err, fail.Usage, `"`+tt.region+`"`)
			if tt.wantHint != "" && fail.HintOf(err) != tt.wantHint {
				t.Errorf("got hint %q, want %q", fail.HintOf(err), tt.wantHint)
			}
		})
	}
}

func TestBucketName(t *testing.T) {
	if got, want := BucketName("cn-north-1"), "amazon-ssm-cn-north-1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{in: "3.3.1142.0", want: Version{3, 3, 1142, 0}},
		{in: "3.3.1142.0\n", want: Version{3, 3, 1142, 0}},
		{in: "255.255.65535.999", want: Version{255, 255, 65535, 999}},
		{in: "0.0.0.0", want: Version{}},
		{in: "3.3.1142", wantErr: true},
		{in: "3.3.1142.0.1", wantErr: true},
		{in: "3.3.x.0", wantErr: true},
		{in: "3.3.-1.0", wantErr: true},
		{in: "3.3.+1.0", wantErr: true},
		{in: "3..1.0", wantErr: true},
		{in: "v3.3.1142.0", wantErr: true},
		{in: "3.3.99999999999.0", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersion(tt.in)
			if tt.wantErr {
				checkErr(t, err, fail.Usage)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVersionCompareAndString(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"3.3.1142.0", "3.3.1142.0", 0},
		{"3.3.1142.0", "3.3.1142.1", -1},
		{"3.3.1142.1", "3.3.1142.0", 1},
		{"3.3.999.0", "3.3.1000.0", -1},
		{"3.10.0.0", "3.9.9999.0", 1},
		{"2.3.1319.0", "3.0.0.0", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			a, err := ParseVersion(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ParseVersion(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Compare(b); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			if a.String() != tt.a {
				t.Errorf("got String %q, want %q", a.String(), tt.a)
			}
		})
	}
}

func TestVersionText(t *testing.T) {
	v := Version{3, 3, 1142, 0}
	b, err := v.MarshalText()
	if err != nil || string(b) != "3.3.1142.0" {
		t.Fatalf("got %q, %v, want 3.3.1142.0", b, err)
	}
	var w Version
	if err := w.UnmarshalText(b); err != nil || w != v {
		t.Errorf("got %v, %v, want %v", w, err, v)
	}
	if err := w.UnmarshalText([]byte("latest")); err == nil {
		t.Error("got no error for latest, want one")
	}
}

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest([]byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	got := m.Packages[0].Files[0].AvailableVersions[:4]
	want := []ManifestVersion{
		{Version: "3.3.1142.0", Checksum: "aa11", Status: "Active"}, // CheckSum
		{Version: "3.3.1000.0", Checksum: "aa12", Status: "Active"},
		{Version: "3.3.999.0", Checksum: "aa13", Status: "Inactive"},
		{Version: "3.2.2303.0", Checksum: "aa14", Status: "Active"}, // lower-case key, no Status
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if m.URIFormat == "" || m.SchemaVersion != "1.0" {
		t.Errorf("got UriFormat %q, SchemaVersion %q, want both set", m.URIFormat, m.SchemaVersion)
	}
	if _, err := ParseManifest([]byte(`{"Packages": [`)); err == nil {
		t.Error("got no error for malformed JSON, want one")
	}
}

func TestManifestVersions(t *testing.T) {
	m, err := ParseManifest([]byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		folder string
		want   []string
	}{
		// Inactive, Deprecated, the sentinel, the unparsable entry and the updater are out.
		{"linux_amd64", []string{"3.3.1142.0", "3.3.1000.0", "3.2.2303.0", "3.2.2100.0", "3.1.1188.0", "3.0.1479.0", "2.3.1319.0"}},
		{"debian_arm64", []string{"3.3.1142.0", "3.2.2303.0"}}, // ubuntu bundles
		{"windows_amd64", []string{"3.3.1142.0"}},              // .zip bundle
		{"ubuntu_arm64", nil},
		{"darwin_arm64", nil},
	}
	for _, tt := range tests {
		t.Run(tt.folder, func(t *testing.T) {
			var got []string
			for _, v := range m.Versions(tt.folder) {
				got = append(got, v.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManifestVersionsDeduplicates(t *testing.T) {
	m := &Manifest{Packages: []ManifestPackage{{Name: "amazon-ssm-agent", Files: []ManifestFile{
		{Name: "amazon-ssm-agent-linux-amd64.tar.gz", AvailableVersions: []ManifestVersion{{Version: "3.1.0.0", Status: "Active"}, {Version: "3.2.0.0", Status: "Active"}}},
		{Name: "amazon-ssm-agent-linux-amd64.tar.gz", AvailableVersions: []ManifestVersion{{Version: "3.2.0.0", Status: "Active"}}},
	}}}}
	if diff := cmp.Diff([]Version{{3, 2, 0, 0}, {3, 1, 0, 0}}, m.Versions("linux_amd64")); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}

func TestBundleFolder(t *testing.T) {
	tests := []struct {
		name   string
		want   string
		wantOK bool
	}{
		{"amazon-ssm-agent-linux-amd64.tar.gz", "linux_amd64", true},
		{"amazon-ssm-agent-linux-386.tar.gz", "linux_386", true},
		{"amazon-ssm-agent-ubuntu-arm64.tar.gz", "debian_arm64", true},
		{"amazon-ssm-agent-ubuntu-arm.tar.gz", "debian_arm", true},
		{"amazon-ssm-agent-windows-amd64.zip", "windows_amd64", true},
		{"amazon-ssm-agent-darwin-arm64.tar.gz", "darwin_arm64", true},
		{"amazon-ssm-agent-updater-linux-amd64.tar.gz", "", false},
		{"amazon-ssm-agent-freebsd-amd64.tar.gz", "", false},
		{"amazon-ssm-agent-linux.tar.gz", "", false},
		{"other-linux-amd64.tar.gz", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := BundleFolder(tt.name)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %q, %v, want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFileNameAndPackageKey(t *testing.T) {
	tests := []struct {
		version, folder string
		wantFile        string
		wantKey         string
		wantErr         bool
	}{
		{"3.3.1142.0", "linux_amd64", "amazon-ssm-agent.rpm", "3.3.1142.0/linux_amd64/amazon-ssm-agent.rpm", false},
		{"latest", "debian_arm", "amazon-ssm-agent.deb", "latest/debian_arm/amazon-ssm-agent.deb", false},
		{"3.3.1142.0", "debian_386", "amazon-ssm-agent.deb", "3.3.1142.0/debian_386/amazon-ssm-agent.deb", false},
		{"3.3.1142.0", "windows_amd64", "AmazonSSMAgentSetup.exe", "3.3.1142.0/windows_amd64/AmazonSSMAgentSetup.exe", false},
		{"3.3.1142.0", "darwin_arm64", "amazon-ssm-agent.pkg", "3.3.1142.0/darwin_arm64/amazon-ssm-agent.pkg", false},
		{"3.3.1142.0", "ubuntu_amd64", "", "", true},
		{"3.3.1142.0", "linux_", "", "", true},
		{"stable", "linux_amd64", "amazon-ssm-agent.rpm", "", true},
		{"3.3.1142.0\n", "linux_amd64", "amazon-ssm-agent.rpm", "", true},
		{"../x", "linux_amd64", "amazon-ssm-agent.rpm", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.version+"/"+tt.folder, func(t *testing.T) {
			file, ferr := FileName(tt.folder)
			if (ferr != nil) != (tt.wantFile == "") || file != tt.wantFile {
				t.Errorf("FileName: got %q, %v, want %q", file, ferr, tt.wantFile)
			}
			key, err := PackageKey(tt.version, tt.folder)
			if tt.wantErr {
				checkErr(t, err, fail.Usage)
				return
			}
			if err != nil || key != tt.wantKey {
				t.Errorf("PackageKey: got %q, %v, want %q", key, err, tt.wantKey)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	avail := []Version{{3, 0, 1479, 0}, {3, 3, 1142, 0}, {3, 2, 2303, 0}, {3, 1, 1188, 0}, {3, 3, 1000, 0}} // any order
	tests := []struct {
		name  string
		avail []Version
		v     Version
		n     int
		want  []Version
	}{
		{"middle", avail, Version{3, 2, 9999, 0}, 2, []Version{{3, 3, 1000, 0}, {3, 2, 2303, 0}}},
		{"middle four", avail, Version{3, 2, 9999, 0}, 4, []Version{{3, 3, 1142, 0}, {3, 3, 1000, 0}, {3, 2, 2303, 0}, {3, 1, 1188, 0}}},
		{"newer than all", avail, Version{9, 0, 0, 0}, 2, []Version{{3, 3, 1142, 0}, {3, 3, 1000, 0}}},
		{"older than all", avail, Version{1, 0, 0, 0}, 2, []Version{{3, 1, 1188, 0}, {3, 0, 1479, 0}}},
		{"more asked than held", avail[:2], Version{3, 2, 0, 0}, 4, []Version{{3, 3, 1142, 0}, {3, 0, 1479, 0}}},
		{"none", nil, Version{1, 0, 0, 0}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Nearest(tt.avail, tt.v, tt.n)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCache(t *testing.T) {
	c := Cache{Dir: filepath.Join("/var", "cache", "ssm-setup")}
	if got, want := c.Path("3.3.1142.0", "debian_amd64", "amazon-ssm-agent.deb"), filepath.Join("/var", "cache", "ssm-setup", "3.3.1142.0", "debian_amd64", "amazon-ssm-agent.deb"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name   string
		goos   string
		isRoot bool
		env    map[string]string
		want   string
	}{
		{"root", "linux", true, map[string]string{"HOME": "/root", "XDG_CACHE_HOME": "/x"}, "/var/cache/ssm-setup"},
		{"xdg", "linux", false, map[string]string{"HOME": "/home/a", "XDG_CACHE_HOME": "/home/a/.c"}, filepath.Join("/home/a/.c", "ssm-setup")},
		{"relative xdg ignored", "linux", false, map[string]string{"HOME": "/home/a", "XDG_CACHE_HOME": "rel"}, filepath.Join("/home/a", ".cache", "ssm-setup")},
		{"home", "linux", false, map[string]string{"HOME": "/home/a"}, filepath.Join("/home/a", ".cache", "ssm-setup")},
		{"no home", "linux", false, nil, ""},
		{"freebsd like linux", "freebsd", true, nil, "/var/cache/ssm-setup"},
		{"darwin root", "darwin", true, nil, "/Library/Caches/ssm-setup"},
		{"darwin user", "darwin", false, map[string]string{"HOME": "/Users/a"}, filepath.Join("/Users/a", "Library", "Caches", "ssm-setup")},
		{"windows admin", "windows", true, map[string]string{"ProgramData": `C:\ProgramData`}, filepath.Join(`C:\ProgramData`, "ssm-setup", "cache")},
		{"windows user", "windows", false, map[string]string{"LOCALAPPDATA": `C:\Users\a\AppData\Local`}, filepath.Join(`C:\Users\a\AppData\Local`, "ssm-setup", "cache")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultCacheDir(tt.goos, tt.isRoot, env(tt.env)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
