package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/hybrid"
)

// DetectOptions are the inputs of `ssm-setup detect`.
type DetectOptions struct {
	Arch string
}

func newDetectCmd(f *Factory) *cobra.Command {
	opts := &DetectOptions{}
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Report the platform and which agent build fits it",
		Long: `Detect the operating system, distro and version, architecture, package format and
manager, init system and kernel, the bucket folder of the agent build that fits, how well
AWS supports the platform, and whether the agent is installed already.

detect is a report: it exits 0 even on an unsupported platform (other commands exit 3
there). With --root it reads only that filesystem root, never the running host.`,
		Example: `  ssm-setup detect
  ssm-setup detect --output json
  ssm-setup detect --root /mnt/image --arch aarch64 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Arch != "" {
				if _, err := distro.NormalizeArch(opts.Arch); err != nil {
					return err
				}
			}
			p, err := f.Platform(cmd.Context(), opts.Arch)
			if err != nil {
				return err
			}
			out := detectOutput{Platform: p, EC2: f.EC2(cmd.Context())}
			f.warnNoInstanceProfile(out.EC2)
			return f.Print(out, func(t *textPrinter) {
				printPlatform(t, p)
				if out.EC2 != nil {
					t.Field("ec2", fmt.Sprintf("%s in %s, instance profile %s", out.EC2.InstanceID, out.EC2.Region, orNone(out.EC2.InstanceProfile)))
				} else if f.Root().IsHost() {
					t.Field("ec2", "no (instance metadata not reachable)")
				} else {
					t.Field("ec2", "not checked (--root is not this machine)")
				}
			})
		},
	}
	cmd.Flags().StringVar(&opts.Arch, "arch", "", "architecture to report instead of the detected one (amd64, arm64, 386, arm; uname spellings accepted)")
	return cmd
}

// detectOutput is detect's JSON: the platform, plus ec2 (null off EC2).
type detectOutput struct {
	distro.Platform
	EC2 *hybrid.EC2Instance `json:"ec2"`
}

// warnNoInstanceProfile warns on an EC2 instance without an instance profile: the agent
// then has no identity unless Default Host Management Configuration is on.
func (f *Factory) warnNoInstanceProfile(inst *hybrid.EC2Instance) {
	if inst != nil && inst.InstanceProfile == "" {
		f.Logger().Warn("this EC2 instance has no instance profile: the agent needs one with the AmazonSSMManagedInstanceCore policy, " +
			"or turn on Default Host Management Configuration in Systems Manager for the account and region")
	}
}

func printPlatform(t *textPrinter, p distro.Platform) {
	name := p.Distro.PrettyName
	if name == "" {
		name = p.Distro.Name
	}
	t.Field("os", p.OS)
	t.Field("distro", fmt.Sprintf("%s (id %s, version %s)", name, p.Distro.ID, p.Distro.VersionID))
	t.List("id_like", p.Distro.IDLike)
	t.Field("arch", p.Arch)
	t.Field("kernel", p.Kernel)
	t.Field("package format", p.PackageFormat)
	t.Field("package manager", p.PackageManager)
	t.Field("init system", p.InitSystem)
	t.Field("platform folder", p.PlatformFolder)
	support := p.Support
	if p.Reason != "" {
		support += " (" + p.Reason + ")"
	}
	t.Field("support", support)
	t.Field("max agent version", p.MaxAgentVersion)
	agent := "not installed"
	if p.Agent.Installed {
		agent = fmt.Sprintf("%s via %s", orDash(p.Agent.Version), p.Agent.Via)
	}
	t.Field("agent", agent)
	for _, n := range p.Notes {
		t.Field("note", n)
	}
}

func orDash(s string) string {
	if s == "" {
		return "unknown version"
	}
	return s
}
