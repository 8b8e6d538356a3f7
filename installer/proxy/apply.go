package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/installer/fsutil"
	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// Purpose is the purpose of the files Set records in the state file.
const Purpose = "proxy"

// Options are the inputs of Set, Unset and Show.
type Options struct {
	Root   sysroot.Root
	Runner run.Runner
	Logger *slog.Logger
	// InitSystem is the platform's init system: systemd or upstart (others are
	// fail.Unsupported). Snap selects the agent snap's unit (systemd only).
	InitSystem string
	Snap       bool
	// Settings are what Set writes; Unset and Show ignore them.
	Settings Settings
	// DryRun computes what would change and the commands that would run, and changes nothing.
	DryRun bool
	// Restart makes a change take effect: reload the init system, restart a running agent
	// and check its process environment. Set it for the host root, not for image roots.
	// Show looks at the running process only when it is set.
	Restart bool
	// ProcRoot is where the process table is mounted; "" means /proc (tests pass a fake).
	ProcRoot string
	// Now is the clock for the state file's history; nil means time.Now.
	Now func() time.Time
	// VerifyTimeout bounds how long Set and Unset wait for the restarted agent's process
	// to show the new environment; 0 means 15 seconds. A service that was just restarted
	// can briefly report a process that has not yet executed the agent.
	VerifyTimeout time.Duration
}

// Result is the outcome of Set or Unset. Proxy URLs in it are masked.
type Result struct {
	Changed bool `json:"changed"`
	DryRun  bool `json:"dry_run"`
	// Files are the configuration files in place after Set, or the files Unset removed or
	// edited (paths inside the root).
	Files      []string `json:"files"`
	HTTPProxy  string   `json:"http_proxy"`
	HTTPSProxy string   `json:"https_proxy"`
	NoProxy    string   `json:"no_proxy"`
	Restarted  bool     `json:"restarted"`
	// Verified is true when the restarted agent's process was seen with the settings (or,
	// after Unset, without them).
	Verified bool `json:"verified"`
	MainPID  int  `json:"main_pid,omitempty"`
	// Commands are the commands run, or in a dry run the ones that would run.
	Commands []string `json:"commands"`
}

// Shown is what Show found. Proxy URLs in it are masked.
type Shown struct {
	Configured bool     `json:"configured"`
	Files      []string `json:"files"`
	HTTPProxy  string   `json:"http_proxy"`
	HTTPSProxy string   `json:"https_proxy"`
	NoProxy    string   `json:"no_proxy"`
	// InEffect tells whether the running agent process has the configured settings; nil
	// when Show cannot tell (not running, not the host root, no permission).
	InEffect *bool `json:"in_effect"`
	MainPID  int   `json:"main_pid,omitempty"`
}

// change is one file's planned change.
type change struct {
	path    string // inside the root
	cur     []byte // nil: the file does not exist
	next    []byte // nil: the file is to be removed
	mode    fs.FileMode
	changed bool
	// owned files are ssm-setup's alone and are recorded in the state file, so that
	// uninstall removes them. An upstart override that holds other lines is not.
	owned bool
}

func (o *Options) defaults() error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.VerifyTimeout == 0 {
		o.VerifyTimeout = 15 * time.Second
	}
	switch {
	case o.Snap && o.InitSystem != service.Systemd:
		return fail.New(fail.Unsupported, "proxy settings: the agent snap needs systemd, not %q", o.InitSystem)
	case o.InitSystem == service.Systemd, o.InitSystem == service.Upstart:
		return nil
	}
	return fail.WithHint(fail.New(fail.Unsupported, "proxy settings for the agent under init system %q are not supported (want systemd or upstart)", o.InitSystem),
		"set http_proxy, https_proxy and no_proxy in the agent's service environment by hand")
}

// Set writes s = o.Settings (normalized, see Settings.Normalize) where the agent's
// service reads it, replacing earlier settings as a whole (a variable Set is not given is
// removed). Files are written atomically and only when their content or mode changes.
// After a change, when o.Restart is set, the init system is reloaded, a running agent is
// restarted and its process environment (/proc/PID/environ) is checked; a mismatch is
// fail.PackageManager. A stopped agent is left stopped: it reads the settings when it
// starts. Nothing changed means no command runs. The state file records the files and
// the masked settings.
func Set(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	s, err := o.Settings.Normalize(o.Logger)
	if err != nil {
		return Result{}, err
	}
	changes, err := plan(o, s)
	if err != nil {
		return Result{}, err
	}
	m := s.Masked()
	res := Result{HTTPProxy: m.HTTPProxy, HTTPSProxy: m.HTTPSProxy, NoProxy: m.NoProxy, DryRun: o.DryRun, Files: []string{}, Commands: []string{}}
	for _, c := range changes {
		if c.next != nil {
			res.Files = append(res.Files, c.path)
		}
	}
	rec := &state.ProxyRecord{Files: res.Files, HTTPProxy: m.HTTPProxy, HTTPSProxy: m.HTTPSProxy, NoProxy: m.NoProxy}
	detail := fmt.Sprintf("set http_proxy=%s https_proxy=%s no_proxy=%s", orDash(m.HTTPProxy), orDash(m.HTTPSProxy), m.NoProxy)
	return apply(ctx, o, changes, rec, detail, res, want(s))
}

// Unset removes ssm-setup's proxy settings: its drop-ins and environment file, or its
// block in the upstart override file (the file itself only when nothing else remains).
// Like Set, it reloads and restarts a running agent after a change when o.Restart is set,
// and then checks that the process no longer has the removed values.
func Unset(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	changes, err := plan(o, Settings{})
	if err != nil {
		return Result{}, err
	}
	old, _, err := read(o)
	if err != nil {
		return Result{}, err
	}
	res := Result{DryRun: o.DryRun, Files: []string{}, Commands: []string{}}
	for _, c := range changes {
		if c.changed {
			res.Files = append(res.Files, c.path)
		}
	}
	var gone []expectation
	for _, v := range old.env() {
		gone = append(gone, expectation{name: v.name, value: v.value, absent: true})
	}
	return apply(ctx, o, changes, nil, "unset", res, gone)
}

// plan computes the file changes that make the configuration s (zero: none).
func plan(o Options, s Settings) ([]change, error) {
	var changes []change
	add := func(p string, render func([]byte, Settings) ([]byte, bool, error), st Settings, mode fs.FileMode) error {
		cur, curMode, err := readFile(o.Root, p)
		if err != nil {
			return err
		}
		next, changed, err := render(cur, st)
		if err != nil {
			return fmt.Errorf("proxy settings %s: %w", o.Root.Path(p), err)
		}
		if mode == 0 {
			mode = 0o644
			if cur != nil {
				mode = curMode
			}
		}
		if next != nil && cur != nil && curMode != mode {
			changed = true
		}
		owned := true
		if p == UpstartOverridePath && next != nil {
			rest, _, _ := EditUpstartOverride(next, Settings{})
			owned = rest == nil
		}
		changes = append(changes, change{path: p, cur: cur, next: next, mode: mode, changed: changed, owned: owned})
		return nil
	}
	switch o.InitSystem {
	case service.Systemd:
		// The environment file comes first: apply writes in this order and removes in the
		// reverse one, so the drop-in never names a missing EnvironmentFile (systemd would
		// refuse to start the agent).
		if err := add(EnvFilePath, RenderEnvFile, s, 0o600); err != nil {
			return nil, err
		}
		if err := add(DropInPath(o.Snap), RenderDropIn, s, 0o644); err != nil {
			return nil, err
		}
		// A drop-in left for the other kind of agent (a deb agent replaced by the snap,
		// or the reverse) is ssm-setup's too and goes.
		if err := add(DropInPath(!o.Snap), RenderDropIn, Settings{}, 0o644); err != nil {
			return nil, err
		}
	case service.Upstart:
		var mode fs.FileMode // keep the file's mode, 0644 for a new file
		if s.hasCredentials() {
			mode = 0o600
		}
		if err := add(UpstartOverridePath, EditUpstartOverride, s, mode); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// apply carries out changes, records them in the state file and makes them take effect.
// rec is the state's new proxy record (nil: none).
func apply(ctx context.Context, o Options, changes []change, rec *state.ProxyRecord, detail string, res Result, expect []expectation) (Result, error) {
	for _, c := range changes {
		res.Changed = res.Changed || c.changed
	}
	var mgr service.Manager
	if res.Changed && o.Restart {
		var err error
		if mgr, err = service.New(o.InitSystem, o.Snap, o.Runner); err != nil {
			return res, err
		}
	}
	if o.DryRun {
		if mgr != nil {
			for _, c := range append(mgr.DaemonReloadCmds(), mgr.RestartCmds()...) {
				res.Commands = append(res.Commands, c.String())
			}
		}
		return res, nil
	}

	st, err := state.Load(o.Root)
	if err != nil {
		return res, err
	}
	before, _ := json.Marshal(st)
	// Writes first, in plan order, then removals in reverse order (see plan).
	for _, c := range changes {
		if !c.changed || c.next == nil {
			continue
		}
		o.Logger.Info("writing proxy settings", "path", c.path)
		if _, err := fsutil.WriteFileAtomic(o.Root.Path(c.path), c.next, c.mode); err != nil {
			return res, fileErr("write", err)
		}
	}
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		if !c.changed || c.next != nil {
			continue
		}
		o.Logger.Info("removing proxy settings", "path", c.path)
		host := o.Root.Path(c.path)
		if err := os.Remove(host); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fileErr("remove", err)
		}
		if strings.HasSuffix(c.path, "/"+DropInName) {
			// An emptied .service.d directory goes too; one with other drop-ins stays.
			_ = os.Remove(filepath.Dir(host))
		}
	}
	for _, c := range changes {
		if c.next != nil && c.owned {
			sum := sha256.Sum256(c.next)
			st.AddFile(c.path, Purpose, hex.EncodeToString(sum[:]))
		} else {
			st.RemoveFile(c.path)
		}
	}
	st.Proxy = rec
	if res.Changed {
		st.Record(o.Now(), "proxy", detail)
	}
	if after, _ := json.Marshal(st); !bytes.Equal(before, after) {
		if err := st.Save(o.Root); err != nil {
			return res, err
		}
	}
	if mgr == nil {
		if res.Changed {
			o.Logger.Info("proxy settings changed; the agent applies them when it next starts")
		}
		return res, nil
	}

	svc, err := mgr.State(ctx)
	if err != nil {
		return res, fail.WithHint(err, "the settings are written; restart the agent yourself to apply them")
	}
	for _, c := range mgr.DaemonReloadCmds() {
		if err := runCmd(ctx, o, c, &res); err != nil {
			return res, err
		}
	}
	if svc.Active != service.Active && svc.Active != service.Activating {
		o.Logger.Info("the agent is not running; it reads the proxy settings when it starts", "service", mgr.Unit(), "state", svc.Active)
		return res, nil
	}
	for _, c := range mgr.RestartCmds() {
		if err := runCmd(ctx, o, c, &res); err != nil {
			return res, err
		}
	}
	res.Restarted = true
	pid, err := verify(ctx, o, mgr, expect)
	res.MainPID = pid
	if err != nil {
		return res, err
	}
	res.Verified = true
	return res, nil
}

func runCmd(ctx context.Context, o Options, c run.Cmd, res *Result) error {
	o.Logger.Info("running " + c.String())
	res.Commands = append(res.Commands, c.String())
	if _, err := o.Runner.Run(ctx, c); err != nil {
		return fail.WithHint(fail.Wrap(fail.PackageManager, fmt.Errorf("apply proxy settings: %w", err)),
			"the settings are written; fix the service and restart the agent to apply them")
	}
	return nil
}

func fileErr(verb string, err error) error {
	err = fmt.Errorf("%s proxy settings: %w", verb, err)
	if errors.Is(err, fs.ErrPermission) {
		return fail.WithHint(fail.Wrap(fail.NeedRoot, err), "re-run as root")
	}
	return fail.Wrap(fail.Unexpected, err)
}

// readFile returns a file's content and mode, nil when it does not exist.
func readFile(root sysroot.Root, p string) ([]byte, fs.FileMode, error) {
	host := root.Path(p)
	b, err := os.ReadFile(host)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fileErr("read", err)
	}
	info, err := os.Stat(host)
	if err != nil {
		return nil, 0, fileErr("read", err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, info.Mode().Perm(), nil
}

// expectation is one variable the agent process must have (or, absent, must no longer
// have) with value.
type expectation struct {
	name, value string
	absent      bool
}

func want(s Settings) []expectation {
	var out []expectation
	for _, v := range s.env() {
		out = append(out, expectation{name: v.name, value: v.value})
	}
	return out
}

// verify waits until the agent's main process shows the expected environment, or fails
// after o.VerifyTimeout with what differs (values masked).
func verify(ctx context.Context, o Options, mgr service.Manager, expect []expectation) (int, error) {
	deadline := time.Now().Add(o.VerifyTimeout)
	const interval = 250 * time.Millisecond
	var pid int
	var last error
	for {
		pid, last = check(ctx, o, mgr, expect)
		if last == nil {
			o.Logger.Info("the running agent has the proxy settings", "pid", pid)
			return pid, nil
		}
		if time.Now().Add(interval).After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return pid, ctx.Err()
		case <-time.After(interval):
		}
	}
	hint := "another drop-in may set the same variables: check 'systemctl cat " + mgr.Unit() + "'"
	if o.InitSystem == service.Upstart {
		hint = "check " + UpstartOverridePath + " and /etc/init/amazon-ssm-agent.conf for other env lines"
	}
	return pid, fail.WithHint(fail.Wrap(fail.PackageManager, last), hint)
}

// check looks once at the agent's main process.
func check(ctx context.Context, o Options, mgr service.Manager, expect []expectation) (int, error) {
	svc, err := mgr.State(ctx)
	if err != nil {
		return 0, err
	}
	if svc.MainPID <= 0 {
		return 0, fmt.Errorf("the agent %s has no running process to check (state %s)", mgr.Unit(), svc.Active)
	}
	env, err := processEnv(o.ProcRoot, svc.MainPID)
	if err != nil {
		return svc.MainPID, err
	}
	var diffs []string
	for _, e := range expect {
		got, ok := env[e.name]
		switch {
		case e.absent && ok && got == e.value:
			diffs = append(diffs, fmt.Sprintf("%s is still %q", e.name, Mask(got)))
		case !e.absent && got != e.value:
			diffs = append(diffs, fmt.Sprintf("%s is %q, want %q", e.name, Mask(got), Mask(e.value)))
		}
	}
	if len(diffs) > 0 {
		return svc.MainPID, &mismatchError{pid: svc.MainPID, diffs: diffs}
	}
	return svc.MainPID, nil
}

// mismatchError is a process environment that differs from the settings; its text has
// the values masked.
type mismatchError struct {
	pid   int
	diffs []string
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("the running agent (pid %d) does not have the proxy settings: %s", e.pid, strings.Join(e.diffs, "; "))
}

// processEnv reads /proc/PID/environ: NUL-separated NAME=value entries.
func processEnv(procRoot string, pid int) (map[string]string, error) {
	p := filepath.Join(procRoot, strconv.Itoa(pid), "environ")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read the agent's environment: %w", err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env, nil
}

// read returns the settings in ssm-setup's files and the files that hold them.
func read(o Options) (Settings, []string, error) {
	var files []string
	switch o.InitSystem {
	case service.Systemd:
		p := DropInPath(o.Snap)
		b, _, err := readFile(o.Root, p)
		if err != nil || b == nil {
			return Settings{}, nil, err
		}
		vars, envFile := parseDropIn(b)
		if envFile != "" {
			eb, _, err := readFile(o.Root, envFile)
			if err != nil {
				return Settings{}, nil, fail.WithHint(err, "the proxy settings hold a password and only root can read them: re-run with sudo")
			}
			if eb != nil {
				files = append(files, envFile)
				vars = parseEnvFile(eb)
			}
		}
		// The same order as Set's Result.Files.
		return settingsFrom(vars), append(files, p), nil
	case service.Upstart:
		b, _, err := readFile(o.Root, UpstartOverridePath)
		if err != nil {
			return Settings{}, nil, err
		}
		vars, found := parseUpstartBlock(b)
		if !found {
			return Settings{}, nil, nil
		}
		return settingsFrom(vars), []string{UpstartOverridePath}, nil
	}
	return Settings{}, nil, nil
}

// Environ returns ssm-setup's proxy settings for the agent's service as NAME=value
// entries (the same lower- and upper-case variables the service gets), nil when there
// are none or the init system has no settings from ssm-setup. Commands that reach AWS
// on the agent's behalf outside its service, like the agent's own -register run, need
// them on a network that only lets the proxy out. The values can hold a password: put
// them only into a command's environment, never on its command line or into output.
func Environ(o Options) ([]string, error) {
	s, _, err := read(o)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range s.env() {
		out = append(out, v.name+"="+v.value)
	}
	return out, nil
}

// Show reads ssm-setup's proxy settings back, masked. With o.Restart set (the host root)
// it also looks at the running agent's process to tell whether they are in effect; when
// it cannot tell, InEffect is nil. It changes nothing and needs root only when the
// settings hold a password (their file is mode 0600).
func Show(ctx context.Context, o Options) (Shown, error) {
	if err := o.defaults(); err != nil {
		return Shown{}, err
	}
	s, files, err := read(o)
	if err != nil {
		return Shown{}, err
	}
	m := s.Masked()
	shown := Shown{Configured: !s.IsZero(), Files: files, HTTPProxy: m.HTTPProxy, HTTPSProxy: m.HTTPSProxy, NoProxy: m.NoProxy}
	if shown.Files == nil {
		shown.Files = []string{}
	}
	if !shown.Configured || !o.Restart {
		return shown, nil
	}
	mgr, err := service.New(o.InitSystem, o.Snap, o.Runner)
	if err != nil {
		return shown, err
	}
	pid, err := check(ctx, o, mgr, want(s))
	shown.MainPID = pid
	var mismatch *mismatchError
	switch {
	case err == nil:
		yes := true
		shown.InEffect = &yes
	case errors.As(err, &mismatch):
		no := false
		shown.InEffect = &no
		o.Logger.Warn(err.Error())
	default:
		o.Logger.Debug("cannot tell whether the running agent has the proxy settings", "error", err)
	}
	return shown, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
