package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/ssm-setup/ssm-setup/distro"
	"github.com/ssm-setup/ssm-setup/hybrid"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// IOStreams are the program's standard streams and whether they are terminals.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY and ErrTTY say whether stdin and stderr are terminals: ssm-setup asks
	// questions only when stdin is one, and draws progress bars only on a terminal stderr.
	InTTY  bool
	ErrTTY bool
}

func systemStreams() IOStreams {
	return IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// GlobalOptions are the flags every command has.
type GlobalOptions struct {
	Output  string
	Quiet   bool
	Verbose bool
	Root    string
}

func (o *GlobalOptions) validate() error {
	switch o.Output {
	case "text", "json":
	default:
		return fail.WithHint(fail.Usagef("invalid --output %q: must be text or json", o.Output), "pass --output text or --output json")
	}
	if o.Root == "" {
		return fail.Usagef("invalid --root \"\": must be a directory")
	}
	st, err := os.Stat(o.Root)
	if err != nil {
		return fail.WithHint(fail.Usagef("invalid --root %q: %w", o.Root, err), "pass the directory of a mounted image, or omit --root for this machine")
	}
	if !st.IsDir() {
		return fail.Usagef("invalid --root %q: not a directory", o.Root)
	}
	return nil
}

// Factory builds the real dependencies of every command, once: IO streams, logger,
// command runner, filesystem root, the detected platform. Tests build one with fakes.
type Factory struct {
	IO     IOStreams
	Opts   GlobalOptions
	Runner run.Runner
	Getenv func(string) string
	Now    func() time.Time
	// Geteuid reports the effective user id (root checks); -1 on Windows.
	Geteuid func() int

	// running is set when a command's own run function starts: an error before it is
	// one of Cobra's usage checks (see execute).
	running bool

	platformOnce sync.Once
	platform     distro.Platform
	platformErr  error
	logger       *slog.Logger
	ec2Once      sync.Once
	ec2          *hybrid.EC2Instance
}

func newFactory(io IOStreams) *Factory {
	return &Factory{
		IO:      io,
		Runner:  run.Exec{},
		Getenv:  os.Getenv,
		Now:     time.Now,
		Geteuid: os.Geteuid,
	}
}

// Root is the filesystem root selected with --root.
func (f *Factory) Root() sysroot.Root {
	r, err := sysroot.New(f.Opts.Root)
	if err != nil {
		// validate() already checked --root; a failure here is a bug.
		panic(fmt.Sprintf("sysroot: %v", err))
	}
	return r
}

// Logger writes human messages to stderr at the level --quiet/--verbose select.
func (f *Factory) Logger() *slog.Logger {
	if f.logger == nil {
		level := slog.LevelInfo
		switch {
		case f.Opts.Quiet:
			level = slog.LevelWarn
		case f.Opts.Verbose:
			level = slog.LevelDebug
		}
		f.logger = newHumanLogger(f.IO.ErrOut, level)
	}
	return f.logger
}

// Platform detects the platform once per run; archOverride is --arch where a command has it.
func (f *Factory) Platform(ctx context.Context, archOverride string) (distro.Platform, error) {
	f.platformOnce.Do(func() {
		root := f.Root()
		f.platform, f.platformErr = distro.Detect(ctx, distro.Options{
			FS:      root.FS(),
			RootDir: root.Dir(),
			IsHost:  root.IsHost(),
			Arch:    archOverride,
			Runner:  f.Runner,
			Logger:  f.Logger(),
		})
	})
	return f.platform, f.platformErr
}

// IsRoot reports whether ssm-setup runs as root (or, on Windows, is not checked here).
func (f *Factory) IsRoot() bool {
	if runtime.GOOS == "windows" {
		return true
	}
	return f.Geteuid() == 0
}

// Print writes a command's result: v as one JSON object with --output json, else the
// text that text() prints. Both go to stdout.
func (f *Factory) Print(v any, text func(p *textPrinter)) error {
	if f.Opts.Output == "json" {
		return writeJSON(f.IO.Out, v)
	}
	p := &textPrinter{w: f.IO.Out}
	text(p)
	return p.err
}

// textPrinter writes human-readable results.
type textPrinter struct {
	w   io.Writer
	err error
}

// Linef prints one line.
func (p *textPrinter) Linef(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// Field prints an aligned "name: value" line; empty values print as "-".
func (p *textPrinter) Field(name, value string) {
	if value == "" {
		value = "-"
	}
	p.Linef("%-18s %s", name+":", value)
}

// List prints a field whose value is a list.
func (p *textPrinter) List(name string, values []string) {
	p.Field(name, strings.Join(values, ", "))
}

// EC2 detects, once per run, whether this machine is an EC2 instance (nil when not).
// Detection reads instance metadata, so it only applies to the host root.
func (f *Factory) EC2(ctx context.Context) *hybrid.EC2Instance {
	f.ec2Once.Do(func() {
		if !f.Root().IsHost() {
			return
		}
		f.ec2, _ = hybrid.DetectEC2(ctx, f.Logger())
	})
	return f.ec2
}

// imdsRegion is the last resort of the region order: the EC2 instance's region.
func (f *Factory) imdsRegion(ctx context.Context) (string, error) {
	if inst := f.EC2(ctx); inst != nil {
		return inst.Region, nil
	}
	return "", nil
}
