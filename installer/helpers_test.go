//go:build linux

package installer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/bench"
)

// Agent versions the fixtures publish; 3.3.99.0 < 3.3.100.0 needs all four parts
// compared as numbers.
const (
	oldVersion = "3.3.99.0"
	newVersion = "3.3.100.0"
)

// Fingerprint of the committed test key (testdata/keys/README.md).
const testSignerFP = "C5A4E666D73B5CB5A499416A56B06C9BDC577450"

const (
	testKeyDir    = "../testdata/keys"
	testPublicKey = testKeyDir + "/test-signer.pub.asc"
	testSecretKey = testKeyDir + "/test-signer.sec.asc"
)

// testSigner is the committed test key with its secret parts, read once.
var testSigner = sync.OnceValues(func() (*openpgp.Entity, error) {
	f, err := os.Open(testSecretKey)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	el, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil {
		return nil, err
	}
	return el[0], nil
})

func signer(t *testing.T) *openpgp.Entity {
	t.Helper()
	e, err := testSigner()
	if err != nil {
		t.Fatalf("read the test key: %v", err)
	}
	return e
}

// testKeyring trusts only the committed test key.
func testKeyring(t *testing.T) *verify.Keyring {
	t.Helper()
	kr := &verify.Keyring{}
	if err := kr.AddFiles(testPublicKey); err != nil {
		t.Fatal(err)
	}
	return kr
}

// builtPackages holds the stand-in deb and rpm of each version, built once per test
// process (nfpm is quick, but every test needs them). The directory is removed by
// TestMain.
var builtPackages = struct {
	sync.Mutex
	dir  string
	debs map[string]string
	rpms map[string]string
}{debs: map[string]string{}, rpms: map[string]string{}}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtPackages.dir != "" {
		os.RemoveAll(builtPackages.dir)
	}
	os.Exit(code)
}

// packages returns the deb and rpm of version. The packaged "agent" is a shell script:
// these tests never run it, and building the Go stand-in would be slow.
func packages(t *testing.T, version string) (deb, rpm string) {
	t.Helper()
	bp := &builtPackages
	bp.Lock()
	defer bp.Unlock()
	if d, ok := bp.debs[version]; ok {
		return d, bp.rpms[version]
	}
	if bp.dir == "" {
		dir, err := os.MkdirTemp("", "ssm-setup-installer-test-")
		if err != nil {
			t.Fatal(err)
		}
		bp.dir = dir
	}
	dir := filepath.Join(bp.dir, version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(dir, "amazon-ssm-agent")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\necho 'SSM Agent version: "+version+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	deb, rpm = bench.BuildPackages(t, bench.PkgOptions{Version: version, Agent: agent, Dir: dir})
	bp.debs[version], bp.rpms[version] = deb, rpm
	return deb, rpm
}

// newBucket lays out a bucket in a new directory with the given versions (the last is
// latest), every package signed by the test key, and returns the directory.
func newBucket(t *testing.T, versions ...string) string {
	t.Helper()
	b := bench.Bucket{Signer: signer(t)}
	for _, v := range versions {
		deb, rpm := packages(t, v)
		b.Releases = append(b.Releases, bench.Release{Version: v, Deb: deb, RPM: rpm})
	}
	dir := t.TempDir()
	bench.BuildBucket(t, dir, "us-east-1", b)
	return dir
}

// dirSource opens dir as a release source.
func dirSource(t *testing.T, dir string) release.Source {
	t.Helper()
	src, err := release.NewSource(context.Background(), dir, release.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// countingOpen returns an Options.OpenSource for the directory source dir and the
// number of times it was called.
func countingOpen(t *testing.T, dir string) (func(context.Context) (release.Source, error), *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	return func(ctx context.Context) (release.Source, error) {
		n.Add(1)
		return release.NewSource(ctx, dir, release.SourceOptions{})
	}, &n
}

// seedCache puts the signed package of version for folder into the cache at dir, as
// an earlier run would have left it, and returns its path.
func seedCache(t *testing.T, dir, version, folder string) string {
	t.Helper()
	deb, rpm := packages(t, version)
	src, file := deb, bench.DebFile
	if strings.HasPrefix(folder, "linux_") {
		src, file = rpm, bench.RPMFile
	}
	dst := release.Cache{Dir: dir}.Path(version, folder, file)
	copyFile(t, src, dst)
	bench.Sign(t, signer(t), dst, false)
	return dst
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// corrupt flips one byte in the middle of path.
func corrupt(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// regularFiles lists the regular files under dir, relative and sorted; nil when none.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// testNow is the clock of the tests: a little after the fixtures were signed (a
// signature dated after "now" would count as from the future), whole seconds so that
// it survives the state file's JSON unchanged.
func testNow() time.Time {
	return time.Now().UTC().Truncate(time.Second).Add(time.Minute)
}
