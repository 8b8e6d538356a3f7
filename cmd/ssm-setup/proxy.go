package main

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/installer/proxy"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// ProxySetOptions are the inputs of `ssm-setup proxy set`.
type ProxySetOptions struct {
	Proxy      string
	HTTPProxy  string
	HTTPSProxy string
	NoProxy    string
	Password   ProxyPasswordFlags
	DryRun     bool
	LockWait   time.Duration
}

// ProxyUnsetOptions are the inputs of `ssm-setup proxy unset`.
type ProxyUnsetOptions struct {
	DryRun   bool
	LockWait time.Duration
}

// ProxyShowOptions are the inputs of `ssm-setup proxy show` (it has no flags of its own).
type ProxyShowOptions struct{}

func newProxyCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Set, show or remove the agent's HTTP proxy settings",
		Long: `Configure the SSM Agent's service to reach AWS through an HTTP proxy.

The agent reads http_proxy, https_proxy and no_proxy from its service environment; its
JSON configuration has no proxy settings. ssm-setup writes them where the init system
reads them: a systemd drop-in (amazon-ssm-agent.service.d/ssm-setup-proxy.conf, or the
snap unit's) or a marked block in /etc/init/amazon-ssm-agent.override (upstart). It never
edits the unit the package ships. After a change it reloads the init system, restarts a
running agent and checks the agent process's environment.

A proxy may need a user and password. The URL names the user (http://user@host:port);
the password comes from --proxy-password-file, --proxy-password-stdin or
SSM_SETUP_PROXY_PASSWORD, never from the command line, which every user can read.
ssm-setup never prints the password (it shows http://user:***@host:port) and keeps it
out of world-readable files and of 'systemctl show': the values then go to
/etc/amazon/ssm/ssm-setup-proxy.env, mode 0600.`,
		Example: `  sudo ssm-setup proxy set --proxy http://proxy.example.com:3128
  ssm-setup proxy show
  sudo ssm-setup proxy unset`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newProxySetCmd(f), newProxyShowCmd(f), newProxyUnsetCmd(f))
	return cmd
}

func newProxySetCmd(f *Factory) *cobra.Command {
	opts := &ProxySetOptions{}
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Make the agent use an HTTP proxy",
		Long: `Make the agent's service use a proxy, replacing earlier settings as a whole: a variable
not given is removed.

--proxy sets both http_proxy and https_proxy, which is what most networks need: the agent
reaches AWS over HTTPS. A URL is http://[user@]host[:port]; without a port the
scheme's default (80 or 443) is written. Session Manager does not work through an
https:// proxy URL. no_proxy always gets 169.254.169.254 and fd00:ec2::254 (instance
metadata) added to the --no-proxy list.

The files are written only when their content changes; an unchanged setting reloads and
restarts nothing. A stopped agent stays stopped and reads the settings when it starts.
With --root DIR other than / the files are written into that image root and no service
is touched.`,
		Example: `  sudo ssm-setup proxy set --proxy http://proxy.example.com:3128 --dry-run
  sudo ssm-setup proxy set --proxy http://proxy.example.com:3128 --no-proxy localhost,.corp.example.com
  sudo ssm-setup proxy set --https-proxy http://user@proxy:3128 --proxy-password-file /root/proxy-pw --output json
  sudo ssm-setup proxy set --root /mnt/image --proxy http://10.0.0.1:3128`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Password.apply(f.Getenv, f.IO.In, proxyFlag{"--proxy", &opts.Proxy}, proxyFlag{"--http-proxy", &opts.HTTPProxy}, proxyFlag{"--https-proxy", &opts.HTTPSProxy}); err != nil {
				return err
			}
			s, err := opts.settings()
			if err != nil {
				return err
			}
			return runProxySet(cmd.Context(), f, opts, s)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Proxy, "proxy", "", "proxy URL for both http_proxy and https_proxy")
	fl.StringVar(&opts.HTTPProxy, "http-proxy", "", "proxy URL for http_proxy")
	fl.StringVar(&opts.HTTPSProxy, "https-proxy", "", "proxy URL for https_proxy")
	fl.StringVar(&opts.NoProxy, "no-proxy", "", "comma-separated hosts, .domains, IPs and CIDRs that bypass the proxy")
	opts.Password.addFlags(fl)
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print what would change and change nothing")
	fl.DurationVar(&opts.LockWait, "lock-wait", 0, "how long to wait for another ssm-setup run to finish")
	cmd.MarkFlagsMutuallyExclusive("proxy", "http-proxy")
	cmd.MarkFlagsMutuallyExclusive("proxy", "https-proxy")
	return cmd
}

// settings checks the flags and returns them as proxy settings. Errors name the flag
// and show the URL masked.
func (o *ProxySetOptions) settings() (proxy.Settings, error) {
	if o.Proxy == "" && o.HTTPProxy == "" && o.HTTPSProxy == "" {
		return proxy.Settings{}, fail.WithHint(fail.Usagef("proxy set needs a proxy URL"), "pass --proxy URL, or --http-proxy URL and/or --https-proxy URL")
	}
	s := proxy.Settings{HTTPProxy: o.HTTPProxy, HTTPSProxy: o.HTTPSProxy}
	if o.Proxy != "" {
		s.HTTPProxy, s.HTTPSProxy = o.Proxy, o.Proxy
	}
	for _, v := range []struct{ flag, raw string }{{"--proxy", o.Proxy}, {"--http-proxy", o.HTTPProxy}, {"--https-proxy", o.HTTPSProxy}} {
		if v.raw == "" {
			continue
		}
		if _, err := proxy.ParseProxyURL(v.flag, v.raw); err != nil {
			return proxy.Settings{}, err
		}
	}
	if _, err := proxy.ParseNoProxy("--no-proxy", o.NoProxy); err != nil {
		return proxy.Settings{}, err
	}
	s.NoProxy = o.NoProxy
	return s, nil
}

// proxyOptions are the proxy package's options for the detected platform and the root.
func proxyOptions(ctx context.Context, f *Factory) (proxy.Options, error) {
	p, err := f.Platform(ctx, "")
	if err != nil {
		return proxy.Options{}, err
	}
	return proxy.Options{
		Root: f.Root(), Runner: f.Runner, Logger: f.Logger(),
		InitSystem: p.InitSystem, Snap: p.Agent.Via == "snap",
		Restart: f.Root().IsHost(), Now: f.Now,
	}, nil
}

func runProxySet(ctx context.Context, f *Factory, opts *ProxySetOptions, s proxy.Settings) error {
	po, err := proxyOptions(ctx, f)
	if err != nil {
		return err
	}
	if !opts.DryRun {
		if err := f.requireRoot("proxy set"); err != nil {
			return err
		}
		l, err := f.lock(ctx, opts.LockWait)
		if err != nil {
			return err
		}
		defer l.Release()
	}
	po.Settings, po.DryRun = s, opts.DryRun
	res, err := proxy.Set(ctx, po)
	if err != nil {
		return err
	}
	return f.Print(res, func(t *textPrinter) { printProxyResult(t, res, "written") })
}

func newProxyShowCmd(f *Factory) *cobra.Command {
	opts := &ProxyShowOptions{}
	return &cobra.Command{
		Use:   "show",
		Short: "Show the agent's proxy settings that ssm-setup wrote",
		Long: `Show the proxy settings ssm-setup wrote for the agent, with passwords masked, the files
that hold them, and whether the running agent process has them (when that can be told:
reading another process's environment needs root). show works without root, except
when the settings hold a password: their file is then readable by root only.`,
		Example: `  ssm-setup proxy show
  sudo ssm-setup proxy show --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProxyShow(cmd.Context(), f, opts) },
	}
}

func runProxyShow(ctx context.Context, f *Factory, _ *ProxyShowOptions) error {
	po, err := proxyOptions(ctx, f)
	if err != nil {
		return err
	}
	shown, err := proxy.Show(ctx, po)
	if err != nil {
		return err
	}
	return f.Print(shown, func(t *textPrinter) {
		if !shown.Configured {
			t.Linef("no proxy settings from ssm-setup")
			return
		}
		t.Field("http_proxy", shown.HTTPProxy)
		t.Field("https_proxy", shown.HTTPSProxy)
		t.Field("no_proxy", shown.NoProxy)
		t.List("files", shown.Files)
		switch {
		case shown.InEffect == nil:
			t.Field("in effect", "unknown")
		case *shown.InEffect:
			t.Field("in effect", "yes (agent pid "+strconv.Itoa(shown.MainPID)+")")
		default:
			t.Field("in effect", "no: restart the agent, or see 'ssm-setup proxy set --help'")
		}
	})
}

func newProxyUnsetCmd(f *Factory) *cobra.Command {
	opts := &ProxyUnsetOptions{}
	cmd := &cobra.Command{
		Use:   "unset",
		Short: "Remove the agent's proxy settings that ssm-setup wrote",
		Long: `Remove the proxy settings ssm-setup wrote: its systemd drop-in and environment file,
or its block in /etc/init/amazon-ssm-agent.override (the file itself only when nothing
else is left in it). Settings made by other means are not touched. After a change a
running agent is restarted and checked; without settings from ssm-setup nothing changes.`,
		Example: `  sudo ssm-setup proxy unset --dry-run
  sudo ssm-setup proxy unset --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProxyUnset(cmd.Context(), f, opts) },
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would change and change nothing")
	cmd.Flags().DurationVar(&opts.LockWait, "lock-wait", 0, "how long to wait for another ssm-setup run to finish")
	return cmd
}

func runProxyUnset(ctx context.Context, f *Factory, opts *ProxyUnsetOptions) error {
	po, err := proxyOptions(ctx, f)
	if err != nil {
		return err
	}
	if !opts.DryRun {
		if err := f.requireRoot("proxy unset"); err != nil {
			return err
		}
		l, err := f.lock(ctx, opts.LockWait)
		if err != nil {
			return err
		}
		defer l.Release()
	}
	po.DryRun = opts.DryRun
	res, err := proxy.Unset(ctx, po)
	if err != nil {
		return err
	}
	return f.Print(res, func(t *textPrinter) { printProxyResult(t, res, "removed") })
}

// printProxyResult prints the outcome of set or unset; done is "written" or "removed".
func printProxyResult(t *textPrinter, r proxy.Result, done string) {
	switch {
	case !r.Changed && done == "removed":
		t.Linef("no proxy settings from ssm-setup; nothing changed")
		return
	case !r.Changed:
		t.Linef("the proxy settings are already in place; nothing changed")
		return
	case r.DryRun:
		t.Linef("plan (dry run, nothing changed): proxy settings to be %s", done)
	default:
		t.Linef("proxy settings %s", done)
	}
	if done == "written" {
		t.Field("http_proxy", r.HTTPProxy)
		t.Field("https_proxy", r.HTTPSProxy)
		t.Field("no_proxy", r.NoProxy)
	}
	t.List("files", r.Files)
	switch {
	case r.DryRun:
		for _, c := range r.Commands {
			t.Linef("  then run: %s", c)
		}
	case r.Verified:
		t.Field("agent", "restarted (pid "+strconv.Itoa(r.MainPID)+") and checked")
	case !r.Restarted:
		t.Field("agent", "not restarted: it reads the settings when it starts")
	}
}

// checkInstallProxyFlags checks install's --proxy and --no-proxy before anything is
// installed, so a bad URL fails with exit 2 and changes nothing.
func checkInstallProxyFlags(proxyURL, noProxy string) error {
	if proxyURL == "" {
		if noProxy != "" {
			return fail.Usagef("--no-proxy needs --proxy")
		}
		return nil
	}
	if _, err := proxy.ParseProxyURL("--proxy", proxyURL); err != nil {
		return err
	}
	_, err := proxy.ParseNoProxy("--no-proxy", noProxy)
	return err
}

// applyProxyAfterInstall sets proxyURL as both http_proxy and https_proxy (and noProxy as
// no_proxy) once install has put the agent in place. The caller holds the lock and has
// checked root and the flags (checkInstallProxyFlags).
func applyProxyAfterInstall(ctx context.Context, f *Factory, proxyURL, noProxy string, dryRun bool) (proxy.Result, error) {
	po, err := proxyOptions(ctx, f)
	if err != nil {
		return proxy.Result{}, err
	}
	po.Settings = proxy.Settings{HTTPProxy: proxyURL, HTTPSProxy: proxyURL, NoProxy: noProxy}
	po.DryRun = dryRun
	return proxy.Set(ctx, po)
}
