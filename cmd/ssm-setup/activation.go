package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/hybrid"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

func newActivationCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "activation",
		Short: "Create, list and delete hybrid activations",
		Long: `Manage the hybrid activations of a region through the SSM API, with your AWS
credentials (the standard chain: environment, AWS_PROFILE, ~/.aws, SSO, instance role).
An activation lets machines outside EC2 register with Systems Manager ('ssm-setup
register'); its code is shown once, when it is created.`,
		Example: `  ssm-setup activation create --iam-role SSMServiceRole --region us-east-1 --code-file ./code
  ssm-setup activation list --region us-east-1
  ssm-setup activation delete 4f1e8c2a-1b2c-4d5e-8f90-123456789abc --region us-east-1`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newActivationCreateCmd(f), newActivationListCmd(f), newActivationDeleteCmd(f))
	return cmd
}

// ActivationCreateOptions are the inputs of `ssm-setup activation create`.
type ActivationCreateOptions struct {
	IAMRole           string
	Region            string
	RegistrationLimit int
	Expires           string
	InstanceName      string
	Description       string
	Tags              []string
	CodeFile          string
	ShowCode          bool
}

// activationCreated is the result of `activation create`. The code appears only with
// --show-code.
type activationCreated struct {
	ActivationID      string    `json:"activation_id"`
	ActivationCode    string    `json:"activation_code,omitempty"`
	Region            string    `json:"region"`
	Expires           time.Time `json:"expires"`
	IAMRole           string    `json:"iam_role"`
	RegistrationLimit int       `json:"registration_limit"`
	CodeFile          string    `json:"code_file,omitempty"`
}

func newActivationCreateCmd(f *Factory) *cobra.Command {
	opts := &ActivationCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a hybrid activation and save its code",
		Long: `Create a hybrid activation (CreateActivation) for the IAM service role --iam-role,
which must trust ssm.amazonaws.com; your credentials need ssm:CreateActivation and
iam:PassRole on it. Up to --registration-limit machines (1-1000, default 1) may register
with it until it expires (--expires: a duration such as 24h or 7d, or an RFC 3339 time;
at most 30 days ahead; default 24h). Limits are checked before AWS is asked.

AWS shows the activation code once. It is written to --code-file (created with mode
0600; an existing file is never overwritten, so a code is never lost) or, only with
--show-code, printed on stdout. With neither, nothing is created: the code would be lost.
The activation id is always printed.`,
		Example: `  ssm-setup activation create --iam-role SSMServiceRole --region us-east-1 --code-file ./code
  ssm-setup activation create --iam-role service-role/AmazonEC2RunCommandRoleForManagedInstances \
      --region eu-west-1 --registration-limit 20 --expires 7d --instance-name web --tag Env=prod --code-file ./code
  ssm-setup activation create --iam-role SSMServiceRole --region us-east-1 --show-code --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runActivationCreate(cmd.Context(), f, opts) },
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.IAMRole, "iam-role", "", "IAM service role for the nodes: a name, path/name or role ARN (required)")
	fl.StringVar(&opts.Region, "region", "", "region of the activation (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, or instance metadata)")
	fl.IntVar(&opts.RegistrationLimit, "registration-limit", 1, "how many machines may register with it (1-1000)")
	fl.StringVar(&opts.Expires, "expires", "24h", "expiry: a duration (24h, 7d) or an RFC 3339 time; at most 30 days ahead")
	fl.StringVar(&opts.InstanceName, "instance-name", "", "default name of the registered nodes")
	fl.StringVar(&opts.Description, "description", "", "description shown in the console")
	fl.StringArrayVar(&opts.Tags, "tag", nil, "tag for the activation and its nodes, KEY=VALUE (repeatable)")
	fl.StringVar(&opts.CodeFile, "code-file", "", "write the activation code to this new file (mode 0600)")
	fl.BoolVar(&opts.ShowCode, "show-code", false, "print the activation code on stdout (visible to whoever sees the output)")
	_ = cmd.MarkFlagRequired("iam-role")
	return cmd
}

// parseExpiry reads --expires: a Go duration, a number of days ("7d"), or RFC 3339.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fail.WithHint(fail.Usagef("invalid --expires %q: want a duration (24h, 7d) or an RFC 3339 time", s), "pass e.g. --expires 72h or --expires 2026-07-01T00:00:00Z")
}

func runActivationCreate(ctx context.Context, f *Factory, opts *ActivationCreateOptions) error {
	if opts.CodeFile == "" && !opts.ShowCode {
		return fail.WithHint(fail.Usagef("the activation code would be lost: AWS shows it only once"),
			"pass --code-file FILE to save it (mode 0600), or --show-code to print it")
	}
	if opts.RegistrationLimit == 0 {
		// hybrid reads 0 as "the default"; on the command line it is a mistake.
		return fail.Usagef("registration limit 0 is out of range: AWS allows %d to %d nodes per activation", hybrid.MinRegistrationLimit, hybrid.MaxRegistrationLimit)
	}
	tags, err := hybrid.ParseTags(opts.Tags)
	if err != nil {
		return err
	}
	now := f.Now()
	expires, err := parseExpiry(opts.Expires, now)
	if err != nil {
		return err
	}
	region, err := f.resolveRegion(ctx, opts.Region)
	if err != nil {
		return err
	}
	// The file is created before AWS is asked, so a path that cannot be written fails
	// before the activation exists; it is removed again if the call fails.
	var codeFile *os.File
	if opts.CodeFile != "" {
		codeFile, err = os.OpenFile(opts.CodeFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return fail.WithHint(fail.Usagef("--code-file %s exists: ssm-setup never overwrites a file that may hold another activation's code", opts.CodeFile),
				"pass a new path, or remove the file first")
		}
		if err != nil {
			return fail.Usagef("--code-file: %w", err)
		}
		defer codeFile.Close()
	}
	act, err := hybrid.CreateActivation(ctx, hybrid.ActivationOptions{
		IAMRole: opts.IAMRole, Region: region, RegistrationLimit: opts.RegistrationLimit, Expires: expires,
		InstanceName: opts.InstanceName, Description: opts.Description, Tags: tags, Now: f.Now,
	})
	if err != nil {
		if codeFile != nil {
			codeFile.Close()
			os.Remove(opts.CodeFile)
		}
		return err
	}
	res := activationCreated{ActivationID: act.ID, Region: region, Expires: act.Expires, IAMRole: opts.IAMRole, RegistrationLimit: opts.RegistrationLimit, CodeFile: opts.CodeFile}
	if codeFile != nil {
		if _, err := codeFile.WriteString(act.Code + "\n"); err == nil {
			err = codeFile.Close()
		}
		if err != nil {
			// The activation exists but its code is lost: say so and how to clean up.
			return fail.WithHint(fail.New(fail.Unexpected, "activation %s created, but its code could not be written to %s: %w", act.ID, opts.CodeFile, err),
				fmt.Sprintf("delete it with 'ssm-setup activation delete %s --region %s' and create a new one", act.ID, region))
		}
	}
	if opts.ShowCode {
		res.ActivationCode = act.Code
	}
	return f.Print(res, func(t *textPrinter) {
		t.Field("activation id", res.ActivationID)
		if opts.ShowCode {
			t.Field("activation code", act.Code)
		}
		if res.CodeFile != "" {
			t.Field("code file", res.CodeFile)
		}
		t.Field("region", res.Region)
		t.Field("expires", res.Expires.Format(time.RFC3339))
		codeArg := "--activation-code-stdin"
		if res.CodeFile != "" {
			codeArg = "--activation-code-file " + res.CodeFile
		}
		t.Linef("register a machine with: sudo ssm-setup register --activation-id %s --region %s %s", res.ActivationID, res.Region, codeArg)
	})
}

// ActivationListOptions are the inputs of `ssm-setup activation list`.
type ActivationListOptions struct {
	Region string
}

func newActivationListCmd(f *Factory) *cobra.Command {
	opts := &ActivationListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the activations of a region",
		Long: `List the hybrid activations of a region (DescribeActivations): id, role, how many
machines registered out of the limit, expiry and tags. Codes are never listed: AWS shows
a code only when the activation is created. Needs ssm:DescribeActivations.`,
		Example: `  ssm-setup activation list --region us-east-1
  ssm-setup activation list --region eu-west-1 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runActivationList(cmd.Context(), f, opts) },
	}
	cmd.Flags().StringVar(&opts.Region, "region", "", "region of the activations (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, or instance metadata)")
	return cmd
}

func runActivationList(ctx context.Context, f *Factory, opts *ActivationListOptions) error {
	region, err := f.resolveRegion(ctx, opts.Region)
	if err != nil {
		return err
	}
	list, err := hybrid.ListActivations(ctx, region)
	if err != nil {
		return err
	}
	res := struct {
		Region      string                  `json:"region"`
		Activations []hybrid.ActivationInfo `json:"activations"`
	}{region, list}
	return f.Print(res, func(t *textPrinter) {
		if len(list) == 0 {
			t.Linef("no activations in %s", region)
			return
		}
		t.Linef("%-36s  %-9s  %-20s  %s", "ACTIVATION ID", "USED", "EXPIRES", "IAM ROLE")
		for _, a := range list {
			exp := a.Expires.Format(time.RFC3339)
			if a.Expired {
				exp += " (expired)"
			}
			t.Linef("%-36s  %-9s  %-20s  %s", a.ID, fmt.Sprintf("%d/%d", a.RegistrationsCount, a.RegistrationLimit), exp, a.IAMRole)
		}
	})
}

// ActivationDeleteOptions are the inputs of `ssm-setup activation delete`.
type ActivationDeleteOptions struct {
	ID     string
	Region string
}

func newActivationDeleteCmd(f *Factory) *cobra.Command {
	opts := &ActivationDeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete ACTIVATION-ID",
		Short: "Delete an activation",
		Long: `Delete a hybrid activation (DeleteActivation): no machine can register with it any
more. Machines already registered with it stay registered; use 'ssm-setup deregister'
for them. Needs ssm:DeleteActivation.`,
		Example: `  ssm-setup activation delete 4f1e8c2a-1b2c-4d5e-8f90-123456789abc --region us-east-1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runActivationDelete(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Region, "region", "", "region of the activation (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, or instance metadata)")
	return cmd
}

func runActivationDelete(ctx context.Context, f *Factory, opts *ActivationDeleteOptions) error {
	if err := hybrid.ValidateActivationID(opts.ID); err != nil {
		return err
	}
	region, err := f.resolveRegion(ctx, opts.Region)
	if err != nil {
		return err
	}
	if err := hybrid.DeleteActivation(ctx, region, opts.ID); err != nil {
		return err
	}
	res := struct {
		ActivationID string `json:"activation_id"`
		Region       string `json:"region"`
		Deleted      bool   `json:"deleted"`
	}{opts.ID, region, true}
	return f.Print(res, func(t *textPrinter) { t.Linef("deleted activation %s in %s", opts.ID, region) })
}
