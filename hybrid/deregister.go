package hybrid

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// DeregisterOptions are the inputs of Deregister.
type DeregisterOptions struct {
	Root   sysroot.Root
	Runner run.Runner
	Logger *slog.Logger
	// InstanceID is the node to deregister; empty means this node (the registration file).
	InstanceID string
	// Region is the node's region; empty means the region of this node's registration.
	Region string
	// KeepLocal deregisters in AWS only and leaves this node's files and agent alone.
	KeepLocal bool
	// Service manages the agent's service; nil means no service is stopped.
	Service service.Manager
	// AgentBinary is the agent program; empty means AgentBinary.
	AgentBinary string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DryRun checks the inputs and returns the plan without changing anything.
	DryRun bool
}

// DeregisterResult is what Deregister did.
type DeregisterResult struct {
	ManagedInstanceID string `json:"managed_instance_id"`
	Region            string `json:"region"`
	// AlreadyDeregistered is true when AWS no longer knew this node's registration.
	AlreadyDeregistered bool `json:"already_deregistered"`
	// LocalCleared is true when this node's registration files were removed.
	LocalCleared bool     `json:"local_cleared"`
	DryRun       bool     `json:"dry_run,omitempty"`
	Plan         []string `json:"plan,omitempty"`
}

// Deregister removes a managed node from Systems Manager (DeregisterManagedInstance)
// and then, when the node is this machine and KeepLocal is false, stops the agent and
// clears the local registration: "amazon-ssm-agent -clear", or removing the files
// when the agent binary is gone. Another node's id (InstanceID differing from this
// machine's registration) only deregisters in AWS.
//
// When this machine's own registration (id and region from the registration file) is
// unknown to AWS, the node was deregistered already: that is a warning, and the local
// registration is still cleared.
func Deregister(ctx context.Context, o DeregisterOptions) (DeregisterResult, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.AgentBinary == "" {
		o.AgentBinary = AgentBinary
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	local, registered, lerr := readRegistration(o.Root)
	if lerr != nil && o.InstanceID == "" {
		return DeregisterResult{}, fail.WithHint(lerr, "pass --instance-id mi-... and --region to deregister the node in AWS")
	}
	id := o.InstanceID
	if id == "" {
		if !registered {
			return DeregisterResult{}, fail.WithHint(fail.Usagef("this machine is not registered as a hybrid node (no %s)", o.Root.Path(RegistrationFile)),
				"pass --instance-id mi-... --region REGION to deregister another node")
		}
		id = local.ManagedInstanceID
	}
	if err := ValidateManagedInstanceID(id); err != nil {
		return DeregisterResult{}, err
	}
	isLocal := registered && local.ManagedInstanceID == id
	region := o.Region
	if region == "" {
		if !isLocal {
			return DeregisterResult{}, fail.WithHint(fail.Usagef("region of %s required: it is not this machine's registration", id), "pass --region REGION")
		}
		region = local.Region
	}
	if err := release.ValidateRegion(region); err != nil {
		return DeregisterResult{}, err
	}
	if o.InstanceID != "" && registered && !isLocal {
		log.Info(fmt.Sprintf("%s is not this machine (%s): its local registration is kept", id, local.ManagedInstanceID))
	}
	clearLocal := isLocal && !o.KeepLocal
	res := DeregisterResult{ManagedInstanceID: id, Region: region, DryRun: o.DryRun}
	if o.DryRun {
		res.Plan = o.plan(id, region, clearLocal)
		return res, nil
	}

	if err := deregisterManagedInstance(ctx, region, id); err != nil {
		var apiErr smithy.APIError
		if !(isLocal && region == local.Region && errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidInstanceId") {
			return DeregisterResult{}, apiError("deregister "+id, region, []string{"ssm:DeregisterManagedInstance"}, err)
		}
		log.Warn(fmt.Sprintf("AWS does not know %s in %s: it was deregistered already", id, region))
		res.AlreadyDeregistered = true
	} else {
		log.Info(fmt.Sprintf("deregistered %s in %s", id, region))
	}
	if clearLocal {
		if err := o.clearLocal(ctx); err != nil {
			return res, err
		}
		res.LocalCleared = true
		log.Info("cleared the local registration and stopped the agent")
	}
	o.record(id, region)
	return res, nil
}

// plan is the dry run's list of steps.
func (o *DeregisterOptions) plan(id, region string, clearLocal bool) []string {
	steps := []string{fmt.Sprintf("deregister %s in %s (DeregisterManagedInstance)", id, region)}
	if !clearLocal {
		return steps
	}
	for _, c := range o.stopCmds() {
		steps = append(steps, "stop the agent: "+c.String())
	}
	return append(steps, "clear the local registration: "+o.clearCmd().String(), "record the deregistration in "+state.Path)
}

func (o *DeregisterOptions) stopCmds() []run.Cmd {
	if o.Service == nil {
		return nil
	}
	return o.Service.StopCmds()
}

func (o *DeregisterOptions) clearCmd() run.Cmd {
	return run.Cmd{Name: o.AgentBinary, Args: []string{"-clear"}}
}

// clearLocal stops the agent and removes the local registration: with the agent's own
// -clear when the binary is there, and by removing the files in any case, so that a
// missing or failing binary still leaves no registration behind.
func (o *DeregisterOptions) clearLocal(ctx context.Context) error {
	for _, c := range o.stopCmds() {
		if _, err := o.Runner.Run(ctx, c); err != nil {
			st, serr := o.Service.State(ctx)
			if serr != nil || st.Active == service.Active || st.Active == service.Activating {
				return fail.WithHint(fail.New(fail.PackageManager, "deregistered in AWS, but could not stop the agent: %w", err),
					"stop the agent and re-run with the same flags to clear the local registration")
			}
		}
	}
	if _, err := os.Stat(o.Root.Path(o.AgentBinary)); err == nil {
		if _, err := o.Runner.Run(ctx, o.clearCmd()); err != nil {
			o.Logger.Warn("the agent could not clear its registration; removing the files", "error", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		o.Logger.Warn("agent binary not usable; removing the registration files", "error", err)
	}
	var errs []error
	for _, p := range registrationPaths {
		if err := os.RemoveAll(o.Root.Path(p)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fail.New(fail.Registration, "deregistered in AWS, but could not remove the local registration: %w", err)
	}
	return nil
}

// record forgets the registration in ssm-setup's state when it was id, and notes the
// deregistration in the history. A failure only warns.
func (o *DeregisterOptions) record(id, region string) {
	st, err := state.Load(o.Root)
	if err == nil {
		if st.Registration != nil && st.Registration.ManagedInstanceID == id {
			st.Registration = nil
		}
		st.Record(o.Now(), "deregister", fmt.Sprintf("%s in %s", id, region))
		err = st.Save(o.Root)
	}
	if err != nil {
		o.Logger.Warn("deregistered, but could not record it in ssm-setup's state", "error", err)
	}
}
