package hybrid

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// rootRunner runs programs from inside a test root: "/usr/bin/x" runs ROOT/usr/bin/x.
type rootRunner struct {
	root sysroot.Root
	run.Exec
}

func (r rootRunner) Run(ctx context.Context, c run.Cmd) (run.Output, error) {
	c.Name = r.root.Path(c.Name)
	return r.Exec.Run(ctx, c)
}

// TestRegisterWithStandInAgent registers, re-registers and fails a forced
// re-registration against the bench's stand-in agent (testdata/fakeagent), which
// wipes the old registration before it validates the activation, like the real agent.
func TestRegisterWithStandInAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the stand-in agent")
	}
	root, err := sysroot.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin := root.Path(AgentBinary)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", bin, "../testdata/fakeagent")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in agent: %v\n%s", err, out)
	}
	t.Setenv("SSM_FAKEAGENT_ROOT", root.Dir())
	r := rootRunner{root: root}
	opts := func(code string, force bool) RegisterOptions {
		log, _ := captureLog()
		return RegisterOptions{Root: root, Runner: r, Logger: log, ActivationID: testActivation, Code: code, Region: "us-east-1", Force: force, Now: func() time.Time { return testNow }}
	}
	ctx := context.Background()

	first, err := Register(ctx, opts("good-code", false))
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if !first.Changed || !managedIDRE.MatchString(first.ManagedInstanceID) {
		t.Fatalf("got %+v, want a new mi- id", first)
	}
	again, err := Register(ctx, opts("good-code", false))
	if err != nil || again.Changed || again.ManagedInstanceID != first.ManagedInstanceID {
		t.Fatalf("re-register: got %+v, %v; want unchanged %s", again, err, first.ManagedInstanceID)
	}
	before := snapshot(t, root, "/var/lib/amazon/ssm")
	for _, code := range []string{"expired", "invalid"} {
		_, err = Register(ctx, opts(code, true))
		if fail.KindOf(err) != fail.Registration {
			t.Fatalf("forced register with %q: got %v, want a registration error", code, err)
		}
		if diff := cmp.Diff(before, snapshot(t, root, "/var/lib/amazon/ssm")); diff != "" {
			t.Errorf("code %q: old registration not restored (-before +after):\n%s", code, diff)
		}
	}
	if !strings.Contains(err.Error(), "AWS does not know this activation") {
		t.Errorf("got %v, want the invalid activation in plain words", err)
	}
	forced, err := Register(ctx, opts("other-code", true))
	if err != nil || forced.PreviousID != first.ManagedInstanceID || forced.ManagedInstanceID == first.ManagedInstanceID {
		t.Fatalf("forced re-register: got %+v, %v; want a new id replacing %s", forced, err, first.ManagedInstanceID)
	}
}
