//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/ssm-setup/ssm-setup/installer"
	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/internal/bench"
)

// End-to-end tests of `versions`, `download` and `verify`: the real entry point
// (execute) against a loopback S3 stand-in (internal/bench) reached through
// AWS_ENDPOINT_URL_S3, with the committed test key (testdata/keys) as the signer.
// testdata/README.md at the module root says how these fixtures are made.

const (
	testRegion = "us-east-1"
	testBucket = "amazon-ssm-" + testRegion
	keysDir    = "../../testdata/keys"
	testPubKey = keysDir + "/test-signer.pub.asc"
	testSecKey = keysDir + "/test-signer.sec.asc"
	// testdata/keys/fingerprints.txt: bench.Sign signs with the Ed25519 subkey; the
	// committed package.bin.sig is by the RSA primary key.
	testPrimary = "C5A4E666D73B5CB5A499416A56B06C9BDC577450"
	testSubkey  = "6CC2659E403B7586073A6E201D67A47CE62EB0A9"
)

// The releases every test bucket publishes: latest is the newest, stable an older one.
var (
	testVersions = []string{"3.2.900.0", "3.3.40.0", "3.3.100.0"}
	testLatest   = "3.3.100.0"
	testStable   = "3.3.40.0"
)

// cliResult is one run of the CLI.
type cliResult struct {
	code     int
	out, err string
	elapsed  time.Duration
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d after %v\nstdout:\n%s\nstderr:\n%s", r.code, r.elapsed.Round(time.Millisecond), r.out, r.err)
}

// runCLI runs ssm-setup args through execute with buffered streams, as a non-root user.
func runCLI(t testing.TB, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	f := newFactory(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb})
	f.Geteuid = func() int { return 1000 }
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	code := execute(ctx, f, args)
	return cliResult{code: code, out: out.String(), err: errb.String(), elapsed: time.Since(start)}
}

// hermeticEnv keeps the host's AWS settings, credentials, instance metadata and cache
// out of a test, and points the S3 client at endpoint ("" leaves it unset).
func hermeticEnv(t *testing.T, endpoint string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{".aws-config", ".aws-credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, ".aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, ".aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	for _, name := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_S3", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "SSM_SETUP_TRUSTED_KEYS",
		"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
	} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	if endpoint != "" {
		t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	}
}

// testSigner loads the committed test key with its secret parts.
func testSigner(t testing.TB) *openpgp.Entity {
	t.Helper()
	f, err := os.Open(testSecKey)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	el, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil || len(el) != 1 {
		t.Fatalf("read %s: %d keys, %v", testSecKey, len(el), err)
	}
	return el[0]
}

// fakePackages writes small stand-in .deb and .rpm files for version (tests here never
// install them, so they need not be real packages; internal/bench.BuildPackages makes
// real ones for the install tests).
func fakePackages(t testing.TB, version string) (deb, rpm string) {
	t.Helper()
	dir := t.TempDir()
	deb = filepath.Join(dir, "agent-"+version+".deb")
	rpm = filepath.Join(dir, "agent-"+version+".rpm")
	for _, p := range []string{deb, rpm} {
		data := bytes.Repeat([]byte("stand-in "+filepath.Base(p)+"\n"), 300)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return deb, rpm
}

// releaseFixture is a signed bucket served on a loopback port.
type releaseFixture struct {
	dir string // the bucket's files: DIR/KEY
	srv *bench.Server
}

// newReleaseFixture builds the test bucket, lets change alter its files, serves it and
// sets a hermetic environment pointing at it.
func newReleaseFixture(t *testing.T, change func(t *testing.T, dir string)) *releaseFixture {
	t.Helper()
	dir := t.TempDir()
	b := bench.Bucket{Latest: testLatest, Stable: testStable, Signer: testSigner(t)}
	for _, v := range testVersions {
		deb, rpm := fakePackages(t, v)
		b.Releases = append(b.Releases, bench.Release{Version: v, Deb: deb, RPM: rpm})
	}
	bench.BuildBucket(t, dir, testRegion, b)
	if change != nil {
		change(t, dir)
	}
	srv := bench.ServeBucket(t, dir, testRegion)
	hermeticEnv(t, srv.Endpoint())
	return &releaseFixture{dir: dir, srv: srv}
}

func pkgKey(version, folder string) string {
	file := bench.DebFile
	if strings.HasPrefix(folder, "linux_") {
		file = bench.RPMFile
	}
	return version + "/" + folder + "/" + file
}

func sha256File(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readLock(t testing.TB, dest string) installer.MirrorLock {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dest, LockFileName))
	if err != nil {
		t.Fatalf("lock file: %v", err)
	}
	var lf installer.MirrorLock
	if err := json.Unmarshal(data, &lf); err != nil {
		t.Fatalf("lock file: %v\n%s", err, data)
	}
	return lf
}

var upperHex40 = regexp.MustCompile(`^[0-9A-F]{40}$`)

// checkMirror checks that dest holds version's packages for folders in the bucket
// layout, byte for byte as in bucketDir, and that the lock file records them with
// source URLs made by srcURL(key).
func checkMirror(t *testing.T, dest, bucketDir, version string, folders []string, srcURL func(key string) string) {
	t.Helper()
	lf := readLock(t, dest)
	if lf.SchemaVersion != 1 {
		t.Errorf("lock schema_version = %d, want 1", lf.SchemaVersion)
	}
	for _, folder := range folders {
		key := pkgKey(version, folder)
		got := filepath.Join(dest, filepath.FromSlash(key))
		want := filepath.Join(bucketDir, filepath.FromSlash(key))
		for _, suffix := range []string{"", ".sig"} {
			g, err := os.ReadFile(got + suffix)
			if err != nil {
				t.Errorf("mirror file: %v", err)
				continue
			}
			w, err := os.ReadFile(want + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g, w) {
				t.Errorf("%s%s differs from the bucket's copy", key, suffix)
			}
		}
		i := slices.IndexFunc(lf.Files, func(e installer.MirrorEntry) bool { return e.Version == version && e.Folder == folder })
		if i < 0 {
			t.Errorf("lock file has no entry for %s/%s: %+v", version, folder, lf.Files)
			continue
		}
		e := lf.Files[i]
		st, err := os.Stat(want)
		if err != nil {
			t.Fatal(err)
		}
		if e.File != filepath.Base(key) {
			t.Errorf("lock %s file = %q, want %q", key, e.File, filepath.Base(key))
		}
		if e.Size != st.Size() {
			t.Errorf("lock %s size = %d, want %d", key, e.Size, st.Size())
		}
		if ws := sha256File(t, want); e.SHA256 != ws {
			t.Errorf("lock %s sha256 = %q, want %q", key, e.SHA256, ws)
		}
		if !upperHex40.MatchString(e.SignerFingerprint) || e.SignerFingerprint != testPrimary {
			t.Errorf("lock %s signer_fingerprint = %q, want %s (40 upper-case hex)", key, e.SignerFingerprint, testPrimary)
		}
		if age := time.Since(e.SignedAt); age < 0 || age > time.Hour {
			t.Errorf("lock %s signed_at = %v, want within the last hour", key, e.SignedAt)
		}
		if u := srcURL(key); e.SourceURL != u {
			t.Errorf("lock %s source_url = %q, want %q", key, e.SourceURL, u)
		}
	}
}

// regularFiles lists the regular files under dir, relative and slash-separated.
func regularFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDownloadVersionSpecs(t *testing.T) {
	fx := newReleaseFixture(t, nil)
	s3URL := func(key string) string { return fx.srv.Endpoint() + "/" + testBucket + "/" + key }
	folders := []string{"debian_amd64", "linux_amd64"}
	tests := []struct {
		spec, want string
		pointer    string // latest or stable: DIR/POINTER/VERSION is written
	}{
		{"latest", testLatest, "latest"},
		{"stable", testStable, "stable"},
		{"3.3.100.0", "3.3.100.0", ""},
		{"3.3.*", "3.3.100.0", ""},
		{"~3.2", "3.2.900.0", ""},
		{">=3.3 <3.3.100", "3.3.40.0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "mirror")
			r := runCLI(t, "download", "--region", testRegion, "--version", tt.spec,
				"--platform", "debian_amd64", "--platform", "linux_amd64", "--dest", dest,
				"--trusted-key", testPubKey, "--output", "json")
			if r.code != 0 {
				t.Fatalf("download --version %s: %v", tt.spec, r)
			}
			checkMirror(t, dest, fx.dir, tt.want, folders, s3URL)

			var res downloadResult
			if err := json.Unmarshal([]byte(r.out), &res); err != nil {
				t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.out)
			}
			if res.Dest != dest || res.LockFile != filepath.Join(dest, LockFileName) || len(res.Files) != 2 {
				t.Errorf("result = %+v, want dest %s, its lock file and 2 files", res, dest)
			}
			want := []string{
				pkgKey(tt.want, "debian_amd64"), pkgKey(tt.want, "debian_amd64") + ".sig",
				pkgKey(tt.want, "linux_amd64"), pkgKey(tt.want, "linux_amd64") + ".sig",
				LockFileName,
			}
			if tt.pointer != "" {
				want = append(want, tt.pointer+"/VERSION")
				got, err := os.ReadFile(filepath.Join(dest, tt.pointer, "VERSION"))
				if err != nil || strings.TrimSpace(string(got)) != tt.want {
					t.Errorf("%s/VERSION = %q, %v; want %s", tt.pointer, got, err, tt.want)
				}
			}
			slices.Sort(want)
			if got := regularFiles(t, dest); !slices.Equal(got, want) {
				t.Errorf("files in dest = %v, want %v", got, want)
			}
		})
	}
}

// A mirror made by download serves versions and download with the server gone.
func TestDownloadAirGapped(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "mirror")
	t.Run("online", func(t *testing.T) {
		// The server and its bucket belong to this subtest: both are gone when it ends.
		fx := newReleaseFixture(t, nil)
		for _, v := range []string{"latest", "3.3.40.0"} {
			r := runCLI(t, "download", "--region", testRegion, "--version", v, "--platform", "debian_amd64",
				"--platform", "linux_amd64", "--dest", dest, "--trusted-key", testPubKey)
			if r.code != 0 {
				t.Fatalf("download --version %s: %v", v, r)
			}
			want := map[string]string{"latest": testLatest, "3.3.40.0": "3.3.40.0"}[v]
			checkMirror(t, dest, fx.dir, want,
				[]string{"debian_amd64", "linux_amd64"}, func(key string) string { return fx.srv.Endpoint() + "/" + testBucket + "/" + key })
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	// Every network path leads nowhere now.
	hermeticEnv(t, "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")

	r := runCLI(t, "versions", "--source", dest, "--platform", "debian_amd64", "--output", "json")
	if r.code != 0 {
		t.Fatalf("versions --source DIR: %v", r)
	}
	var vr versionsResult
	if err := json.Unmarshal([]byte(r.out), &vr); err != nil {
		t.Fatalf("versions output: %v\n%s", err, r.out)
	}
	if got := versionStrings(vr.Versions); !slices.Equal(got, []string{"3.3.100.0", "3.3.40.0"}) || vr.Latest != testLatest {
		t.Errorf("versions over the mirror: latest %q, versions %v; want %s and [3.3.100.0 3.3.40.0]", vr.Latest, got, testLatest)
	}

	for _, spec := range []string{"latest", "3.3.40.0", "3.3.*"} {
		t.Run(spec, func(t *testing.T) {
			dest2 := filepath.Join(t.TempDir(), "copy")
			r := runCLI(t, "download", "--source", dest, "--version", spec, "--platform", "debian_amd64",
				"--platform", "linux_amd64", "--dest", dest2, "--trusted-key", testPubKey)
			if r.code != 0 {
				t.Fatalf("download --source DIR --version %s, server stopped: %v", spec, r)
			}
			want := map[string]string{"latest": testLatest, "3.3.40.0": "3.3.40.0", "3.3.*": testLatest}[spec]
			checkMirror(t, dest2, dest, want, []string{"debian_amd64", "linux_amd64"},
				func(key string) string { return filepath.Join(dest, filepath.FromSlash(key)) })
		})
	}

	// A mirror whose file is not the one its lock file records is refused (exit 4),
	// even though the signature is good: the lock file is the mirror's own promise.
	t.Run("digest differs from the mirror's lock file", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad")
		if err := os.CopyFS(bad, os.DirFS(dest)); err != nil {
			t.Fatal(err)
		}
		lockPath := filepath.Join(bad, LockFileName)
		lf := readLock(t, bad)
		for i := range lf.Files {
			lf.Files[i].SHA256 = strings.Repeat("0", 64)
		}
		data, _ := json.Marshal(lf)
		if err := os.WriteFile(lockPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		dest3 := filepath.Join(t.TempDir(), "copy")
		r := runCLI(t, "download", "--source", bad, "--version", "3.3.40.0", "--platform", "debian_amd64", "--dest", dest3, "--trusted-key", testPubKey)
		if r.code != 4 || !strings.Contains(r.err, LockFileName) || !strings.Contains(r.err, strings.Repeat("0", 64)) {
			t.Fatalf("got %v, want exit 4 naming %s and the recorded digest", r, LockFileName)
		}
		if _, err := os.Stat(filepath.Join(dest3, "3.3.40.0")); err == nil {
			t.Error("a refused download left its directory behind")
		}
	})
}

func versionStrings(es []versionEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Version)
	}
	return out
}

// Other source kinds: a web mirror (http on loopback), an s3:// mirror through the SDK,
// and the bucket directory itself as a file:// URL.
func TestDownloadSources(t *testing.T) {
	fx := newReleaseFixture(t, nil)
	httpBase := fx.srv.Endpoint() + "/" + testBucket
	tests := []struct {
		name   string
		args   []string
		srcURL func(key string) string
	}{
		{"https-style mirror", []string{"--source", httpBase},
			func(key string) string { return httpBase + "/" + key }},
		{"s3 mirror", []string{"--source", "s3://" + testBucket + "/", "--region", testRegion},
			func(key string) string { return "s3://" + testBucket + "/" + key }},
		{"file URL", []string{"--source", "file://" + fx.dir},
			func(key string) string { return filepath.Join(fx.dir, filepath.FromSlash(key)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			args := append([]string{"download", "--version", "3.3.*", "--platform", "debian_amd64", "--platform", "linux_amd64",
				"--dest", dest, "--trusted-key", testPubKey}, tt.args...)
			r := runCLI(t, args...)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			checkMirror(t, dest, fx.dir, testLatest, []string{"debian_amd64", "linux_amd64"}, tt.srcURL)

			r = runCLI(t, append([]string{"versions", "--platform", "linux_amd64", "--output", "json"}, tt.args...)...)
			if r.code != 0 || !strings.Contains(r.out, `"latest": "3.3.100.0"`) {
				t.Errorf("versions: %v", r)
			}
		})
	}
}

// A package already in --dest is verified and reused: no request for it or its
// signature, over S3 and over a web mirror.
func TestDownloadReusesVerifiedCopy(t *testing.T) {
	fx := newReleaseFixture(t, nil)
	for _, src := range [][]string{{"--region", testRegion}, {"--source", fx.srv.Endpoint() + "/" + testBucket}} {
		t.Run(src[0], func(t *testing.T) {
			dest := t.TempDir()
			args := append([]string{"download", "--version", "3.3.40.0", "--platform", "debian_amd64", "--dest", dest, "--trusted-key", testPubKey}, src...)
			key := pkgKey("3.3.40.0", "debian_amd64")
			if r := runCLI(t, args...); r.code != 0 {
				t.Fatalf("first download: %v", r)
			}
			pkgReqs, sigReqs := fx.srv.Requests(key), fx.srv.Requests(key+".sig")
			if pkgReqs == 0 || sigReqs == 0 {
				t.Fatalf("first download made %d package and %d signature requests, want some", pkgReqs, sigReqs)
			}
			r := runCLI(t, args...)
			if r.code != 0 {
				t.Fatalf("second download: %v", r)
			}
			if got := fx.srv.Requests(key); got != pkgReqs {
				t.Errorf("second download made %d package requests, want 0", got-pkgReqs)
			}
			if got := fx.srv.Requests(key + ".sig"); got != sigReqs {
				t.Errorf("second download made %d signature requests, want 0", got-sigReqs)
			}
			// The lock entry still names where the file came from.
			base := fx.srv.Endpoint() + "/" + testBucket
			checkMirror(t, dest, fx.dir, "3.3.40.0", []string{"debian_amd64"}, func(key string) string { return base + "/" + key })
		})
	}
}

// Every failure: exit code and what the message must name; nothing unverified stays.
func TestDownloadFailures(t *testing.T) {
	const pinned = "3.3.100.0"
	debKey := pkgKey(pinned, "debian_amd64")
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string)    // alters the bucket's files before serving
		setup   func(*releaseFixture, *testing.T) // after serving: forced statuses, env
		args    []string                          // besides --dest
		noKey   bool                              // leave out --trusted-key
		want    int
		wantErr []string // substrings of stderr
		maxTime time.Duration
	}{
		{
			name: "version not found", args: []string{"--region", testRegion, "--version", "3.3.99.0", "--platform", "debian_amd64"},
			want: 5, wantErr: []string{"agent version 3.3.99.0 for debian_amd64", "not found", "nearest available: 3.3.100.0, 3.3.40.0, 3.2.900.0", "hint: "},
		},
		{
			name: "constraint matches nothing", args: []string{"--region", testRegion, "--version", "4.*", "--platform", "debian_amd64"},
			want: 5, wantErr: []string{`matches "4.*"`, "newest available: 3.3.100.0"},
		},
		{
			name:  "403",
			setup: func(fx *releaseFixture, _ *testing.T) { fx.srv.Fail(debKey, 403) },
			args:  []string{"--region", testRegion, "--version", pinned, "--platform", "debian_amd64"},
			want:  5, wantErr: []string{"access denied", debKey, "HTTP 403"},
		},
		{
			name: "500 forever",
			setup: func(fx *releaseFixture, t *testing.T) {
				fx.srv.Fail("latest/VERSION", 500)
				t.Setenv("AWS_MAX_ATTEMPTS", "2")
			},
			args: []string{"--region", testRegion, "--platform", "debian_amd64"},
			want: 5, wantErr: []string{"latest/VERSION", "HTTP 500", "gave up"}, maxTime: 20 * time.Second,
		},
		{
			name: "500 forever, web mirror",
			setup: func(fx *releaseFixture, _ *testing.T) {
				fx.srv.Fail(debKey, 500)
			},
			args: []string{"--version", pinned, "--platform", "debian_amd64"}, // --source added below
			want: 5, wantErr: []string{debKey, "500"}, maxTime: 20 * time.Second,
		},
		{
			name: "tampered package",
			change: func(t *testing.T, dir string) {
				p := filepath.Join(dir, filepath.FromSlash(debKey))
				b, _ := os.ReadFile(p)
				b[len(b)/2] ^= 0xff
				os.WriteFile(p, b, 0o644)
			},
			args: []string{"--region", testRegion, "--version", pinned, "--platform", "debian_amd64"},
			want: 4, wantErr: []string{"bad signature", testPrimary},
		},
		{
			name:   "missing signature",
			change: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, filepath.FromSlash(debKey)) + ".sig") },
			args:   []string{"--region", testRegion, "--version", pinned, "--platform", "debian_amd64"},
			want:   4, wantErr: []string{"missing signature", debKey + ".sig"},
		},
		{
			name:  "untrusted signer",
			noKey: true,
			args:  []string{"--region", testRegion, "--version", pinned, "--platform", "debian_amd64"},
			want:  4, wantErr: []string{"unknown signer", testSubkey, "--trusted-key"},
		},
		{
			name: "signature dated in the future",
			change: func(t *testing.T, dir string) {
				p := filepath.Join(dir, filepath.FromSlash(debKey))
				bench.SignAt(t, testSigner(t), p, false, time.Now().Add(48*time.Hour))
			},
			args: []string{"--region", testRegion, "--version", pinned, "--platform", "debian_amd64"},
			want: 4, wantErr: []string{"signature dated in the future"},
		},
		{
			name: "bad region", args: []string{"--region", "moon-west-1", "--platform", "debian_amd64"},
			want: 2, wantErr: []string{"moon-west-1"},
		},
		{
			name: "no region", args: []string{"--platform", "debian_amd64"},
			want: 2, wantErr: []string{"region required", "hint: "},
		},
		{
			name: "unknown platform", args: []string{"--region", testRegion, "--platform", "bogus"},
			want: 2, wantErr: []string{`invalid --platform "bogus"`, "debian_amd64"},
		},
		{
			name: "all platforms and platform", args: []string{"--region", testRegion, "--all-platforms", "--platform", "linux_amd64"},
			want: 2, wantErr: []string{"--all-platforms and --platform cannot be used together"},
		},
		{
			name: "bad version spec", args: []string{"--region", testRegion, "--version", "3.x.y!", "--platform", "linux_amd64"},
			want: 2, wantErr: []string{`version spec "3.x.y!"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newReleaseFixture(t, tt.change)
			if tt.setup != nil {
				tt.setup(fx, t)
			}
			dest := filepath.Join(t.TempDir(), "mirror")
			args := append([]string{"download", "--dest", dest}, tt.args...)
			if strings.Contains(tt.name, "web mirror") {
				args = append(args, "--source", fx.srv.Endpoint()+"/"+testBucket)
			}
			if !tt.noKey {
				args = append(args, "--trusted-key", testPubKey)
			}
			r := runCLI(t, args...)
			if r.code != tt.want {
				t.Fatalf("got exit %d, want %d\n%v", r.code, tt.want, r)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.err)
				}
			}
			if n := strings.Count(r.err, "ssm-setup: "); n != 1 {
				t.Errorf("stderr has %d error lines, want 1:\n%s", n, r.err)
			}
			if tt.maxTime > 0 && r.elapsed > tt.maxTime {
				t.Errorf("took %v, want at most %v", r.elapsed, tt.maxTime)
			}
			if files := regularFiles(t, dest); len(files) > 0 {
				t.Errorf("files left in --dest after a failure: %v", files)
			}
		})
	}
}

// The lock file keeps the entries of earlier runs and lists each file as soon as it is
// in the mirror, also when a later platform of the same run fails.
func TestDownloadLockFileMerge(t *testing.T) {
	fx := newReleaseFixture(t, nil)
	dl := func(dest, version string, platforms ...string) cliResult {
		args := []string{"download", "--region", testRegion, "--version", version, "--dest", dest, "--trusted-key", testPubKey}
		for _, p := range platforms {
			args = append(args, "--platform", p)
		}
		return runCLI(t, args...)
	}
	lockKeys := func(dest string) []string {
		var out []string
		for _, e := range readLock(t, dest).Files {
			out = append(out, e.Version+"/"+e.Folder)
		}
		return out
	}

	t.Run("earlier entries kept", func(t *testing.T) {
		dest := t.TempDir()
		for _, run := range [][]string{
			{"3.2.900.0", "debian_amd64", "linux_amd64"},
			{"3.3.40.0", "debian_amd64", "linux_amd64"},
			{testLatest, "linux_amd64"},
			{testLatest, "debian_amd64", "linux_amd64"}, // one new file, one already there
		} {
			if r := dl(dest, run[0], run[1:]...); r.code != 0 {
				t.Fatalf("download %v: %v", run, r)
			}
		}
		want := []string{"3.2.900.0/debian_amd64", "3.2.900.0/linux_amd64", "3.3.100.0/debian_amd64", "3.3.100.0/linux_amd64", "3.3.40.0/debian_amd64", "3.3.40.0/linux_amd64"}
		if got := lockKeys(dest); !slices.Equal(got, want) {
			t.Errorf("lock file lists %v, want %v", got, want)
		}
	})

	t.Run("later platform fails", func(t *testing.T) {
		dest := t.TempDir()
		fx.srv.Fail(pkgKey(testLatest, "linux_amd64"), 403)
		defer fx.srv.Fail(pkgKey(testLatest, "linux_amd64"), 0)
		if r := dl(dest, testLatest, "debian_amd64", "linux_amd64"); r.code != 5 {
			t.Fatalf("download with the rpm refused: got exit %d, want 5\n%v", r.code, r)
		}
		if got, want := lockKeys(dest), []string{testLatest + "/debian_amd64"}; !slices.Equal(got, want) {
			t.Errorf("lock file lists %v, want %v", got, want)
		}
		checkMirror(t, dest, fx.dir, testLatest, []string{"debian_amd64"}, func(key string) string { return fx.srv.Endpoint() + "/" + testBucket + "/" + key })
	})
}

// A --dest that cannot take a mirror (a file, a lock file download cannot read) is a
// usage error found before anything is downloaded.
func TestDownloadBadDest(t *testing.T) {
	fx := newReleaseFixture(t, nil)
	key := pkgKey(testLatest, "debian_amd64")
	tests := []struct {
		name    string
		lock    string // content of DIR/ssm-setup-lock.json; "" = --dest is a file
		wantErr string
	}{
		{"dest is a file", "", "not a directory"},
		{"damaged lock file", `{"files": [`, "lock file"},
		{"lock file of another schema", `{"schema_version": 2, "files": []}`, "schema_version 2, want 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "mirror")
			if tt.lock == "" {
				os.WriteFile(dest, []byte("a file"), 0o644)
			} else {
				os.MkdirAll(dest, 0o755)
				os.WriteFile(filepath.Join(dest, LockFileName), []byte(tt.lock), 0o644)
			}
			before := regularFiles(t, dir)
			reqs := fx.srv.Requests(key)
			r := runCLI(t, "download", "--region", testRegion, "--platform", "debian_amd64", "--dest", dest, "--trusted-key", testPubKey)
			if r.code != 2 || !strings.Contains(r.err, tt.wantErr) {
				t.Errorf("got exit %d, want 2 with %q\n%v", r.code, tt.wantErr, r)
			}
			if after := regularFiles(t, dir); !slices.Equal(before, after) {
				t.Errorf("files changed: before %v, after %v", before, after)
			}
			if n := fx.srv.Requests(key) - reqs; n != 0 {
				t.Errorf("got %d package requests, want none", n)
			}
		})
	}
}

// The JSON error object goes to stdout with --output json.
func TestDownloadFailureJSON(t *testing.T) {
	newReleaseFixture(t, nil)
	r := runCLI(t, "download", "--dest", t.TempDir(), "--region", testRegion, "--version", "3.3.99.0",
		"--platform", "debian_amd64", "--trusted-key", testPubKey, "--output", "json")
	var obj struct {
		Error struct {
			Message  string `json:"message"`
			Kind     string `json:"kind"`
			ExitCode int    `json:"exit_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.out), &obj); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%v", err, r)
	}
	if r.code != 5 || obj.Error.ExitCode != 5 || !strings.Contains(obj.Error.Message, "3.3.99.0") {
		t.Errorf("got exit %d and %+v, want exit 5 naming 3.3.99.0", r.code, obj.Error)
	}
}

func TestVersionsCommand(t *testing.T) {
	newReleaseFixture(t, nil)
	root := fakeRoot(t, "ubuntu-24.04")
	r := runCLI(t, "versions", "--root", root, "--region", testRegion, "--platform", "debian_amd64", "--output", "json")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	var vr versionsResult
	if err := json.Unmarshal([]byte(r.out), &vr); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.out)
	}
	want := []string{"3.3.100.0", "3.3.40.0", "3.2.900.0"}
	if got := versionStrings(vr.Versions); !slices.Equal(got, want) {
		t.Errorf("versions = %v, want %v (newest first)", got, want)
	}
	if vr.Latest != testLatest || vr.Stable != testStable || vr.PlatformFolder != "debian_amd64" {
		t.Errorf("latest %q stable %q folder %q, want %s %s debian_amd64", vr.Latest, vr.Stable, vr.PlatformFolder, testLatest, testStable)
	}
	if len(vr.Versions) == 3 && (!vr.Versions[0].Latest || !vr.Versions[1].Stable || vr.Versions[2].Latest || vr.Versions[2].Stable) {
		t.Errorf("latest/stable marks wrong: %+v", vr.Versions)
	}

	// Without --platform the folder is the root's: Ubuntu 24.04 on amd64.
	r = runCLI(t, "versions", "--root", root, "--region", testRegion)
	if r.code != 0 || !strings.Contains(r.out, "debian_amd64") || !strings.Contains(r.out, "3.3.100.0 (latest)") || !strings.Contains(r.out, "3.3.40.0 (stable)") {
		t.Errorf("versions (text, detected folder): %v", r)
	}
}

// A source that fails (here: 500 on every try) ends `versions` with exit 5 at the
// first key, instead of passing over the failure and waiting again for the next keys.
func TestVersionsSourceFailure(t *testing.T) {
	fx := newReleaseFixture(t, nil)
	fx.srv.Fail("latest/VERSION", 500)
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	r := runCLI(t, "versions", "--region", testRegion, "--platform", "debian_amd64", "--output", "json")
	if r.code != 5 || !strings.Contains(r.out, "latest/VERSION") || !strings.Contains(r.out, "HTTP 500") {
		t.Errorf("got exit %d, want 5 naming latest/VERSION and HTTP 500\n%v", r.code, r)
	}
	if n := fx.srv.Requests("stable/VERSION") + fx.srv.Requests("ssm-agent-manifest.json"); n != 0 {
		t.Errorf("got %d requests after the failure, want none", n)
	}
}

// fakeRoot writes testdata/os-release/NAME as etc/os-release in a temp root.
func fakeRoot(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "os-release", name))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "os-release"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// SSM_SETUP_TRUSTED_KEYS trusts keys like --trusted-key does.
func TestTrustedKeysEnv(t *testing.T) {
	newReleaseFixture(t, nil)
	dest := t.TempDir()
	args := []string{"download", "--region", testRegion, "--version", "3.3.40.0", "--platform", "linux_amd64", "--dest", dest}
	if r := runCLI(t, args...); r.code != 4 {
		t.Fatalf("without a trusted key: got exit %d, want 4\n%v", r.code, r)
	}
	abs, _ := filepath.Abs(testPubKey)
	t.Setenv("SSM_SETUP_TRUSTED_KEYS", string(filepath.ListSeparator)+abs) // an empty entry is skipped
	if r := runCLI(t, args...); r.code != 0 {
		t.Fatalf("with SSM_SETUP_TRUSTED_KEYS: %v", r)
	}
	if r := runCLI(t, "verify", "--package", filepath.Join(keysDir, "package.bin"), "--output", "json"); r.code != 0 || !strings.Contains(r.out, testPrimary) {
		t.Errorf("verify with SSM_SETUP_TRUSTED_KEYS: %v", r)
	}
	t.Setenv("SSM_SETUP_TRUSTED_KEYS", filepath.Join(t.TempDir(), "missing.asc"))
	if r := runCLI(t, args...); r.code != 2 || !strings.Contains(r.err, "missing.asc") {
		t.Errorf("SSM_SETUP_TRUSTED_KEYS naming a missing file: got exit %d, want 2 naming the file\n%v", r.code, r)
	}
}

func TestVerifyCommand(t *testing.T) {
	hermeticEnv(t, "")
	pkg := filepath.Join(keysDir, "package.bin")
	wantSum := sha256File(t, pkg)
	tests := []struct {
		name    string
		sig     string // --signature; "" = the default FILE.sig
		wantSig string
	}{
		{"binary, default path", "", pkg + ".sig"},
		{"armored", filepath.Join(keysDir, "package.bin.asc"), filepath.Join(keysDir, "package.bin.asc")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"verify", "--package", pkg, "--trusted-key", testPubKey, "--output", "json"}
			if tt.sig != "" {
				args = append(args, "--signature", tt.sig)
			}
			r := runCLI(t, args...)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(r.out), &got); err != nil {
				t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.out)
			}
			for _, field := range []string{"package", "sha256", "signature", "signer_fingerprint", "signed_at", "key_expires", "verified"} {
				if _, ok := got[field]; !ok {
					t.Errorf("JSON has no field %q: %s", field, r.out)
				}
			}
			if got["package"] != pkg || got["sha256"] != wantSum || got["signature"] != tt.wantSig ||
				got["signer_fingerprint"] != testPrimary || got["verified"] != true || got["key_expires"] != "" {
				t.Errorf("got %v, want package %s, sha256 %s, signature %s, signer %s, key_expires \"\" (never), verified", got, pkg, wantSum, tt.wantSig, testPrimary)
			}
			if s, _ := got["signed_at"].(string); s == "" {
				t.Errorf("signed_at missing")
			} else if _, err := time.Parse(time.RFC3339, s); err != nil {
				t.Errorf("signed_at %q is not RFC 3339: %v", s, err)
			}
		})
	}

	// Failures exit 4 and leave the user's file alone.
	data, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name    string
		change  func(dir string) // dir holds package.bin and package.bin.sig copies
		noKey   bool
		want    int
		wantErr string
	}{
		{"tampered", func(dir string) {
			b := bytes.Clone(data)
			b[100] ^= 1
			os.WriteFile(filepath.Join(dir, "package.bin"), b, 0o644)
		}, false, 4, "bad signature"},
		{"missing signature", func(dir string) { os.Remove(filepath.Join(dir, "package.bin.sig")) }, false, 4, "missing signature"},
		{"garbage signature", func(dir string) {
			os.WriteFile(filepath.Join(dir, "package.bin.sig"), []byte("not a signature"), 0o644)
		}, false, 4, "signature"},
		{"untrusted signer", nil, true, 4, testPrimary},
		{"missing package", func(dir string) { os.Remove(filepath.Join(dir, "package.bin")) }, false, 2, "invalid --package"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "package.bin")
			os.WriteFile(p, data, 0o644)
			sig, _ := os.ReadFile(pkg + ".sig")
			os.WriteFile(p+".sig", sig, 0o644)
			if tt.change != nil {
				tt.change(dir)
			}
			before := regularFiles(t, dir)
			args := []string{"verify", "--package", p}
			if !tt.noKey {
				args = append(args, "--trusted-key", testPubKey)
			}
			r := runCLI(t, args...)
			if r.code != tt.want || !strings.Contains(r.err, tt.wantErr) {
				t.Errorf("got exit %d, want %d with %q\n%v", r.code, tt.want, tt.wantErr, r)
			}
			if after := regularFiles(t, dir); !slices.Equal(before, after) {
				t.Errorf("files changed: before %v, after %v", before, after)
			}
		})
	}
}

// With --root, the architecture comes from the root's own executables (bin/sh), not
// from the machine ssm-setup runs on. The test binary stands in for bin/sh.
func TestDetectRootArchFromELF(t *testing.T) {
	hermeticEnv(t, "")
	root := fakeRoot(t, "rocky-9")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "bin", "sh"), data[:4096], 0o755); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "detect", "--root", root, "--output", "json")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	var p struct {
		Arch   string   `json:"arch"`
		Folder string   `json:"platform_folder"`
		Notes  []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(r.out), &p); err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	if p.Arch != runtime.GOARCH || len(p.Notes) != 0 {
		t.Errorf("arch %q, notes %q; want %s read from bin/sh and no note", p.Arch, p.Notes, runtime.GOARCH)
	}
}

// install --proxy routes the S3 client through the proxy without replacing the SDK's
// own HTTP client, so AWS_CA_BUNDLE keeps working (a custom client made the SDK
// refuse the bundle: "load AWS configuration: unable to add custom RootCAs").
func TestSourceProxyKeepsCABundle(t *testing.T) {
	hermeticEnv(t, "http://bucket.example") // not loopback, so the proxy applies
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	var mu sync.Mutex
	var seen []string
	proxySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
		mu.Unlock()
		io.WriteString(w, testLatest+"\n")
	}))
	defer proxySrv.Close()

	f := newFactory(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	src, _, err := f.source(context.Background(), &ReleaseFlags{Region: testRegion, Source: "s3", Proxy: proxySrv.URL})
	if err != nil {
		t.Fatalf("source with --proxy and AWS_CA_BUNDLE: %v", err)
	}
	got, err := release.FetchSmall(context.Background(), src, "latest/VERSION", 64)
	if err != nil || strings.TrimSpace(string(got)) != testLatest {
		t.Fatalf("got %q, %v; want %s through the proxy", got, err, testLatest)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "http://bucket.example/" + testBucket + "/latest/VERSION"; len(seen) != 1 || seen[0] != want {
		t.Errorf("the proxy saw %q, want one request for %s", seen, want)
	}
}

// On a platform with a version ceiling (Amazon Linux 1: 3.0.1479.0) versions lists the
// ceiling and marks the versions install would not pick.
func TestVersionsCeiling(t *testing.T) {
	newReleaseFixture(t, nil)
	root := fakeRoot(t, "amzn-2018.03")
	r := runCLI(t, "versions", "--root", root, "--region", testRegion, "--output", "json")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	var vr versionsResult
	if err := json.Unmarshal([]byte(r.out), &vr); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.out)
	}
	if vr.MaxAgentVersion != "3.0.1479.0" || len(vr.Versions) == 0 {
		t.Fatalf("got max_agent_version %q and %d versions, want 3.0.1479.0 and some", vr.MaxAgentVersion, len(vr.Versions))
	}
	for _, e := range vr.Versions {
		if !e.AboveCeiling {
			t.Errorf("%s is not marked above the ceiling", e.Version)
		}
	}
}
