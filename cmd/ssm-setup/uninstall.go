package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/uninstall"
)

// UninstallOptions are the inputs of `ssm-setup uninstall`.
type UninstallOptions struct {
	Purge    bool
	DryRun   bool
	Yes      bool
	LockWait time.Duration
}

func newUninstallCmd(f *Factory) *cobra.Command {
	opts := &UninstallOptions{}
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Stop and remove the agent",
		Long: `Stop and disable the agent's service, remove the package with the tool that installed
it, and remove the files ssm-setup itself wrote (proxy drop-ins). With --purge also remove
the agent's configuration (/etc/amazon/ssm/amazon-ssm-agent.json, seelog.xml), its state
(/var/lib/amazon/ssm, which holds a hybrid registration: run 'ssm-setup deregister'
first) and its logs (/var/log/amazon/ssm).

uninstall never removes the ssm-user account, its home or /etc/sudoers.d/ssm-agent-users,
as AWS's own uninstall does not: they are listed with the commands that would remove
them. Uninstalling does not deregister a hybrid node. Every step that fails is reported,
not only the first. When the agent is not installed, nothing changes (exit 0).`,
		Example: `  sudo ssm-setup uninstall --dry-run
  sudo ssm-setup uninstall
  sudo ssm-setup uninstall --purge --yes --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUninstall(cmd.Context(), f, opts) },
	}
	cmd.Flags().BoolVar(&opts.Purge, "purge", false, "also remove the agent's configuration, state (registration) and logs")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the steps and change nothing")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().DurationVar(&opts.LockWait, "lock-wait", 0, "how long to wait for another ssm-setup run to finish")
	return cmd
}

func runUninstall(ctx context.Context, f *Factory, opts *UninstallOptions) error {
	p, err := f.Platform(ctx, "")
	if err != nil {
		return err
	}
	if !opts.DryRun {
		if err := f.requireRoot("uninstall"); err != nil {
			return err
		}
		l, err := f.lock(ctx, opts.LockWait)
		if err != nil {
			return err
		}
		defer l.Release()
	}
	plan, err := uninstall.MakePlan(ctx, uninstall.Options{Root: f.Root(), Runner: f.Runner, Logger: f.Logger(), Platform: p, Purge: opts.Purge, DryRun: opts.DryRun, Now: f.Now})
	if err != nil {
		return err
	}
	if plan.Registration != "" {
		f.Logger().Warn(fmt.Sprintf("--purge deletes the hybrid registration of %s: the node can no longer be managed, and it stays listed in Systems Manager until deregistered", plan.Registration),
			"hint", "run 'ssm-setup deregister' first")
		if !opts.DryRun && !opts.Yes && !f.confirm("Purge the registration of "+plan.Registration+"?") {
			return fail.Usagef("uninstall cancelled")
		}
	}
	var res uninstall.Result
	if opts.DryRun {
		res = plan.DryRun()
	} else {
		res, err = plan.Apply(ctx)
	}
	for _, l := range res.LeftInPlace {
		f.Logger().Info(fmt.Sprintf("left in place on purpose: %s (%s); remove it with: %s", l.What, l.Path, l.RemoveWith))
	}
	if err != nil {
		return withResult(err, res)
	}
	return f.Print(res, func(t *textPrinter) {
		switch {
		case res.DryRun && len(res.Done) == 0:
			t.Linef("nothing to do: the agent is not installed and ssm-setup left no files")
		case res.DryRun:
			t.Linef("plan (dry run, nothing changed):")
			for i, s := range res.Done {
				t.Linef("  %d. %s: %s%s", i+1, s.Action, s.Command, s.Path)
			}
		case !res.Changed:
			t.Linef("the agent is not installed; nothing changed")
		default:
			t.Linef("agent %s removed with %s", res.VersionRemoved, res.PackageManager)
		}
		if len(res.LeftInPlace) > 0 {
			t.Linef("left in place on purpose (AWS's uninstall keeps them too):")
			for _, l := range res.LeftInPlace {
				t.Linef("  %s: remove with '%s'", l.What, l.RemoveWith)
			}
		}
	})
}
