package distro

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
)

const sonomaPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>BuildID</key>
	<string>8E9D8E6A-3C5B-11EF-9A5B-7E3E5F6C1D2A</string>
	<key>ProductBuildVersion</key>
	<string>23G93</string>
	<key>ProductCopyright</key>
	<string>1983-2024 Apple Inc.</string>
	<key>ProductName</key>
	<string>macOS</string>
	<key>ProductUserVisibleVersion</key>
	<string>14.6.1</string>
	<key>ProductVersion</key>
	<string>14.6.1</string>
	<key>iOSSupportVersion</key>
	<string>17.6</string>
</dict>
</plist>
`

func TestParseSystemVersion(t *testing.T) {
	name, version, err := parseSystemVersion([]byte(sonomaPlist))
	if err != nil || name != "macOS" || version != "14.6.1" {
		t.Errorf("parseSystemVersion = %q, %q, %v; want macOS, 14.6.1, nil", name, version, err)
	}
	for _, bad := range []string{"", "bplist00\x01\x02", "<plist><dict><key>ProductName</key><string>macOS</string></dict></plist>"} {
		if _, _, err := parseSystemVersion([]byte(bad)); err == nil {
			t.Errorf("parseSystemVersion(%q): got no error", bad)
		}
	}
}

func TestDarwinPlatform(t *testing.T) {
	mac := Distro{ID: "macos", IDLike: []string{}, VersionID: "14.6.1", Name: "macOS", PrettyName: "macOS 14.6.1"}
	tests := []struct {
		arch string
		want Platform
	}{
		{"arm64", Platform{OS: "darwin", Arch: "arm64", Distro: mac, PackageFormat: "pkg", PackageManager: "installer", InitSystem: "launchd",
			PlatformFolder: "darwin_arm64", Support: Compatible,
			Reason: "the agent supports macOS only on EC2 Mac instances; hybrid activation is unsupported on macOS"}},
		{"amd64", Platform{OS: "darwin", Arch: "amd64", Distro: mac, PackageFormat: "pkg", PackageManager: "installer", InitSystem: "launchd",
			PlatformFolder: "darwin_amd64", Support: Compatible,
			Reason: "the agent supports macOS only on EC2 Mac instances; hybrid activation is unsupported on macOS"}},
		{"386", Platform{OS: "darwin", Arch: "386", Distro: mac, PackageManager: "installer", InitSystem: "launchd", Support: Unsupported,
			Reason: "AWS publishes no macOS agent for 386 (only amd64 and arm64)"}},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, darwinPlatform("macOS", "14.6.1", tt.arch)); diff != "" {
				t.Errorf("darwinPlatform mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDetectDarwinRoot: a macOS root is recognised by its SystemVersion.plist.
func TestDetectDarwinRoot(t *testing.T) {
	fsys := fstest.MapFS{
		systemVersionPlist: {Data: []byte(sonomaPlist)},
		macAgentPath:       {Data: []byte("binary")},
	}
	got, err := Detect(context.Background(), Options{FS: fsys, RootDir: "/Volumes/mac", Arch: "arm64", Runner: runtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := Platform{OS: "darwin", Arch: "arm64",
		Distro:        Distro{ID: "macos", IDLike: []string{}, VersionID: "14.6.1", Name: "macOS", PrettyName: "macOS 14.6.1"},
		PackageFormat: "pkg", PackageManager: "installer", InitSystem: "launchd", PlatformFolder: "darwin_arm64", Support: Compatible,
		Reason: "the agent supports macOS only on EC2 Mac instances; hybrid activation is unsupported on macOS",
		Agent:  Agent{Installed: true, Via: "pkg"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Detect mismatch (-want +got):\n%s", diff)
	}
}
