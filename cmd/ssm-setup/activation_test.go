package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// ssmStandIn answers CreateActivation like SSM and counts the requests.
type ssmStandIn struct {
	requests int
	status   int
	body     string
}

func (s *ssmStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	s.requests++
	if got := r.Header.Get("X-Amz-Target"); got != "AmazonSSM.CreateActivation" {
		http.Error(w, `{"__type":"UnknownOperationException"}`, 400)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(s.status)
	io.WriteString(w, s.body)
}

// activationEnv points the SDK at a stand-in SSM endpoint with test credentials and
// keeps the host's AWS configuration out.
func activationEnv(t *testing.T, s *ssmStandIn) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-test-key",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_MAX_ATTEMPTS": "1",
		"AWS_ENDPOINT_URL_SSM": srv.URL,
	} {
		t.Setenv(k, v)
	}
}

// runActivation runs `activation ARGS...` with JSON output and returns stdout and the error.
func runActivation(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := newFactory(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	f.Opts = GlobalOptions{Output: "json", Root: "/"}
	f.Now = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	cmd := newActivationCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

const createdBody = `{"ActivationId":"4f1e8c2a-1b2c-4d5e-8f90-123456789abc","ActivationCode":"Secr3tCodeXyz0123456"}`

func TestActivationCreateCodeFile(t *testing.T) {
	s := &ssmStandIn{status: 200, body: createdBody}
	activationEnv(t, s)
	codeFile := filepath.Join(t.TempDir(), "code")
	out, err := runActivation(t, "create", "--iam-role", "SSMRole", "--region", "us-east-1", "--code-file", codeFile)
	if err != nil {
		t.Fatalf("activation create: %v", err)
	}
	b, err := os.ReadFile(codeFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "Secr3tCodeXyz0123456\n"; got != want {
		t.Errorf("got code file %q, want %q", got, want)
	}
	st, err := os.Stat(codeFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("got code file mode %v, want 0600", got)
	}
	if strings.Contains(out, "Secr3tCodeXyz0123456") {
		t.Errorf("stdout shows the code without --show-code:\n%s", out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	want := map[string]any{
		"activation_id": "4f1e8c2a-1b2c-4d5e-8f90-123456789abc", "region": "us-east-1", "expires": "2026-03-02T12:00:00Z",
		"iam_role": "SSMRole", "registration_limit": float64(1), "code_file": codeFile,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestActivationCreateShowCode(t *testing.T) {
	s := &ssmStandIn{status: 200, body: createdBody}
	activationEnv(t, s)
	out, err := runActivation(t, "create", "--iam-role", "SSMRole", "--region", "us-east-1", "--show-code")
	if err != nil {
		t.Fatalf("activation create: %v", err)
	}
	if !strings.Contains(out, `"activation_code": "Secr3tCodeXyz0123456"`) {
		t.Errorf("got %s, want the code with --show-code", out)
	}
}

func TestActivationCreateRefusals(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "existing")
	if err := os.WriteFile(existing, []byte("old code\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		status   int
		wantKind fail.Kind
		wantErr  string
		wantReqs int
	}{
		{"nowhere to keep the code", []string{"--iam-role", "R", "--region", "us-east-1"}, 200, fail.Usage, "the activation code would be lost", 0},
		{"existing code file", []string{"--iam-role", "R", "--region", "us-east-1", "--code-file", existing}, 200, fail.Usage, "exists", 0},
		{"limit", []string{"--iam-role", "R", "--region", "us-east-1", "--show-code", "--registration-limit", "0"}, 200, fail.Usage, "registration limit 0 is out of range", 0},
		{"expiry", []string{"--iam-role", "R", "--region", "us-east-1", "--show-code", "--expires", "2026-05-01T00:00:00Z"}, 200, fail.Usage, "more than 30 days ahead", 0},
		{"denied", []string{"--iam-role", "R", "--region", "us-east-1", "--show-code"}, 400, fail.Registration, "ssm:CreateActivation and iam:PassRole", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &ssmStandIn{status: tt.status, body: `{"__type":"AccessDeniedException","message":"no"}`}
			activationEnv(t, s)
			_, err := runActivation(t, append([]string{"create"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if got := fail.KindOf(err); got != tt.wantKind {
				t.Errorf("got kind %v, want %v", got, tt.wantKind)
			}
			if s.requests != tt.wantReqs {
				t.Errorf("got %d requests, want %d", s.requests, tt.wantReqs)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "old code\n" {
		t.Errorf("existing code file changed to %q", b)
	}
}

func TestActivationCreateFailureRemovesCodeFile(t *testing.T) {
	s := &ssmStandIn{status: 400, body: `{"__type":"InvalidParameters","message":"Nonexistent role"}`}
	activationEnv(t, s)
	codeFile := filepath.Join(t.TempDir(), "code")
	if _, err := runActivation(t, "create", "--iam-role", "R", "--region", "us-east-1", "--code-file", codeFile); err == nil {
		t.Fatal("got no error")
	}
	if _, err := os.Stat(codeFile); !os.IsNotExist(err) {
		t.Errorf("code file left behind after a failed call (err %v)", err)
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"24h", now.Add(24 * time.Hour), false},
		{"7d", now.Add(7 * 24 * time.Hour), false},
		{"90m", now.Add(90 * time.Minute), false},
		{"2026-03-05T00:00:00Z", time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), false},
		{"tomorrow", time.Time{}, true},
		{"d", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseExpiry(tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
