package installer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"time"

	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// MirrorLockName is the record `ssm-setup download` keeps at the top of a mirror: for
// each file its version, folder, size, SHA-256, signer and source. A mirror used as a
// release source is checked against it (a package whose digest differs from the
// recorded one is refused, exit 4).
const MirrorLockName = "ssm-setup-lock.json"

// MirrorLockSchema is the schema_version of the lock files ssm-setup writes.
const MirrorLockSchema = 1

// MirrorLock is the content of ssm-setup-lock.json.
type MirrorLock struct {
	SchemaVersion int           `json:"schema_version"`
	Files         []MirrorEntry `json:"files"`
}

// MirrorEntry is one file of a mirror.
type MirrorEntry struct {
	Version           string    `json:"version"`
	Folder            string    `json:"folder"`
	File              string    `json:"file"`
	Size              int64     `json:"size"`
	SHA256            string    `json:"sha256"`
	SignerFingerprint string    `json:"signer_fingerprint"`
	SignedAt          time.Time `json:"signed_at"`
	SourceURL         string    `json:"source_url"`
}

func (e MirrorEntry) key() string { return e.Version + "/" + e.Folder + "/" + e.File }

// ParseMirrorLock reads a lock file's bytes; name is where they came from, for errors.
// A file of another schema is an error: ssm-setup would otherwise rewrite or trust
// what it cannot read.
func ParseMirrorLock(data []byte, name string) (MirrorLock, error) {
	var l MirrorLock
	if err := json.Unmarshal(data, &l); err != nil {
		return l, fail.WithHint(fail.Usagef("lock file %s: %w", name, err), "move the damaged lock file away; download writes a new one")
	}
	if l.SchemaVersion != MirrorLockSchema {
		return l, fail.WithHint(fail.Usagef("lock file %s: schema_version %d, want %d", name, l.SchemaVersion, MirrorLockSchema),
			"use a mirror made by this ssm-setup, or move the lock file away")
	}
	return l, nil
}

// Merge returns l with entries added, replacing entries for the same file, sorted.
func (l MirrorLock) Merge(entries ...MirrorEntry) MirrorLock {
	out := MirrorLock{SchemaVersion: MirrorLockSchema, Files: slices.Clone(l.Files)}
	byKey := map[string]int{}
	for i, e := range out.Files {
		byKey[e.key()] = i
	}
	for _, e := range entries {
		if i, ok := byKey[e.key()]; ok {
			out.Files[i] = e
		} else {
			byKey[e.key()] = len(out.Files)
			out.Files = append(out.Files, e)
		}
	}
	sort.SliceStable(out.Files, func(i, j int) bool { return out.Files[i].key() < out.Files[j].key() })
	return out
}

// SHA256 is the digest the lock file records for a file, "" when it has none.
func (l *MirrorLock) SHA256(version, folder, file string) string {
	if l == nil {
		return ""
	}
	for _, e := range l.Files {
		if e.Version == version && e.Folder == folder && e.File == file {
			return e.SHA256
		}
	}
	return ""
}

// ReadMirrorLock reads the lock file at the top of src; nil when src has none (the
// public buckets have none: they answer 404 or, anonymously, 403).
func ReadMirrorLock(ctx context.Context, src release.Source) (*MirrorLock, error) {
	data, err := release.FetchSmall(ctx, src, MirrorLockName, 16<<20)
	if errors.Is(err, release.ErrNotFound) || errors.Is(err, release.ErrForbidden) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the mirror's %s: %w", MirrorLockName, err)
	}
	l, err := ParseMirrorLock(data, src.URL(MirrorLockName))
	if err != nil {
		return nil, err
	}
	return &l, nil
}
