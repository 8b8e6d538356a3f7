package distro

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// windowsServer2012Build is the build number of Windows Server 2012, the oldest Windows
// AWS lists for the agent (2012 R2 is 9600, 2016 14393, 2019 17763, 2022 20348, 2025 26100).
const windowsServer2012Build = 9200

// windowsAgentPath is where AmazonSSMAgentSetup.exe puts the agent, inside the system
// drive (facts file, section 3: %ProgramFiles%\Amazon\SSM).
const windowsAgentPath = "Program Files/Amazon/SSM/amazon-ssm-agent.exe"

// windowsPlatform describes a Windows system from the registry's ProductName and
// CurrentBuildNumber. AWS publishes the agent for amd64 and 386 (windows_amd64,
// windows_386) and lists Windows Server 2012 and later, which exist only for amd64.
// Client editions are compatible; ProductName is enough to tell them apart, although
// Windows 11 still calls itself "Windows 10" there.
func windowsPlatform(productName, currentBuild, arch string) Platform {
	p := Platform{
		OS:   "windows",
		Arch: arch,
		Distro: Distro{ID: "windows", IDLike: []string{}, VersionID: currentBuild,
			Name: productName, PrettyName: productName},
		PackageManager: "installer",
		InitSystem:     "windows",
	}
	if currentBuild != "" {
		p.Distro.PrettyName = fmt.Sprintf("%s (build %s)", productName, currentBuild)
	}
	name := productName
	if name == "" {
		name = "this Windows"
	}
	build := parseVersion(currentBuild)
	server := strings.Contains(productName, "Server")
	switch {
	case arch != "amd64" && arch != "386":
		p.Support, p.Reason = Unsupported, fmt.Sprintf("AWS publishes no Windows agent for %s (only amd64 and 386)", arch)
		return p
	case server && len(build) > 0 && build[0] < windowsServer2012Build:
		p.Support, p.Reason = Unsupported, fmt.Sprintf("%s (build %s) is older than Windows Server 2012, the oldest Windows AWS supports", name, currentBuild)
		return p
	case server && len(build) > 0 && arch == "amd64":
		p.Support = Official
	case server && len(build) == 0:
		p.Support, p.Reason = Compatible, fmt.Sprintf("could not read the build number of %s; AWS supports Windows Server 2012 (build 9200) and later", name)
	case server:
		p.Support, p.Reason = Compatible, fmt.Sprintf("AWS lists Windows Server 2012 and later on amd64, not on %s", arch)
	default:
		p.Support, p.Reason = Compatible, fmt.Sprintf("%s is a client edition; AWS lists Windows Server 2012 and later, but the same installer runs on client Windows", name)
	}
	p.PackageFormat = "exe"
	p.PlatformFolder = "windows_" + arch
	return p
}

// windows reads the version of the running Windows from its registry. Another root's
// registry is a hive file ssm-setup does not parse, so a Windows root that is not the
// host is an error.
func (d detection) windows(ctx context.Context, arch string) (Platform, error) {
	if !d.o.IsHost {
		return Platform{}, fail.WithHint(
			fail.New(fail.Unsupported, "cannot read the Windows version of %s: ssm-setup reads it from the registry of the Windows system it runs on", d.rootDir),
			"run ssm-setup on that Windows system, without --root")
	}
	productName, currentBuild, err := readWindowsVersion()
	if err != nil {
		return Platform{}, fail.Wrap(fail.Unexpected, fmt.Errorf("read the Windows version from the registry: %w", err))
	}
	if arch == "" {
		arch = runtime.GOARCH
	}
	p := windowsPlatform(productName, currentBuild, arch)
	if d.r.isFile(windowsAgentPath) {
		p.Agent = Agent{Installed: true, Via: "msi",
			Version: agentBinaryVersion(ctx, d.o.Runner, filepath.Join(d.rootDir, filepath.FromSlash(windowsAgentPath)), d.log)}
	}
	return p, nil
}
