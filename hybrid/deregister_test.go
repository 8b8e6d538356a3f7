package hybrid

import (
	"context"
	"errors"
	"os"
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

const clearLine = "/usr/bin/amazon-ssm-agent -clear"

func newDeregisterOptions(t *testing.T, root sysroot.Root, r run.Runner) DeregisterOptions {
	t.Helper()
	svc, err := service.New(service.Systemd, false, r)
	if err != nil {
		t.Fatal(err)
	}
	return DeregisterOptions{Root: root, Runner: r, Service: svc, Now: func() time.Time { return testNow }}
}

// agentClears is the side effect of "amazon-ssm-agent -clear".
func agentClears(root sysroot.Root) func() {
	return func() {
		for _, p := range registrationPaths {
			os.RemoveAll(root.Path(p))
		}
	}
}

func assertNoRegistration(t *testing.T, root sysroot.Root) {
	t.Helper()
	for _, p := range registrationPaths {
		if _, err := os.Lstat(root.Path(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists (err %v)", p, err)
		}
	}
}

func TestDeregisterThisNode(t *testing.T) {
	srv := newFakeSSM(t, map[string][]ssmReply{"DeregisterManagedInstance": {{Body: `{}`}}})
	root := newRoot(t)
	writeRegistration(t, root, oldID, "eu-west-1", "old")
	st := state.New()
	st.Registration = &state.RegistrationRecord{ManagedInstanceID: oldID, Region: "eu-west-1"}
	if err := st.Save(root); err != nil {
		t.Fatal(err)
	}
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "").ExpectLine(clearLine, "Registration data cleared")
	r := &effectRunner{Fake: fake, effects: map[string]func(){clearLine: agentClears(root)}}
	got, err := Deregister(context.Background(), newDeregisterOptions(t, root, r))
	if err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	if diff := cmp.Diff(DeregisterResult{ManagedInstanceID: oldID, Region: "eu-west-1", LocalCleared: true}, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	want := []ssmRequest{{Target: "AmazonSSM.DeregisterManagedInstance", Body: map[string]any{"InstanceId": oldID}}}
	if diff := cmp.Diff(want, srv.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{stopLine, clearLine}, fake.Ran); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	assertNoRegistration(t, root)
	st, err = state.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if st.Registration != nil || len(st.History) != 1 || st.History[0].Action != "deregister" {
		t.Errorf("got state registration %+v, history %+v; want none and one deregister event", st.Registration, st.History)
	}
}

func TestDeregisterKeepLocal(t *testing.T) {
	srv := newFakeSSM(t, map[string][]ssmReply{"DeregisterManagedInstance": {{Body: `{}`}}})
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	before := snapshot(t, root, "/var/lib/amazon/ssm")
	fake := runtest.New(t)
	o := newDeregisterOptions(t, root, fake)
	o.KeepLocal = true
	got, err := Deregister(context.Background(), o)
	if err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	if got.LocalCleared || len(fake.Ran) != 0 || len(srv.requests()) != 1 {
		t.Errorf("got %+v, commands %v, %d requests; want one request only", got, fake.Ran, len(srv.requests()))
	}
	if diff := cmp.Diff(before, snapshot(t, root, "/var/lib/amazon/ssm")); diff != "" {
		t.Errorf("local registration changed (-before +after):\n%s", diff)
	}
}

func TestDeregisterOtherNodeKeepsLocal(t *testing.T) {
	srv := newFakeSSM(t, map[string][]ssmReply{"DeregisterManagedInstance": {{Body: `{}`}}})
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	fake := runtest.New(t)
	o := newDeregisterOptions(t, root, fake)
	o.InstanceID, o.Region = newID, "eu-west-1"
	got, err := Deregister(context.Background(), o)
	if err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	if got.LocalCleared || len(fake.Ran) != 0 {
		t.Errorf("got %+v, commands %v; want the local registration left alone", got, fake.Ran)
	}
	if got := srv.requests()[0].Body["InstanceId"]; got != newID {
		t.Errorf("got InstanceId %v, want %s", got, newID)
	}
	if reg := RegistrationStatus(root, nil); reg.ManagedInstanceID != oldID {
		t.Errorf("got local registration %+v, want %s kept", reg, oldID)
	}
}

func TestDeregisterAlreadyGoneStillClears(t *testing.T) {
	newFakeSSM(t, map[string][]ssmReply{"DeregisterManagedInstance": {{400, `{"__type":"InvalidInstanceId","message":"not found"}`}}})
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "").ExpectLine(clearLine, "")
	r := &effectRunner{Fake: fake, effects: map[string]func(){clearLine: agentClears(root)}}
	log, buf := captureLog()
	o := newDeregisterOptions(t, root, r)
	o.Logger = log
	got, err := Deregister(context.Background(), o)
	if err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	if !got.AlreadyDeregistered || !got.LocalCleared {
		t.Errorf("got %+v, want already deregistered and cleared", got)
	}
	if !strings.Contains(buf.String(), "deregistered already") {
		t.Errorf("got log %q, want a warning", buf)
	}
	assertNoRegistration(t, root)
}

func TestDeregisterWithoutAgentBinaryRemovesFiles(t *testing.T) {
	newFakeSSM(t, map[string][]ssmReply{"DeregisterManagedInstance": {{Body: `{}`}}})
	root := newRoot(t)
	os.Remove(root.Path(AgentBinary))
	writeRegistration(t, root, oldID, "us-east-1", "old")
	fake := runtest.New(t)
	fake.ExpectLine(stopLine, "")
	if _, err := Deregister(context.Background(), newDeregisterOptions(t, root, fake)); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	assertNoRegistration(t, root)
}

func TestDeregisterErrors(t *testing.T) {
	tests := []struct {
		name       string
		registered bool
		id, region string
		reply      []ssmReply
		wantKind   fail.Kind
		wantErr    string
		wantHint   string
	}{
		{"not registered, no id", false, "", "", nil, fail.Usage, "not registered as a hybrid node", "--instance-id"},
		{"bad id", true, "i-0123456789abcdef0", "us-east-1", nil, fail.Usage, "not a hybrid node id", "describe-instance-information"},
		{"other node without region", true, newID, "", nil, fail.Usage, "region of " + newID + " required", "--region"},
		{"bad region", true, "", "us-east-1b", nil, fail.Usage, "Availability Zone", "us-east-1"},
		{"access denied", true, "", "", []ssmReply{{400, `{"__type":"AccessDeniedException","message":"no"}`}}, fail.Registration, "lack permission ssm:DeregisterManagedInstance", "grant ssm:DeregisterManagedInstance"},
		{"unknown other node", true, newID, "us-east-1", []ssmReply{{400, `{"__type":"InvalidInstanceId","message":"not found"}`}}, fail.Registration, "no such managed node in us-east-1", "--region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newFakeSSM(t, map[string][]ssmReply{"DeregisterManagedInstance": tt.reply})
			root := newRoot(t)
			if tt.registered {
				writeRegistration(t, root, oldID, "us-east-1", "old")
			}
			before := snapshot(t, root, "/var/lib/amazon/ssm")
			fake := runtest.New(t)
			o := newDeregisterOptions(t, root, fake)
			o.InstanceID, o.Region = tt.id, tt.region
			_, err := Deregister(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if got := fail.KindOf(err); got != tt.wantKind {
				t.Errorf("got kind %v, want %v", got, tt.wantKind)
			}
			if !strings.Contains(fail.HintOf(err), tt.wantHint) {
				t.Errorf("got hint %q, want it to contain %q", fail.HintOf(err), tt.wantHint)
			}
			if diff := cmp.Diff(before, snapshot(t, root, "/var/lib/amazon/ssm")); diff != "" {
				t.Errorf("local registration changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestDeregisterDryRun(t *testing.T) {
	srv := newFakeSSM(t, nil)
	root := newRoot(t)
	writeRegistration(t, root, oldID, "us-east-1", "old")
	fake := runtest.New(t)
	o := newDeregisterOptions(t, root, fake)
	o.DryRun = true
	got, err := Deregister(context.Background(), o)
	if err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	want := []string{
		"deregister " + oldID + " in us-east-1 (DeregisterManagedInstance)",
		"stop the agent: " + stopLine,
		"clear the local registration: " + clearLine,
		"record the deregistration in " + state.Path,
	}
	if diff := cmp.Diff(want, got.Plan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if len(srv.requests()) != 0 || len(fake.Ran) != 0 {
		t.Errorf("dry run made %d requests and ran %v, want nothing", len(srv.requests()), fake.Ran)
	}
}
