package release

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// fastSource makes retries quick and bounded in tests.
var fastSource = SourceOptions{Region: "us-east-1", MaxAttempts: 3, MaxBackoff: time.Millisecond}

// sourceKind builds one kind of source over the test release. prefix is the path
// under which the fake bucket serves it ("" for the directory source).
type sourceKind struct {
	name   string
	prefix string
	open   func(t *testing.T, srvURL, dir string) (Source, error)
}

var sourceKinds = []sourceKind{
	{name: "s3 public bucket via AWS_ENDPOINT_URL_S3", prefix: "amazon-ssm-us-east-1", open: func(t *testing.T, srvURL, _ string) (Source, error) {
		awsTestEnv(t, srvURL)
		return NewSource(testCtx(t), "s3", fastSource)
	}},
	{name: "s3 default spec", prefix: "amazon-ssm-us-east-1", open: func(t *testing.T, srvURL, _ string) (Source, error) {
		awsTestEnv(t, srvURL)
		return NewSource(testCtx(t), "", fastSource)
	}},
	{name: "s3 private mirror with prefix", prefix: "mirror-bucket/agents/ssm", open: func(t *testing.T, srvURL, _ string) (Source, error) {
		awsTestEnv(t, srvURL)
		return NewSource(testCtx(t), "s3://mirror-bucket/agents/ssm/", fastSource)
	}},
	{name: "https mirror base URL", prefix: "web/base", open: func(t *testing.T, srvURL, _ string) (Source, error) {
		return NewSource(testCtx(t), srvURL+"/web/base/", fastSource)
	}},
	{name: "directory", open: func(t *testing.T, _, dir string) (Source, error) {
		return NewSource(testCtx(t), dir, SourceOptions{})
	}},
	{name: "file URL", open: func(t *testing.T, _, dir string) (Source, error) {
		return NewSource(testCtx(t), "file://"+dir, SourceOptions{})
	}},
}

// openKind serves the test release for kind and returns the source and the bucket.
func openKind(t *testing.T, kind sourceKind) (Source, *fakeBucket) {
	t.Helper()
	b := newFakeBucket()
	srv := startBucket(t, b)
	dir := t.TempDir()
	objs := testRelease()
	if kind.prefix != "" {
		loadBucket(b, kind.prefix, objs)
	} else {
		writeTree(t, dir, objs)
	}
	src, err := kind.open(t, srv.URL, dir)
	if err != nil {
		t.Fatalf("NewSource: %v", err)
	}
	return src, b
}

func TestSourceKinds(t *testing.T) {
	for _, kind := range sourceKinds {
		t.Run(kind.name, func(t *testing.T) {
			src, b := openKind(t, kind)
			ctx := testCtx(t)

			got, err := FetchSmall(ctx, src, "latest/VERSION", 64)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "3.3.1200.0\n" {
				t.Errorf("latest/VERSION: got %q, want %q", got, "3.3.1200.0\n")
			}

			key := "3.2.2303.0/linux_amd64/amazon-ssm-agent.rpm"
			want := testRelease()[key]
			body, size, err := src.Open(ctx, key, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, body); !bytes.Equal(got, want) || size != int64(len(want)) {
				t.Errorf("Open at 0: got %d bytes, size %d, want %d bytes", len(got), size, len(want))
			}
			body, size, err = src.Open(ctx, key, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, body); !bytes.Equal(got, want[1000:]) || size != int64(len(want)) {
				t.Errorf("Open at 1000: got %d bytes, size %d, want %d bytes, size %d", len(got), size, len(want)-1000, len(want))
			}

			_, _, err = src.Open(ctx, "9.9.9.9/linux_amd64/amazon-ssm-agent.rpm", 0)
			checkErr(t, err, fail.Download, "not found: ", src.URL("9.9.9.9/linux_amd64/amazon-ssm-agent.rpm"))
			checkIs(t, err, ErrNotFound)

			if kind.prefix != "" {
				for _, r := range b.seen() {
					if !strings.HasPrefix(r.Path, kind.prefix+"/") {
						t.Errorf("got request for %q, want it under %q", r.Path, kind.prefix+"/")
					}
				}
				if r := b.seenPath(kind.prefix + "/" + key); len(r) != 2 || r[0].Range != "" || r[1].Range != "bytes=1000-" {
					t.Errorf("got requests %+v, want one without Range, then one with bytes=1000-", r)
				}
			}
		})
	}
}

func TestSourceURLs(t *testing.T) {
	b := newFakeBucket()
	srv := startBucket(t, b)
	awsTestEnv(t, srv.URL)
	dir := t.TempDir()
	tests := []struct {
		spec string
		want string
	}{
		{"s3", srv.URL + "/amazon-ssm-us-east-1/latest/VERSION"}, // path style on a custom endpoint
		{"s3://mirror/a/b", "s3://mirror/a/b/latest/VERSION"},
		{"s3://mirror", "s3://mirror/latest/VERSION"},
		{"https://user:secret@mirror.example.com/ssm/", "https://user:xxxxx@mirror.example.com/ssm/latest/VERSION"},
		{"http://127.0.0.1:9/x", "http://127.0.0.1:9/x/latest/VERSION"},
		{"http://localhost/x", "http://localhost/x/latest/VERSION"},
		{"http://[::1]/x", "http://[::1]/x/latest/VERSION"},
		{dir, filepath.Join(dir, "latest", "VERSION")},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			src, err := NewSource(testCtx(t), tt.spec, fastSource)
			if err != nil {
				t.Fatal(err)
			}
			if got := src.URL("latest/VERSION"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if src.String() == "" || strings.Contains(src.String(), "secret") {
				t.Errorf("got String %q, want a description without the password", src.String())
			}
		})
	}
}

func TestNewSourceErrors(t *testing.T) {
	awsTestEnv(t, "")
	tests := []struct {
		name string
		spec string
		o    SourceOptions
		want string
	}{
		{"plain http elsewhere", "http://mirror.example.com/ssm", SourceOptions{}, "plain http is allowed only for loopback"},
		{"unknown scheme", "ftp://mirror/ssm", SourceOptions{}, "unknown kind"},
		{"bare word", "mirror", SourceOptions{}, "unknown kind"},
		{"no bucket", "s3://", SourceOptions{Region: "us-east-1"}, "no bucket name"},
		{"no region", "s3", SourceOptions{}, "region required"},
		{"bad region", "s3://mirror", SourceOptions{Region: "moon-1"}, `region "moon-1"`},
		{"missing directory", "/nonexistent/ssm-setup-test", SourceOptions{}, "release source directory"},
		{"URL with query", "https://mirror.example.com/ssm?x=1", SourceOptions{}, "no query"},
		{"file URL with a host", "file://host/dir", SourceOptions{}, "want file:///ABSOLUTE/DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSource(testCtx(t), tt.spec, tt.o)
			checkErr(t, err, fail.Usage, tt.want)
		})
	}
}

func TestDirSourceRejectsEscapingKeys(t *testing.T) {
	src, err := NewSource(testCtx(t), t.TempDir(), SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../etc/passwd", "/etc/passwd", "a//b", "a/./b", `a\b`, ""} {
		if _, _, err := src.Open(testCtx(t), key, 0); err == nil {
			t.Errorf("Open(%q): got no error, want one", key)
		}
	}
}

// captureTransport answers every request with a VERSION body and records the URLs.
type captureTransport struct {
	mu   sync.Mutex
	urls []string
}

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.urls = append(c.urls, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	c.mu.Unlock()
	body := "3.3.1142.0"
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Length": {"10"}, "Content-Type": {"text/plain"}},
		ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body)), Request: r,
	}, nil
}

// TestS3Partitions checks that the SDK's endpoint resolver picks the partition's DNS
// suffix, by capturing the request (no network).
func TestS3Partitions(t *testing.T) {
	tests := []struct {
		name    string
		region  string
		env     map[string]string
		wantURL string
	}{
		{name: "commercial", region: "us-east-1", wantURL: "https://amazon-ssm-us-east-1.s3.us-east-1.amazonaws.com/latest/VERSION"},
		{name: "China", region: "cn-north-1", wantURL: "https://amazon-ssm-cn-north-1.s3.cn-north-1.amazonaws.com.cn/latest/VERSION"},
		{name: "GovCloud", region: "us-gov-west-1", wantURL: "https://amazon-ssm-us-gov-west-1.s3.us-gov-west-1.amazonaws.com/latest/VERSION"},
		// The other partitions of the facts file, section 1.
		{name: "ISO", region: "us-iso-east-1", wantURL: "https://amazon-ssm-us-iso-east-1.s3.us-iso-east-1.c2s.ic.gov/latest/VERSION"},
		{name: "ISO-B", region: "us-isob-east-1", wantURL: "https://amazon-ssm-us-isob-east-1.s3.us-isob-east-1.sc2s.sgov.gov/latest/VERSION"},
		{name: "ISO-F", region: "us-isof-south-1", wantURL: "https://amazon-ssm-us-isof-south-1.s3.us-isof-south-1.csp.hci.ic.gov/latest/VERSION"},
		{name: "ISO-E", region: "eu-isoe-west-1", wantURL: "https://amazon-ssm-eu-isoe-west-1.s3.eu-isoe-west-1.cloud.adc-e.uk/latest/VERSION"},
		{name: "European Sovereign Cloud", region: "eusc-de-east-1", wantURL: "https://amazon-ssm-eusc-de-east-1.s3.eusc-de-east-1.amazonaws.eu/latest/VERSION"},
		{name: "FIPS", region: "us-east-2", env: map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, wantURL: "https://amazon-ssm-us-east-2.s3-fips.us-east-2.amazonaws.com/latest/VERSION"},
		{name: "dual-stack", region: "eu-west-1", env: map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, wantURL: "https://amazon-ssm-eu-west-1.s3.dualstack.eu-west-1.amazonaws.com/latest/VERSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsTestEnv(t, "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ct := &captureTransport{}
			src, err := NewSource(testCtx(t), "s3", SourceOptions{Region: tt.region, HTTPClient: &http.Client{Transport: ct}})
			if err != nil {
				t.Fatal(err)
			}
			b, err := FetchSmall(testCtx(t), src, "latest/VERSION", 64)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != "3.3.1142.0" {
				t.Errorf("got body %q, want 3.3.1142.0", b)
			}
			if len(ct.urls) != 1 || ct.urls[0] != tt.wantURL {
				t.Errorf("got requests %q, want one to %q", ct.urls, tt.wantURL)
			}
			if got := src.URL("latest/VERSION"); got != tt.wantURL {
				t.Errorf("got URL %q, want %q", got, tt.wantURL)
			}
		})
	}
}

func TestS3Credentials(t *testing.T) {
	tests := []struct {
		name       string
		keys       bool
		faults     []fault
		wantSigned []bool
	}{
		{name: "anonymous without credentials", wantSigned: []bool{false}},
		{name: "signed with credentials", keys: true, wantSigned: []bool{true}},
		{name: "rejected credentials fall back to anonymous", keys: true,
			faults: []fault{{status: http.StatusForbidden, code: "InvalidAccessKeyId", cutAt: -1, truncAt: -1, forever: true, ifSigned: true}}, wantSigned: []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBucket()
			srv := startBucket(t, b)
			awsTestEnv(t, srv.URL)
			if tt.keys {
				t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			}
			loadBucket(b, "amazon-ssm-us-east-1", testRelease())
			b.addFault("amazon-ssm-us-east-1/latest/VERSION", tt.faults...)
			start := time.Now()
			src, err := NewSource(testCtx(t), "s3", fastSource)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("NewSource took %v, want it quick without instance metadata", d)
			}
			if _, err := FetchSmall(testCtx(t), src, "latest/VERSION", 64); err != nil {
				t.Fatal(err)
			}
			var got []bool
			for _, r := range b.seen() {
				got = append(got, r.Signed)
			}
			if diff := cmp.Diff(tt.wantSigned, got); diff != "" {
				t.Errorf("signed requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSourceErrors(t *testing.T) {
	for _, kind := range sourceKinds {
		if kind.prefix == "" {
			continue
		}
		t.Run(kind.name, func(t *testing.T) {
			key := "latest/VERSION"
			tests := []struct {
				name      string
				faults    []fault
				wantKind  fail.Kind
				wantParts []string
				wantIs    error
				wantHint  string
				// wantAnyHint: some hint, which differs by source (see TestHint403)
				wantAnyHint bool
				wantReqs    int
			}{
				{name: "403", faults: []fault{statusFault(403, "AccessDenied")}, wantKind: fail.Download, wantParts: []string{"access denied: ", "HTTP 403"}, wantIs: ErrForbidden, wantAnyHint: true, wantReqs: 1},
				{name: "404", faults: []fault{statusFault(404, "NoSuchKey")}, wantKind: fail.Download, wantParts: []string{"not found: ", "HTTP 404"}, wantIs: ErrNotFound, wantReqs: 1},
				{name: "500 then success", faults: []fault{statusFault(500, "InternalError")}, wantReqs: 2},
				{name: "503 twice then success", faults: []fault{statusFault(503, "SlowDown"), statusFault(503, "SlowDown")}, wantReqs: 3},
				{name: "500 forever", faults: []fault{func() fault { f := statusFault(500, "InternalError"); f.forever = true; return f }()},
					wantKind: fail.Download, wantParts: []string{"HTTP 500", "gave up after retries"}, wantHint: "try again later", wantReqs: 3},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					src, b := openKind(t, kind)
					path := kind.prefix + "/" + key
					b.addFault(path, tt.faults...)
					start := time.Now()
					got, err := FetchSmall(testCtx(t), src, key, 64)
					if d := time.Since(start); d > 5*time.Second {
						t.Errorf("took %v, want retries bounded", d)
					}
					if n := len(b.seenPath(path)); n != tt.wantReqs {
						t.Errorf("got %d requests, want %d", n, tt.wantReqs)
					}
					if tt.wantKind == 0 {
						if err != nil || string(got) != "3.3.1200.0\n" {
							t.Errorf("got %q, %v, want the VERSION file", got, err)
						}
						return
					}
					checkErr(t, err, tt.wantKind, append(tt.wantParts, src.URL(key))...)
					if tt.wantIs != nil {
						checkIs(t, err, tt.wantIs)
					}
					if tt.wantHint != "" && !strings.Contains(fail.HintOf(err), tt.wantHint) {
						t.Errorf("got hint %q, want it to mention %q", fail.HintOf(err), tt.wantHint)
					}
					if tt.wantAnyHint && fail.HintOf(err) == "" {
						t.Error("got no hint, want one")
					}
				})
			}
		})
	}
}

func TestFetchSmall(t *testing.T) {
	tests := []struct {
		name     string
		limit    int64
		faults   []fault
		want     string
		wantErr  string
		wantReqs int
	}{
		{name: "fits", limit: 11, want: "3.3.1200.0\n", wantReqs: 1},
		{name: "too large", limit: 5, wantErr: "larger than expected", wantReqs: 1},
		{name: "truncated once", limit: 64, faults: []fault{truncFault(3)}, want: "3.3.1200.0\n", wantReqs: 2},
		{name: "truncated always", limit: 64, faults: []fault{truncFault(3), truncFault(3), truncFault(3)}, wantErr: "unexpected EOF", wantReqs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, b := openKind(t, sourceKinds[3]) // https mirror
			path := sourceKinds[3].prefix + "/latest/VERSION"
			b.addFault(path, tt.faults...)
			got, err := FetchSmall(testCtx(t), src, "latest/VERSION", tt.limit)
			if n := len(b.seenPath(path)); n != tt.wantReqs {
				t.Errorf("got %d requests, want %d", n, tt.wantReqs)
			}
			if tt.wantErr != "" {
				checkErr(t, err, fail.Download, tt.wantErr)
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

// failingTransport fails every request as an unreachable network does, and counts them.
type failingTransport struct {
	mu sync.Mutex
	n  int
}

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
	return nil, errors.New("dial tcp 192.0.2.1:443: connect: network is unreachable")
}

// TestFetchSmallNetworkDown: a request that fails is retried by the source only, not
// again by FetchSmall on top (which multiplied the wait without network).
func TestFetchSmallNetworkDown(t *testing.T) {
	awsTestEnv(t, "")
	for _, spec := range []string{"s3", "https://mirror.example.com/ssm"} {
		t.Run(spec, func(t *testing.T) {
			ft := &failingTransport{}
			o := fastSource
			o.HTTPClient = &http.Client{Transport: ft}
			src, err := NewSource(testCtx(t), spec, o)
			if err != nil {
				t.Fatal(err)
			}
			_, err = FetchSmall(testCtx(t), src, "latest/VERSION", 64)
			checkErr(t, err, fail.Download, "network is unreachable")
			if ft.n != o.MaxAttempts {
				t.Errorf("got %d requests, want %d (the source's attempts, once)", ft.n, o.MaxAttempts)
			}
		})
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	src, b := openKind(t, sourceKinds[3])
	f := statusFault(500, "InternalError")
	f.forever = true
	b.addFault(sourceKinds[3].prefix+"/latest/VERSION", f)
	slow, err := NewSource(testCtx(t), src.String(), SourceOptions{MaxAttempts: 100, MaxBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = FetchSmall(ctx, slow, "latest/VERSION", 64)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v, want the cancelled context to end the retries", d)
	}
	checkErr(t, err, fail.Download)
}

// TestHint403 checks the next step offered after a 403, which depends on the bucket
// and on whether the requests were signed.
func TestHint403(t *testing.T) {
	tests := []struct {
		name string
		spec string
		keys bool
		want string
	}{
		{"public bucket, anonymous", "s3", false, "the public release buckets answer 403 for keys that do not exist"},
		{"public bucket, signed", "s3", true, "unset AWS_PROFILE and AWS_ACCESS_KEY_ID to read the public bucket anonymously"},
		{"mirror, anonymous", "s3://mirror/p", false, "no AWS credentials were found"},
		{"mirror, signed", "s3://mirror/p", true, "allow s3:GetObject on s3://mirror/p/*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBucket()
			srv := startBucket(t, b)
			awsTestEnv(t, srv.URL)
			if tt.keys {
				t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			}
			src, err := NewSource(testCtx(t), tt.spec, fastSource)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"amazon-ssm-us-east-1/latest/VERSION", "mirror/p/latest/VERSION"} {
				b.addFault(p, statusFault(http.StatusForbidden, "AccessDenied"))
			}
			_, err = FetchSmall(testCtx(t), src, "latest/VERSION", 64)
			checkErr(t, err, fail.Download, "access denied: ")
			if h := fail.HintOf(err); !strings.Contains(h, tt.want) {
				t.Errorf("got hint %q, want it to contain %q", h, tt.want)
			}
		})
	}
}
