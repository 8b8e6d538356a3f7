package release

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// Source is a place that holds agent releases in the bucket layout: latest/VERSION,
// stable/VERSION, VERSION/FOLDER/FILE with FILE.sig beside it, and
// ssm-agent-manifest.json at the root. Keys are slash-separated and relative.
type Source interface {
	// Open returns the object at key from byte offset on, and the total size of the
	// object (-1 when the source cannot tell). An offset > 0 resumes a transfer with a
	// Range request; a source that answers with anything but that range returns an
	// error wrapping ErrRangeIgnored. Sources retry failed requests themselves; errors
	// wrap ErrNotFound or ErrForbidden where that is what the source said.
	Open(ctx context.Context, key string, offset int64) (body io.ReadCloser, size int64, err error)
	// URL names the key for messages and records: https://..., s3://... or a file path.
	URL(key string) string
	// String describes the source, e.g. "s3://amazon-ssm-us-east-1 (us-east-1)".
	String() string
}

// SourceOptions configure NewSource.
type SourceOptions struct {
	// Region is the AWS region: it names the public bucket amazon-ssm-REGION and is the
	// region of an s3:// mirror. Required for S3 sources.
	Region string
	// HTTPClient replaces the default client (proxy from the environment, 30 s to
	// connect and to get response headers, no limit on the body).
	HTTPClient *http.Client
	// Proxy, when not nil, picks the proxy of each request of the default client
	// instead of HTTPS_PROXY/NO_PROXY (e.g. install --proxy). Unlike a whole
	// HTTPClient it keeps the SDK's own client, so AWS_CA_BUNDLE still applies.
	Proxy func(*http.Request) (*url.URL, error)
	// MaxAttempts is the number of tries of one request (first try included) on
	// throttling, 5xx and network errors; 0 keeps the default: 3, or AWS_MAX_ATTEMPTS
	// and max_attempts for S3 sources.
	MaxAttempts int
	// MaxBackoff caps the wait between tries; 0 keeps the default (20 s, as the SDK).
	MaxBackoff time.Duration
	// Logger receives debug records of requests and retries; nil discards them.
	Logger *slog.Logger
}

const (
	defaultMaxAttempts = 3
	defaultMaxBackoff  = 20 * time.Second
	headerTimeout      = 30 * time.Second
)

// NewSource builds the source that spec names:
//
//	"" or "s3"                the public bucket amazon-ssm-REGION through the AWS SDK
//	"s3://BUCKET/PREFIX"      a private S3 mirror through the AWS SDK (PREFIX optional)
//	"https://HOST/BASE"       a web mirror, plain GET with Range (http:// for loopback only)
//	"/DIR", "./DIR", "file:///DIR"  a local directory
//
// S3 sources honour every standard SDK setting (AWS_ENDPOINT_URL_S3, AWS_USE_FIPS_ENDPOINT,
// AWS_USE_DUALSTACK_ENDPOINT, AWS_CA_BUNDLE, HTTPS_PROXY/NO_PROXY, AWS_MAX_ATTEMPTS,
// profiles) and use the configured credentials, or none when none can be found quickly.
func NewSource(ctx context.Context, spec string, o SourceOptions) (Source, error) {
	switch {
	case spec == "" || spec == "s3":
		return newS3Source(ctx, BucketName(o.Region), "", true, o)
	case strings.HasPrefix(spec, "s3://"):
		rest := strings.TrimPrefix(spec, "s3://")
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return nil, badSource(spec, "no bucket name")
		}
		return newS3Source(ctx, bucket, strings.Trim(prefix, "/"), false, o)
	case strings.HasPrefix(spec, "https://") || strings.HasPrefix(spec, "http://"):
		return newHTTPSource(spec, o)
	case strings.HasPrefix(spec, "file://"):
		u, err := url.Parse(spec)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
			return nil, badSource(spec, "want file:///ABSOLUTE/DIR")
		}
		p := u.Path
		if runtime.GOOS == "windows" && len(p) > 2 && p[0] == '/' && p[2] == ':' {
			p = p[1:] // file:///C:/dir
		}
		return newDirSource(filepath.FromSlash(p), o)
	case isDirSpec(spec):
		return newDirSource(spec, o)
	}
	return nil, badSource(spec, "unknown kind")
}

// isDirSpec says whether spec is a directory path: absolute, or starting with . or ..
func isDirSpec(spec string) bool {
	return filepath.IsAbs(spec) || spec == "." || spec == ".." ||
		strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") ||
		strings.HasPrefix(spec, `.\`) || strings.HasPrefix(spec, `..\`)
}

func badSource(spec, why string) error {
	return fail.WithHint(fail.Usagef("release source %q: %s", spec, why),
		"pass --source s3 (the default), s3://BUCKET/PREFIX, https://HOST/PATH, file:///DIR or a directory path like ./mirror")
}

// defaultHTTPClient has no overall timeout (packages are large) but bounds connecting
// and waiting for the response headers; Download watches for stalled bodies.
func defaultHTTPClient(proxy func(*http.Request) (*url.URL, error)) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = headerTimeout
	t.DialContext = (&net.Dialer{Timeout: headerTimeout, KeepAlive: 30 * time.Second}).DialContext
	if proxy != nil {
		t.Proxy = proxy
	}
	return &http.Client{Transport: t}
}

// joinKey puts prefix (no slashes at either end, may be empty) before key.
func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "/" + key
}

// isLoopback says whether host (without port) is a loopback name or address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
