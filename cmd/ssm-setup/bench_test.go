//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
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

// BenchmarkDownloadVsCurl compares ssm-setup's download with `curl -so FILE URL`
// for a 30 MB package on a loopback server, in one run. The server is a plain file
// server (no per-request work such as computing an ETag, which would slow both sides
// alike and flatter the ratio). Sub-benchmarks:
//
//   - fetch/s3, fetch/http: installer.Fetch in this process (the signature, then the
//     package streamed once into the store, hashed and verified), through the S3
//     client (AWS_ENDPOINT_URL_S3) and through a web mirror (--source http://...);
//   - cli: the ssm-setup binary as a process, `ssm-setup download --version V
//     --platform debian_amd64`, start-up and AWS configuration included, as a user
//     runs it.
//
// Each reports ssm-ms/op, curl-ms/op and their ratio.
//
//	go test -run '^$' -bench DownloadVsCurl -benchtime 10x ./cmd/ssm-setup/
func BenchmarkDownloadVsCurl(b *testing.B) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl is not installed")
	}
	const version, size = "3.3.100.0", 30 << 20
	dir := b.TempDir()
	key := version + "/" + bench.DebFolder + "/" + bench.DebFile
	pkg := filepath.Join(dir, testBucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(pkg), 0o755); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(pkg, data, 0o644); err != nil {
		b.Fatal(err)
	}
	bench.Sign(b, testSigner(b), pkg, false)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	b.Cleanup(srv.Close)
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
	b.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	url := srv.URL + "/" + testBucket + "/" + key
	// curl writes the package to a file, as ssm-setup does: `curl -so FILE URL`.
	timeCurl := func(b *testing.B) time.Duration {
		out := filepath.Join(b.TempDir(), bench.DebFile)
		start := time.Now()
		if out, err := exec.Command(curl, "-sfo", out, url).CombinedOutput(); err != nil {
			b.Fatalf("curl: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	report := func(b *testing.B, ssm, curlTime time.Duration) {
		n := float64(b.N)
		b.ReportMetric(float64(ssm.Microseconds())/n/1000, "ssm-ms/op")
		b.ReportMetric(float64(curlTime.Microseconds())/n/1000, "curl-ms/op")
		b.ReportMetric(float64(ssm)/float64(curlTime), "ratio")
	}

	for _, spec := range []string{"s3", srv.URL + "/" + testBucket} {
		name := map[bool]string{true: "fetch/s3", false: "fetch/http"}[spec == "s3"]
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
				curlTime += timeCurl(b)
			}
			b.StopTimer()
			report(b, ssm, curlTime)
		})
	}

	b.Run("cli", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "ssm-setup")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			b.Fatalf("build ssm-setup: %v\n%s", err, out)
		}
		var ssm, curlTime time.Duration
		b.SetBytes(size)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			dest := b.TempDir()
			cmd := exec.Command(bin, "download", "--region", testRegion, "--version", version, "--platform", bench.DebFolder,
				"--trusted-key", testPubKey, "--dest", dest, "--quiet")
			start := time.Now()
			out, err := cmd.CombinedOutput()
			ssm += time.Since(start)
			if err != nil {
				b.Fatalf("ssm-setup download: %v\n%s", err, out)
			}
			curlTime += timeCurl(b)
		}
		b.StopTimer()
		report(b, ssm, curlTime)
	})
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
