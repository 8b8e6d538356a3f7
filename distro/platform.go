// Package distro detects the platform ssm-setup runs on (or the image root it works on):
// OS, distro, version, architecture, package format and manager, init system, the
// bucket folder of the agent release that fits, how well AWS supports it, and whether
// the agent is already installed. It reads the system only through an fs.FS and a
// run.Runner, so tests and image builds can point it at another root.
package distro

// Platform is what Detect found. Its JSON form is the output of `ssm-setup detect`.
type Platform struct {
	OS              string   `json:"os"`   // linux, windows, darwin
	Arch            string   `json:"arch"` // amd64, arm64, 386, arm
	Distro          Distro   `json:"distro"`
	PackageFormat   string   `json:"package_format"`  // rpm, deb, exe, pkg; empty when unsupported
	PackageManager  string   `json:"package_manager"` // dnf, yum, zypper, rpm, apt, dpkg, snap, msi, installer
	InitSystem      string   `json:"init_system"`     // systemd, upstart, sysvinit, launchd, windows, none
	PlatformFolder  string   `json:"platform_folder"` // bucket folder: linux_amd64, debian_arm, ...
	Support         string   `json:"support"`         // official, compatible, unsupported
	Reason          string   `json:"reason"`          // why compatible/unsupported; empty when official
	MaxAgentVersion string   `json:"max_agent_version"`
	Kernel          string   `json:"kernel"` // Linux kernel release, when known
	Agent           Agent    `json:"agent"`
	Notes           []string `json:"notes,omitempty"` // facts worth telling (e.g. snap and deb both present)
}

// Distro is the os-release identity of the system.
type Distro struct {
	ID         string   `json:"id"`
	IDLike     []string `json:"id_like"`
	VersionID  string   `json:"version_id"`
	Name       string   `json:"name"`
	PrettyName string   `json:"pretty_name"`
}

// Agent is what is known of an installed SSM Agent.
type Agent struct {
	Installed bool   `json:"installed"`
	Version   string `json:"version"`
	Via       string `json:"via"` // deb, rpm, snap, binary, msi, pkg
}

// Support levels.
const (
	Official    = "official"
	Compatible  = "compatible"
	Unsupported = "unsupported"
)
