package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssm-setup/ssm-setup/installer"
	"github.com/ssm-setup/ssm-setup/installer/fsutil"
	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// signedFolders are the bucket folders whose packages carry detached OpenPGP signatures
// (Windows and macOS installers are signed differently, see the facts file section 2).
var signedFolders = []string{
	"linux_amd64", "linux_arm64", "linux_386",
	"debian_amd64", "debian_arm64", "debian_386", "debian_arm",
}

func checkFolder(folder string) error {
	for _, f := range signedFolders {
		if f == folder {
			return nil
		}
	}
	return fail.WithHint(fail.Usagef("invalid --platform %q: not a bucket folder with signed packages", folder), "use one of "+strings.Join(signedFolders, ", "))
}

// platformFolder is --platform when given, else the detected platform's folder.
func (f *Factory) platformFolder(ctx context.Context, flag string) (folder, ceiling string, err error) {
	if flag != "" {
		return flag, "", checkFolder(flag)
	}
	p, err := f.Platform(ctx, "")
	if err != nil {
		return "", "", err
	}
	if p.PlatformFolder == "" {
		return "", "", fail.WithHint(fail.New(fail.Unsupported, "unsupported platform %s %s: %s", p.Distro.ID, p.Distro.VersionID, p.Reason), "pass --platform FOLDER to pick a build yourself")
	}
	return p.PlatformFolder, p.MaxAgentVersion, nil
}

// ----- versions -----

// VersionsOptions are the inputs of `ssm-setup versions`.
type VersionsOptions struct {
	Release  ReleaseFlags
	Platform string
}

type versionsResult struct {
	Source         string `json:"source"`
	PlatformFolder string `json:"platform_folder"`
	Latest         string `json:"latest"`
	Stable         string `json:"stable"`
	Installed      string `json:"installed"`
	// MaxAgentVersion is this platform's ceiling (e.g. 3.0.1479.0 on RHEL 6); newer
	// versions are listed but marked: install would not pick them.
	MaxAgentVersion string         `json:"max_agent_version"`
	Versions        []versionEntry `json:"versions"`
}

type versionEntry struct {
	Version   string `json:"version"`
	Latest    bool   `json:"latest,omitempty"`
	Stable    bool   `json:"stable,omitempty"`
	Installed bool   `json:"installed,omitempty"`
	// AboveCeiling marks a version this platform cannot run (see max_agent_version).
	AboveCeiling bool `json:"above_ceiling,omitempty"`
}

func newVersionsCmd(f *Factory) *cobra.Command {
	opts := &VersionsOptions{}
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "List the agent versions a source offers",
		Long: `List the latest and stable agent versions and every available version for this
platform (or the one --platform names), newest first, marking the installed one.
Available versions come from the bucket's manifest (ssm-agent-manifest.json), or from
the folders of a mirror directory.`,
		Example: `  ssm-setup versions --region eu-west-1
  ssm-setup versions --platform linux_arm64 --output json
  ssm-setup versions --source ./mirror`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVersions(cmd.Context(), f, opts) },
	}
	opts.Release.addSource(cmd.Flags())
	cmd.Flags().StringVar(&opts.Platform, "platform", "", "bucket folder to list (e.g. linux_arm64); default: this machine's")
	return cmd
}

func runVersions(ctx context.Context, f *Factory, opts *VersionsOptions) error {
	folder, ceiling, err := f.platformFolder(ctx, opts.Platform)
	if err != nil {
		return err
	}
	src, _, err := f.source(ctx, &opts.Release)
	if err != nil {
		return err
	}
	res := versionsResult{Source: src.String(), PlatformFolder: folder, MaxAgentVersion: ceiling, Versions: []versionEntry{}}
	if res.Latest, err = readVersionFile(ctx, src, "latest/VERSION"); err != nil {
		return err
	}
	if res.Stable, err = readVersionFile(ctx, src, "stable/VERSION"); err != nil {
		return err
	}
	if p, err := f.Platform(ctx, ""); err == nil && p.Agent.Installed {
		res.Installed = p.Agent.Version
	}
	versions, err := release.AvailableVersions(ctx, src, folder)
	if err != nil {
		return err
	}
	for _, v := range versions {
		s := v.String()
		res.Versions = append(res.Versions, versionEntry{Version: s, Latest: s == res.Latest, Stable: s == res.Stable, Installed: s == res.Installed,
			AboveCeiling: ceiling != "" && versionLess(ceiling, s)})
	}
	return f.Print(res, func(t *textPrinter) {
		t.Field("source", res.Source)
		t.Field("platform", res.PlatformFolder)
		t.Field("latest", res.Latest)
		t.Field("stable", res.Stable)
		t.Field("installed", res.Installed)
		t.Field("max agent version", res.MaxAgentVersion)
		t.Linef("available:")
		for _, e := range res.Versions {
			var marks []string
			if e.Latest {
				marks = append(marks, "latest")
			}
			if e.Stable {
				marks = append(marks, "stable")
			}
			if e.Installed {
				marks = append(marks, "installed")
			}
			if e.AboveCeiling {
				marks = append(marks, "too new for this platform")
			}
			if len(marks) > 0 {
				t.Linef("  %s (%s)", e.Version, strings.Join(marks, ", "))
			} else {
				t.Linef("  %s", e.Version)
			}
		}
	})
}

// readVersionFile reads latest/VERSION or stable/VERSION; "" when the source has none
// (a mirror need not have them) or it holds no version. Any other failure (network,
// 5xx after retries) is returned: going on would only repeat the same wait for the
// next keys.
func readVersionFile(ctx context.Context, src release.Source, key string) (string, error) {
	b, err := release.FetchSmall(ctx, src, key, 64)
	if errors.Is(err, release.ErrNotFound) || errors.Is(err, release.ErrForbidden) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	v, err := release.ParseVersion(strings.TrimSpace(string(b)))
	if err != nil {
		return "", nil
	}
	return v.String(), nil
}

// ----- download -----

// DownloadOptions are the inputs of `ssm-setup download`.
type DownloadOptions struct {
	Release      ReleaseFlags
	Version      string
	Platforms    []string
	AllPlatforms bool
	Dest         string
}

// LockFileName is the record `download` keeps in its destination directory.
const LockFileName = installer.MirrorLockName

type downloadResult struct {
	Dest     string                  `json:"dest"`
	Source   string                  `json:"source"`
	Files    []installer.MirrorEntry `json:"files"`
	LockFile string                  `json:"lock_file"`
}

func newDownloadCmd(f *Factory) *cobra.Command {
	opts := &DownloadOptions{}
	cmd := &cobra.Command{
		Use:   "download",
		Short: "Download and verify agent packages into a mirror directory",
		Long: `Download agent packages, verify their OpenPGP signatures and SHA-256 digests, and
keep them in DIR with the bucket's layout (DIR/VERSION/FOLDER/FILE and FILE.sig, and
DIR/latest/VERSION or DIR/stable/VERSION when latest or stable was asked), plus DIR/` + LockFileName + `, which records
for each file its version, folder, size, SHA-256, signer, signature time and source URL.

DIR then serves as --source DIR on an air-gapped machine. A file that fails
verification is deleted (exit 4). download does not need root.`,
		Example: `  ssm-setup download --region us-east-1 --dest ./mirror
  ssm-setup download --region us-east-1 --version 3.3.1142.0 --platform linux_amd64 --platform debian_arm64 --dest ./mirror
  ssm-setup download --region us-east-1 --all-platforms --dest /srv/mirror`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.AllPlatforms && len(opts.Platforms) > 0 {
				return fail.Usagef("--all-platforms and --platform cannot be used together")
			}
			for _, p := range opts.Platforms {
				if err := checkFolder(p); err != nil {
					return err
				}
			}
			return runDownload(cmd.Context(), f, opts)
		},
	}
	opts.Release.addSource(cmd.Flags())
	opts.Release.addTrust(cmd.Flags())
	cmd.Flags().StringVar(&opts.Version, "version", "latest", "latest, stable, an exact version (3.3.1142.0) or a constraint (3.3.*, '>=3.2 <3.3')")
	cmd.Flags().StringArrayVar(&opts.Platforms, "platform", nil, "bucket folder to download (repeatable; default: this machine's)")
	cmd.Flags().BoolVar(&opts.AllPlatforms, "all-platforms", false, "download every Linux folder ("+strings.Join(signedFolders, ", ")+")")
	cmd.Flags().StringVar(&opts.Dest, "dest", "ssm-agent-mirror", "destination directory")
	return cmd
}

func runDownload(ctx context.Context, f *Factory, opts *DownloadOptions) error {
	kr, err := f.keyring(&opts.Release)
	if err != nil {
		return err
	}
	type target struct{ folder, ceiling string }
	var targets []target
	switch {
	case opts.AllPlatforms:
		for _, fo := range signedFolders {
			targets = append(targets, target{folder: fo})
		}
	case len(opts.Platforms) > 0:
		for _, fo := range opts.Platforms {
			targets = append(targets, target{folder: fo})
		}
	default:
		fo, ceiling, err := f.platformFolder(ctx, "")
		if err != nil {
			return err
		}
		targets = append(targets, target{fo, ceiling})
	}
	src, _, err := f.source(ctx, &opts.Release)
	if err != nil {
		return err
	}
	dest, err := filepath.Abs(opts.Dest)
	if err != nil {
		return fail.Usagef("invalid --dest %q: %w", opts.Dest, err)
	}
	if st, err := os.Stat(dest); err == nil && !st.IsDir() {
		return fail.WithHint(fail.Usagef("invalid --dest %q: not a directory", opts.Dest), "pass --dest with a new or existing directory")
	}
	// The lock file is read before anything is downloaded: a damaged one stops the
	// run while nothing has changed yet.
	lock, err := readLockFile(filepath.Join(dest, LockFileName))
	if err != nil {
		return err
	}
	res := downloadResult{Dest: dest, Source: src.String(), Files: []installer.MirrorEntry{}, LockFile: filepath.Join(dest, LockFileName)}
	// A mirror copied from another mirror is checked against the source's lock file.
	var srcLock *installer.MirrorLock
	if isMirror(opts.Release.Source) {
		if srcLock, err = installer.ReadMirrorLock(ctx, src); err != nil {
			return err
		}
	}
	// latest and stable are recorded as latest/VERSION and stable/VERSION, so the mirror
	// answers --version latest and --version stable as the bucket did.
	pointer := strings.ToLower(strings.TrimSpace(opts.Version))
	if pointer == "" {
		pointer = "latest"
	}
	pointerSeen := ""
	for _, t := range targets {
		v, ok := storedExactVersion(opts.Version, t.folder, t.ceiling, dest, kr, f.Now())
		if !ok {
			resolved, err := release.Resolve(ctx, src, opts.Version, t.folder, t.ceiling)
			if err != nil {
				return err
			}
			v = resolved.Version.String()
		}
		file, _ := release.FileName(t.folder)
		pkg, err := installer.Fetch(ctx, installer.FetchOptions{
			Source: src, Version: v, Folder: t.folder, Keyring: kr,
			Store: release.Cache{Dir: dest}, Progress: f.progress(t.folder + "/" + v),
			ExpectSHA256: srcLock.SHA256(v, t.folder, file),
			Now:          f.Now, Logger: f.Logger(),
		})
		if err != nil {
			return err
		}
		f.Logger().Info("verified", "file", pkg.Path, "signer", pkg.SignerFingerprint)
		res.Files = append(res.Files, installer.MirrorEntry{Version: v, Folder: t.folder, File: pkg.File, Size: pkg.Size, SHA256: pkg.SHA256, SignerFingerprint: pkg.SignerFingerprint, SignedAt: pkg.SignedAt.UTC(), SourceURL: pkg.URL})
		// Recorded at once: if a later platform fails, the lock file still lists every
		// file that is in the mirror.
		if err := writeLockFile(res.LockFile, lock, res.Files); err != nil {
			return err
		}
		if (pointer == "latest" || pointer == "stable") && (pointerSeen == "" || versionLess(pointerSeen, v)) {
			pointerSeen = v
		}
	}
	if pointerSeen != "" {
		if _, err := fsutil.WriteFileAtomic(filepath.Join(dest, pointer, "VERSION"), []byte(pointerSeen+"\n"), 0o644); err != nil {
			return fmt.Errorf("write %s/VERSION: %w", pointer, err)
		}
	}
	return f.Print(res, func(t *textPrinter) {
		for _, e := range res.Files {
			t.Linef("%s/%s/%s  sha256 %s  signed by %s on %s", e.Version, e.Folder, e.File, e.SHA256, e.SignerFingerprint, e.SignedAt.Format(time.RFC3339))
		}
		t.Linef("mirror ready in %s (use --source %s)", res.Dest, res.Dest)
	})
}

// storedExactVersion reports whether spec is an exact version (a.b.c.d) whose package
// for folder already sits in dest and verifies; the version is then used without
// asking the source (Resolve would request the package just to see that it exists),
// so a re-run over a finished mirror makes no package requests at all.
func storedExactVersion(spec, folder, ceiling, dest string, kr *verify.Keyring, now time.Time) (string, bool) {
	v, err := release.ParseVersion(strings.TrimSpace(spec))
	if err != nil {
		return "", false
	}
	if ceiling != "" {
		// Above the ceiling Resolve refuses the version; let it say so.
		if c, err := release.ParseVersion(ceiling); err != nil || v.Compare(c) > 0 {
			return "", false
		}
	}
	file, err := release.FileName(folder)
	if err != nil {
		return "", false
	}
	p := release.Cache{Dir: dest}.Path(v.String(), folder, file)
	if _, err := verify.VerifyFile(p, p+".sig", kr, now); err != nil {
		return "", false
	}
	return v.String(), true
}

func versionLess(a, b string) bool {
	va, errA := release.ParseVersion(a)
	vb, errB := release.ParseVersion(b)
	return errA == nil && errB == nil && va.Compare(vb) < 0
}

// readLockFile reads the lock file at path; a missing one is an empty lock file. One
// that cannot be read as a lock file is a usage error: download would otherwise
// overwrite what it cannot read.
func readLockFile(path string) (installer.MirrorLock, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return installer.MirrorLock{SchemaVersion: installer.MirrorLockSchema}, nil
	}
	if err != nil {
		return installer.MirrorLock{}, fmt.Errorf("read %s: %w", path, err)
	}
	return installer.ParseMirrorLock(data, path)
}

// writeLockFile writes lf with entries merged in to path.
func writeLockFile(path string, lf installer.MirrorLock, entries []installer.MirrorEntry) error {
	data, err := json.MarshalIndent(lf.Merge(entries...), "", "  ")
	if err != nil {
		return err
	}
	_, err = fsutil.WriteFileAtomic(path, append(data, '\n'), 0o644)
	return err
}

// ----- verify -----

// VerifyOptions are the inputs of `ssm-setup verify`.
type VerifyOptions struct {
	Release   ReleaseFlags
	Package   string
	Signature string
}

type verifyResult struct {
	Package           string `json:"package"`
	SHA256            string `json:"sha256"`
	Signature         string `json:"signature"`
	SignerFingerprint string `json:"signer_fingerprint"`
	SignedAt          string `json:"signed_at"`
	KeyExpires        string `json:"key_expires"`
	Verified          bool   `json:"verified"`
}

func newVerifyCmd(f *Factory) *cobra.Command {
	opts := &VerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify --package FILE",
		Short: "Verify an agent package's signature and digest",
		Long: `Verify a package already on disk against its detached OpenPGP signature (binary or
armored; default FILE.sig) and the trusted keys: AWS's five signing keys, embedded in
ssm-setup, plus any --trusted-key. A signature counts only when its key was valid at
the time the signature was made and the signature is not dated in the future.
Any failure exits 4 and says which check failed. verify does not need root.`,
		Example: `  ssm-setup verify --package amazon-ssm-agent.rpm
  ssm-setup verify --package ./agent.deb --signature ./agent.deb.sig --output json
  ssm-setup verify --package ./agent.deb --trusted-key ./mirror-key.asc`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Package == "" {
				return fail.WithHint(fail.Usagef("--package is required"), "pass --package FILE")
			}
			return runVerify(f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Package, "package", "", "package file to verify")
	cmd.Flags().StringVar(&opts.Signature, "signature", "", "detached signature (default: the package path + .sig)")
	opts.Release.addTrust(cmd.Flags())
	return cmd
}

func runVerify(f *Factory, opts *VerifyOptions) error {
	if st, err := os.Stat(opts.Package); err != nil {
		return fail.Usagef("invalid --package %q: %w", opts.Package, err)
	} else if !st.Mode().IsRegular() {
		return fail.WithHint(fail.Usagef("invalid --package %q: not a regular file", opts.Package), "pass the package file, e.g. --package ./amazon-ssm-agent.deb")
	}
	kr, err := f.keyring(&opts.Release)
	if err != nil {
		return err
	}
	pkg, err := installer.VerifyLocal(opts.Package, opts.Signature, kr, f.Now())
	if err != nil {
		return err
	}
	res := verifyResult{Package: pkg.Path, SHA256: pkg.SHA256, Signature: pkg.SignaturePath, SignerFingerprint: pkg.SignerFingerprint, SignedAt: pkg.SignedAt.UTC().Format(time.RFC3339), Verified: true}
	if !pkg.KeyExpires.IsZero() {
		res.KeyExpires = pkg.KeyExpires.UTC().Format(time.RFC3339)
	}
	return f.Print(res, func(t *textPrinter) {
		t.Linef("verified: %s", res.Package)
		t.Field("sha256", res.SHA256)
		t.Field("signed by", res.SignerFingerprint)
		t.Field("signed at", res.SignedAt)
		t.Field("key expires", res.KeyExpires)
	})
}
