package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

const (
	showLine     = "systemctl show amazon-ssm-agent -p ActiveState -p SubState -p UnitFileState -p MainPID -p ActiveEnterTimestamp"
	snapShowLine = "systemctl show snap.amazon-ssm-agent.amazon-ssm-agent -p ActiveState -p SubState -p UnitFileState -p MainPID -p ActiveEnterTimestamp"
	running      = "ActiveState=active\nUnitFileState=enabled\nMainPID=4242\nActiveEnterTimestamp=\n"
	stopped      = "ActiveState=inactive\nUnitFileState=enabled\nMainPID=0\nActiveEnterTimestamp=\n"
	dropIn       = "/etc/systemd/system/amazon-ssm-agent.service.d/ssm-setup-proxy.conf"
	snapDropIn   = "/etc/systemd/system/snap.amazon-ssm-agent.amazon-ssm-agent.service.d/ssm-setup-proxy.conf"
)

// bench is a temp root, a fake /proc, a strict fake runner and a captured log.
type bench struct {
	t    *testing.T
	root sysroot.Root
	proc string
	fake *runtest.Fake
	log  *bytes.Buffer
}

func newBench(t *testing.T) *bench {
	t.Helper()
	root, err := sysroot.New(filepath.Join(t.TempDir(), "root"))
	if err != nil {
		t.Fatal(err)
	}
	return &bench{t: t, root: root, proc: filepath.Join(t.TempDir(), "proc"), fake: runtest.New(t), log: &bytes.Buffer{}}
}

func (b *bench) opts(init string, s Settings) Options {
	return Options{
		Root: b.root, Runner: b.fake, Logger: slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		InitSystem: init, Settings: s, Restart: true, ProcRoot: b.proc,
		Now: func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) }, VerifyTimeout: time.Nanosecond,
	}
}

// environ makes the fake process pid have vars (NAME=value entries).
func (b *bench) environ(pid string, vars ...string) {
	b.t.Helper()
	dir := filepath.Join(b.proc, pid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	data := strings.Join(append([]string{"PATH=/usr/bin", "LANG=C"}, vars...), "\x00") + "\x00"
	if err := os.WriteFile(filepath.Join(dir, "environ"), []byte(data), 0o400); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bench) write(p, content string, mode fs.FileMode) {
	b.t.Helper()
	host := b.root.Path(p)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(host, []byte(content), mode); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bench) read(p string) (string, fs.FileMode) {
	b.t.Helper()
	host := b.root.Path(p)
	data, err := os.ReadFile(host)
	if err != nil {
		return "<none>", 0
	}
	info, err := os.Stat(host)
	if err != nil {
		b.t.Fatal(err)
	}
	return string(data), info.Mode().Perm()
}

// noSecret fails when the password appears in the log, the result, the error or the state file.
func (b *bench) noSecret(v any, err error) {
	b.t.Helper()
	j, _ := json.Marshal(v)
	st, _ := os.ReadFile(b.root.Path(state.Path))
	for what, text := range map[string]string{"log": b.log.String(), "result": string(j), "state file": string(st)} {
		if strings.Contains(text, secret) {
			b.t.Errorf("%s shows the password: %s", what, text)
		}
	}
	if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(fail.HintOf(err), secret)) {
		b.t.Errorf("error shows the password: %v", err)
	}
}

func envOf(s Settings) []string {
	var out []string
	for _, v := range s.env() {
		out = append(out, v.name+"="+v.value)
	}
	return out
}

func in(s Settings) Settings {
	return Settings{HTTPProxy: s.HTTPProxy, HTTPSProxy: s.HTTPSProxy, NoProxy: "localhost"}
}

func TestSetSystemd(t *testing.T) {
	b := newBench(t)
	b.fake.Expect(runtest.Call{Line: showLine, Stdout: running, Any: true}).
		ExpectLine("systemctl daemon-reload", "").
		ExpectLine("systemctl restart amazon-ssm-agent", "")
	b.environ("4242", envOf(plain)...)

	res, err := Set(context.Background(), b.opts("systemd", in(plain)))
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	want := Result{
		Changed: true, Files: []string{dropIn}, HTTPProxy: "http://proxy:3128", HTTPSProxy: "http://proxy:3128", NoProxy: noProxy,
		Restarted: true, Verified: true, MainPID: 4242, Commands: []string{"systemctl daemon-reload", "systemctl restart amazon-ssm-agent"},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if got, mode := b.read(dropIn); got != plainDropIn || mode != 0o644 {
		t.Errorf("drop-in: got %v %q, want 0644 %q", mode, got, plainDropIn)
	}
	if got, _ := b.read(EnvFilePath); got != "<none>" {
		t.Errorf("environment file: got %q, want none", got)
	}
	st, err := state.Load(b.root)
	if err != nil {
		t.Fatal(err)
	}
	wantRec := &state.ProxyRecord{Files: []string{dropIn}, HTTPProxy: "http://proxy:3128", HTTPSProxy: "http://proxy:3128", NoProxy: noProxy}
	if diff := cmp.Diff(wantRec, st.Proxy); diff != "" {
		t.Errorf("state proxy record (-want +got):\n%s", diff)
	}
	if f, ok := st.FindFile(dropIn); !ok || f.Purpose != "proxy" || len(f.SHA256) != 64 {
		t.Errorf("state file record of the drop-in: got %+v, %v, want purpose proxy and a SHA-256", f, ok)
	}
	if n := len(st.History); n != 1 || st.History[0].Action != "proxy" {
		t.Errorf("history: got %+v, want one proxy event", st.History)
	}

	// The same settings again: nothing changes and no command runs (the strict fake has
	// no expectations left, so any command fails the test).
	b2 := *b
	b2.fake = runtest.New(t)
	res, err = Set(context.Background(), b2.opts("systemd", in(plain)))
	if err != nil {
		t.Fatalf("second Set: %v", err)
	}
	if res.Changed || res.Restarted || res.Verified || len(res.Commands) != 0 {
		t.Errorf("second Set: got %+v, want nothing changed and no commands", res)
	}
	if len(b2.fake.Ran) != 0 {
		t.Errorf("second Set ran %q, want nothing", b2.fake.Ran)
	}
	st2, err := state.Load(b.root)
	if err != nil {
		t.Fatal(err)
	}
	if len(st2.History) != 1 {
		t.Errorf("second Set recorded history: got %d events, want 1", len(st2.History))
	}
}

func TestSetCredentials(t *testing.T) {
	b := newBench(t)
	b.write(dropIn, plainDropIn, 0o644) // switching from settings without credentials
	b.fake.Expect(runtest.Call{Line: showLine, Stdout: running, Any: true}).
		ExpectLine("systemctl daemon-reload", "").
		ExpectLine("systemctl restart amazon-ssm-agent", "")
	b.environ("4242", envOf(creds)...)

	res, err := Set(context.Background(), b.opts("systemd", in(creds)))
	b.noSecret(res, err)
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	if res.HTTPProxy != "http://user:***@proxy:3128" || res.HTTPSProxy != "http://user:***@proxy:3128" {
		t.Errorf("result URLs: got %q and %q, want them masked", res.HTTPProxy, res.HTTPSProxy)
	}
	if diff := cmp.Diff([]string{EnvFilePath, dropIn}, res.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if got, mode := b.read(dropIn); got != credsDropIn || mode != 0o644 {
		t.Errorf("drop-in: got %v %q, want 0644 %q", mode, got, credsDropIn)
	}
	if got, mode := b.read(EnvFilePath); got != credsEnvFile || mode != 0o600 {
		t.Errorf("environment file: got %v %q, want 0600 %q", mode, got, credsEnvFile)
	}
	if !res.Verified {
		t.Errorf("verified: got false, want true")
	}
	st, err := state.Load(b.root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.FindFile(EnvFilePath); !ok {
		t.Errorf("state does not record %s", EnvFilePath)
	}

	// Back to no credentials: the environment file goes, and leaves the state too.
	b.fake = runtest.New(t)
	b.fake.Expect(runtest.Call{Line: showLine, Stdout: running, Any: true}).
		ExpectLine("systemctl daemon-reload", "").
		ExpectLine("systemctl restart amazon-ssm-agent", "")
	b.environ("4242", envOf(plain)...)
	if _, err := Set(context.Background(), b.opts("systemd", in(plain))); err != nil {
		t.Fatalf("Set without credentials: %v", err)
	}
	if got, _ := b.read(EnvFilePath); got != "<none>" {
		t.Errorf("environment file after switching to no credentials: got %q, want none", got)
	}
	st, err = state.Load(b.root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.FindFile(EnvFilePath); ok {
		t.Errorf("state still records the removed %s", EnvFilePath)
	}
}

func TestSetVerifyMismatch(t *testing.T) {
	b := newBench(t)
	b.fake.Expect(runtest.Call{Line: showLine, Stdout: running, Any: true}).
		ExpectLine("systemctl daemon-reload", "").
		ExpectLine("systemctl restart amazon-ssm-agent", "")
	b.environ("4242", "http_proxy=http://user:"+secret+"@other:3128")

	res, err := Set(context.Background(), b.opts("systemd", in(creds)))
	b.noSecret(res, err)
	if err == nil {
		t.Fatalf("Set: got nil error, want a verification failure")
	}
	if fail.KindOf(err) != fail.PackageManager {
		t.Errorf("kind: got %v, want package_manager", fail.KindOf(err))
	}
	for _, w := range []string{"pid 4242", `http_proxy is "http://user:***@other:3128", want "http://user:***@proxy:3128"`, `https_proxy is "", want`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error: got %q, want it to contain %q", err, w)
		}
	}
	if !strings.Contains(fail.HintOf(err), "systemctl cat amazon-ssm-agent") {
		t.Errorf("hint: got %q, want the systemctl cat command", fail.HintOf(err))
	}
	if !res.Restarted || res.Verified {
		t.Errorf("result: got restarted %v verified %v, want true false", res.Restarted, res.Verified)
	}
}

func TestSetStoppedAgent(t *testing.T) {
	b := newBench(t)
	b.fake.ExpectLine(showLine, stopped).ExpectLine("systemctl daemon-reload", "")
	res, err := Set(context.Background(), b.opts("systemd", in(plain)))
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	if !res.Changed || res.Restarted || res.Verified {
		t.Errorf("got %+v, want changed, not restarted, not verified", res)
	}
}

func TestSetSnap(t *testing.T) {
	b := newBench(t)
	b.write(dropIn, plainDropIn, 0o644) // left from a deb agent
	b.fake.Expect(runtest.Call{Line: snapShowLine, Stdout: running, Any: true}).
		ExpectLine("systemctl daemon-reload", "").
		ExpectLine("systemctl restart snap.amazon-ssm-agent.amazon-ssm-agent", "")
	b.environ("4242", envOf(plain)...)
	o := b.opts("systemd", in(plain))
	o.Snap = true
	res, err := Set(context.Background(), o)
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	if diff := cmp.Diff([]string{snapDropIn}, res.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if got, _ := b.read(dropIn); got != "<none>" {
		t.Errorf("the deb agent's drop-in: got %q, want it removed", got)
	}
}

func TestSetDryRunAndImageRoot(t *testing.T) {
	t.Run("dry run", func(t *testing.T) {
		b := newBench(t)
		o := b.opts("systemd", in(creds))
		o.DryRun = true
		res, err := Set(context.Background(), o)
		b.noSecret(res, err)
		if err != nil {
			t.Fatal(err)
		}
		want := Result{Changed: true, DryRun: true, Files: []string{EnvFilePath, dropIn}, HTTPProxy: "http://user:***@proxy:3128", HTTPSProxy: "http://user:***@proxy:3128", NoProxy: noProxy,
			Commands: []string{"systemctl daemon-reload", "systemctl restart amazon-ssm-agent"}}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		entries, _ := os.ReadDir(b.root.Dir())
		if len(entries) != 0 {
			t.Errorf("dry run wrote into the root: %v", entries)
		}
	})
	t.Run("image root", func(t *testing.T) {
		b := newBench(t)
		o := b.opts("systemd", in(plain))
		o.Restart = false
		res, err := Set(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Restarted || len(res.Commands) != 0 {
			t.Errorf("got %+v, want changed without commands", res)
		}
		if got, _ := b.read(dropIn); got != plainDropIn {
			t.Errorf("drop-in: got %q, want %q", got, plainDropIn)
		}
	})
}

func TestUnsetSystemd(t *testing.T) {
	b := newBench(t)
	b.write(dropIn, credsDropIn, 0o644)
	b.write(EnvFilePath, credsEnvFile, 0o600)
	st := state.New()
	st.AddFile(dropIn, "proxy", "x")
	st.AddFile(EnvFilePath, "proxy", "y")
	st.AddFile("/etc/other", "other", "z")
	st.Proxy = &state.ProxyRecord{Files: []string{EnvFilePath, dropIn}}
	if err := st.Save(b.root); err != nil {
		t.Fatal(err)
	}
	b.fake.Expect(runtest.Call{Line: showLine, Stdout: running, Any: true}).
		ExpectLine("systemctl daemon-reload", "").
		ExpectLine("systemctl restart amazon-ssm-agent", "")
	b.environ("4242")

	res, err := Unset(context.Background(), b.opts("systemd", Settings{}))
	b.noSecret(res, err)
	if err != nil {
		t.Fatalf("Unset: %v", err)
	}
	want := Result{Changed: true, Files: []string{EnvFilePath, dropIn}, Restarted: true, Verified: true, MainPID: 4242,
		Commands: []string{"systemctl daemon-reload", "systemctl restart amazon-ssm-agent"}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, p := range []string{EnvFilePath, dropIn} {
		if got, _ := b.read(p); got != "<none>" {
			t.Errorf("%s: got %q, want it removed", p, got)
		}
	}
	if _, err := os.Stat(b.root.Path(filepath.Dir(dropIn))); err == nil {
		t.Errorf("the emptied drop-in directory is still there")
	}
	st, err = state.Load(b.root)
	if err != nil {
		t.Fatal(err)
	}
	if st.Proxy != nil {
		t.Errorf("state proxy: got %+v, want nil", st.Proxy)
	}
	if diff := cmp.Diff([]state.FileRecord{{Path: "/etc/other", Purpose: "other", SHA256: "z"}}, st.Files); diff != "" {
		t.Errorf("state files (-want +got):\n%s", diff)
	}

	// Nothing left to remove: no change, no command.
	b.fake = runtest.New(t)
	res, err = Unset(context.Background(), b.opts("systemd", Settings{}))
	if err != nil || res.Changed || len(b.fake.Ran) != 0 {
		t.Errorf("second Unset: got %+v, %v, ran %q; want unchanged and no commands", res, err, b.fake.Ran)
	}
}

func TestUnsetVerifyStillSet(t *testing.T) {
	b := newBench(t)
	b.write(dropIn, plainDropIn, 0o644)
	b.fake.Expect(runtest.Call{Line: showLine, Stdout: running, Any: true}).
		ExpectLine("systemctl daemon-reload", "").
		ExpectLine("systemctl restart amazon-ssm-agent", "")
	b.environ("4242", "https_proxy=http://proxy:3128")
	_, err := Unset(context.Background(), b.opts("systemd", Settings{}))
	if err == nil || fail.KindOf(err) != fail.PackageManager || !strings.Contains(err.Error(), `https_proxy is still "http://proxy:3128"`) {
		t.Errorf("got %v, want a package_manager error naming https_proxy", err)
	}
}

func TestUpstart(t *testing.T) {
	b := newBench(t)
	other := "manual\nenv FOO=bar\n"
	b.write(UpstartOverridePath, other, 0o644)
	b.fake.Expect(runtest.Call{Line: "status amazon-ssm-agent", Stdout: "amazon-ssm-agent start/running, process 77\n", Any: true}).
		ExpectLine("initctl reload-configuration", "").
		ExpectLine("stop amazon-ssm-agent", "").
		ExpectLine("start amazon-ssm-agent", "")
	b.environ("77", envOf(creds)...)

	res, err := Set(context.Background(), b.opts("upstart", in(creds)))
	b.noSecret(res, err)
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	if !res.Verified || res.MainPID != 77 {
		t.Errorf("got %+v, want verified pid 77", res)
	}
	got, mode := b.read(UpstartOverridePath)
	if !strings.HasPrefix(got, other+UpstartBegin+"\n") || mode != 0o600 {
		t.Errorf("override: got %v %q, want 0600, the other lines kept and the block after them", mode, got)
	}
	if !strings.Contains(got, "env http_proxy=http://user:"+secret+"@proxy:3128\n") {
		t.Errorf("override: got %q, want the http_proxy line", got)
	}
	st, err := state.Load(b.root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.FindFile(UpstartOverridePath); ok {
		t.Errorf("state records %s, which holds other lines: uninstall would remove them", UpstartOverridePath)
	}
	if st.Proxy == nil || len(st.Proxy.Files) != 1 {
		t.Errorf("state proxy record: got %+v, want the override file", st.Proxy)
	}

	shown, err := Show(context.Background(), b.opts("upstart", Settings{}))
	b.noSecret(shown, err)
	if err != nil {
		t.Fatalf("Show: %v", err)
	}
	if shown.HTTPProxy != "http://user:***@proxy:3128" || shown.InEffect == nil || !*shown.InEffect {
		t.Errorf("Show: got %+v, want the masked proxy, in effect", shown)
	}

	b.fake = runtest.New(t)
	b.fake.Expect(runtest.Call{Line: "status amazon-ssm-agent", Stdout: "amazon-ssm-agent start/running, process 78\n", Any: true}).
		ExpectLine("initctl reload-configuration", "").
		ExpectLine("stop amazon-ssm-agent", "").
		ExpectLine("start amazon-ssm-agent", "")
	b.environ("78")
	if _, err := Unset(context.Background(), b.opts("upstart", Settings{})); err != nil {
		t.Fatalf("Unset: %v", err)
	}
	if got, _ := b.read(UpstartOverridePath); got != other {
		t.Errorf("override after Unset: got %q, want %q", got, other)
	}
}

func TestUpstartOwnFileRecorded(t *testing.T) {
	b := newBench(t)
	o := b.opts("upstart", in(plain))
	o.Restart = false
	if _, err := Set(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, mode := b.read(UpstartOverridePath); mode != 0o644 {
		t.Errorf("mode: got %v, want 0644 without credentials", mode)
	}
	st, err := state.Load(b.root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.FindFile(UpstartOverridePath); !ok {
		t.Errorf("state does not record %s, which holds only ssm-setup's block", UpstartOverridePath)
	}
}

func TestShow(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		environ []string
		want    Shown
	}{
		{name: "nothing", want: Shown{Files: []string{}}},
		{
			name: "in effect", files: map[string]string{dropIn: plainDropIn}, environ: envOf(plain),
			want: Shown{Configured: true, Files: []string{dropIn}, HTTPProxy: "http://proxy:3128", HTTPSProxy: "http://proxy:3128", NoProxy: noProxy, InEffect: ptr(true), MainPID: 4242},
		},
		{
			name: "not in effect", files: map[string]string{dropIn: credsDropIn, EnvFilePath: credsEnvFile}, environ: nil,
			want: Shown{Configured: true, Files: []string{EnvFilePath, dropIn}, HTTPProxy: "http://user:***@proxy:3128", HTTPSProxy: "http://user:***@proxy:3128", NoProxy: noProxy, InEffect: ptr(false), MainPID: 4242},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBench(t)
			for p, c := range tt.files {
				b.write(p, c, 0o600)
			}
			if tt.want.Configured {
				b.fake.ExpectLine(showLine, running)
			}
			b.environ("4242", tt.environ...)
			got, err := Show(context.Background(), b.opts("systemd", Settings{}))
			b.noSecret(got, err)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnsupportedInit(t *testing.T) {
	tests := []struct {
		init string
		snap bool
	}{{"sysvinit", false}, {"launchd", false}, {"upstart", true}}
	for _, tt := range tests {
		t.Run(tt.init, func(t *testing.T) {
			b := newBench(t)
			o := b.opts(tt.init, in(plain))
			o.Snap = tt.snap
			if _, err := Set(context.Background(), o); fail.KindOf(err) != fail.Unsupported {
				t.Errorf("got %v, want an unsupported error", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
