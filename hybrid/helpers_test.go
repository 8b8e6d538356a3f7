package hybrid

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ssm-setup/ssm-setup/internal/run"
	"github.com/ssm-setup/ssm-setup/internal/run/runtest"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// ssmRequest is one request the stand-in SSM endpoint received.
type ssmRequest struct {
	Target string         // X-Amz-Target, e.g. AmazonSSM.CreateActivation
	Body   map[string]any // the JSON body
}

// ssmReply is what the stand-in answers to one operation: a status and a JSON body.
type ssmReply struct {
	Status int
	Body   string
}

// fakeSSM is a stand-in SSM endpoint on 127.0.0.1 that records every request and
// answers by operation name; an operation without a reply fails the test.
type fakeSSM struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []ssmRequest
	replies map[string][]ssmReply // operation -> replies, in order; the last one repeats
}

// requests returns the requests received so far.
func (f *fakeSSM) requests() []ssmRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ssmRequest(nil), f.reqs...)
}

// targets returns the X-Amz-Target of each request received.
func (f *fakeSSM) targets() []string {
	var out []string
	for _, r := range f.requests() {
		out = append(out, r.Target)
	}
	return out
}

func (f *fakeSSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := ssmRequest{Target: r.Header.Get("X-Amz-Target"), Body: map[string]any{}}
	if err := json.Unmarshal(body, &req.Body); err != nil {
		f.t.Errorf("request %s: body is not JSON: %q", req.Target, body)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	op := strings.TrimPrefix(req.Target, "AmazonSSM.")
	replies := f.replies[op]
	var reply ssmReply
	switch {
	case len(replies) == 0:
		f.mu.Unlock()
		f.t.Errorf("unexpected SSM request %s", req.Target)
		http.Error(w, `{"__type":"InternalServerError","message":"unexpected"}`, 500)
		return
	case len(replies) > 1:
		reply, f.replies[op] = replies[0], replies[1:]
	default:
		reply = replies[0]
	}
	f.mu.Unlock()
	if reply.Status == 0 {
		reply.Status = 200
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(reply.Status)
	io.WriteString(w, reply.Body)
}

// awsEnv isolates the test from the host's AWS configuration: empty config and
// credential files, no instance metadata, and the given static credentials (none when
// withCreds is false).
func awsEnv(t *testing.T, withCreds bool) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	if withCreds {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-test-key")
	} else {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	}
}

// newFakeSSM starts a stand-in SSM endpoint with replies and points the SDK at it
// through AWS_ENDPOINT_URL_SSM, with test credentials.
func newFakeSSM(t *testing.T, replies map[string][]ssmReply) *fakeSSM {
	t.Helper()
	awsEnv(t, true)
	f := &fakeSSM{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SSM", srv.URL)
	return f
}

// effectRunner is a runtest.Fake that also runs a side effect before answering a
// command line, the way the agent writes or wipes its registration files.
type effectRunner struct {
	*runtest.Fake
	effects map[string]func()
}

func (e *effectRunner) Run(ctx context.Context, c run.Cmd) (run.Output, error) {
	if fn := e.effects[c.String()]; fn != nil {
		fn()
	}
	return e.Fake.Run(ctx, c)
}

// newRoot makes a temp root with an agent binary in it.
func newRoot(t *testing.T) sysroot.Root {
	t.Helper()
	root, err := sysroot.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, AgentBinary, "#!/bin/sh\n", 0o755)
	return root
}

// writeFile writes an in-root file, making its directories.
func writeFile(t *testing.T, root sysroot.Root, p, data string, mode fs.FileMode) {
	t.Helper()
	path := root.Path(p)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// snapshot maps each file and directory under the in-root path dir to its mode and
// content, for byte-for-byte comparisons.
func snapshot(t *testing.T, root sysroot.Root, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	base := root.Path(dir)
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[rel+"/"] = info.Mode().String()
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[rel] = info.Mode().String() + " " + string(b)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// captureLog returns a debug-level logger writing into the returned buffer.
func captureLog() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}
