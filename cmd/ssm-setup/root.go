package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// Main runs ssm-setup with os.Args and returns the process exit code. It is the whole
// program; main only passes its result to os.Exit, so tests can run it in-process.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := newFactory(systemStreams())
	return execute(ctx, f, os.Args[1:])
}

// execute builds the command tree, executes args and maps the outcome to an exit code. It is
// the one place where errors are printed and turned into exit codes.
func execute(ctx context.Context, f *Factory, args []string) int {
	return executeRoot(ctx, f, newRootCmd(f), args)
}

// executeRoot is execute with the command tree given.
func executeRoot(ctx context.Context, f *Factory, root *cobra.Command, args []string) int {
	markRunning(f, root)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if !f.running {
		// The error came before any command's RunE: it is Cobra's own (unknown command,
		// wrong argument count, missing required flag, exclusive flags), a usage error.
		if fail.KindOf(err) == fail.Unexpected {
			err = fail.WithHint(fail.Wrap(fail.Usage, err), fmt.Sprintf("see '%s --help'", cmd.CommandPath()))
		}
		// Flag parsing may have stopped before --output (an unknown command or flag
		// comes first): the error object still goes to stdout when json was asked for.
		if outputFromArgs(args) == "json" {
			f.Opts.Output = "json"
		}
	}
	printError(f, err)
	return fail.Code(err)
}

// resultError carries what a failed command did, so that with --output json the one
// object on stdout holds the error and the partial result ("result"): which uninstall
// steps ran, whether an unhealthy upgrade was rolled back.
type resultError struct {
	err    error
	result any
}

func (e *resultError) Error() string { return e.err.Error() }
func (e *resultError) Unwrap() error { return e.err }

// withResult attaches result to err (nil stays nil).
func withResult(err error, result any) error {
	if err == nil {
		return nil
	}
	return &resultError{err: err, result: result}
}

// outputFromArgs is the last --output/-o value in args (before "--"), "" when none. It
// reads args without Cobra, for errors that stop flag parsing before --output is seen.
func outputFromArgs(args []string) string {
	out := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == "--":
			return out
		case a == "--output":
			out = next()
		case strings.HasPrefix(a, "--output="):
			out = strings.TrimPrefix(a, "--output=")
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// A group of shorthand flags such as -o json, -ojson, -o=json or -qo json:
			// every letter before o is a boolean flag; what follows o is its value.
			if j := strings.IndexByte(a, 'o'); j > 0 {
				if v := strings.TrimPrefix(a[j+1:], "="); v != "" {
					out = v
				} else {
					out = next()
				}
			}
		}
	}
	return out
}

// markRunning wraps the run function of c and of every command below it so that
// f.running tells, after Execute, whether an error came from a command's own code or
// from Cobra's checks before it.
func markRunning(f *Factory, c *cobra.Command) {
	switch {
	case c.RunE != nil:
		runE := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			f.running = true
			return runE(cmd, args)
		}
	case c.Run != nil:
		run := c.Run
		c.Run = func(cmd *cobra.Command, args []string) {
			f.running = true
			run(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markRunning(f, sub)
	}
}

// printError prints err once on stderr as "ssm-setup: ...", with a hint line when there
// is a next step. In JSON mode it also prints a JSON error object on stdout so scripts
// that parse stdout always get one object.
func printError(f *Factory, err error) {
	msg := err.Error()
	hint := fail.HintOf(err)
	fmt.Fprintf(f.IO.ErrOut, "ssm-setup: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(f.IO.ErrOut, "hint: %s\n", hint)
	}
	if f.Opts.Output == "json" {
		kind := fail.KindOf(err)
		obj := map[string]any{"error": map[string]any{
			"message":   msg,
			"hint":      hint,
			"kind":      kind.String(),
			"exit_code": int(kind),
		}}
		var re *resultError
		if errors.As(err, &re) {
			obj["result"] = re.result
		}
		writeJSON(f.IO.Out, obj)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

const rootLong = `ssm-setup installs and manages the AWS Systems Manager Agent (SSM Agent) on machines
where it is not preinstalled: on-premises servers, non-default AMIs and image builds.

It detects the platform, fetches the agent from the regional S3 bucket of the right AWS
partition, verifies its OpenPGP signature and SHA-256 digest before anything is installed,
installs it with the distro's own package manager, starts it and checks that it stays up.

Conventions every command follows:
  --output text|json  json prints exactly one object on stdout (snake_case fields);
                      human messages and progress always go to stderr
  --quiet, --verbose  fewer or more messages on stderr
  --root DIR          work on another filesystem root (a mounted image, a test root);
                      detection then reads only that root
  exit codes          see 'ssm-setup help exit-codes'; errors print once on stderr as
                      "ssm-setup: <what failed>: <why>" plus a "hint:" line`

func newRootCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:           "ssm-setup",
		Short:         "Install and manage the AWS Systems Manager Agent",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		Example: `  sudo ssm-setup install --region us-east-1 --dry-run
  sudo ssm-setup install --region us-east-1
  ssm-setup detect --output json
  ssm-setup help exit-codes`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return f.Opts.validate()
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&f.Opts.Output, "output", "o", "text", "output format: text or json")
	pf.BoolVarP(&f.Opts.Quiet, "quiet", "q", false, "print only warnings and errors on stderr")
	pf.BoolVarP(&f.Opts.Verbose, "verbose", "v", false, "print debug messages on stderr")
	pf.StringVar(&f.Opts.Root, "root", "/", "filesystem root to work on (an image or test root)")
	cmd.MarkFlagsMutuallyExclusive("quiet", "verbose")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fail.WithHint(fail.Wrap(fail.Usage, err), fmt.Sprintf("see '%s --help'", c.CommandPath()))
	})

	cmd.AddCommand(
		newVersionCmd(f),
		newDetectCmd(f),
		newVersionsCmd(f),
		newDownloadCmd(f),
		newVerifyCmd(f),
		newInstallCmd(f),
		newStatusCmd(f),
		newUninstallCmd(f),
		newProxyCmd(f),
		newRegisterCmd(f),
		newDeregisterCmd(f),
		newActivationCmd(f),
		newExitCodesTopic(),
	)
	// The completion and help commands exist once the root has subcommands.
	cmd.InitDefaultCompletionCmd()
	cmd.InitDefaultHelpCmd()
	for _, c := range cmd.Commands() {
		if c.Name() == "completion" {
			// An unknown shell is a usage error, not a help page with exit 0.
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(c *cobra.Command, args []string) error {
				if len(args) == 0 {
					return c.Help()
				}
				return fail.WithHint(fail.Usagef("unknown shell %q", args[0]), "use one of bash, zsh, fish or powershell")
			}
		}
		if c.Name() == "help" {
			// An unknown topic is a usage error; Cobra would print the usage and exit 0.
			help := c.Run
			c.RunE = func(c *cobra.Command, args []string) error {
				if target, rest, err := c.Root().Find(args); target == nil || err != nil || len(rest) > 0 {
					return fail.WithHint(fail.Usagef("unknown help topic %q", strings.Join(args, " ")), "see 'ssm-setup --help' for the commands and help topics")
				}
				help(c, args)
				return nil
			}
		}
		if c.HasAvailableSubCommands() && !c.Runnable() {
			// A command that only groups others (proxy, activation) prints its help
			// when called alone, and an unknown subcommand is a usage error; Cobra
			// would print the help and exit 0 for both.
			c.Args = cobra.NoArgs
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		}
	}
	return cmd
}

// newExitCodesTopic is a help topic: `ssm-setup help exit-codes` prints the table.
func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "The exit codes of every ssm-setup command",
		Long:  exitCodesText(),
	}
}

func exitCodesText() string {
	var b strings.Builder
	b.WriteString("Every ssm-setup command exits with one of these codes. They are stable: scripts may\ndepend on them.\n\n")
	b.WriteString("   0  success, whether or not anything changed\n")
	for _, k := range fail.Kinds {
		fmt.Fprintf(&b, "  %2d  %s\n", int(k), k.Describe())
	}
	return b.String()
}
