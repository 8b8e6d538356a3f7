package hybrid

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// RegisterOptions are the inputs of Register.
type RegisterOptions struct {
	Root   sysroot.Root
	Runner run.Runner
	Logger *slog.Logger
	// ActivationID, Code and Region name the activation. Code is a secret: it is only
	// ever passed to the agent binary, masked in every error and log line.
	ActivationID string
	Code         string
	Region       string
	// Force re-registers a node that is already registered.
	Force bool
	// AllowOnEC2 allows a hybrid registration on an EC2 instance (EC2 non-nil).
	AllowOnEC2 bool
	// EC2 is the detected EC2 instance, nil when this machine is not one.
	EC2 *EC2Instance
	// AgentBinary is the agent program; empty means AgentBinary (see AgentBinaryFor).
	AgentBinary string
	// Env holds extra NAME=value entries for the agent's -register run: the proxy
	// settings of the agent's service, without which registering cannot reach AWS on a
	// network that needs the proxy. Values holding user info (proxy passwords) are
	// masked in errors like the code.
	Env []string
	// Service manages the agent's service; nil means no service is stopped or started
	// (an image root where nothing runs).
	Service service.Manager
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DryRun checks the inputs and returns the plan without changing anything.
	DryRun bool
}

// RegisterResult is what Register did.
type RegisterResult struct {
	// Changed is false when the node was already registered in the region.
	Changed           bool   `json:"changed"`
	ManagedInstanceID string `json:"managed_instance_id"`
	// PreviousID is the registration this one replaced (--force), if any.
	PreviousID   string `json:"previous_id,omitempty"`
	Region       string `json:"region"`
	ActivationID string `json:"activation_id"`
	DryRun       bool   `json:"dry_run,omitempty"`
	// Plan lists the steps of a dry run, commands with the code masked.
	Plan []string `json:"plan,omitempty"`
}

// defaults fills in the optional fields.
func (o *RegisterOptions) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.AgentBinary == "" {
		o.AgentBinary = AgentBinary
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// validate checks the inputs before anything is touched.
func (o *RegisterOptions) validate() error {
	if err := ValidateActivationID(o.ActivationID); err != nil {
		return err
	}
	if err := release.ValidateRegion(o.Region); err != nil {
		return err
	}
	if o.Code == "" {
		return fail.WithHint(fail.Usagef("activation code required"), codeSourcesHint)
	}
	if o.Runner == nil {
		return fail.New(fail.Unexpected, "register: no command runner")
	}
	if o.EC2 != nil && !o.AllowOnEC2 {
		return fail.WithHint(fail.Usagef("this machine is the EC2 instance %s in %s: it gets its identity from instance metadata and needs no activation", o.EC2.InstanceID, o.EC2.Region),
			"give the instance a profile with AmazonSSMManagedInstanceCore (or enable Default Host Management); pass --allow-on-ec2 to register it as a hybrid node anyway")
	}
	return nil
}

// registerCmd is the agent's registration command. The code is its first secret; proxy
// URLs with user info in Env are secrets too.
func (o *RegisterOptions) registerCmd() run.Cmd {
	secrets := []string{o.Code}
	for _, kv := range o.Env {
		if _, v, _ := strings.Cut(kv, "="); strings.Contains(v, "@") {
			secrets = append(secrets, v)
		}
	}
	return run.Cmd{
		Name:    o.AgentBinary,
		Args:    []string{"-register", "-y", "-code", o.Code, "-id", o.ActivationID, "-region", o.Region},
		Env:     o.Env,
		Secrets: secrets,
	}
}

// Register registers this node with a hybrid activation.
//
// The order is fixed, because the agent wipes the stored registration before it calls
// AWS (facts, section 5): check the inputs; stop when the node is already registered
// in the region (unless Force); copy the registration (registration file, Vault,
// runtimeconfig) to a backup under BackupBase; stop the agent; run
// "amazon-ssm-agent -register -y -code CODE -id ID -region R"; check that the agent wrote
// a mi- id for the region; start the agent; record the registration in ssm-setup's
// state. A failure at any step after the backup restores the backup exactly (what the
// agent wrote is removed, the old files come back byte for byte) and starts the agent
// again, then reports AWS's reason in plain words as a fail.Registration error.
//
// The backup is removed once the new registration is confirmed, and after a successful
// restore: it holds the old node's private key, which must not linger on disk. Only
// when a restore fails is it kept, and the error names it.
func Register(ctx context.Context, o RegisterOptions) (RegisterResult, error) {
	o.defaults()
	if err := o.validate(); err != nil {
		return RegisterResult{}, err
	}
	log := o.Logger
	res := RegisterResult{Region: o.Region, ActivationID: o.ActivationID}
	prev, registered, err := readRegistration(o.Root)
	if err != nil && fail.KindOf(err) == fail.NeedRoot {
		return RegisterResult{}, err
	}
	if err != nil && !o.Force {
		return RegisterResult{}, fail.WithHint(err, "pass --force to replace it with a new registration")
	}
	if registered {
		res.PreviousID = prev.ManagedInstanceID
		switch {
		case o.Force:
		case prev.Region == o.Region:
			log.Info(fmt.Sprintf("already registered as %s; nothing changed", prev.describe()), "hint", "pass --force to re-register")
			res.ManagedInstanceID = prev.ManagedInstanceID
			res.PreviousID = ""
			return res, nil
		default:
			return RegisterResult{}, fail.WithHint(
				fail.Usagef("this node is registered as %s: registering in %s would replace that identity", prev.describe(), o.Region),
				fmt.Sprintf("pass --force to re-register, then 'ssm-setup deregister --instance-id %s --region %s' to remove the old node", prev.ManagedInstanceID, prev.Region))
		}
	}
	if o.DryRun {
		res.DryRun, res.Plan = true, o.plan()
		return res, nil
	}
	if _, err := os.Stat(o.Root.Path(o.AgentBinary)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return RegisterResult{}, fail.WithHint(fail.New(fail.Registration, "register: the agent %s is not installed", o.AgentBinary),
				"install it first: sudo ssm-setup install --region "+o.Region)
		}
		return RegisterResult{}, fail.New(fail.Registration, "register: %w", err)
	}

	b, err := takeBackup(o.Root, o.Now())
	if err != nil {
		return RegisterResult{}, fail.New(fail.Registration, "register: %w", err)
	}
	log.Debug("backed up the registration", "dir", b.dir, "paths", b.saved)
	if err := o.stopAgent(ctx); err != nil {
		if rerr := b.remove(); rerr != nil {
			log.Warn("could not remove the registration backup", "dir", b.dir, "error", rerr)
		}
		return RegisterResult{}, err
	}
	started := false
	undo := func(cause error) (RegisterResult, error) {
		return RegisterResult{}, o.undo(ctx, b, started, cause)
	}

	cmd := o.registerCmd()
	log.Info(fmt.Sprintf("registering with activation %s in %s", o.ActivationID, o.Region))
	out, runErr := o.Runner.Run(ctx, cmd)
	if runErr != nil {
		return undo(registrationFailure(o.Region, cmd, out, runErr))
	}
	reg, ok, err := readRegistration(o.Root)
	switch {
	case err != nil:
		return undo(mask(fail.New(fail.Registration, "register: the agent reported success but its registration is unusable: %w", err), o.Code))
	case !ok:
		return undo(registrationFailure(o.Region, cmd, out, errors.New("the agent exited 0 but wrote no registration file")))
	case reg.Region != o.Region:
		return undo(fail.New(fail.Registration, "register: the agent registered %s, not in %s", reg.describe(), o.Region))
	}
	started = true
	if err := o.runAll(ctx, "start the agent", o.startCmds()); err != nil {
		return undo(fail.New(fail.Registration, "the agent did not start with the new registration %s: %w", reg.describe(), err))
	}
	if err := b.remove(); err != nil {
		log.Warn("could not remove the registration backup, which holds the old private key: remove it by hand", "dir", b.dir, "error", err)
	}
	res.Changed = true
	res.ManagedInstanceID = reg.ManagedInstanceID
	log.Info(fmt.Sprintf("registered as %s", reg.describe()))
	o.record(res)
	return res, nil
}

// plan is the dry run's list of steps.
func (o *RegisterOptions) plan() []string {
	steps := []string{fmt.Sprintf("back up %s, %s and %s to %s/backup-*", RegistrationFile, VaultDir, RuntimeConfigDir, BackupBase)}
	for _, c := range o.stopCmds() {
		steps = append(steps, "stop the agent: "+c.String())
	}
	steps = append(steps, "register: "+o.registerCmd().String(), "confirm the mi- id in "+RegistrationFile)
	for _, c := range o.startCmds() {
		steps = append(steps, "start the agent: "+c.String())
	}
	return append(steps, "record the registration in "+state.Path, "remove the backup (restore it instead on any failure)")
}

// stopCmds and startCmds are the service's commands, none without a service.
func (o *RegisterOptions) stopCmds() []run.Cmd {
	if o.Service == nil {
		return nil
	}
	return o.Service.StopCmds()
}

func (o *RegisterOptions) startCmds() []run.Cmd {
	if o.Service == nil {
		return nil
	}
	return o.Service.EnableStartCmds()
}

// stopAgent stops the service. A stop command that fails on a service that is not
// running (upstart's "stop" does) is fine; on a running service it is an error.
func (o *RegisterOptions) stopAgent(ctx context.Context) error {
	err := o.runAll(ctx, "stop the agent", o.stopCmds())
	if err == nil {
		return nil
	}
	st, serr := o.Service.State(ctx)
	if serr == nil && st.Active != service.Active && st.Active != service.Activating {
		o.Logger.Debug("stop failed on a service that is not running", "state", st.Active, "error", err)
		return nil
	}
	return fail.WithHint(err, "stop the agent by hand and re-run; the registration was not touched")
}

// runAll runs cmds in order and stops at the first failure, a fail.PackageManager error.
func (o *RegisterOptions) runAll(ctx context.Context, what string, cmds []run.Cmd) error {
	for _, c := range cmds {
		o.Logger.Debug("run", "cmd", c.String())
		if _, err := o.Runner.Run(ctx, c); err != nil {
			return fail.New(fail.PackageManager, "%s: %w", what, mask(err, o.Code))
		}
	}
	return nil
}

// undo restores the backup after a failure, starts the agent again and returns cause,
// extended when the restore itself failed.
func (o *RegisterOptions) undo(ctx context.Context, b *backup, started bool, cause error) error {
	log := o.Logger
	rerr := b.restore()
	restart := o.startCmds()
	if started && o.Service != nil {
		restart = o.Service.RestartCmds()
	}
	serr := o.runAll(ctx, "start the agent again", restart)
	if rerr != nil {
		return fail.WithHint(fail.New(fail.Registration, "%w; restoring the old registration failed too: %v", cause, rerr),
			fmt.Sprintf("the old registration is kept in %s: stop the agent, copy its var/lib/amazon/ssm/ entries back to /var/lib/amazon/ssm/ and start the agent", b.dir))
	}
	if len(b.saved) > 0 {
		log.Info("restored the old registration")
	} else {
		log.Info("removed what the failed registration left behind")
	}
	if err := b.remove(); err != nil {
		log.Warn("could not remove the registration backup, which holds the old private key: remove it by hand", "dir", b.dir, "error", err)
	}
	if serr != nil {
		log.Warn("the agent did not start again after the failed registration", "error", serr)
	}
	return cause
}

// record writes the registration into ssm-setup's state; a failure only warns, since
// the node is registered either way.
func (o *RegisterOptions) record(res RegisterResult) {
	st, err := state.Load(o.Root)
	if err == nil {
		now := o.Now()
		st.Registration = &state.RegistrationRecord{ManagedInstanceID: res.ManagedInstanceID, Region: res.Region, ActivationID: res.ActivationID, RegisteredAt: now.UTC()}
		detail := fmt.Sprintf("%s in %s with activation %s", res.ManagedInstanceID, res.Region, res.ActivationID)
		if res.PreviousID != "" {
			detail += ", replacing " + res.PreviousID
		}
		st.Record(now, "register", detail)
		err = st.Save(o.Root)
	}
	if err != nil {
		o.Logger.Warn("registered, but could not record it in ssm-setup's state", "error", err)
	}
}

// reason is one cause of a failed registration, recognised in the agent's output.
type reason struct {
	markers []string // any of these, compared in lower case
	words   string
	hint    string
}

// reasons are checked in order: the specific AWS error codes before the generic words
// ("limit", "timeout") that could appear inside another reason's message.
func reasons(region string) []reason {
	return []reason{
		{[]string{"activationexpired", "has expired"}, "the activation has expired",
			"create a new activation ('ssm-setup activation create --region " + region + " ...') and register with its id and code"},
		{[]string{"invalidactivation", "activationnotfound", "invalidactivationid"}, "AWS does not know this activation id and code in " + region,
			"check that the id and code belong together, that the activation was created in " + region + " and was not deleted ('ssm-setup activation list --region " + region + "')"},
		{[]string{"registrationlimitexceeded", "limit"}, "the activation's registration limit is reached",
			"create a new activation with a higher --registration-limit, or deregister a node registered with this one"},
		{[]string{"invalidsignatureexception", "signature expired", "clock"}, "AWS rejected the request signature: this machine's clock is off",
			"set the clock (timedatectl set-ntp true, or chronyc makestep) and retry"},
		{[]string{"dial tcp", "no such host", "timeout", "connection refused"}, "the agent cannot reach the SSM endpoint of " + region,
			"check DNS, the firewall (HTTPS to ssm." + region + " on port 443) and the proxy settings"},
	}
}

// registrationFailure turns a failed "amazon-ssm-agent -register" into a
// fail.Registration error with AWS's reason in plain words. The code never appears in it.
// Only the command's error is masked, not ssm-setup's own words: a code that happens to
// be a word of them ("expired") must not garble the reason.
func registrationFailure(region string, cmd run.Cmd, out run.Output, err error) error {
	text := strings.ToLower(string(out.Stdout) + "\n" + string(out.Stderr) + "\n" + err.Error())
	for _, r := range reasons(region) {
		for _, m := range r.markers {
			if strings.Contains(text, m) {
				return fail.WithHint(fail.New(fail.Registration, "registration failed: %s: %w", r.words, mask(err, cmd.Secrets[0])), r.hint)
			}
		}
	}
	return fail.WithHint(fail.New(fail.Registration, "registration failed: %w", mask(err, cmd.Secrets[0])),
		"see the agent's log /var/log/amazon/ssm/amazon-ssm-agent.log; the old registration was restored")
}
