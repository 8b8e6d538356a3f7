package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// ManifestKey is the key of the update manifest at the bucket root.
const ManifestKey = "ssm-agent-manifest.json"

// maxManifestSize bounds the manifest download; the real one is well under 1 MiB.
const maxManifestSize = 16 << 20

// Manifest is the agent's update manifest, ssm-agent-manifest.json. Its keys are
// matched case-insensitively, like the agent does (some files spell CheckSum).
type Manifest struct {
	SchemaVersion string            `json:"SchemaVersion"`
	URIFormat     string            `json:"UriFormat"`
	Packages      []ManifestPackage `json:"Packages"`
}

// ManifestPackage is one package of the manifest, e.g. amazon-ssm-agent.
type ManifestPackage struct {
	Name  string         `json:"Name"`
	Files []ManifestFile `json:"Files"`
}

// ManifestFile is one update bundle, e.g. amazon-ssm-agent-ubuntu-arm64.tar.gz.
type ManifestFile struct {
	Name              string            `json:"Name"`
	AvailableVersions []ManifestVersion `json:"AvailableVersions"`
}

// ManifestVersion is one release of a bundle. Checksum is the SHA-256 of the bundle,
// not of the loose .rpm/.deb. Status is Active, Inactive or Deprecated; ReadManifest
// turns an empty Status into Active.
type ManifestVersion struct {
	Version  string `json:"Version"`
	Checksum string `json:"Checksum"`
	Status   string `json:"Status"`
}

// StatusActive is the Status of a release that may be installed.
const StatusActive = "Active"

// agentPackage is the manifest package that holds the agent's bundles.
const agentPackage = "amazon-ssm-agent"

// ReadManifest fetches and parses ssm-agent-manifest.json from src.
func ReadManifest(ctx context.Context, src Source) (*Manifest, error) {
	b, err := FetchSmall(ctx, src, ManifestKey, maxManifestSize)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, fail.Wrap(fail.Download, fmt.Errorf("manifest %s: %w", src.URL(ManifestKey), err))
	}
	return m, nil
}

// ParseManifest parses the bytes of ssm-agent-manifest.json. encoding/json matches
// keys case-insensitively, which covers both Checksum and CheckSum.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&m); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	for i := range m.Packages {
		for j := range m.Packages[i].Files {
			vs := m.Packages[i].Files[j].AvailableVersions
			for k := range vs {
				if vs[k].Status == "" {
					vs[k].Status = StatusActive
				}
			}
		}
	}
	return &m, nil
}

// bundlePlatforms maps the platform word of a bundle name to the bucket folder prefix.
// There is no ubuntu_* folder: the ubuntu bundles are the debian_* releases.
var bundlePlatforms = map[string]string{
	"linux":   "linux",
	"ubuntu":  "debian",
	"windows": "windows",
	"darwin":  "darwin",
}

// BundleFolder maps a bundle name such as amazon-ssm-agent-ubuntu-arm64.tar.gz to its
// bucket folder (debian_arm64); ok is false for names that map to no folder.
func BundleFolder(name string) (folder string, ok bool) {
	rest, found := strings.CutPrefix(name, agentPackage+"-")
	if !found {
		return "", false
	}
	for _, ext := range []string{".tar.gz", ".zip"} {
		if r, cut := strings.CutSuffix(rest, ext); cut {
			rest = r
			break
		}
	}
	platform, arch, found := strings.Cut(rest, "-")
	if !found || arch == "" || strings.Contains(arch, "-") {
		return "", false
	}
	prefix, known := bundlePlatforms[platform]
	if !known {
		return "", false
	}
	return prefix + "_" + arch, true
}

// Versions lists the Active versions of the agent bundles that map to folder, newest
// first, without duplicates and without the placeholder 255.255.65535.999. Entries
// whose version does not parse are skipped.
func (m *Manifest) Versions(folder string) []Version {
	var out []Version
	for _, p := range m.Packages {
		if !strings.EqualFold(p.Name, agentPackage) {
			continue
		}
		for _, f := range p.Files {
			if fo, ok := BundleFolder(f.Name); !ok || fo != folder {
				continue
			}
			for _, av := range f.AvailableVersions {
				if !strings.EqualFold(av.Status, StatusActive) {
					continue
				}
				v, err := ParseVersion(av.Version)
				if err != nil || v == sentinel {
					continue
				}
				out = append(out, v)
			}
		}
	}
	return sortNewestFirst(out)
}

// sortNewestFirst sorts vs newest first and drops duplicates.
func sortNewestFirst(vs []Version) []Version {
	slices.SortFunc(vs, func(a, b Version) int { return b.Compare(a) })
	return slices.Compact(vs)
}
