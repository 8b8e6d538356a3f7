// Package state is ssm-setup's ledger of what it did to a system: the agent package it
// installed, every file it wrote, the proxy settings and the hybrid registration. Install
// writes it; uninstall reads it to undo exactly that, and status reports it. It lives in
// ROOT/var/lib/ssm-setup/state.json.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ssm-setup/ssm-setup/installer/fsutil"
	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// Path is the state file's path inside the root.
const Path = "/var/lib/ssm-setup/state.json"

// SchemaVersion is the version of the file format this package writes. Bump it when a
// field changes meaning, never when one is added.
const SchemaVersion = 1

// MaxHistory bounds History: Record drops the oldest events beyond it, so a host that
// updates the agent for years keeps a small file.
const MaxHistory = 200

// State is the content of the state file.
type State struct {
	SchemaVersion int                 `json:"schema_version"`
	Agent         *AgentRecord        `json:"agent,omitempty"`
	Files         []FileRecord        `json:"files"`
	Proxy         *ProxyRecord        `json:"proxy,omitempty"`
	Registration  *RegistrationRecord `json:"registration,omitempty"`
	History       []Event             `json:"history"`
}

// AgentRecord is the agent package ssm-setup installed.
type AgentRecord struct {
	Version           string    `json:"version"`
	PackageFormat     string    `json:"package_format"`  // deb, rpm, snap
	PackageManager    string    `json:"package_manager"` // dpkg, apt, rpm, dnf, yum, zypper, snap
	Source            string    `json:"source"`          // URL or local path the package came from
	SHA256            string    `json:"sha256,omitempty"`
	SignerFingerprint string    `json:"signer_fingerprint,omitempty"`
	InstalledAt       time.Time `json:"installed_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// FileRecord is a file ssm-setup wrote, with the SHA-256 of what it wrote, so uninstall
// can tell whether someone changed the file since.
type FileRecord struct {
	Path    string `json:"path"`    // absolute path inside the root
	Purpose string `json:"purpose"` // e.g. "proxy drop-in"
	SHA256  string `json:"sha256"`
}

// ProxyRecord is the proxy configuration ssm-setup wrote. Proxy URLs are stored with
// their passwords already masked: the state file is no place for secrets.
type ProxyRecord struct {
	Files      []string `json:"files"`
	HTTPProxy  string   `json:"http_proxy,omitempty"`
	HTTPSProxy string   `json:"https_proxy,omitempty"`
	NoProxy    string   `json:"no_proxy,omitempty"`
}

// RegistrationRecord is a hybrid registration ssm-setup made.
type RegistrationRecord struct {
	ManagedInstanceID string    `json:"managed_instance_id"`
	Region            string    `json:"region"`
	ActivationID      string    `json:"activation_id,omitempty"`
	RegisteredAt      time.Time `json:"registered_at"`
}

// Event is one line of history.
type Event struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // install, upgrade, proxy, register, uninstall, ...
	Detail string    `json:"detail,omitempty"`
}

// New returns an empty state of the current schema.
func New() *State {
	return &State{SchemaVersion: SchemaVersion, Files: []FileRecord{}, History: []Event{}}
}

// Load reads the state of root. A missing file is an empty state: ssm-setup has not
// changed this system (or its state was removed with the agent). A file that does not
// parse, or that a newer ssm-setup wrote, is an error naming the file and the fix;
// guessing would make uninstall remove the wrong things or leave files behind.
func Load(root sysroot.Root) (*State, error) {
	path := root.Path(Path)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		err = fail.New(fail.Unexpected, "read ssm-setup state %s: %w", path, err)
		if errors.Is(err, fs.ErrPermission) {
			return nil, fail.WithHint(fail.Wrap(fail.NeedRoot, err), "re-run as root")
		}
		return nil, err
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s); err != nil || dec.More() {
		if err == nil {
			err = errors.New("trailing data after the JSON object")
		}
		return nil, fail.WithHint(
			fail.New(fail.Unexpected, "ssm-setup state %s is corrupt: %w", path, err),
			fmt.Sprintf("move it aside (mv %s %s.bad) and re-run; ssm-setup then no longer knows which files it wrote, so check them by hand", path, path))
	}
	if s.SchemaVersion > SchemaVersion {
		return nil, fail.WithHint(
			fail.New(fail.Unexpected, "ssm-setup state %s has schema version %d, newer than the %d this ssm-setup understands", path, s.SchemaVersion, SchemaVersion),
			"use the ssm-setup release that wrote it, or a newer one")
	}
	if s.SchemaVersion == 0 {
		s.SchemaVersion = SchemaVersion
	}
	if s.Files == nil {
		s.Files = []FileRecord{}
	}
	if s.History == nil {
		s.History = []Event{}
	}
	return &s, nil
}

// Save writes the state of root atomically (see fsutil.WriteFileAtomic), mode 0600:
// it names the registration, which only root needs to read.
func (s *State) Save(root sysroot.Root) error {
	out := *s
	out.SchemaVersion = SchemaVersion
	if out.Files == nil {
		out.Files = []FileRecord{}
	}
	if out.History == nil {
		out.History = []Event{}
	}
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fail.New(fail.Unexpected, "encode ssm-setup state: %w", err)
	}
	path := root.Path(Path)
	if _, err := fsutil.WriteFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		err = fail.New(fail.Unexpected, "save ssm-setup state: %w", err)
		if errors.Is(err, fs.ErrPermission) {
			return fail.WithHint(fail.Wrap(fail.NeedRoot, err), "re-run as root")
		}
		return err
	}
	return nil
}

// AddFile records a file ssm-setup wrote, replacing an earlier record of the same path
// (a rewrite keeps the file's place in the list).
func (s *State) AddFile(path, purpose, sha string) {
	rec := FileRecord{Path: path, Purpose: purpose, SHA256: sha}
	for i := range s.Files {
		if s.Files[i].Path == path {
			s.Files[i] = rec
			return
		}
	}
	s.Files = append(s.Files, rec)
}

// RemoveFile forgets the record of path, if any.
func (s *State) RemoveFile(path string) {
	kept := s.Files[:0]
	for _, f := range s.Files {
		if f.Path != path {
			kept = append(kept, f)
		}
	}
	s.Files = kept
}

// FindFile returns the record of path.
func (s *State) FindFile(path string) (FileRecord, bool) {
	for _, f := range s.Files {
		if f.Path == path {
			return f, true
		}
	}
	return FileRecord{}, false
}

// Record appends an event to History, in UTC, keeping the newest MaxHistory events.
func (s *State) Record(now time.Time, action, detail string) {
	s.History = append(s.History, Event{Time: now.UTC(), Action: action, Detail: detail})
	if n := len(s.History) - MaxHistory; n > 0 {
		s.History = append([]Event(nil), s.History[n:]...)
	}
}
