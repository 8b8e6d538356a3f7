package release

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// httpSource is a web mirror in the bucket layout, read with plain GET requests. It
// works as well with a public bucket's https URL.
type httpSource struct {
	base        *url.URL // no trailing slash
	client      *http.Client
	maxAttempts int
	maxBackoff  time.Duration
	log         *slog.Logger
}

func newHTTPSource(spec string, o SourceOptions) (Source, error) {
	u, err := url.Parse(spec)
	if err != nil || u.Host == "" {
		return nil, badSource(spec, "not a URL with a host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, badSource(u.Redacted(), "a mirror URL takes no query or fragment")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fail.WithHint(fail.Usagef("release source %q: plain http is allowed only for loopback addresses", u.Redacted()),
			"use an https:// mirror URL")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	s := &httpSource{base: u, client: o.HTTPClient, maxAttempts: o.MaxAttempts, maxBackoff: o.MaxBackoff, log: orDiscard(o.Logger)}
	if s.client == nil {
		s.client = defaultHTTPClient(o.Proxy)
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = defaultMaxAttempts
	}
	if s.maxBackoff <= 0 {
		s.maxBackoff = defaultMaxBackoff
	}
	return s, nil
}

func (s *httpSource) keyURL(key string) *url.URL {
	u := *s.base
	u.Path = s.base.Path + "/" + key
	return &u
}

// URL returns the URL of key without any user:password part.
func (s *httpSource) URL(key string) string { return s.keyURL(key).Redacted() }

func (s *httpSource) String() string { return s.base.Redacted() }

// Open GETs key, with a Range header when resuming. Throttling (429), 5xx and network
// errors are retried up to maxAttempts times with jittered exponential backoff.
func (s *httpSource) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := checkKey(key); err != nil {
		return nil, 0, err
	}
	for attempt := 1; ; attempt++ {
		body, size, retry, err := s.try(ctx, key, offset)
		if err == nil {
			return body, size, nil
		}
		if !retry || attempt >= s.maxAttempts || ctx.Err() != nil {
			return nil, 0, err
		}
		d := backoff(attempt, 250*time.Millisecond, s.maxBackoff)
		s.log.Debug("retrying request", "url", s.URL(key), "attempt", attempt, "wait", d, "error", err)
		if err := sleep(ctx, d); err != nil {
			return nil, 0, fail.Wrap(fail.Download, fmt.Errorf("get %s: %w", s.URL(key), err))
		}
	}
}

func (s *httpSource) try(ctx context.Context, key string, offset int64) (body io.ReadCloser, size int64, retry bool, err error) {
	u := s.URL(key)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.keyURL(key).String(), nil)
	if err != nil {
		return nil, 0, false, fail.Wrap(fail.Download, fmt.Errorf("get %s: %w", u, err))
	}
	// identity: a transparently gunzipped body would not match the Range offsets.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "ssm-setup")
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, false, fail.Wrap(fail.Download, fmt.Errorf("get %s: %w", u, ctx.Err()))
		}
		return nil, 0, true, fail.WithHint(fail.Wrap(fail.Download, fmt.Errorf("get %s: %w", u, err)),
			fmt.Sprintf("check network access to %s and the proxy settings (HTTPS_PROXY, NO_PROXY)", s.base.Host))
	}
	switch {
	case resp.StatusCode == http.StatusOK && offset == 0:
		return resp.Body, resp.ContentLength, false, nil
	case resp.StatusCode == http.StatusOK:
		resp.Body.Close()
		return nil, 0, false, rangeIgnored(u, offset, "HTTP 200 with the whole file")
	case resp.StatusCode == http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			resp.Body.Close()
			return nil, 0, false, rangeIgnored(u, offset, fmt.Sprintf("Content-Range %q", resp.Header.Get("Content-Range")))
		}
		return resp.Body, total, false, nil
	}
	code := s3ErrorCode(resp.Body)
	resp.Body.Close()
	retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return nil, 0, retry, statusFailure(u, resp.StatusCode, code,
		"the mirror refused access: check its permissions, and that the key exists (S3 answers 403 for missing keys)", nil)
}

// rangeIgnored is the error for a source that cannot resume at offset.
func rangeIgnored(url string, offset int64, got string) error {
	return fail.WithHint(fail.Wrap(fail.Download, fmt.Errorf("resume %s at byte %d: the server sent %s: %w", url, offset, got, ErrRangeIgnored)),
		"the mirror does not support Range requests, so an interrupted download cannot resume; re-run to start over, or use a mirror that supports Range")
}

var contentRangeRE = regexp.MustCompile(`^bytes (\d+)-(\d+)/(\d+|\*)$`)

// parseContentRange parses "bytes START-END/TOTAL"; total is -1 for "*".
func parseContentRange(h string) (start, total int64, ok bool) {
	m := contentRangeRE.FindStringSubmatch(strings.TrimSpace(h))
	if m == nil {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(m[1], 10, 64)
	end, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil || end < start {
		return 0, 0, false
	}
	if m[3] == "*" {
		return start, -1, true
	}
	total, err := strconv.ParseInt(m[3], 10, 64)
	if err != nil || total <= end {
		return 0, 0, false
	}
	return start, total, true
}

var s3CodeRE = regexp.MustCompile(`<Code>([A-Za-z0-9.]+)</Code>`)

// s3ErrorCode reads the S3 error code (NoSuchKey, AccessDenied, ...) from the start of
// an error body; "" when there is none.
func s3ErrorCode(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, 4096))
	if m := s3CodeRE.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

// backoff is the wait before try attempt+1: full jitter over base*2^(attempt-1), at
// most max.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := max
	if attempt < 30 {
		if e := base << (attempt - 1); e > 0 && e < max {
			d = e
		}
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// checkKey rejects keys that could leave the source's root.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) {
		return fail.New(fail.Download, "release key %q: want a relative slash-separated key", key)
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			return fail.New(fail.Download, "release key %q: want a relative slash-separated key", key)
		}
	}
	return nil
}
