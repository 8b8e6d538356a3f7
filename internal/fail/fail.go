// Package fail gives ssm-setup's errors a kind, which the command line maps to one
// documented exit code, and an optional hint that tells the user the next step.
//
// Domain packages (distro, installer, hybrid, uninstall) wrap their errors with a Kind
// where the kind is known; the top level prints the error once and exits with Code(err).
package fail

import (
	"errors"
	"fmt"
)

// Kind classifies an error. Its numeric value is the process exit code, documented in
// the README and in `ssm-setup help exit-codes`. Never renumber a kind.
type Kind int

// The exit codes. 0 is success, changed or not.
const (
	Unexpected     Kind = 1  // a bug or an unclassified failure
	Usage          Kind = 2  // bad flag, value or combination of flags
	Unsupported    Kind = 3  // the platform is not supported
	Verification   Kind = 4  // signature or checksum check failed
	Download       Kind = 5  // a release, version or file could not be fetched
	PackageManager Kind = 6  // package or service manager failed
	Registration   Kind = 7  // hybrid registration or deregistration failed
	Locked         Kind = 8  // another ssm-setup run holds the lock
	NeedRoot       Kind = 9  // must run as root/Administrator
	Unhealthy      Kind = 10 // agent installed but not healthy
)

// Kinds lists every kind in exit-code order, for help text and docs.
var Kinds = []Kind{Unexpected, Usage, Unsupported, Verification, Download, PackageManager, Registration, Locked, NeedRoot, Unhealthy}

// String names the kind in lower case, as used in JSON output.
func (k Kind) String() string {
	switch k {
	case Unexpected:
		return "unexpected"
	case Usage:
		return "usage"
	case Unsupported:
		return "unsupported"
	case Verification:
		return "verification"
	case Download:
		return "download"
	case PackageManager:
		return "package_manager"
	case Registration:
		return "registration"
	case Locked:
		return "locked"
	case NeedRoot:
		return "need_root"
	case Unhealthy:
		return "unhealthy"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Describe is the one-line meaning of the exit code, for `help exit-codes`.
func (k Kind) Describe() string {
	switch k {
	case Unexpected:
		return "unexpected error (a bug, or a failure with no better code)"
	case Usage:
		return "usage error: bad flag, value or combination; nothing was changed"
	case Unsupported:
		return "unsupported platform (distro, version, architecture or package format)"
	case Verification:
		return "verification failed: signature or SHA-256 checksum; a downloaded file is deleted"
	case Download:
		return "download failed, or the requested version does not exist"
	case PackageManager:
		return "package or service manager failed"
	case Registration:
		return "registration or deregistration failed"
	case Locked:
		return "another ssm-setup run holds the lock"
	case NeedRoot:
		return "must run as root/Administrator"
	case Unhealthy:
		return "agent installed but not healthy"
	}
	return ""
}

// Error is an error with a kind and an optional hint.
type Error struct {
	Kind Kind
	Err  error
	// Hint is the next step for the user, printed on its own line ("hint: ...").
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a formatted message (%w wraps as usual).
func New(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// Wrap gives err a kind. A nil err stays nil.
func Wrap(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// WithHint returns err with a hint for the user. It keeps the kind err already has.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindOf(err), Err: err, Hint: hint}
}

// Usagef is shorthand for New(Usage, ...).
func Usagef(format string, args ...any) error { return New(Usage, format, args...) }

// KindOf returns the outermost kind in err's chain, or Unexpected.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Unexpected
}

// Code is the process exit code for err: 0 for nil, else its kind.
func Code(err error) int {
	if err == nil {
		return 0
	}
	return int(KindOf(err))
}

// HintOf returns the first non-empty hint in err's chain.
func HintOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Hint != "" {
			return e.Hint
		}
		err = e.Err
	}
	return ""
}
