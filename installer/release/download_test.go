package release

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

const testKey = "3.3.1142.0/linux_amd64/amazon-ssm-agent.rpm"

// fastDownload retries quickly.
var fastDownload = DownloadOptions{Backoff: time.Millisecond, StallTimeout: 2 * time.Second}

// recordingProgress records the total it was given and counts the bytes.
type recordingProgress struct {
	total int64
	calls int
	n     int64
}

func (p *recordingProgress) factory(total int64) io.Writer {
	p.total = total
	p.calls++
	return p
}

func (p *recordingProgress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	return len(b), nil
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloadEachSource(t *testing.T) {
	want := testRelease()[testKey]
	for _, kind := range sourceKinds {
		t.Run(kind.name, func(t *testing.T) {
			src, _ := openKind(t, kind)
			dest := filepath.Join(t.TempDir(), "cache", "3.3.1142.0", "linux_amd64", "amazon-ssm-agent.rpm")
			var sink bytes.Buffer
			prog := &recordingProgress{}
			o := fastDownload
			o.Sinks = []io.Writer{&sink}
			o.Progress = prog.factory
			got, err := Download(testCtx(t), src, testKey, dest, o)
			if err != nil {
				t.Fatal(err)
			}
			wantRes := DownloadResult{Path: dest, Size: int64(len(want)), SHA256: sha256Hex(want), URL: src.URL(testKey)}
			if diff := cmp.Diff(wantRes, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			onDisk, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(onDisk, want) || !bytes.Equal(sink.Bytes(), want) {
				t.Errorf("got %d bytes on disk and %d in the sink, want the %d-byte package in both", len(onDisk), sink.Len(), len(want))
			}
			if prog.calls != 1 || prog.total != int64(len(want)) || prog.n != int64(len(want)) {
				t.Errorf("got progress calls %d, total %d, bytes %d, want 1, %d, %d", prog.calls, prog.total, prog.n, len(want), len(want))
			}
			if names := dirEntries(t, filepath.Dir(dest)); !cmp.Equal(names, []string{"amazon-ssm-agent.rpm"}) {
				t.Errorf("got files %q, want only the package (no temp file)", names)
			}
		})
	}
}

func TestDownloadFaults(t *testing.T) {
	want := testRelease()[testKey]
	size := int64(len(want))
	tests := []struct {
		name        string
		faults      []fault
		ignoreRange bool
		retries     int
		sinkErr     error
		replace     []byte // object replaced after the first request
		wantRanges  []string
		wantKind    fail.Kind
		wantErr     []string
		wantIs      error
	}{
		{name: "interrupted then resumed", faults: []fault{cutFault(70_000)}, wantRanges: []string{"", "bytes=70000-"}},
		{name: "interrupted twice", faults: []fault{cutFault(50_000), cutFault(10_000)}, wantRanges: []string{"", "bytes=50000-", "bytes=60000-"}},
		{name: "short body then resumed", faults: []fault{truncFault(123_456)}, wantRanges: []string{"", "bytes=123456-"}},
		{name: "cut before the first byte", faults: []fault{cutFault(0)}, wantRanges: []string{"", ""}},
		{name: "500 then success", faults: []fault{statusFault(500, "InternalError")}, wantRanges: []string{"", ""}},
		{name: "stalled body then resumed", faults: []fault{{stallAt: 40_000, cutAt: -1, truncAt: -1}}, wantRanges: []string{"", "bytes=40000-"}},
		{name: "slow headers then retried", faults: []fault{{delay: 5 * time.Second, cutAt: -1, truncAt: -1}}, wantRanges: []string{"", ""}},
		{name: "truncated every time", retries: 2, faults: []fault{truncFault(1000), truncFault(1000), truncFault(1000)},
			wantRanges: []string{"", "bytes=1000-", "bytes=2000-"}, wantKind: fail.Download, wantErr: []string{"truncated: got 3000 bytes, want 200000", "after 3 tries"}},
		// A server without Range support: the object is fetched again from the start
		// and the bytes already received are skipped, so the sink still sees each once.
		{name: "source ignores Range", ignoreRange: true, faults: []fault{cutFault(70_000)},
			wantRanges: []string{"", "bytes=70000-", ""}},
		{name: "source ignores Range, cut again while skipping", ignoreRange: true, faults: []fault{cutFault(70_000), {cutAt: -1, truncAt: -1}, cutFault(30_000)},
			wantRanges: []string{"", "bytes=70000-", "", "bytes=70000-", ""}},
		{name: "404 is not retried", faults: []fault{statusFault(404, "NoSuchKey")}, wantRanges: []string{""}, wantKind: fail.Download, wantErr: []string{"not found: "}, wantIs: ErrNotFound},
		{name: "403 is not retried", faults: []fault{statusFault(403, "AccessDenied")}, wantRanges: []string{""}, wantKind: fail.Download, wantErr: []string{"access denied: "}, wantIs: ErrForbidden},
		{name: "500 forever", faults: []fault{func() fault { f := statusFault(500, "InternalError"); f.forever = true; return f }()},
			wantRanges: []string{"", "", ""}, wantKind: fail.Download, wantErr: []string{"HTTP 500"}},
		{name: "sink fails", sinkErr: errors.New("sink broke"), wantRanges: []string{""}, wantKind: fail.Download, wantErr: []string{"sink broke"}},
		{name: "object changed while resuming", faults: []fault{cutFault(1000)}, replace: append(bytes.Clone(want), "longer"...),
			wantRanges: []string{"", "bytes=1000-"}, wantKind: fail.Download, wantErr: []string{"changed during the download"}},
	}
	for _, kind := range sourceKinds[:4] { // the network sources; the directory cannot fail midway
		if kind.name == "s3 default spec" {
			continue
		}
		t.Run(kind.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					src, b := openKind(t, kind)
					path := kind.prefix + "/" + testKey
					b.ignoreRange = tt.ignoreRange
					b.addFault(path, tt.faults...)
					dir := t.TempDir()
					dest := filepath.Join(dir, "amazon-ssm-agent.rpm")
					var sink bytes.Buffer
					var sinks []io.Writer = []io.Writer{&sink}
					if tt.sinkErr != nil {
						sinks = []io.Writer{failingWriter{tt.sinkErr}}
					}
					o := fastDownload
					o.StallTimeout = 300 * time.Millisecond
					o.Retries = tt.retries
					o.Sinks = sinks
					if tt.replace != nil {
						o.Sinks = append(o.Sinks, replaceAfter{b: b, path: path, body: tt.replace})
					}
					start := time.Now()
					got, err := Download(testCtx(t), src, testKey, dest, o)
					if d := time.Since(start); d > 5*time.Second {
						t.Errorf("took %v, want it bounded", d)
					}
					var ranges []string
					for _, r := range b.seenPath(path) {
						ranges = append(ranges, r.Range)
					}
					if diff := cmp.Diff(tt.wantRanges, ranges); diff != "" {
						t.Errorf("Range headers of the requests (-want +got):\n%s", diff)
					}
					if tt.wantKind != 0 {
						checkErr(t, err, tt.wantKind, append(tt.wantErr, src.URL(testKey))...)
						if tt.wantIs != nil {
							checkIs(t, err, tt.wantIs)
						}
						if names := dirEntries(t, dir); len(names) != 0 {
							t.Errorf("got files %q after a failed download, want none", names)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if got.SHA256 != sha256Hex(want) || got.Size != size {
						t.Errorf("got sha256 %s, size %d, want %s, %d", got.SHA256, got.Size, sha256Hex(want), size)
					}
					if !bytes.Equal(sink.Bytes(), want) {
						t.Errorf("the sink got %d bytes (sha256 %s), want each byte once: %d bytes (sha256 %s)", sink.Len(), sha256Hex(sink.Bytes()), size, sha256Hex(want))
					}
				})
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// replaceAfter is a sink that swaps the object for body as soon as bytes arrive, as
// if it were re-published during the download.
type replaceAfter struct {
	b    *fakeBucket
	path string
	body []byte
}

func (r replaceAfter) Write(p []byte) (int, error) {
	r.b.put(r.path, r.body)
	return len(p), nil
}

func TestDownloadFromDirectory(t *testing.T) {
	src, _ := openKind(t, sourceKinds[4])
	dir := t.TempDir()
	_, err := Download(testCtx(t), src, "9.9.9.9/linux_amd64/amazon-ssm-agent.rpm", filepath.Join(dir, "x.rpm"), fastDownload)
	checkErr(t, err, fail.Download, "not found: ")
	checkIs(t, err, ErrNotFound)
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("got files %q, want none", names)
	}
}

func TestDownloadKeepsExistingFileOnFailure(t *testing.T) {
	src, b := openKind(t, sourceKinds[3])
	b.addFault(sourceKinds[3].prefix+"/"+testKey, statusFault(404, "NoSuchKey"))
	dir := t.TempDir()
	dest := filepath.Join(dir, "amazon-ssm-agent.rpm")
	if err := os.WriteFile(dest, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Download(testCtx(t), src, testKey, dest, fastDownload); err == nil {
		t.Fatal("got no error, want one")
	}
	got, err := os.ReadFile(dest)
	if err != nil || string(got) != "old" {
		t.Errorf("got %q, %v, want the old file untouched", got, err)
	}
	if names := dirEntries(t, dir); !cmp.Equal(names, []string{"amazon-ssm-agent.rpm"}) {
		t.Errorf("got files %q, want only the old file", names)
	}
}

func TestDownloadCancelled(t *testing.T) {
	src, b := openKind(t, sourceKinds[3])
	b.addFault(sourceKinds[3].prefix+"/"+testKey, fault{stallAt: 10_000, cutAt: -1, truncAt: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	dir := t.TempDir()
	_, err := Download(ctx, src, testKey, filepath.Join(dir, "p.rpm"), DownloadOptions{StallTimeout: time.Minute})
	checkErr(t, err, fail.Download, "context deadline exceeded")
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("got files %q, want none", names)
	}
	if n := len(b.seenPath(sourceKinds[3].prefix + "/" + testKey)); n != 1 {
		t.Errorf("got %d requests, want 1 (no retry after cancel)", n)
	}
}

func TestDownloadNilProgressWriter(t *testing.T) {
	src, _ := openKind(t, sourceKinds[4])
	o := fastDownload
	o.Progress = func(int64) io.Writer { return nil }
	if _, err := Download(testCtx(t), src, testKey, filepath.Join(t.TempDir(), "p.rpm"), o); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkDownload30MB streams a 30 MiB package from a loopback server; allocated
// bytes per op stay far below the size (nothing buffers the body).
func BenchmarkDownload30MB(b *testing.B) {
	const size = 30 << 20
	body := packageBody("3.3.1142.0", "linux_amd64", size)
	for _, kind := range []struct{ name, spec, prefix string }{
		{"https", "", "web/base"},
		{"s3", "s3", "amazon-ssm-us-east-1"},
	} {
		b.Run(kind.name, func(b *testing.B) {
			bucket := newFakeBucket()
			srv := startBucket(b, bucket)
			bucket.put(kind.prefix+"/"+testKey, body)
			spec := kind.spec
			if spec == "" {
				spec = srv.URL + "/" + kind.prefix
			} else {
				awsTestEnv(b, srv.URL)
			}
			src, err := NewSource(context.Background(), spec, SourceOptions{Region: "us-east-1"})
			if err != nil {
				b.Fatal(err)
			}
			dest := filepath.Join(b.TempDir(), "amazon-ssm-agent.rpm")
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				res, err := Download(context.Background(), src, testKey, dest, DownloadOptions{Sinks: []io.Writer{io.Discard}})
				if err != nil {
					b.Fatal(err)
				}
				if res.Size != size {
					b.Fatalf("got %d bytes, want %d", res.Size, size)
				}
			}
		})
	}
}
