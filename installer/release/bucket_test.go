package release

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fault is one scripted misbehaviour of fakeBucket for one request.
type fault struct {
	status   int           // answer with this status and an S3 error body
	code     string        // S3 error code for status
	cutAt    int64         // send this many body bytes, then abort the connection (-1: off)
	truncAt  int64         // announce the full length, send this many bytes, end the response (-1: off)
	delay    time.Duration // wait this long before answering
	stallAt  int64         // send this many body bytes, then hang until the client leaves (0: off)
	forever  bool          // keep this fault instead of consuming it
	ifSigned bool          // apply only to signed requests (Authorization header)
}

// request is what fakeBucket saw.
type request struct {
	Path   string
	Range  string
	Signed bool
}

// fakeBucket serves objects path style, /BUCKET/KEY, like S3 with a custom endpoint,
// with Range support and scripted faults.
type fakeBucket struct {
	mu          sync.Mutex
	objects     map[string][]byte // "BUCKET/KEY" -> body
	faults      map[string][]fault
	requests    []request
	ignoreRange bool
}

func newFakeBucket() *fakeBucket {
	return &fakeBucket{objects: map[string][]byte{}, faults: map[string][]fault{}}
}

func (b *fakeBucket) put(path string, body []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[path] = body
}

func (b *fakeBucket) addFault(path string, f ...fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults[path] = append(b.faults[path], f...)
}

func (b *fakeBucket) seen() []request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]request(nil), b.requests...)
}

// seenPath lists the requests for one path.
func (b *fakeBucket) seenPath(path string) []request {
	var out []request
	for _, r := range b.seen() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (b *fakeBucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	signed := r.Header.Get("Authorization") != ""
	b.mu.Lock()
	b.requests = append(b.requests, request{Path: path, Range: r.Header.Get("Range"), Signed: signed})
	var f *fault
	if q := b.faults[path]; len(q) > 0 && (!q[0].ifSigned || signed) {
		ff := q[0]
		f = &ff
		if !ff.forever {
			b.faults[path] = q[1:]
		}
	}
	body, ok := b.objects[path]
	ignoreRange := b.ignoreRange
	b.mu.Unlock()

	if f != nil && f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	if f != nil && f.status != 0 {
		s3Error(w, f.status, f.code)
		return
	}
	if !ok {
		s3Error(w, http.StatusNotFound, "NoSuchKey")
		return
	}
	start := int64(0)
	status := http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && !ignoreRange {
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"), 10, 64)
		if err != nil || n >= int64(len(body)) {
			s3Error(w, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
			return
		}
		start, status = n, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(body)-1, len(body)))
	}
	part := body[start:]
	w.Header().Set("Content-Length", strconv.Itoa(len(part)))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(status)
	switch {
	case f != nil && f.stallAt > 0 && f.stallAt < int64(len(part)):
		w.Write(part[:f.stallAt])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	case f != nil && f.cutAt >= 0 && f.cutAt < int64(len(part)):
		w.Write(part[:f.cutAt])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	case f != nil && f.truncAt >= 0 && f.truncAt < int64(len(part)):
		w.Write(part[:f.truncAt])
		return
	}
	w.Write(part)
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>test</Message><RequestId>R1</RequestId></Error>`, code)
}

// statusFault, cutFault and truncFault build faults.
func statusFault(status int, code string) fault {
	return fault{status: status, code: code, cutAt: -1, truncAt: -1}
}

func cutFault(at int64) fault { return fault{cutAt: at, truncAt: -1} }

func truncFault(at int64) fault { return fault{cutAt: -1, truncAt: at} }

// startBucket serves b on 127.0.0.1.
func startBucket(t testing.TB, b *fakeBucket) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return srv
}

// awsTestEnv isolates the AWS SDK from the machine: no config or credentials files,
// no credentials in the environment, no instance metadata, and endpoint as the S3
// endpoint ("" for none).
func awsTestEnv(t testing.TB, endpoint string) {
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
	for _, name := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_USE_FIPS_ENDPOINT",
		"AWS_USE_DUALSTACK_ENDPOINT", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CA_BUNDLE", "AWS_ROLE_ARN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
	} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	if endpoint != "" {
		t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	}
}

// testCtx is a context that ends with the test, bounded to 20 s.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// readAll reads a body and closes it.
func readAll(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
