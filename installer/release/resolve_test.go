package release

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		spec     string
		folder   string
		ceiling  string
		drop     []string // keys removed from the release
		want     string
		wantKind fail.Kind
		wantErr  []string
	}{
		{name: "latest", spec: "latest", want: "3.3.1200.0"},
		{name: "empty means latest", spec: "", want: "3.3.1200.0"},
		{name: "LATEST in capitals", spec: "LATEST", want: "3.3.1200.0"},
		{name: "stable", spec: "stable", want: "3.2.2303.0"},
		{name: "exact", spec: "3.1.1188.0", want: "3.1.1188.0"},
		{name: "exact only in latest/VERSION", spec: "3.3.1200.0", want: "3.3.1200.0"},
		{name: "wildcard takes the release newer than the manifest", spec: "3.3.*", want: "3.3.1200.0"},
		{name: "range", spec: ">=3.2 <3.3", want: "3.2.2303.0"},
		{name: "comma range", spec: ">= 3.1, < 3.2", want: "3.1.1188.0"},
		{name: "tilde", spec: "~3.2", want: "3.2.2303.0"},
		{name: "caret", spec: "^2", want: "2.3.1319.0"},
		{name: "three parts", spec: "3.2.2100", want: "3.2.2100.0"},
		{name: "four parts in a constraint", spec: "<=3.2.2100.0", want: "3.2.2100.0"},
		{name: "wildcard fourth part", spec: "3.2.2100.*", want: "3.2.2100.0"},
		{name: "x fourth part", spec: "3.3.1142.x", want: "3.3.1142.0"},
		{name: "constraint skips Inactive", spec: "3.3.999", wantKind: fail.Download, wantErr: []string{`matches "3.3.999"`, "newest available: 3.3.1200.0"}},
		{name: "latest above the ceiling", spec: "latest", ceiling: "3.0.1479.0", want: "3.0.1479.0"},
		{name: "latest capped to the newest below the ceiling", spec: "latest", ceiling: "3.1.9999.0", want: "3.1.1188.0"},
		{name: "stable below the ceiling", spec: "stable", ceiling: "3.3.0.0", want: "3.2.2303.0"},
		{name: "ceiling without a manifest", spec: "latest", ceiling: "3.0.1479.0", drop: []string{ManifestKey}, want: "3.0.1479.0"},
		{name: "constraint under the ceiling", spec: "3.*", ceiling: "3.0.1479.0", want: "3.0.1479.0"},
		{name: "constraint all above the ceiling", spec: "3.3.*", ceiling: "3.0.1479.0", wantKind: fail.Download, wantErr: []string{"at or below 3.0.1479.0"}},
		{name: "exact above the ceiling", spec: "3.3.1142.0", ceiling: "3.0.1479.0", wantKind: fail.Usage, wantErr: []string{"3.3.1142.0 is newer than 3.0.1479.0"}},
		{name: "nonexistent exact", spec: "3.2.9999.0", wantKind: fail.Download,
			wantErr: []string{"agent version 3.2.9999.0 for linux_amd64", "not found", "3.2.9999.0/linux_amd64/amazon-ssm-agent.rpm", "nearest available: 3.3.1142.0, 3.3.1000.0, 3.2.2303.0, 3.2.2100.0"}},
		{name: "nonexistent exact without a manifest", spec: "3.2.9999.0", drop: []string{ManifestKey}, wantKind: fail.Download, wantErr: []string{"nearest available: 3.3.1200.0"}},
		{name: "bad spec", spec: "newest", wantKind: fail.Usage, wantErr: []string{`version spec "newest"`}},
		{name: "bad constraint", spec: ">=3.x <", wantKind: fail.Usage, wantErr: []string{"version spec"}},
		{name: "bad ceiling", spec: "latest", ceiling: "3.0", wantKind: fail.Usage, wantErr: []string{"version ceiling"}},
		{name: "bad folder", spec: "latest", folder: "ubuntu_amd64", wantKind: fail.Usage, wantErr: []string{`release folder "ubuntu_amd64"`}},
		{name: "no stable", spec: "stable", drop: []string{"stable/VERSION"}, wantKind: fail.Download, wantErr: []string{"not found", "stable/VERSION"}},
	}
	for _, kind := range sourceKinds {
		if strings.HasPrefix(kind.name, "s3 default") || kind.name == "file URL" {
			continue // same as another kind here
		}
		t.Run(kind.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					src, b := openKind(t, kind)
					dirSrc, isDir := src.(*dirSource)
					for _, k := range tt.drop {
						if isDir {
							removeFile(t, dirSrc.path(k))
						} else {
							b.mu.Lock()
							delete(b.objects, kind.prefix+"/"+k)
							b.mu.Unlock()
						}
					}
					folder := tt.folder
					if folder == "" {
						folder = "linux_amd64"
					}
					got, err := Resolve(testCtx(t), src, tt.spec, folder, tt.ceiling)
					if tt.wantKind != 0 {
						if isDir && strings.HasPrefix(tt.name, "nonexistent exact") {
							// A directory lists what it holds, with or without a manifest.
							tt.wantErr = append(tt.wantErr[:len(tt.wantErr)-1], "nearest available: 3.3.1142.0, 3.3.1000.0, 3.2.2303.0, 3.2.2100.0")
						}
						checkErr(t, err, tt.wantKind, tt.wantErr...)
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if got.Version.String() != tt.want || got.Spec != tt.spec {
						t.Errorf("got %v (spec %q), want %s (spec %q)", got.Version, got.Spec, tt.want, tt.spec)
					}
				})
			}
		})
	}
}

func TestResolveNotFoundHint(t *testing.T) {
	src, _ := openKind(t, sourceKinds[3])
	_, err := Resolve(testCtx(t), src, "3.2.9999.0", "linux_amd64", "")
	checkIs(t, err, ErrNotFound)
	if h := fail.HintOf(err); !strings.Contains(h, "ssm-setup versions") {
		t.Errorf("got hint %q, want it to point at ssm-setup versions", h)
	}
}

// TestResolveForbiddenMissingKey: the public buckets answer 403 for a missing key; a
// version the manifest does not list is then reported as missing, one it lists as
// access denied.
func TestResolveForbiddenMissingKey(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantErr []string
	}{
		{name: "unlisted version", spec: "3.2.9999.0", wantErr: []string{"agent version 3.2.9999.0", "access denied", "nearest available: 3.3.1142.0"}},
		{name: "listed version", spec: "3.1.1188.0", wantErr: []string{"access denied: ", "HTTP 403"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, b := openKind(t, sourceKinds[0])
			key, _ := PackageKey(tt.spec, "linux_amd64")
			// Permissions deny the package and its signature alike.
			b.addFault("amazon-ssm-us-east-1/"+key, statusFault(http.StatusForbidden, "AccessDenied"))
			b.addFault("amazon-ssm-us-east-1/"+key+".sig", statusFault(http.StatusForbidden, "AccessDenied"))
			_, err := Resolve(testCtx(t), src, tt.spec, "linux_amd64", "")
			checkErr(t, err, fail.Download, tt.wantErr...)
			checkIs(t, err, ErrForbidden)
		})
	}
}

func TestAvailableVersions(t *testing.T) {
	tests := []struct {
		name   string
		kind   sourceKind
		folder string
		want   string
	}{
		{"manifest plus latest", sourceKinds[0], "linux_amd64", "3.3.1200.0 3.3.1142.0 3.3.1000.0 3.2.2303.0 3.2.2100.0 3.1.1188.0 3.0.1479.0 2.3.1319.0"},
		{"other folder", sourceKinds[3], "debian_arm64", "3.3.1200.0 3.3.1142.0 3.2.2303.0"},
		{"directory listing", sourceKinds[4], "linux_amd64", "3.3.1200.0 3.3.1142.0 3.3.1000.0 3.2.2303.0 3.2.2100.0 3.1.1188.0 3.0.1479.0 2.3.1319.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, _ := openKind(t, tt.kind)
			vs, err := AvailableVersions(testCtx(t), src, tt.folder)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range vs {
				got = append(got, v.String())
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got %s, want %s", strings.Join(got, " "), tt.want)
			}
		})
	}
	t.Run("directory without the folder", func(t *testing.T) {
		src, _ := openKind(t, sourceKinds[4])
		_, err := AvailableVersions(testCtx(t), src, "debian_arm64")
		checkErr(t, err, fail.Download, "no agent versions for debian_arm64")
	})
	t.Run("manifest server error", func(t *testing.T) {
		src, b := openKind(t, sourceKinds[3])
		f := statusFault(500, "InternalError")
		f.forever = true
		b.addFault(sourceKinds[3].prefix+"/"+ManifestKey, f)
		_, err := AvailableVersions(testCtx(t), src, "linux_amd64")
		checkErr(t, err, fail.Download, "HTTP 500")
	})
	t.Run("malformed manifest", func(t *testing.T) {
		src, b := openKind(t, sourceKinds[3])
		b.put(sourceKinds[3].prefix+"/"+ManifestKey, []byte("{"))
		_, err := AvailableVersions(testCtx(t), src, "linux_amd64")
		checkErr(t, err, fail.Download, "manifest", "malformed JSON")
	})
}

func TestResolveBadVersionFile(t *testing.T) {
	src, b := openKind(t, sourceKinds[3])
	b.put(sourceKinds[3].prefix+"/latest/VERSION", []byte("<html>"))
	_, err := Resolve(testCtx(t), src, "latest", "linux_amd64", "")
	checkErr(t, err, fail.Download, `holds "<html>", want a version a.b.c.d`)
}

// TestResolveExactNetworkDown: when the source cannot be reached, an exact version
// fails after the signature request's own retries, without asking for the package too.
func TestResolveExactNetworkDown(t *testing.T) {
	ft := &failingTransport{}
	o := fastSource
	o.HTTPClient = &http.Client{Transport: ft}
	src, err := NewSource(testCtx(t), "https://mirror.example.com/ssm", o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(testCtx(t), src, "3.3.1142.0", "linux_amd64", "")
	checkErr(t, err, fail.Download, "3.3.1142.0/linux_amd64/amazon-ssm-agent.rpm.sig", "network is unreachable")
	if ft.n != o.MaxAttempts {
		t.Errorf("got %d requests, want %d (one request with its retries)", ft.n, o.MaxAttempts)
	}
}
