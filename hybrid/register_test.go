package hybrid

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/installer/service"
	"github.com/ssm-setup/ssm-setup/installer/state"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

const (
	testActivation = "4f1e8c2a-1b2c-4d5e-8f90-123456789abc"
	testCode       = "Secr3tCodeXyz0123456"
	oldID          = "mi-00000000000000001"
	newID          = "mi-0abcdef0123456789"
	registerLine   = "/usr/bin/amazon-ssm-agent -register -y -code '***' -id " + testActivation + " -region us-east-1"
	stopLine       = "systemctl stop amazon-ssm-agent"
	startLine      = "systemctl enable --now --no-block amazon-ssm-agent"
)

// writeRegistration writes a complete registration, as the agent leaves one.
func writeRegistration(t *testing.T, root sysroot.Root, id, region, tag string) {
	t.Helper()
	writeFile(t, root, RegistrationFile, `{"ManagedInstanceID":"`+id+`","Region":"`+region+`"}`, 0o600)
	writeFile(t, root, VaultDir+"/Manifest", `{"RegistrationKey":"Store/RegistrationKey"}`+tag, 0o600)
	writeFile(t, root, VaultDir+"/Store/RegistrationKey", `{"instanceID":"`+id+`","privateKey":"key-`+tag+`"}`, 0o600)
	writeFile(t, root, RuntimeConfigDir+"/identity_config.json", `{"InstanceId":"`+id+`"}`, 0o644)
	if err := os.Chmod(root.Path(VaultDir+"/Store"), 0o700); err != nil {
		t.Fatal(err)
	}
}

// agentRegisters is the side effect of a successful "-register -y": the agent wipes the
// old registration, then writes the new one.
func agentRegisters(t *testing.T, root sysroot.Root, id, region string) func() {
	return func() {
		for _, p := range registrationPaths {
			os.RemoveAll(root.Path(p))
		}
		writeRegistration(t, root, id, region, "new")
	}
}

// agentFailsHalfway wipes the old registration and leaves debris, as a failed
// registration does.
func agentFailsHalfway(t *testing.T, root sysroot.Root) func() {
	return func() {
		for _, p := range registrationPaths {
			os.RemoveAll(root.Path(p))
		}
		writeFile(t, root, VaultDir+"/Store/partial", "debris", 0o600)
	}
}

func newRegisterOptions(t *testing.T, root sysroot.Root, r run.Runner) RegisterOptions {
	t.Helper()
	svc, err := service.New(service.Systemd, false, r)
	if err != nil {
		t.Fatal(err)
	}
	return RegisterOptions{
		Root: root, Runner: r, ActivationID: testActivation, Code: testCode, Region: "us-east-1",
		Service: svc, Now: func() time.Time { return testNow },
	}
}

// backups lists the backup directories left under BackupBase.
func backups(t *testing.T, root sysroot.Root) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root.Path(BackupBase), "backup-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRegisterFresh(t *testing.T) {
	root := newRoot(t)
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "").ExpectLine(registerLine, "Successfully registered the instance").ExpectLine(startLine, "")
	r := &effectRunner{Fake: fake, effects: map[string]func(){registerLine: agentRegisters(t, root, newID, "us-east-1")}}
	log, buf := captureLog()
	o := newRegisterOptions(t, root, r)
	o.Logger = log
	got, err := Register(context.Background(), o)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	want := RegisterResult{Changed: true, ManagedInstanceID: newID, Region: "us-east-1", ActivationID: testActivation}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{stopLine, registerLine, startLine}, fake.Ran); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if b := backups(t, root); len(b) != 0 {
		t.Errorf("got backups %v left, want none after success", b)
	}
	st, err := state.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	wantRec := &state.RegistrationRecord{ManagedInstanceID: newID, Region: "us-east-1", ActivationID: testActivation, RegisteredAt: testNow}
	if diff := cmp.Diff(wantRec, st.Registration); diff != "" {
		t.Errorf("state registration (-want +got):\n%s", diff)
	}
	if n := len(st.History); n != 1 || st.History[0].Action != "register" {
		t.Errorf("got history %+v, want one register event", st.History)
	}
	if strings.Contains(buf.String(), testCode) {
		t.Errorf("log contains the activation code:\n%s", buf)
	}
}

func TestRegisterAlreadyRegistered(t *testing.T) {
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	fake := runtest.New(t) // no command may run
	got, err := Register(context.Background(), newRegisterOptions(t, root, fake))
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	want := RegisterResult{Changed: false, ManagedInstanceID: oldID, Region: "us-east-1", ActivationID: testActivation}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if len(fake.Ran) != 0 {
		t.Errorf("got commands %v, want none", fake.Ran)
	}
	if _, err := os.Stat(root.Path(state.Path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got state file (err %v), want none written for a no-op", err)
	}
}

func TestRegisterOtherRegionNeedsForce(t *testing.T) {
	root := newRoot(t)
	writeRegistration(t, root, oldID, "eu-west-1", "old")
	fake := runtest.New(t)
	_, err := Register(context.Background(), newRegisterOptions(t, root, fake))
	if err == nil || fail.KindOf(err) != fail.Usage || !strings.Contains(err.Error(), "registered as "+oldID+" in eu-west-1") {
		t.Fatalf("got %v, want a usage error naming the old registration", err)
	}
	if !strings.Contains(fail.HintOf(err), "--force") {
		t.Errorf("got hint %q, want --force", fail.HintOf(err))
	}
}

func TestRegisterForce(t *testing.T) {
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "").ExpectLine(registerLine, "").ExpectLine(startLine, "")
	r := &effectRunner{Fake: fake, effects: map[string]func(){registerLine: agentRegisters(t, root, newID, "us-east-1")}}
	o := newRegisterOptions(t, root, r)
	o.Force = true
	got, err := Register(context.Background(), o)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	want := RegisterResult{Changed: true, ManagedInstanceID: newID, PreviousID: oldID, Region: "us-east-1", ActivationID: testActivation}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if got := RegistrationStatus(root, nil); got.ManagedInstanceID != newID {
		t.Errorf("got registration %+v, want %s", got, newID)
	}
}

func TestRegisterFailureRestoresExactly(t *testing.T) {
	tests := []struct {
		name     string
		output   string
		wantErr  string
		wantHint string
	}{
		{"expired", "Registration failed due to error registering the instance with AWS SSM. ActivationExpired: Activation has expired", "the activation has expired", "create a new activation"},
		{"invalid", "InvalidActivation: Activation is not valid", "AWS does not know this activation id and code in us-east-1", "belong together"},
		{"not found", "ActivationNotFound", "AWS does not know this activation", "activation list"},
		{"limit", "RegistrationLimitExceeded: Activation has reached its registration limit", "registration limit is reached", "--registration-limit"},
		{"limit words", "the registration limit of this activation was reached", "registration limit is reached", "--registration-limit"},
		{"clock", "InvalidSignatureException: Signature expired: 20260301T120000Z is now earlier than 20260301T121500Z", "clock is off", "timedatectl"},
		{"clock words", "request rejected: check your clock", "clock is off", "chronyc"},
		{"dns", "dial tcp: lookup ssm.us-east-1.amazonaws.com: no such host", "cannot reach the SSM endpoint of us-east-1", "port 443"},
		{"timeout", "RequestError: send request failed: net/http: request canceled (Client.Timeout exceeded)", "cannot reach the SSM endpoint", "proxy"},
		{"unknown", "something else went wrong", "registration failed: ", "amazon-ssm-agent.log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t)
			writeRegistration(t, root, oldID, "us-east-1", "old")
			before := snapshot(t, root, "/var/lib/amazon/ssm")
			fake := runtest.New(t)
			// The agent echoes the code: it must still appear nowhere.
			fake.ExpectLine(stopLine, "").
				Expect(runtest.Call{Line: registerLine, Stderr: tt.output + " (code " + testCode + ")", ExitCode: 1}).
				ExpectLine(startLine, "")
			r := &effectRunner{Fake: fake, effects: map[string]func(){registerLine: agentFailsHalfway(t, root)}}
			log, buf := captureLog()
			o := newRegisterOptions(t, root, r)
			o.Force = true
			o.Logger = log
			_, err := Register(context.Background(), o)
			if err == nil {
				t.Fatal("got no error")
			}
			if got := fail.KindOf(err); got != fail.Registration {
				t.Errorf("got kind %v, want registration", got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantErr)
			}
			if !strings.Contains(fail.HintOf(err), tt.wantHint) {
				t.Errorf("got hint %q, want it to contain %q", fail.HintOf(err), tt.wantHint)
			}
			for what, text := range map[string]string{"error": err.Error(), "hint": fail.HintOf(err), "log": buf.String(), "commands": strings.Join(fake.Ran, "\n")} {
				if strings.Contains(text, testCode) {
					t.Errorf("the activation code appears in the %s: %s", what, text)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, root, "/var/lib/amazon/ssm")); diff != "" {
				t.Errorf("registration not restored exactly (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff([]string{stopLine, registerLine, startLine}, fake.Ran); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
			if b := backups(t, root); len(b) != 0 {
				t.Errorf("got backups %v left, want none after a successful restore", b)
			}
		})
	}
}

func TestRegisterFreshFailureLeavesNothing(t *testing.T) {
	root := newRoot(t)
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "").
		Expect(runtest.Call{Line: registerLine, Stderr: "ActivationExpired", ExitCode: 1}).
		ExpectLine(startLine, "")
	r := &effectRunner{Fake: fake, effects: map[string]func(){registerLine: agentFailsHalfway(t, root)}}
	_, err := Register(context.Background(), newRegisterOptions(t, root, r))
	if fail.KindOf(err) != fail.Registration {
		t.Fatalf("got %v, want a registration error", err)
	}
	for _, p := range registrationPaths {
		if _, err := os.Lstat(root.Path(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after the failed registration (err %v), want it removed", p, err)
		}
	}
}

func TestRegisterSuccessWithoutFileIsRestored(t *testing.T) {
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	before := snapshot(t, root, "/var/lib/amazon/ssm")
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "").ExpectLine(registerLine, "").ExpectLine(startLine, "")
	r := &effectRunner{Fake: fake, effects: map[string]func(){registerLine: agentFailsHalfway(t, root)}}
	o := newRegisterOptions(t, root, r)
	o.Force = true
	_, err := Register(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "wrote no registration file") {
		t.Fatalf("got %v, want 'wrote no registration file'", err)
	}
	if diff := cmp.Diff(before, snapshot(t, root, "/var/lib/amazon/ssm")); diff != "" {
		t.Errorf("registration not restored (-before +after):\n%s", diff)
	}
}

func TestRegisterStartFailureRestoresAndRestarts(t *testing.T) {
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	before := snapshot(t, root, "/var/lib/amazon/ssm")
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "").ExpectLine(registerLine, "").
		Expect(runtest.Call{Line: startLine, ExitCode: 1, Stderr: "Job failed"}).
		ExpectLine("systemctl restart amazon-ssm-agent", "")
	r := &effectRunner{Fake: fake, effects: map[string]func(){registerLine: agentRegisters(t, root, newID, "us-east-1")}}
	o := newRegisterOptions(t, root, r)
	o.Force = true
	_, err := Register(context.Background(), o)
	if fail.KindOf(err) != fail.Registration || !strings.Contains(err.Error(), "did not start with the new registration") {
		t.Fatalf("got %v, want a registration error about the start", err)
	}
	if diff := cmp.Diff(before, snapshot(t, root, "/var/lib/amazon/ssm")); diff != "" {
		t.Errorf("registration not restored (-before +after):\n%s", diff)
	}
}

func TestRegisterRefusedBeforeTouchingAnything(t *testing.T) {
	ec2 := &EC2Instance{InstanceID: "i-0123456789abcdef0", Region: "us-east-1"}
	tests := []struct {
		name     string
		change   func(o *RegisterOptions)
		wantKind fail.Kind
		wantErr  string
		wantHint string
	}{
		{"bad activation id", func(o *RegisterOptions) { o.ActivationID = "abc" }, fail.Usage, `activation id "abc" is not a UUID`, "ActivationId"},
		{"bad region", func(o *RegisterOptions) { o.Region = "US-EAST-1" }, fail.Usage, "not an AWS region name", "lower case"},
		{"no code", func(o *RegisterOptions) { o.Code = "" }, fail.Usage, "activation code required", "--activation-code-file"},
		{"on EC2", func(o *RegisterOptions) { o.EC2 = ec2 }, fail.Usage, "EC2 instance i-0123456789abcdef0", "--allow-on-ec2"},
		{"no agent", func(o *RegisterOptions) { o.AgentBinary = "/usr/local/bin/amazon-ssm-agent" }, fail.Registration, "is not installed", "ssm-setup install"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t)
			fake := runtest.New(t)
			o := newRegisterOptions(t, root, fake)
			tt.change(&o)
			_, err := Register(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if got := fail.KindOf(err); got != tt.wantKind {
				t.Errorf("got kind %v, want %v", got, tt.wantKind)
			}
			if !strings.Contains(fail.HintOf(err), tt.wantHint) {
				t.Errorf("got hint %q, want it to contain %q", fail.HintOf(err), tt.wantHint)
			}
			if len(fake.Ran) != 0 {
				t.Errorf("got commands %v, want none", fake.Ran)
			}
			if _, err := os.Stat(root.Path(BackupBase)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("backup base exists (err %v), want nothing touched", err)
			}
		})
	}
}

func TestRegisterOnEC2Allowed(t *testing.T) {
	root := newRoot(t)
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "").ExpectLine(registerLine, "").ExpectLine(startLine, "")
	r := &effectRunner{Fake: fake, effects: map[string]func(){registerLine: agentRegisters(t, root, newID, "us-east-1")}}
	o := newRegisterOptions(t, root, r)
	o.EC2 = &EC2Instance{InstanceID: "i-0123456789abcdef0", Region: "us-east-1"}
	o.AllowOnEC2 = true
	if _, err := Register(context.Background(), o); err != nil {
		t.Fatalf("Register: %v", err)
	}
}

func TestRegisterDryRun(t *testing.T) {
	root := newRoot(t)
	fake := runtest.New(t)
	o := newRegisterOptions(t, root, fake)
	o.DryRun = true
	got, err := Register(context.Background(), o)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if got.Changed || !got.DryRun || len(fake.Ran) != 0 {
		t.Errorf("got %+v and commands %v, want an unchanged dry run and no commands", got, fake.Ran)
	}
	plan := strings.Join(got.Plan, "\n")
	for _, want := range []string{stopLine, registerLine, startLine} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan %q lacks %q", plan, want)
		}
	}
	if strings.Contains(plan, testCode) {
		t.Errorf("plan shows the activation code: %s", plan)
	}
}

func TestRegisterStoppedUpstartAgent(t *testing.T) {
	// upstart's "stop" fails on a job that is not running: registration goes on.
	root := newRoot(t)
	fake := runtest.New(t)
	fake.Expect(runtest.Call{Line: "stop amazon-ssm-agent", ExitCode: 1, Stderr: "stop: Unknown instance:"}).
		ExpectLine("status amazon-ssm-agent", "amazon-ssm-agent stop/waiting\n").
		ExpectLine(registerLine, "").
		ExpectLine("start amazon-ssm-agent", "")
	r := &effectRunner{Fake: fake, effects: map[string]func(){registerLine: agentRegisters(t, root, newID, "us-east-1")}}
	o := newRegisterOptions(t, root, r)
	svc, err := service.New(service.Upstart, false, r)
	if err != nil {
		t.Fatal(err)
	}
	o.Service = svc
	if _, err := Register(context.Background(), o); err != nil {
		t.Fatalf("Register: %v", err)
	}
}

func TestBackupKeepsModesAndContents(t *testing.T) {
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	if err := os.Symlink("Store/RegistrationKey", root.Path(VaultDir+"/link")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root, "/var/lib/amazon/ssm")
	b, err := takeBackup(root, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(b.dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("backup dir mode %v (err %v), want 0700", st.Mode().Perm(), err)
	}
	if !strings.HasPrefix(filepath.Base(b.dir), "backup-20260301T120000Z-") {
		t.Errorf("got backup dir %s, want backup-20260301T120000Z-*", b.dir)
	}
	os.RemoveAll(root.Path("/var/lib/amazon/ssm"))
	if err := b.restore(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, snapshot(t, root, "/var/lib/amazon/ssm")); diff != "" {
		t.Errorf("restore differs (-before +after):\n%s", diff)
	}
}
