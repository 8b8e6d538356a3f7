package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/hybrid"
	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// DeregisterOptions are the inputs of `ssm-setup deregister`.
type DeregisterOptions struct {
	InstanceID string
	Region     string
	KeepLocal  bool
	DryRun     bool
	Yes        bool
	LockWait   time.Duration
}

func newDeregisterCmd(f *Factory) *cobra.Command {
	opts := &DeregisterOptions{}
	cmd := &cobra.Command{
		Use:   "deregister",
		Short: "Deregister a hybrid managed node",
		Long: `Remove a hybrid managed node (mi-...) from Systems Manager (DeregisterManagedInstance;
your credentials need ssm:DeregisterManagedInstance), then stop the agent and clear this
machine's registration ('amazon-ssm-agent -clear', or removing the files when the agent
is gone). Uninstalling the agent does not deregister a node; this does.

Without --instance-id the node is this machine, read from
/var/lib/amazon/ssm/registration with its region. With --instance-id of another node,
only that node is deregistered and this machine is left alone; --keep-local also leaves
this machine's registration and agent alone. When AWS no longer knows this machine's
node, the local registration is still cleared (exit 0, with a warning).`,
		Example: `  sudo ssm-setup deregister
  sudo ssm-setup deregister --dry-run
  ssm-setup deregister --instance-id mi-0123456789abcdef0 --region us-east-1 --keep-local
  sudo ssm-setup deregister --yes --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.InstanceID != "" {
				if err := hybrid.ValidateManagedInstanceID(opts.InstanceID); err != nil {
					return err
				}
			}
			if opts.Region != "" {
				if err := release.ValidateRegion(opts.Region); err != nil {
					return err
				}
			}
			return runDeregister(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.InstanceID, "instance-id", "", "the node to deregister, mi-... (default: this machine)")
	fl.StringVar(&opts.Region, "region", "", "the node's region (default: this machine's registration)")
	fl.BoolVar(&opts.KeepLocal, "keep-local", false, "deregister in AWS only; leave this machine's registration and agent alone")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the steps and change nothing")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	fl.DurationVar(&opts.LockWait, "lock-wait", 0, "how long to wait for another ssm-setup run to finish")
	return cmd
}

func runDeregister(ctx context.Context, f *Factory, opts *DeregisterOptions) error {
	if !opts.DryRun && !opts.KeepLocal {
		if err := f.requireRoot("deregister"); err != nil {
			return err
		}
		l, err := f.lock(ctx, opts.LockWait)
		if err != nil {
			return err
		}
		defer l.Release()
	}
	// --keep-local leaves this machine's agent alone: no service to look for.
	binary, svc := hybrid.AgentBinary, service.Manager(nil)
	if !opts.KeepLocal {
		binary, svc = f.agentService(ctx)
	}
	do := hybrid.DeregisterOptions{
		Root: f.Root(), Runner: f.Runner, Logger: f.Logger(),
		InstanceID: opts.InstanceID, Region: opts.Region, KeepLocal: opts.KeepLocal,
		Service: svc, AgentBinary: binary, Now: f.Now,
	}
	// Check the inputs and show the plan before anything changes.
	plan := do
	plan.DryRun = true
	res, err := hybrid.Deregister(ctx, plan)
	if err != nil {
		return err
	}
	if !opts.DryRun {
		if !opts.Yes && !f.confirm("Deregister "+res.ManagedInstanceID+" in "+res.Region+"? It can no longer be managed until registered again.") {
			return fail.Usagef("deregister cancelled")
		}
		if res, err = hybrid.Deregister(ctx, do); err != nil {
			return err
		}
	}
	return f.Print(res, func(t *textPrinter) {
		switch {
		case res.DryRun:
			t.Linef("plan (dry run, nothing changed):")
			for i, s := range res.Plan {
				t.Linef("  %d. %s", i+1, s)
			}
		case res.AlreadyDeregistered:
			t.Linef("%s in %s was deregistered already", res.ManagedInstanceID, res.Region)
		default:
			t.Linef("deregistered %s in %s", res.ManagedInstanceID, res.Region)
		}
		if res.LocalCleared {
			t.Linef("cleared this machine's registration and stopped the agent")
		}
	})
}
