//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ssm-setup/ssm-setup/installer"
	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/bench"
)

// BenchmarkDownloadVsCurl compares the ssm-setup download path (installer.Fetch: the
// signature, then the package streamed once into the store, hashed and verified) with
// `curl -so /dev/null URL` for a 30 MB package on a loopback server. Sub-benchmarks
// go through the S3 client (AWS_ENDPOINT_URL_S3, the default --source) and through a
// web mirror (--source http://...). It reports ssm-ms/op, curl-ms/op and their ratio.
//
//	go test -run '^$' -bench DownloadVsCurl -benchtime 5x ./cmd/ssm-setup/
func BenchmarkDownloadVsCurl(b *testing.B) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl is not installed")
	}
	const version, size = "3.3.100.0", 30 << 20
	dir := b.TempDir()
	key := version + "/" + bench.DebFolder + "/" + bench.DebFile
	pkg := filepath.Join(dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(pkg), 0o755); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(pkg, data, 0o644); err != nil {
		b.Fatal(err)
	}
	bench.Sign(b, testSigner(b), pkg, false)
	srv := bench.ServeBucket(b, dir, testRegion)
	kr, err := verify.AWSKeyring()
	if err != nil {
		b.Fatal(err)
	}
	if err := kr.AddFiles(testPubKey); err != nil {
		b.Fatal(err)
	}
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_ACCESS_KEY_ID", "")
	os.Unsetenv("AWS_ACCESS_KEY_ID")
	empty := filepath.Join(b.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	b.Setenv("AWS_CONFIG_FILE", empty)
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	b.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint())
	url := srv.Endpoint() + "/" + testBucket + "/" + key

	for _, spec := range []string{"s3", srv.Endpoint() + "/" + testBucket} {
		name := map[bool]string{true: "s3", false: "http"}[spec == "s3"]
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			src, err := release.NewSource(ctx, spec, release.SourceOptions{Region: testRegion})
			if err != nil {
				b.Fatal(err)
			}
			var ssm, curlTime time.Duration
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				store := release.Cache{Dir: b.TempDir()}
				start := time.Now()
				p, err := installer.Fetch(ctx, installer.FetchOptions{Source: src, Version: version, Folder: bench.DebFolder, Keyring: kr, Store: store})
				ssm += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if p.Size != size || p.FromCache {
					b.Fatalf("fetched %d bytes (from cache %v), want %d from the server", p.Size, p.FromCache, size)
				}
				start = time.Now()
				if out, err := exec.Command(curl, "-sfo", os.DevNull, url).CombinedOutput(); err != nil {
					b.Fatalf("curl: %v\n%s", err, out)
				}
				curlTime += time.Since(start)
			}
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(float64(ssm.Milliseconds())/n, "ssm-ms/op")
			b.ReportMetric(float64(curlTime.Milliseconds())/n, "curl-ms/op")
			b.ReportMetric(float64(ssm)/float64(curlTime), "ratio")
		})
	}
}

// BenchmarkDetect is the whole `detect --output json` command over a fake Rocky 9 root.
func BenchmarkDetect(b *testing.B) {
	root := fakeRoot(b, "rocky-9")
	for i := 0; i < b.N; i++ {
		if r := runCLI(b, "detect", "--root", root, "--arch", "x86_64", "--output", "json"); r.code != 0 {
			b.Fatalf("%v", r)
		}
	}
}

// BenchmarkVersion is the whole `version --output json` command.
func BenchmarkVersion(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if r := runCLI(b, "version", "--output", "json"); r.code != 0 {
			b.Fatalf("%v", r)
		}
	}
}
