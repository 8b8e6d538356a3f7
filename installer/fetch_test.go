//go:build linux

package installer

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/bench"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// countingSource counts the objects opened through it.
type countingSource struct {
	release.Source
	opens atomic.Int32
}

func (s *countingSource) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	s.opens.Add(1)
	return s.Source.Open(ctx, key, offset)
}

// debKey is the bucket key of the deb of version.
func debKey(version string) string {
	return version + "/" + bench.DebFolder + "/" + bench.DebFile
}

func TestFetch(t *testing.T) {
	awsOnly, err := verify.AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// setup prepares the bucket and the store (cache) directories; it may return a
		// source to use instead of the bucket directory.
		setup     func(t *testing.T, bucket, store string) release.Source
		keyring   *verify.Keyring // nil: the test key
		wantCache bool            // the package came from the store
		wantOpens int32           // objects opened through the source; -1: some
		wantKind  fail.Kind
		wantMsg   string
	}{
		{
			name:      "download into an empty cache",
			wantOpens: 2, // the .sig, then the package
		},
		{
			name: "cache hit verifies again and opens no source",
			setup: func(t *testing.T, _, store string) release.Source {
				seedCache(t, store, newVersion, bench.DebFolder)
				return nil
			},
			wantCache: true,
		},
		{
			name: "corrupt cached copy is fetched again",
			setup: func(t *testing.T, _, store string) release.Source {
				corrupt(t, seedCache(t, store, newVersion, bench.DebFolder))
				return nil
			},
			wantOpens: 2,
		},
		{
			name: "cached copy without signature is fetched again",
			setup: func(t *testing.T, _, store string) release.Source {
				p := seedCache(t, store, newVersion, bench.DebFolder)
				if err := os.Remove(p + ".sig"); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			wantOpens: 2,
		},
		{
			name: "missing signature",
			setup: func(t *testing.T, bucket, _ string) release.Source {
				if err := os.Remove(filepath.Join(bucket, debKey(newVersion)+".sig")); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			wantOpens: 1, wantKind: fail.Verification, wantMsg: "missing signature: ",
		},
		{
			name: "corrupt package in the source",
			setup: func(t *testing.T, bucket, _ string) release.Source {
				corrupt(t, filepath.Join(bucket, debKey(newVersion)))
				return nil
			},
			wantOpens: 2, wantKind: fail.Verification, wantMsg: "verify ",
		},
		{
			name: "corrupt cached copy and corrupt source",
			setup: func(t *testing.T, bucket, store string) release.Source {
				corrupt(t, seedCache(t, store, newVersion, bench.DebFolder))
				corrupt(t, filepath.Join(bucket, debKey(newVersion)))
				return nil
			},
			wantOpens: 2, wantKind: fail.Verification, wantMsg: "verify ",
		},
		{
			name:      "untrusted signer stops before the download",
			keyring:   awsOnly,
			wantOpens: 1, wantKind: fail.Verification, wantMsg: "",
		},
		{
			name: "package 404",
			setup: func(t *testing.T, bucket, _ string) release.Source {
				srv := bench.ServeBucket(t, bucket, "us-east-1")
				srv.Fail(debKey(newVersion), 404)
				src, err := release.NewSource(context.Background(), srv.Endpoint()+"/amazon-ssm-us-east-1", release.SourceOptions{MaxAttempts: 1})
				if err != nil {
					t.Fatal(err)
				}
				return src
			},
			wantOpens: 2, wantKind: fail.Download, wantMsg: "/amazon-ssm-us-east-1/" + debKey(newVersion) + " (HTTP 404, NoSuchKey)",
		},
		{
			name: "signature 403 counts as missing",
			setup: func(t *testing.T, bucket, _ string) release.Source {
				srv := bench.ServeBucket(t, bucket, "us-east-1")
				srv.Fail(debKey(newVersion)+".sig", 403)
				src, err := release.NewSource(context.Background(), srv.Endpoint()+"/amazon-ssm-us-east-1", release.SourceOptions{MaxAttempts: 1})
				if err != nil {
					t.Fatal(err)
				}
				return src
			},
			wantOpens: 1, wantKind: fail.Verification, wantMsg: "missing signature: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := newBucket(t, newVersion)
			store := t.TempDir()
			var inner release.Source
			if tt.setup != nil {
				inner = tt.setup(t, bucket, store)
			}
			if inner == nil {
				inner = dirSource(t, bucket)
			}
			src := &countingSource{Source: inner}
			kr := tt.keyring
			if kr == nil {
				kr = testKeyring(t)
			}
			now := testNow()
			pkg, err := Fetch(context.Background(), FetchOptions{
				Source: src, Version: newVersion, Folder: bench.DebFolder, Keyring: kr,
				Store: release.Cache{Dir: store}, Now: func() time.Time { return now },
			})
			if got := src.opens.Load(); got != tt.wantOpens {
				t.Errorf("got %d objects opened through the source, want %d", got, tt.wantOpens)
			}
			checkErr(t, err, tt.wantKind, tt.wantMsg)
			dest := release.Cache{Dir: store}.Path(newVersion, bench.DebFolder, bench.DebFile)
			if err != nil {
				// A failed fetch leaves nothing behind: no package, no signature, no temp file.
				if got := regularFiles(t, store); got != nil {
					t.Errorf("got files %q in the store after a failed fetch, want none", got)
				}
				return
			}
			good, _ := packages(t, newVersion)
			want := Package{
				Path: dest, SignaturePath: dest + ".sig", Version: newVersion, Folder: bench.DebFolder, File: bench.DebFile,
				Size: fileSize(t, good), SHA256: sha256File(t, good), SignerFingerprint: testSignerFP,
				URL: src.URL(debKey(newVersion)), FromCache: tt.wantCache,
			}
			if diff := cmp.Diff(want, pkg, cmpopts.IgnoreFields(Package{}, "SignedAt")); diff != "" {
				t.Errorf("Package mismatch (-want +got):\n%s", diff)
			}
			if pkg.SignedAt.IsZero() || pkg.SignedAt.After(now) {
				t.Errorf("got SignedAt %v, want a time before %v", pkg.SignedAt, now)
			}
			if got := sha256File(t, dest); got != want.SHA256 {
				t.Errorf("got stored package sha256 %s, want %s", got, want.SHA256)
			}
			if got := regularFiles(t, store); !cmp.Equal(got, []string{debKey(newVersion), debKey(newVersion) + ".sig"}) {
				t.Errorf("got store files %q, want the package and its .sig only", got)
			}
			// What was stored verifies on its own: the next run can use it offline.
			if _, err := verify.VerifyFile(dest, dest+".sig", kr, now); err != nil {
				t.Errorf("stored package does not verify: %v", err)
			}
		})
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestVerifyLocal(t *testing.T) {
	awsOnly, err := verify.AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// setup gets the package path and returns the --signature value.
		setup    func(t *testing.T, pkg string) string
		keyring  *verify.Keyring
		wantSig  string // signature path, relative to the package's directory
		wantKind fail.Kind
		wantMsg  string
	}{
		{
			name:    "signature beside the package",
			setup:   func(t *testing.T, pkg string) string { bench.Sign(t, signer(t), pkg, false); return "" },
			wantSig: "amazon-ssm-agent.deb.sig",
		},
		{
			name: "armored signature given explicitly",
			setup: func(t *testing.T, pkg string) string {
				bench.Sign(t, signer(t), pkg, true)
				sig := filepath.Join(filepath.Dir(pkg), "other.asc")
				if err := os.Rename(pkg+".sig", sig); err != nil {
					t.Fatal(err)
				}
				return sig
			},
			wantSig: "other.asc",
		},
		{
			name:     "missing signature",
			setup:    func(t *testing.T, pkg string) string { return "" },
			wantKind: fail.Verification, wantMsg: "missing signature: ",
		},
		{
			name: "explicit signature missing even though one is beside the package",
			setup: func(t *testing.T, pkg string) string {
				bench.Sign(t, signer(t), pkg, false)
				return pkg + ".other"
			},
			wantKind: fail.Verification, wantMsg: "missing signature: ",
		},
		{
			name: "package changed after signing",
			setup: func(t *testing.T, pkg string) string {
				bench.Sign(t, signer(t), pkg, false)
				corrupt(t, pkg)
				return ""
			},
			wantKind: fail.Verification,
		},
		{
			name:     "untrusted signer",
			setup:    func(t *testing.T, pkg string) string { bench.Sign(t, signer(t), pkg, false); return "" },
			keyring:  awsOnly,
			wantKind: fail.Verification,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deb, _ := packages(t, newVersion)
			pkg := filepath.Join(t.TempDir(), "amazon-ssm-agent.deb")
			copyFile(t, deb, pkg)
			sig := tt.setup(t, pkg)
			kr := tt.keyring
			if kr == nil {
				kr = testKeyring(t)
			}
			got, err := VerifyLocal(pkg, sig, kr, testNow())
			checkErr(t, err, tt.wantKind, tt.wantMsg)
			if err != nil {
				return
			}
			want := Package{
				Path: pkg, SignaturePath: filepath.Join(filepath.Dir(pkg), tt.wantSig), File: "amazon-ssm-agent.deb",
				Size: fileSize(t, deb), SHA256: sha256File(t, deb), SignerFingerprint: testSignerFP, URL: pkg,
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Package{}, "SignedAt")); diff != "" {
				t.Errorf("Package mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFetchKeepsCopyOnMissingTrust: a stored copy whose signer is not trusted (no
// --trusted-key this time) may be a good file: it is reported, not deleted.
func TestFetchKeepsCopyOnMissingTrust(t *testing.T) {
	awsOnly, err := verify.AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	bucket := newBucket(t, newVersion)
	store := t.TempDir()
	seedCache(t, store, newVersion, bench.DebFolder)
	before := regularFiles(t, store)
	_, err = Fetch(context.Background(), FetchOptions{
		Source: dirSource(t, bucket), Version: newVersion, Folder: bench.DebFolder, Keyring: awsOnly,
		Store: release.Cache{Dir: store}, Now: testNow,
	})
	if !errors.Is(err, verify.ErrUntrustedSigner) || fail.KindOf(err) != fail.Verification {
		t.Fatalf("got %v, want an untrusted-signer verification error", err)
	}
	if got := regularFiles(t, store); !cmp.Equal(got, before) {
		t.Errorf("got store files %q after the failure, want the copy kept: %q", got, before)
	}
}

// TestFetchMirrorDigest: a package whose SHA-256 differs from the digest a mirror's
// lock file records is refused even with a good signature, and leaves nothing behind,
// no empty VERSION/FOLDER directory either.
func TestFetchMirrorDigest(t *testing.T) {
	tests := []struct {
		name     string
		expect   func(good string) string
		wantKind fail.Kind
	}{
		{name: "matches", expect: func(good string) string { return good }},
		{name: "differs", expect: func(string) string { return strings.Repeat("ab", 32) }, wantKind: fail.Verification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := newBucket(t, newVersion)
			store := t.TempDir()
			good, _ := packages(t, newVersion)
			_, err := Fetch(context.Background(), FetchOptions{
				Source: dirSource(t, bucket), Version: newVersion, Folder: bench.DebFolder, Keyring: testKeyring(t),
				Store: release.Cache{Dir: store}, ExpectSHA256: tt.expect(sha256File(t, good)), Now: testNow,
			})
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("got %v, want none", err)
				}
				return
			}
			checkErr(t, err, tt.wantKind, MirrorLockName)
			entries, _ := os.ReadDir(store)
			if len(entries) != 0 {
				t.Errorf("got %d entries left in the store, want none", len(entries))
			}
		})
	}
}
