package release

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// Resolved is the outcome of Resolve.
type Resolved struct {
	Version Version `json:"version"`
	Spec    string  `json:"spec"` // the spec as given: latest, stable, 3.3.1142.0, 3.3.*, ...
}

// maxPointerSize bounds latest/VERSION and stable/VERSION.
const maxPointerSize = 64

// lister is a source that can list the versions it holds (a directory).
type lister interface {
	listVersions(folder string) ([]Version, error)
}

// Resolve turns a version spec into one version of the package in folder:
//
//	"latest" (or "")  the version in latest/VERSION
//	"stable"          the version in stable/VERSION
//	"a.b.c.d"         that version; its package must exist in src
//	a constraint      the newest available version that matches, e.g. "3.3.*",
//	                  ">=3.2 <3.3", "~3.2", "3.2.2303" (Masterminds/semver syntax)
//
// A constraint sees a.b.c.d as the semantic version a.b.c (the fourth part, 0 in every
// agent release, is ignored in matching; ordering still uses all four parts). The
// available versions come from the manifest and latest/VERSION, or from listing a
// directory source.
//
// ceiling, when not "", is the newest version the platform can run (e.g. 3.0.1479.0
// on kernels older than 3.2): latest and stable become the newest available version
// at or below it (the ceiling itself when the source cannot say), constraints only
// match versions at or below it, and an exact version above it is a fail.Usage error.
// A malformed spec is a fail.Usage error; a version that does not exist is a
// fail.Download error that names the nearest available versions.
func Resolve(ctx context.Context, src Source, spec, folder, ceiling string) (Resolved, error) {
	res := Resolved{Spec: spec}
	if _, err := FileName(folder); err != nil {
		return res, err
	}
	var ceil *Version
	if ceiling != "" {
		c, err := ParseVersion(ceiling)
		if err != nil {
			return res, fmt.Errorf("version ceiling: %w", err)
		}
		ceil = &c
	}
	s := strings.ToLower(strings.TrimSpace(spec))
	switch s {
	case "", "latest", "stable":
		if s == "" {
			s = "latest"
		}
		v, err := readPointer(ctx, src, s, folder)
		if err != nil {
			return res, err
		}
		if ceil != nil && v.Compare(*ceil) > 0 {
			v = *ceil
			if avail, err := AvailableVersions(ctx, src, folder); err == nil {
				if i := slices.IndexFunc(avail, func(a Version) bool { return a.Compare(*ceil) <= 0 }); i >= 0 {
					v = avail[i]
				}
			}
		}
		res.Version = v
		return res, nil
	}
	if v, err := ParseVersion(s); err == nil {
		if ceil != nil && v.Compare(*ceil) > 0 {
			return res, fail.WithHint(fail.Usagef("agent version %s is newer than %s, the newest this platform can run", v, ceil),
				fmt.Sprintf("pass --version %s or older", ceil))
		}
		if err := checkExists(ctx, src, v, folder); err != nil {
			return res, err
		}
		res.Version = v
		return res, nil
	}
	c, err := semver.NewConstraint(fourToThree.ReplaceAllString(s, "$1"))
	if err != nil {
		return res, fail.WithHint(fail.Usagef("version spec %q: want latest, stable, a.b.c.d or a constraint: %w", spec, err),
			`e.g. --version latest, --version 3.3.1142.0, --version "3.3.*", --version "~3.2" or --version ">=3.2 <3.3"`)
	}
	avail, err := AvailableVersions(ctx, src, folder)
	if err != nil {
		return res, err
	}
	for _, v := range avail {
		if ceil != nil && v.Compare(*ceil) > 0 {
			continue
		}
		if c.Check(semver.New(uint64(v.Major), uint64(v.Minor), uint64(v.Build), "", "")) {
			res.Version = v
			return res, nil
		}
	}
	within, candidates := "", avail
	if ceil != nil {
		within = fmt.Sprintf(" at or below %s", ceil)
		candidates = slices.DeleteFunc(slices.Clone(avail), func(v Version) bool { return v.Compare(*ceil) > 0 })
	}
	return res, fail.WithHint(fail.New(fail.Download, "no agent version for %s%s matches %q; newest available: %s", folder, within, spec, listVersions(candidates, 5)),
		"pass --version with an available version; `ssm-setup versions` lists them")
}

// fourToThree drops the fourth part of a.b.c.d versions inside a constraint, a number
// or a wildcard (3.3.1142.* means 3.3.1142, as the fourth part is not matched).
var fourToThree = regexp.MustCompile(`(\d+\.\d+\.\d+)\.(?:\d+|[*xX])`)

// readPointer reads latest/VERSION or stable/VERSION. A directory without
// latest/VERSION falls back to its newest version.
func readPointer(ctx context.Context, src Source, name, folder string) (Version, error) {
	key := name + "/VERSION"
	b, err := FetchSmall(ctx, src, key, maxPointerSize)
	if err != nil {
		if l, ok := src.(lister); ok && name == "latest" && errors.Is(err, ErrNotFound) {
			if vs, lerr := l.listVersions(folder); lerr == nil && len(vs) > 0 {
				return vs[0], nil
			}
		}
		if name == "stable" && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden)) {
			return Version{}, fail.WithHint(err, "this source has no stable/VERSION: pass --version latest or a version a.b.c.d")
		}
		return Version{}, err
	}
	v, err := ParseVersion(string(b))
	if err != nil {
		return Version{}, fail.New(fail.Download, "%s holds %q, want a version a.b.c.d", src.URL(key), strings.TrimSpace(string(b)))
	}
	return v, nil
}

// checkExists opens the package of v and closes it at once. A missing package is an
// error naming the nearest available versions.
func checkExists(ctx context.Context, src Source, v Version, folder string) error {
	key, err := PackageKey(v.String(), folder)
	if err != nil {
		return err
	}
	// The small signature beside the package answers first: opening the package itself
	// would start sending megabytes only to drop them. Releases before 3.1.1141.0 have
	// no signature, so without one the package is asked for.
	body, _, err := src.Open(ctx, key+".sig", 0)
	if err == nil {
		body.Close()
		return nil
	}
	if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrForbidden) {
		return err // the source failed (network, 5xx after retries): asking again cannot help
	}
	body, _, err = src.Open(ctx, key, 0)
	if err == nil {
		body.Close()
		return nil
	}
	if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrForbidden) {
		return err
	}
	avail, aerr := AvailableVersions(ctx, src, folder)
	if errors.Is(err, ErrForbidden) && slices.Contains(avail, v) {
		return err // it exists: the 403 is about permissions
	}
	near := "none found"
	if aerr == nil {
		near = listVersions(Nearest(avail, v, 4), 4)
	}
	return fail.WithHint(fail.Wrap(fail.Download, fmt.Errorf("agent version %s for %s: %w; nearest available: %s", v, folder, err, near)),
		"pass --version with an available version, or latest; `ssm-setup versions` lists them")
}

// Nearest returns up to n versions of avail closest to v in release order: about
// half older, half newer, newest first.
func Nearest(avail []Version, v Version, n int) []Version {
	sorted := sortNewestFirst(slices.Clone(avail))
	// i is the first version <= v; sorted[lo:hi] is the window, grown on both sides.
	i, _ := slices.BinarySearchFunc(sorted, v, func(a, t Version) int { return t.Compare(a) })
	lo, hi := i, i
	for hi-lo < n && (lo > 0 || hi < len(sorted)) {
		if hi < len(sorted) {
			hi++
		}
		if hi-lo < n && lo > 0 {
			lo--
		}
	}
	return sorted[lo:hi]
}

func listVersions(vs []Version, n int) string {
	if len(vs) == 0 {
		return "none found"
	}
	parts := make([]string, 0, n)
	for i, v := range vs {
		if i == n {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, v.String())
	}
	return strings.Join(parts, ", ")
}

// AvailableVersions lists the versions src holds for folder, newest first: for a
// directory, the version directories that hold the package; otherwise the Active
// versions of the manifest plus latest/VERSION (the manifest can lag a release).
func AvailableVersions(ctx context.Context, src Source, folder string) ([]Version, error) {
	if _, err := FileName(folder); err != nil {
		return nil, err
	}
	if l, ok := src.(lister); ok {
		vs, err := l.listVersions(folder)
		if err == nil && len(vs) == 0 {
			return nil, fail.New(fail.Download, "no agent versions for %s in %s: want VERSION/%s/FILE directories", folder, src, folder)
		}
		return vs, err
	}
	var vs []Version
	m, merr := ReadManifest(ctx, src)
	switch {
	case merr == nil:
		vs = m.Versions(folder)
	case errors.Is(merr, ErrNotFound) || errors.Is(merr, ErrForbidden):
		// A mirror without a manifest; latest/VERSION is all there is.
	default:
		return nil, merr
	}
	b, err := FetchSmall(ctx, src, "latest/VERSION", maxPointerSize)
	if err == nil {
		if v, perr := ParseVersion(string(b)); perr == nil {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		why := "the manifest lists none"
		if merr != nil {
			why = merr.Error()
		}
		return nil, fail.New(fail.Download, "no agent versions for %s at %s: %s", folder, src, why)
	}
	return sortNewestFirst(vs), nil
}
