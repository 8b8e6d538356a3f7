package installer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// FetchOptions say which package to fetch and where verified packages are kept.
type FetchOptions struct {
	Source  release.Source
	Version string // a resolved four-part version
	Folder  string // bucket folder, e.g. debian_amd64
	Keyring *verify.Keyring
	// Store keeps verified packages in the bucket layout (VERSION/FOLDER/FILE and .sig):
	// the cache, or the --dest of `ssm-setup download`.
	Store    release.Cache
	Progress func(total int64) io.Writer
	// ExpectSHA256 is the digest a mirror's lock file records for the package; a
	// download whose digest differs is refused (exit 4). Empty: no such record.
	ExpectSHA256 string
	Now          func() time.Time
	Logger       *slog.Logger
}

// Package is a verified agent package on disk.
type Package struct {
	Path              string    `json:"path"`
	SignaturePath     string    `json:"signature_path"`
	Version           string    `json:"version"`
	Folder            string    `json:"folder"`
	File              string    `json:"file"`
	Size              int64     `json:"size"`
	SHA256            string    `json:"sha256"`
	SignerFingerprint string    `json:"signer_fingerprint"`
	SignedAt          time.Time `json:"signed_at"`
	KeyExpires        time.Time `json:"key_expires"`
	URL               string    `json:"source_url"`
	FromCache         bool      `json:"from_cache"`
}

// Fetch returns the verified package for o.Version and o.Folder. A copy already in the
// store is verified again and used without any network access. Otherwise the detached
// signature is fetched first, then the package is streamed once into a temp file, its
// SHA-256 and the signature check; only a package that verifies is renamed into place.
func Fetch(ctx context.Context, o FetchOptions) (Package, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	file, err := release.FileName(o.Folder)
	if err != nil {
		return Package{}, err
	}
	key, err := release.PackageKey(o.Version, o.Folder)
	if err != nil {
		return Package{}, err
	}
	dest := o.Store.Path(o.Version, o.Folder, file)
	sigDest := dest + ".sig"
	pkg := Package{Path: dest, SignaturePath: sigDest, Version: o.Version, Folder: o.Folder, File: file, URL: o.Source.URL(key)}

	if res, err := verify.VerifyFile(dest, sigDest, o.Keyring, now()); err == nil {
		logger.Debug("using verified package from the cache", "path", dest)
		pkg.FromCache = true
		return fillResult(pkg, res)
	} else if errors.Is(err, verify.ErrUntrustedSigner) || errors.Is(err, verify.ErrClock) {
		// The copy may be fine: the trust (--trusted-key) or this machine's clock is
		// what is missing. Keep it, and say so.
		return Package{}, err
	} else if !errors.Is(err, fs.ErrNotExist) && fileExists(dest) {
		// A cached copy that no longer verifies is dropped and fetched again.
		logger.Warn("cached package failed verification; fetching it again", "path", dest, "error", err)
		os.Remove(dest)
		os.Remove(sigDest)
	}

	sig, err := release.FetchSmall(ctx, o.Source, key+".sig", 1<<20)
	if err != nil {
		if errors.Is(err, release.ErrNotFound) || errors.Is(err, release.ErrForbidden) {
			return Package{}, fail.WithHint(fail.New(fail.Verification, "missing signature: %s has no detached signature %s", o.Source.URL(key), o.Source.URL(key+".sig")), "the agent is signed from 3.1.1141.0 on; pick a newer version, or check the mirror")
		}
		return Package{}, err
	}
	verifier, err := verify.NewVerifier(sig, o.Keyring)
	if err != nil {
		return Package{}, err
	}
	// The VERSION/FOLDER directories made here are removed again if the fetch fails.
	created := missingDirs(o.Store.Dir, filepath.Dir(dest))
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return Package{}, fmt.Errorf("create %s: %w", filepath.Dir(dest), err)
	}
	stored := false
	defer func() {
		if !stored {
			for _, d := range created {
				os.Remove(d) // only empty directories go
			}
		}
	}()
	logger.Info("downloading", "url", pkg.URL)
	// The package lands under a temporary name and takes its real one only once it
	// has verified: nothing unverified ever sits at a path that is installed from.
	unverified := dest + ".unverified"
	defer os.Remove(unverified)
	dl, err := release.Download(ctx, o.Source, key, unverified, release.DownloadOptions{
		Sinks:    []io.Writer{verifier},
		Progress: o.Progress,
		Logger:   logger,
		NoDigest: true, // the verifier computes the SHA-256 in the same pass
	})
	if err != nil {
		return Package{}, err
	}
	res, err := verifier.Finish(now())
	if err != nil {
		return Package{}, fmt.Errorf("verify %s: %w", pkg.URL, err)
	}
	if o.ExpectSHA256 != "" {
		if err := verify.CheckSHA256(res.SHA256, o.ExpectSHA256); err != nil {
			return Package{}, fail.WithHint(fmt.Errorf("verify %s against the mirror's %s: %w", pkg.URL, MirrorLockName, err),
				"the mirror's file is not the one its lock file records: re-create the mirror with 'ssm-setup download'")
		}
	}
	if err := os.WriteFile(sigDest, sig, 0o644); err != nil {
		return Package{}, fmt.Errorf("save signature %s: %w", sigDest, err)
	}
	if err := os.Rename(unverified, dest); err != nil {
		os.Remove(sigDest)
		return Package{}, fmt.Errorf("store %s: %w", dest, err)
	}
	stored = true
	pkg.Size = dl.Size
	return fillResult(pkg, res)
}

// missingDirs lists the directories from leaf up to (not including) base that do not
// exist yet, deepest first.
func missingDirs(base, leaf string) []string {
	var out []string
	for d := leaf; d != base && d != filepath.Dir(d) && strings.HasPrefix(d, base); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		out = append(out, d)
	}
	return out
}

// VerifyLocal verifies a package file given on the command line (--package), with its
// signature at sigPath (default: the package path + ".sig").
func VerifyLocal(path, sigPath string, kr *verify.Keyring, now time.Time) (Package, error) {
	if sigPath == "" {
		sigPath = path + ".sig"
	}
	res, err := verify.VerifyFile(path, sigPath, kr, now)
	if err != nil {
		return Package{}, err
	}
	return fillResult(Package{Path: path, SignaturePath: sigPath, File: filepath.Base(path), URL: path}, res)
}

func fillResult(p Package, r verify.Result) (Package, error) {
	p.SHA256 = r.SHA256
	p.SignerFingerprint = r.SignerFingerprint
	p.SignedAt = r.SignedAt
	p.KeyExpires = r.KeyExpires
	if p.Size == 0 {
		if st, err := os.Stat(p.Path); err == nil {
			p.Size = st.Size()
		}
	}
	return p, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// cacheOnly is the source used when the package is in the cache: Fetch verifies the
// cached copy and never opens it. Reaching it means the cached copy did not verify.
type cacheOnly struct{}

func (cacheOnly) Open(context.Context, string, int64) (io.ReadCloser, int64, error) {
	return nil, 0, fmt.Errorf("cached package did not verify: %w", release.ErrNotFound)
}
func (cacheOnly) URL(key string) string { return "cache:" + key }
func (cacheOnly) String() string        { return "cache" }
