package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/hybrid"
	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// StatusOptions are the inputs of `ssm-setup status`.
type StatusOptions struct {
	Release ReleaseFlags
	Timeout time.Duration
}

type statusResult struct {
	Installed       bool                `json:"installed"`
	Version         string              `json:"version"`
	Via             string              `json:"via"`
	Service         serviceStatus       `json:"service"`
	Latest          string              `json:"latest"`
	UpdateAvailable bool                `json:"update_available"`
	State           *stateSummary       `json:"state"`
	Proxy           *state.ProxyRecord  `json:"proxy"`
	Registration    hybrid.Registration `json:"registration"`
	EC2             *hybrid.EC2Instance `json:"ec2"`
	// Notes say what status could not see (e.g. the state file without root).
	Notes []string `json:"notes"`
}

type serviceStatus struct {
	State         string `json:"state"` // active, inactive, failed, activating, unknown, not-installed
	Enabled       bool   `json:"enabled"`
	MainPID       int    `json:"main_pid"`
	Since         string `json:"since,omitempty"`
	UptimeSeconds int64  `json:"uptime_seconds"`
}

type stateSummary struct {
	Version        string    `json:"version"`
	PackageManager string    `json:"package_manager"`
	Source         string    `json:"source"`
	InstalledAt    time.Time `json:"installed_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	LastAction     string    `json:"last_action"`
}

func newStatusCmd(f *Factory) *cobra.Command {
	opts := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the installed agent, its service and whether an update is available",
		Long: `Show whether the agent is installed, its version and how (deb, rpm, snap), the
service state and how long it has been up, the latest version the source offers (looked
up with a short timeout; "unknown" offline), whether an update is available, and what
ssm-setup recorded when it installed the agent. status works without root and shows what
it can see.`,
		Example: `  ssm-setup status
  ssm-setup status --output json --region us-east-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd.Context(), f, opts) },
	}
	opts.Release.addSource(cmd.Flags())
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 3*time.Second, "how long to look for the latest version")
	return cmd
}

func runStatus(ctx context.Context, f *Factory, opts *StatusOptions) error {
	p, err := f.Platform(ctx, "")
	if err != nil {
		return err
	}
	res := statusResult{Installed: p.Agent.Installed, Version: p.Agent.Version, Via: p.Agent.Via, Service: serviceStatus{State: "not-installed"}, Latest: "unknown"}
	if p.Agent.Installed && f.Root().IsHost() {
		res.Service.State = "unknown"
		if svc, err := service.New(p.InitSystem, p.Agent.Via == "snap", f.Runner); err == nil {
			if s, err := svc.State(ctx); err == nil {
				res.Service = serviceStatus{State: s.Active, Enabled: s.Enabled, MainPID: s.MainPID}
				if !s.Since.IsZero() && s.Active == "active" {
					res.Service.Since = s.Since.UTC().Format(time.RFC3339)
					res.Service.UptimeSeconds = int64(f.Now().Sub(s.Since).Seconds())
				}
			}
		}
	}
	res.Notes = []string{}
	st, err := state.Load(f.Root())
	if fail.KindOf(err) == fail.NeedRoot {
		res.Notes = append(res.Notes, "ssm-setup's state file is readable by root only: run status as root to see what ssm-setup recorded and the proxy settings")
	} else if err != nil {
		res.Notes = append(res.Notes, err.Error())
	}
	if err == nil {
		res.Proxy = st.Proxy // masked when it was recorded
		if st.Agent != nil {
			res.State = &stateSummary{Version: st.Agent.Version, PackageManager: st.Agent.PackageManager, Source: st.Agent.Source, InstalledAt: st.Agent.InstalledAt, UpdatedAt: st.Agent.UpdatedAt}
			if n := len(st.History); n > 0 {
				res.State.LastAction = st.History[n-1].Action + ": " + st.History[n-1].Detail
			}
		}
	}
	res.EC2 = f.EC2(ctx)
	f.warnNoInstanceProfile(res.EC2)
	res.Registration = hybrid.RegistrationStatus(f.Root(), res.EC2)
	res.Latest = f.latestVersion(ctx, &opts.Release, p.PlatformFolder, p.MaxAgentVersion, opts.Timeout)
	if res.Latest != "unknown" && res.Installed && res.Version != "" {
		res.UpdateAvailable = versionLess(res.Version, res.Latest)
	}
	return f.Print(res, func(t *textPrinter) {
		if !res.Installed {
			t.Field("agent", "not installed")
		} else {
			t.Field("agent", res.Version+" via "+res.Via)
		}
		svc := res.Service.State
		if res.Service.UptimeSeconds > 0 {
			svc += ", up " + (time.Duration(res.Service.UptimeSeconds) * time.Second).String()
		}
		if res.Installed && !res.Service.Enabled && res.Service.State != "unknown" {
			svc += ", not enabled at boot"
		}
		t.Field("service", svc)
		t.Field("latest", res.Latest)
		if res.UpdateAvailable {
			t.Field("update", "available: run 'sudo ssm-setup install'")
		}
		if res.Proxy != nil {
			t.Field("proxy", "https "+orNone(res.Proxy.HTTPSProxy)+", http "+orNone(res.Proxy.HTTPProxy))
		}
		switch {
		case res.Registration.Type == hybrid.TypeHybrid:
			t.Field("registration", "hybrid "+res.Registration.ManagedInstanceID+" in "+res.Registration.Region)
		case res.EC2 != nil:
			t.Field("registration", "ec2 "+res.EC2.InstanceID+" in "+res.EC2.Region)
		default:
			t.Field("registration", "none")
		}
		if res.State != nil {
			t.Field("installed by", "ssm-setup "+res.State.InstalledAt.Format(time.RFC3339)+" with "+res.State.PackageManager+" from "+res.State.Source)
		}
		for _, n := range res.Notes {
			t.Field("note", n)
		}
	})
}

// latestVersion looks up the newest version within timeout; "unknown" when it cannot.
func (f *Factory) latestVersion(ctx context.Context, r *ReleaseFlags, folder, ceiling string, timeout time.Duration) string {
	if folder == "" {
		return "unknown"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	src, _, err := f.source(ctx, r)
	if err != nil {
		f.Logger().Debug("no release source for the latest version", "error", err)
		return "unknown"
	}
	resolved, err := release.Resolve(ctx, src, "latest", folder, ceiling)
	if err != nil {
		f.Logger().Debug("latest version unknown", "error", err)
		return "unknown"
	}
	return resolved.Version.String()
}
