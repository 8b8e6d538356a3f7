package distro

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWindowsPlatform(t *testing.T) {
	win := func(product, build string) Distro {
		return Distro{ID: "windows", IDLike: []string{}, VersionID: build, Name: product, PrettyName: product + " (build " + build + ")"}
	}
	tests := []struct {
		name                 string
		product, build, arch string
		want                 Platform
	}{
		{
			name: "server 2022", product: "Windows Server 2022 Datacenter", build: "20348", arch: "amd64",
			want: Platform{OS: "windows", Arch: "amd64", Distro: win("Windows Server 2022 Datacenter", "20348"),
				PackageFormat: "exe", PackageManager: "installer", InitSystem: "windows", PlatformFolder: "windows_amd64", Support: Official},
		},
		{
			name: "server 2012, the oldest listed", product: "Windows Server 2012 Standard", build: "9200", arch: "amd64",
			want: Platform{OS: "windows", Arch: "amd64", Distro: win("Windows Server 2012 Standard", "9200"),
				PackageFormat: "exe", PackageManager: "installer", InitSystem: "windows", PlatformFolder: "windows_amd64", Support: Official},
		},
		{
			name: "server 2008 R2", product: "Windows Server 2008 R2 Standard", build: "7601", arch: "amd64",
			want: Platform{OS: "windows", Arch: "amd64", Distro: win("Windows Server 2008 R2 Standard", "7601"),
				PackageManager: "installer", InitSystem: "windows", Support: Unsupported,
				Reason: "Windows Server 2008 R2 Standard (build 7601) is older than Windows Server 2012, the oldest Windows AWS supports"},
		},
		{
			name: "client edition", product: "Windows 10 Pro", build: "22631", arch: "amd64",
			want: Platform{OS: "windows", Arch: "amd64", Distro: win("Windows 10 Pro", "22631"),
				PackageFormat: "exe", PackageManager: "installer", InitSystem: "windows", PlatformFolder: "windows_amd64", Support: Compatible,
				Reason: "Windows 10 Pro is a client edition; AWS lists Windows Server 2012 and later, but the same installer runs on client Windows"},
		},
		{
			name: "32-bit client", product: "Windows 10 Enterprise", build: "19045", arch: "386",
			want: Platform{OS: "windows", Arch: "386", Distro: win("Windows 10 Enterprise", "19045"),
				PackageFormat: "exe", PackageManager: "installer", InitSystem: "windows", PlatformFolder: "windows_386", Support: Compatible,
				Reason: "Windows 10 Enterprise is a client edition; AWS lists Windows Server 2012 and later, but the same installer runs on client Windows"},
		},
		{
			name: "server on 386", product: "Windows Server 2016 Standard", build: "14393", arch: "386",
			want: Platform{OS: "windows", Arch: "386", Distro: win("Windows Server 2016 Standard", "14393"),
				PackageFormat: "exe", PackageManager: "installer", InitSystem: "windows", PlatformFolder: "windows_386", Support: Compatible,
				Reason: "AWS lists Windows Server 2012 and later on amd64, not on 386"},
		},
		{
			name: "arm64", product: "Windows 11 Pro", build: "26100", arch: "arm64",
			want: Platform{OS: "windows", Arch: "arm64", Distro: win("Windows 11 Pro", "26100"),
				PackageManager: "installer", InitSystem: "windows", Support: Unsupported,
				Reason: "AWS publishes no Windows agent for arm64 (only amd64 and 386)"},
		},
		{
			name: "server with no build number", product: "Windows Server 2019 Datacenter", build: "", arch: "amd64",
			want: Platform{OS: "windows", Arch: "amd64",
				Distro:        Distro{ID: "windows", IDLike: []string{}, Name: "Windows Server 2019 Datacenter", PrettyName: "Windows Server 2019 Datacenter"},
				PackageFormat: "exe", PackageManager: "installer", InitSystem: "windows", PlatformFolder: "windows_amd64", Support: Compatible,
				Reason: "could not read the build number of Windows Server 2019 Datacenter; AWS supports Windows Server 2012 (build 9200) and later"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := windowsPlatform(tt.product, tt.build, tt.arch)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("windowsPlatform mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
