// Package release finds and fetches SSM Agent releases: it resolves the AWS region and
// the release source (the regional public bucket amazon-ssm-REGION through the AWS SDK,
// a private S3 mirror, an HTTPS mirror or a local directory, all in the bucket layout),
// turns a version spec (latest, stable, a.b.c.d or a constraint) into one version,
// streams a package to disk once while feeding its SHA-256 and the caller's sinks
// (signature check, progress), resuming interrupted transfers with Range requests, and
// names the paths of the package cache.
//
// The bucket layout and the manifest format are described in
// shared/reference/ssm-agent-facts.md, section 1. The package never prints and never
// prompts; errors carry internal/fail kinds and hints.
package release

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// Sentinel errors in the chain of source errors, for errors.Is.
var (
	// ErrNotFound: the key does not exist (HTTP 404, NoSuchKey, missing file).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: access was denied (HTTP 403). S3 also answers 403 for a missing key
	// when the caller may not list the bucket, which is the case for anonymous requests
	// to the public amazon-ssm-REGION buckets.
	ErrForbidden = errors.New("access denied")
	// ErrRangeIgnored: a resume was asked with a Range request and the source sent the
	// whole object (or another range) instead.
	ErrRangeIgnored = errors.New("range request ignored")
)

// statusError is a request that got a definite answer from the source: an HTTP status
// (404, 403, 5xx after retries, ...) or a missing file. Download does not retry it.
type statusError struct {
	msg    string
	status int   // HTTP status, 0 for files
	base   error // ErrNotFound, ErrForbidden or nil
	err    error // the underlying error, may be nil
}

func (e *statusError) Error() string { return e.msg }

func (e *statusError) Unwrap() []error {
	var errs []error
	if e.base != nil {
		errs = append(errs, e.base)
	}
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

// statusFailure builds the fail.Download error for an HTTP status of url. code is the
// S3 error code when known (NoSuchKey, AccessDenied, ...); hint403 is the next step
// for a 403, which depends on the source and on whether requests are signed.
func statusFailure(url string, status int, code, hint403 string, cause error) error {
	detail := fmt.Sprintf("HTTP %d", status)
	if code != "" {
		detail += ", " + code
	}
	switch {
	case status == http.StatusNotFound:
		return fail.Wrap(fail.Download, &statusError{msg: fmt.Sprintf("not found: %s (%s)", url, detail), status: status, base: ErrNotFound, err: cause})
	case status == http.StatusForbidden:
		return fail.WithHint(fail.Wrap(fail.Download, &statusError{msg: fmt.Sprintf("access denied: %s (%s)", url, detail), status: status, base: ErrForbidden, err: cause}), hint403)
	case status == http.StatusMovedPermanently || status == http.StatusTemporaryRedirect:
		return fail.WithHint(fail.Wrap(fail.Download, &statusError{msg: fmt.Sprintf("get %s: %s: the bucket is in another region", url, detail), status: status, err: cause}),
			"pass --region with the bucket's region")
	case status >= 500:
		return fail.WithHint(fail.Wrap(fail.Download, &statusError{msg: fmt.Sprintf("get %s: %s %s, gave up after retries", url, detail, http.StatusText(status)), status: status, err: cause}),
			"the server failed; try again later, or use another region or mirror with --source")
	default:
		return fail.Wrap(fail.Download, &statusError{msg: fmt.Sprintf("get %s: %s %s", url, detail, http.StatusText(status)), status: status, err: cause})
	}
}

// isPermanent says whether retrying err cannot help: a definite answer from the source,
// a source that cannot resume, or a cancelled context.
func isPermanent(err error) bool {
	var se *statusError
	return errors.As(err, &se) || errors.Is(err, ErrRangeIgnored) || errors.Is(err, errChanged)
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
