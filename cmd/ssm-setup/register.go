package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ssm-setup/ssm-setup/hybrid"
	"github.com/ssm-setup/ssm-setup/installer/proxy"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// RegisterFlags are the inputs of a hybrid registration, shared by `register` and by
// `install --activation-id ...` (install, then register in one run).
type RegisterFlags struct {
	ActivationID string
	// Region is the activation's region. addFlags does not add --region: register and
	// install each have their own.
	Region     string
	CodeFile   string
	CodeStdin  bool
	AllowOnEC2 bool
	Tags       []string
	// Force re-registers a registered node (register's --force; install never forces).
	Force bool
	// DryRun checks everything and returns the plan.
	DryRun bool
	// refusedCode records that --activation-code was given; its value is never kept.
	refusedCode refusedFlag
	// code is the activation code once prepare has read it (never printed: the struct
	// is not part of any output).
	code string
}

// refusedFlag is a flag that exists only to be refused with a helpful message. It never
// fails in Set (pflag would print the value, here a secret) and never keeps the value.
type refusedFlag struct{ set bool }

func (r *refusedFlag) String() string   { return "" }
func (r *refusedFlag) Set(string) error { r.set = true; return nil }
func (r *refusedFlag) Type() string     { return "string" }

// Given reports whether any registration flag was given, i.e. whether install must
// register after installing.
func (r *RegisterFlags) Given() bool {
	return r.ActivationID != "" || r.CodeFile != "" || r.CodeStdin || r.refusedCode.set
}

// addFlags adds the registration flags to fs, except --region and --force.
func (r *RegisterFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&r.ActivationID, "activation-id", "", "the activation's id (a UUID, from 'ssm-setup activation create')")
	fs.StringVar(&r.CodeFile, "activation-code-file", "", "read the activation code from this file (keep it mode 0600)")
	fs.BoolVar(&r.CodeStdin, "activation-code-stdin", false, "read the activation code from standard input")
	fs.Var(&r.refusedCode, "activation-code", "refused: a code on the command line is visible to every user; use --activation-code-file, --activation-code-stdin or "+hybrid.ActivationCodeEnv)
	fs.BoolVar(&r.AllowOnEC2, "allow-on-ec2", false, "register even on an EC2 instance (which normally takes its identity from instance metadata)")
	fs.StringSliceVar(&r.Tags, "tags", nil, "tags to add to the managed node, KEY=VALUE[,KEY=VALUE...] (needs ssm:AddTagsToResource; skipped with a warning without it)")
}

// check refuses --activation-code and checks the flags that need no I/O.
func (r *RegisterFlags) check() error {
	if r.refusedCode.set {
		return fail.WithHint(fail.Usagef("--activation-code is refused: a command line is visible to every user of this machine (ps, /proc) and lands in shell history"),
			"pass the code with --activation-code-file FILE, --activation-code-stdin, or the environment variable "+hybrid.ActivationCodeEnv)
	}
	if r.ActivationID == "" {
		return fail.WithHint(fail.Usagef("--activation-id required"), "pass --activation-id with the id 'ssm-setup activation create' printed")
	}
	if err := hybrid.ValidateActivationID(r.ActivationID); err != nil {
		return err
	}
	// A code file is read here too, so that install refuses a missing, empty or
	// malformed file before it installs anything; registering reads it again.
	if r.CodeFile != "" {
		if _, err := hybrid.ReadActivationCode(r.CodeFile, nil, r.CodeStdin, nil); err != nil {
			return err
		}
	}
	return nil
}

// prepare checks the flags and reads the activation code from its one source, before
// anything changes: install calls it before installing, so a missing or empty code,
// bad tags or two code sources are exit 2 with the machine untouched.
func (r *RegisterFlags) prepare(f *Factory) error {
	if err := r.check(); err != nil {
		return err
	}
	if _, err := hybrid.ParseTags(r.Tags); err != nil {
		return err
	}
	code, err := hybrid.ReadActivationCode(r.CodeFile, f.IO.In, r.CodeStdin, f.Getenv)
	if err != nil {
		return err
	}
	r.code = code
	return nil
}

// RegisterOptions are the inputs of `ssm-setup register`.
type RegisterOptions struct {
	Flags    RegisterFlags
	LockWait time.Duration
}

// registerOutput is register's result: the registration and whether tags were added.
type registerOutput struct {
	hybrid.RegisterResult
	Tagged bool `json:"tagged"`
}

func newRegisterCmd(f *Factory) *cobra.Command {
	opts := &RegisterOptions{}
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Register this machine as a hybrid managed node with an activation",
		Long: `Register this machine with Systems Manager using a hybrid activation (its id and code),
so that it appears as a managed node (mi-...) in the region.

The activation code is a secret: it is read from a file (--activation-code-file), from
standard input (--activation-code-stdin) or from the environment variable
SSM_ACTIVATION_CODE, exactly one of them. --activation-code VALUE is refused, because a
command line is visible to every user. The code reaches only the agent's own command
line, the one way the agent accepts it, and is masked in every message.

A node already registered in the region is left alone (exit 0, nothing changed) unless
--force. Registering wipes the agent's identity before AWS is asked, so ssm-setup first
backs up /var/lib/amazon/ssm/registration, Vault and runtimeconfig (under
/var/lib/ssm-setup, mode 0700), stops the agent, registers, checks the new mi- id and
starts the agent. On any failure the old registration is put back exactly, the agent
is started again and the reason is given in plain words (expired or unknown activation,
registration limit, clock skew, no network), exit 7. The backup is deleted afterwards:
it holds the node's private key.

On an EC2 instance registration is refused unless --allow-on-ec2: instances take their
identity from instance metadata. The registration is recorded in
/var/lib/ssm-setup/state.json.`,
		Example: `  sudo ssm-setup register --activation-id 4f1e8c2a-1b2c-4d5e-8f90-123456789abc --region us-east-1 --activation-code-file /root/code
  echo "$CODE" | sudo ssm-setup register --activation-id ID --region eu-west-1 --activation-code-stdin
  sudo SSM_ACTIVATION_CODE="$CODE" ssm-setup register --activation-id ID --region us-east-1 --tags Env=prod,Team=ops
  sudo ssm-setup register --activation-id ID --region us-east-1 --activation-code-file code --force --output json
  ssm-setup register --activation-id ID --region us-east-1 --activation-code-file code --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Flags.prepare(f); err != nil {
				return err
			}
			return runRegister(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	opts.Flags.addFlags(fl)
	fl.StringVar(&opts.Flags.Region, "region", "", "the activation's region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, or instance metadata)")
	fl.BoolVar(&opts.Flags.Force, "force", false, "re-register a node that is already registered")
	fl.BoolVar(&opts.Flags.DryRun, "dry-run", false, "check the inputs and print the plan; change nothing")
	fl.DurationVar(&opts.LockWait, "lock-wait", 0, "how long to wait for another ssm-setup run to finish")
	return cmd
}

func runRegister(ctx context.Context, f *Factory, opts *RegisterOptions) error {
	if !opts.Flags.DryRun {
		if err := f.requireRoot("register"); err != nil {
			return err
		}
		l, err := f.lock(ctx, opts.LockWait)
		if err != nil {
			return err
		}
		defer l.Release()
	}
	res, err := registerAfterInstall(ctx, f, opts.Flags)
	if err != nil {
		return err
	}
	return f.Print(res, func(t *textPrinter) { printRegister(t, res) })
}

// registerAfterInstall registers this machine with the flags o: it reads the code,
// detects the service and EC2, registers and tags. The caller has checked root and
// holds the lock (install does both before installing). The returned value is the
// registration result with Tagged; install may embed it in its own output.
func registerAfterInstall(ctx context.Context, f *Factory, o RegisterFlags) (registerOutput, error) {
	if err := o.check(); err != nil {
		return registerOutput{}, err
	}
	tags, err := hybrid.ParseTags(o.Tags)
	if err != nil {
		return registerOutput{}, err
	}
	region, err := f.resolveRegion(ctx, o.Region)
	if err != nil {
		return registerOutput{}, err
	}
	code := o.code
	if code == "" {
		if code, err = hybrid.ReadActivationCode(o.CodeFile, f.IO.In, o.CodeStdin, f.Getenv); err != nil {
			return registerOutput{}, err
		}
	}
	if !f.Root().IsHost() && !o.DryRun {
		return registerOutput{}, fail.WithHint(fail.Usagef("register works on the running machine only, not on --root %s: the agent registers the machine it runs on", f.Root().Dir()),
			"register when the image has booted, e.g. from cloud-init or first-boot scripts")
	}
	binary, svc := f.agentService(ctx)
	var env []string
	if !o.DryRun {
		env = f.agentProxyEnv(ctx)
	}
	res, err := hybrid.Register(ctx, hybrid.RegisterOptions{
		Root: f.Root(), Runner: f.Runner, Logger: f.Logger(),
		ActivationID: o.ActivationID, Code: code, Region: region,
		Force: o.Force, AllowOnEC2: o.AllowOnEC2, EC2: f.EC2(ctx),
		AgentBinary: binary, Service: svc, Env: env, Now: f.Now, DryRun: o.DryRun,
	})
	out := registerOutput{RegisterResult: res}
	if err != nil {
		return out, err
	}
	if o.DryRun && len(tags) > 0 {
		out.Plan = append(out.Plan, fmt.Sprintf("tag the node with %d tag(s) (AddTagsToResource)", len(tags)))
	}
	if !o.DryRun && res.ManagedInstanceID != "" && len(tags) > 0 {
		out.Tagged, err = hybrid.TagManagedInstance(ctx, region, res.ManagedInstanceID, tags, f.Logger())
		if err != nil {
			f.Logger().Warn(fmt.Sprintf("registered as %s, but the tags were not added: %v", res.ManagedInstanceID, err))
		}
	}
	return out, nil
}

// agentProxyEnv is the proxy settings ssm-setup wrote for the agent's service, as
// environment entries for the agent's -register run: that run calls AWS outside the
// service, and without the proxy it fails on networks that only let the proxy out. On
// an error it warns and returns none.
func (f *Factory) agentProxyEnv(ctx context.Context) []string {
	po, err := proxyOptions(ctx, f)
	if err != nil {
		return nil
	}
	env, err := proxy.Environ(po)
	if err != nil {
		f.Logger().Warn("the agent registers without the proxy settings: they cannot be read", "error", err)
		return nil
	}
	return env
}

// agentService finds the agent binary and its service manager on the root. It asks the
// file system rather than the detected platform, because install may have just put the
// agent there. The manager is nil when the init system is not one ssm-setup manages
// (then the service is left alone, with a warning).
func (f *Factory) agentService(ctx context.Context) (string, service.Manager) {
	binary := hybrid.AgentBinary
	snap := false
	if _, err := os.Stat(f.Root().Path(hybrid.AgentBinary)); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(f.Root().Path(hybrid.SnapAgentBinary)); err == nil {
			binary, snap = hybrid.SnapAgentBinary, true
		}
	}
	p, err := f.Platform(ctx, "")
	if err != nil {
		f.Logger().Warn("platform not detected; the agent service will not be stopped or started", "error", err)
		return binary, nil
	}
	if p.Agent.Via == "snap" {
		binary, snap = hybrid.SnapAgentBinary, true
	}
	svc, err := service.New(p.InitSystem, snap, f.Runner)
	if err != nil {
		f.Logger().Warn("the agent service will not be stopped or started", "error", err)
		return binary, nil
	}
	return binary, svc
}

func printRegister(t *textPrinter, r registerOutput) {
	switch {
	case r.DryRun:
		t.Linef("plan (dry run, nothing changed): register with activation %s in %s", r.ActivationID, r.Region)
		for i, s := range r.Plan {
			t.Linef("  %d. %s", i+1, s)
		}
	case !r.Changed:
		t.Linef("already registered as %s in %s; nothing changed (pass --force to re-register)", r.ManagedInstanceID, r.Region)
	case r.PreviousID != "":
		t.Linef("re-registered as %s in %s (was %s)", r.ManagedInstanceID, r.Region, r.PreviousID)
		t.Linef("the old node stays listed until deregistered: ssm-setup deregister --instance-id %s --region REGION --keep-local", r.PreviousID)
	default:
		t.Linef("registered as %s in %s", r.ManagedInstanceID, r.Region)
	}
	if r.Tagged {
		t.Field("tags", "added")
	}
}
