package release

import (
	"context"
	"errors"
	"fmt"
	"github.com/ssm-setup/ssm-setup/internal/awslog"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// credentialTimeout bounds the search for AWS credentials. On a machine that is not an
// EC2 instance the default chain ends at instance metadata, which can take many
// seconds to give up; the public buckets need no credentials at all.
const credentialTimeout = 3 * time.Second

// badCredentialCodes are S3 answers to a signed request whose credentials S3 does not
// accept (expired, from another partition). The public bucket is then read anonymously.
var badCredentialCodes = []string{"InvalidAccessKeyId", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "SignatureDoesNotMatch"}

// s3Source reads a bucket through the AWS SDK: the public amazon-ssm-REGION bucket or a
// private mirror.
type s3Source struct {
	client     *s3.Client
	anonClient *s3.Client // unsigned client for the public bucket when client signs
	bucket     string
	prefix     string // no slashes at either end; may be empty
	region     string
	public     bool   // the public release bucket (URL() gives https URLs)
	anonymous  bool   // requests are unsigned
	base       string // endpoint URL of the bucket, as the SDK resolves it
	log        *slog.Logger
}

func newS3Source(ctx context.Context, bucket, prefix string, public bool, o SourceOptions) (Source, error) {
	if o.Region == "" {
		return nil, fail.WithHint(fail.Usagef("region required for the S3 release source s3://%s", bucket),
			"pass --region REGION (e.g. --region us-east-1) or set AWS_REGION")
	}
	if err := ValidateRegion(o.Region); err != nil {
		return nil, err
	}
	log := orDiscard(o.Logger)
	opts := []func(*config.LoadOptions) error{config.WithRegion(o.Region), config.WithLogger(awslog.New(log))}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	} else {
		// A BuildableClient keeps AWS_CA_BUNDLE working and takes the proxy from the
		// environment; bound the wait for the response headers.
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = headerTimeout }).
			WithTransportOptions(func(t *http.Transport) {
				t.ResponseHeaderTimeout = headerTimeout
				if o.Proxy != nil {
					t.Proxy = o.Proxy
				}
			})))
	}
	if o.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(o.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fail.WithHint(fail.Usagef("load AWS configuration: %w", err), "check AWS_PROFILE, AWS_CONFIG_FILE and ~/.aws/config")
	}
	anonymous := false
	if cfg.Credentials == nil {
		anonymous = true
	} else {
		cctx, cancel := context.WithTimeout(ctx, credentialTimeout)
		_, err := cfg.Credentials.Retrieve(cctx)
		cancel()
		if err != nil {
			log.Debug("no usable AWS credentials; reading anonymously", "error", err)
			anonymous = true
		}
	}
	newClient := func(cfg aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg, func(so *s3.Options) {
			// A configured endpoint (AWS_ENDPOINT_URL_S3, endpoint_url) is a mirror or a
			// test server: address the bucket in the path, GET /BUCKET/KEY.
			if so.BaseEndpoint != nil {
				so.UsePathStyle = true
			}
			if o.MaxBackoff > 0 {
				so.Retryer = retry.AddWithMaxBackoffDelay(so.Retryer, o.MaxBackoff)
			}
			so.DisableLogOutputChecksumValidationSkipped = true
		})
	}
	s := &s3Source{bucket: bucket, prefix: prefix, region: o.Region, public: public, anonymous: anonymous, log: log}
	anonCfg := cfg.Copy()
	anonCfg.Credentials = aws.AnonymousCredentials{}
	if anonymous {
		s.client = newClient(anonCfg)
	} else {
		s.client = newClient(cfg)
		if public {
			s.anonClient = newClient(anonCfg)
		}
	}
	s.base = s.resolveBase(ctx)
	log.Debug("release source", "source", s.String(), "anonymous", anonymous)
	return s, nil
}

// resolveBase asks the SDK's endpoint resolver for the bucket's URL, so messages name
// the host the requests go to (partition DNS suffix, FIPS, dual-stack, custom endpoint).
func (s *s3Source) resolveBase(ctx context.Context) string {
	so := s.client.Options()
	ep, err := so.EndpointResolverV2.ResolveEndpoint(ctx, s3.EndpointParameters{
		Bucket:         aws.String(s.bucket),
		Region:         aws.String(so.Region),
		Endpoint:       so.BaseEndpoint,
		ForcePathStyle: aws.Bool(so.UsePathStyle),
		UseFIPS:        aws.Bool(so.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		UseDualStack:   aws.Bool(so.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
	})
	if err != nil {
		s.log.Debug("resolve the bucket endpoint", "error", err)
		return ""
	}
	return strings.TrimRight(ep.URI.String(), "/")
}

// URL names key: the https URL for the public bucket, s3://BUCKET/KEY for a mirror.
func (s *s3Source) URL(key string) string {
	k := joinKey(s.prefix, key)
	if s.public && s.base != "" {
		return s.base + "/" + k
	}
	return "s3://" + s.bucket + "/" + k
}

func (s *s3Source) String() string {
	if s.prefix != "" {
		return fmt.Sprintf("s3://%s/%s (%s)", s.bucket, s.prefix, s.region)
	}
	return fmt.Sprintf("s3://%s (%s)", s.bucket, s.region)
}

// Open is a GetObject, with a Range when resuming. The SDK retries throttling, 5xx and
// network errors.
func (s *s3Source) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := checkKey(key); err != nil {
		return nil, 0, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(joinKey(s.prefix, key))}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil && s.anonClient != nil && slices.Contains(badCredentialCodes, apiErrorCode(err)) {
		// The public bucket needs no credentials; ones S3 rejects must not stop the read.
		s.log.Debug("S3 rejected the credentials; reading the public bucket anonymously", "error", err)
		out, err = s.anonClient.GetObject(ctx, in)
	}
	if err != nil {
		return nil, 0, s.failure(ctx, key, err)
	}
	if offset == 0 {
		size := int64(-1)
		if out.ContentLength != nil {
			size = *out.ContentLength
		}
		return out.Body, size, nil
	}
	start, total, ok := parseContentRange(aws.ToString(out.ContentRange))
	if !ok || start != offset {
		out.Body.Close()
		got := "the whole object"
		if out.ContentRange != nil {
			got = fmt.Sprintf("Content-Range %q", *out.ContentRange)
		}
		return nil, 0, rangeIgnored(s.URL(key), offset, got)
	}
	return out.Body, total, nil
}

// failure turns an SDK error into a fail.Download error with the URL and HTTP status.
func (s *s3Source) failure(ctx context.Context, key string, err error) error {
	u := s.URL(key)
	s.log.Debug("S3 request failed", "url", u, "error", err)
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return statusFailure(u, re.HTTPStatusCode(), apiErrorCode(err), s.hint403(), err)
	}
	if ctx.Err() != nil {
		return fail.Wrap(fail.Download, fmt.Errorf("get %s: %w", u, ctx.Err()))
	}
	host := s.base
	if host == "" {
		host = "S3"
	}
	return fail.WithHint(fail.Wrap(fail.Download, &causeError{msg: fmt.Sprintf("get %s: %s", u, networkCause(err)), err: err}),
		fmt.Sprintf("check network access to %s, the proxy settings (HTTPS_PROXY, NO_PROXY) and AWS_ENDPOINT_URL_S3, or pass --source with a reachable mirror", host))
}

// hint403 is the next step after a 403, by bucket and credentials.
func (s *s3Source) hint403() string {
	where := "s3://" + s.bucket + "/" + joinKey(s.prefix, "*")
	switch {
	case s.public && s.anonymous:
		return "the public release buckets answer 403 for keys that do not exist: check the version and the platform folder (`ssm-setup versions` lists the versions)"
	case s.public:
		return "the key may not exist, or the AWS credentials in use may not read it: check that IAM, VPC endpoint policies and SCPs allow s3:GetObject on " +
			where + ", or unset AWS_PROFILE and AWS_ACCESS_KEY_ID to read the public bucket anonymously"
	case s.anonymous:
		return "no AWS credentials were found: configure credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, an instance profile) allowed s3:GetObject on " + where
	}
	return "the AWS credentials in use may not read it, or the key does not exist: allow s3:GetObject on " + where +
		" (and s3:ListBucket to get 404 for missing keys) in IAM, the bucket policy and any VPC endpoint policy"
}

// apiErrorCode is the service's error code in err (NoSuchKey, AccessDenied, ...).
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// networkCause is the part of an SDK transport error a person needs ("dial tcp: lookup
// HOST: no such host"), without the SDK's wrapping ("operation error S3: GetObject,
// https response error StatusCode: 0, RequestID: , ...").
func networkCause(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Error()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Error()
	}
	return err.Error()
}

// causeError shows msg and keeps err in the chain for errors.Is and errors.As.
type causeError struct {
	msg string
	err error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.err }
