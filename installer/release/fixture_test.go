package release

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// testManifest spells the keys in three ways (as the agent's own files do), lists an
// Inactive and a Deprecated release, one without Status, the sentinel, an unparsable
// version and bundles of other platforms.
const testManifest = `{
  "SchemaVersion": "1.0",
  "UriFormat": "https://s3.{Region}.amazonaws.com/amazon-ssm-{Region}/{PackageName}/{PackageVersion}/{FileName}",
  "packages": [
    {
      "name": "amazon-ssm-agent",
      "files": [
        {
          "Name": "amazon-ssm-agent-linux-amd64.tar.gz",
          "AvailableVersions": [
            {"Version": "3.3.1142.0", "CheckSum": "aa11", "Status": "Active"},
            {"Version": "3.3.1000.0", "Checksum": "aa12", "Status": "Active"},
            {"Version": "3.3.999.0", "Checksum": "aa13", "Status": "Inactive"},
            {"Version": "3.2.2303.0", "checksum": "aa14"},
            {"Version": "3.2.2222.0", "Checksum": "aa15", "Status": "Deprecated"},
            {"Version": "3.2.2100.0", "Checksum": "aa16", "Status": "active"},
            {"Version": "3.1.1188.0", "Checksum": "aa17", "Status": "Active"},
            {"Version": "3.0.1479.0", "Checksum": "aa18", "Status": "Active"},
            {"Version": "2.3.1319.0", "Checksum": "aa19", "Status": "Active"},
            {"Version": "255.255.65535.999", "Checksum": "ff", "Status": "Active"},
            {"Version": "3.3.x.0", "Checksum": "bad", "Status": "Active"}
          ]
        },
        {
          "Name": "amazon-ssm-agent-ubuntu-arm64.tar.gz",
          "AvailableVersions": [
            {"Version": "3.3.1142.0", "Checksum": "bb11"},
            {"Version": "3.2.2303.0", "Checksum": "bb12"}
          ]
        },
        {
          "Name": "amazon-ssm-agent-windows-amd64.zip",
          "AvailableVersions": [{"Version": "3.3.1142.0", "Checksum": "cc11"}]
        }
      ]
    },
    {
      "Name": "amazon-ssm-agent-updater",
      "Files": [
        {
          "Name": "amazon-ssm-agent-updater-linux-amd64.tar.gz",
          "AvailableVersions": [{"Version": "9.9.9.9", "Checksum": "dd11"}]
        }
      ]
    }
  ]
}`

// packageBody is a deterministic package of n bytes.
func packageBody(version, folder string, n int) []byte {
	seed := sha256.Sum256([]byte(version + "/" + folder))
	b := make([]byte, n)
	for i := range b {
		b[i] = seed[i%len(seed)] ^ byte(i>>8)
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

const testPackageSize = 200_000

// testRelease is the bucket content the tests serve: the manifest, latest/VERSION
// ahead of the manifest (3.3.1200.0, as after a fresh release), stable/VERSION, and the
// linux_amd64 packages of the Active versions plus their signatures.
func testRelease() map[string][]byte {
	objs := map[string][]byte{
		ManifestKey:      []byte(testManifest),
		"latest/VERSION": []byte("3.3.1200.0\n"),
		"stable/VERSION": []byte("3.2.2303.0\n"),
	}
	for _, v := range []string{"3.3.1200.0", "3.3.1142.0", "3.3.1000.0", "3.2.2303.0", "3.2.2100.0", "3.1.1188.0", "3.0.1479.0", "2.3.1319.0"} {
		key := v + "/linux_amd64/amazon-ssm-agent.rpm"
		objs[key] = packageBody(v, "linux_amd64", testPackageSize)
		objs[key+".sig"] = []byte("signature of " + v)
	}
	return objs
}

// loadBucket puts objs into b under prefix ("BUCKET" or "BUCKET/PREFIX").
func loadBucket(b *fakeBucket, prefix string, objs map[string][]byte) {
	for k, v := range objs {
		b.put(prefix+"/"+k, v)
	}
}

// writeTree writes objs into dir in the bucket layout.
func writeTree(t testing.TB, dir string, objs map[string][]byte) {
	t.Helper()
	for k, v := range objs {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, v, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkErr fails the test unless err has kind and its message holds every part.
func checkErr(t *testing.T, err error, kind fail.Kind, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want a %s error", kind)
	}
	if got := fail.KindOf(err); got != kind {
		t.Errorf("got kind %s, want %s (error: %v)", got, kind, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("got error %q, want it to contain %q", err, p)
		}
	}
}

// checkIs fails the test unless errors.Is(err, target).
func checkIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("got error %v, want one wrapping %v", err, target)
	}
}

func removeFile(t testing.TB, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}
