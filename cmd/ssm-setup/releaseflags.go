package main

import (
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"

	"context"
	"fmt"
	"github.com/ssm-setup/ssm-setup/installer/proxy"
	"github.com/ssm-setup/ssm-setup/internal/awslog"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// ReleaseFlags are the flags of every command that fetches releases.
type ReleaseFlags struct {
	Region      string
	Source      string
	TrustedKeys []string
	CacheDir    string
	// Proxy and NoProxy route ssm-setup's own downloads (install --proxy); empty means
	// the standard environment variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
	Proxy   string
	NoProxy string
}

func (r *ReleaseFlags) addSource(fs *pflag.FlagSet) {
	fs.StringVar(&r.Region, "region", "", "AWS region of the release bucket (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, or instance metadata)")
	fs.StringVar(&r.Source, "source", "s3", "where releases come from: s3 (the regional bucket), s3://BUCKET/PREFIX, https://HOST/PATH or a directory made by 'ssm-setup download'")
}

func (r *ReleaseFlags) addTrust(fs *pflag.FlagSet) {
	fs.StringArrayVar(&r.TrustedKeys, "trusted-key", nil, "armored OpenPGP public key file to trust besides AWS's keys (repeatable; also SSM_SETUP_TRUSTED_KEYS, a list of files)")
}

func (r *ReleaseFlags) addCache(fs *pflag.FlagSet) {
	fs.StringVar(&r.CacheDir, "cache-dir", "", "where verified packages are kept (default /var/cache/ssm-setup as root, else $XDG_CACHE_HOME/ssm-setup)")
}

// isMirror says whether the source spec names a mirror (anything but the regional
// bucket), whose ssm-setup-lock.json, when it has one, records the packages' digests.
func isMirror(spec string) bool { return spec != "" && spec != "s3" }

// needsRegion says whether the source spec reads from S3 and so needs a region.
func needsRegion(spec string) bool {
	return spec == "" || spec == "s3" || strings.HasPrefix(spec, "s3://")
}

// resolveRegion applies the documented order: --region, AWS_REGION, AWS_DEFAULT_REGION,
// the AWS profile's region, instance metadata.
func (f *Factory) resolveRegion(ctx context.Context, flag string) (string, error) {
	profile := func(ctx context.Context) string {
		// The shared config files only: instance metadata is asked last, below.
		cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(awslog.New(f.Logger())))
		if err != nil {
			return ""
		}
		return cfg.Region
	}
	// ResolveRegion validates the region it finds, naming where it came from.
	return release.ResolveRegion(ctx, flag, f.Getenv, profile, f.imdsRegion)
}

// source builds the release source; the region is resolved only for S3 sources.
func (f *Factory) source(ctx context.Context, r *ReleaseFlags) (release.Source, string, error) {
	region := r.Region
	if needsRegion(r.Source) {
		var err error
		region, err = f.resolveRegion(ctx, r.Region)
		if err != nil {
			return nil, "", err
		}
	} else if region != "" {
		if err := release.ValidateRegion(region); err != nil {
			return nil, "", err
		}
	}
	so := release.SourceOptions{Region: region, Logger: f.Logger()}
	if r.Proxy != "" {
		// A proxy function, not a whole client: the SDK keeps its own client, so
		// AWS_CA_BUNDLE still applies (a custom client made the SDK refuse it).
		so.Proxy = proxyFunc(r.Proxy, r.NoProxy)
	}
	src, err := release.NewSource(ctx, r.Source, so)
	return src, region, err
}

// proxyFunc sends requests through proxyURL (already validated), except to the hosts
// in noProxy, the instance metadata addresses and loopback.
func proxyFunc(proxyURL, noProxy string) func(*http.Request) (*url.URL, error) {
	cfg := httpproxy.Config{HTTPProxy: proxyURL, HTTPSProxy: proxyURL, NoProxy: proxy.MergeNoProxy(noProxy)}
	proxyFor := cfg.ProxyFunc()
	return func(req *http.Request) (*url.URL, error) { return proxyFor(req.URL) }
}

// keyring is AWS's embedded keys plus --trusted-key files and SSM_SETUP_TRUSTED_KEYS.
func (f *Factory) keyring(r *ReleaseFlags) (*verify.Keyring, error) {
	kr, err := verify.AWSKeyring()
	if err != nil {
		return nil, err
	}
	files := append([]string{}, r.TrustedKeys...)
	if env := f.Getenv("SSM_SETUP_TRUSTED_KEYS"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if p != "" {
				files = append(files, p)
			}
		}
	}
	if err := kr.AddFiles(files...); err != nil {
		return nil, fail.WithHint(fail.Wrap(fail.Usage, err), "pass --trusted-key with an armored OpenPGP public key file")
	}
	return kr, nil
}

func (f *Factory) cache(r *ReleaseFlags) release.Cache {
	// The cache belongs to the machine ssm-setup runs on, also with --root: an image
	// build keeps packages out of the image and reuses them across builds.
	dir := r.CacheDir
	if dir == "" {
		dir = release.DefaultCacheDir(f.IsRoot(), f.Getenv)
	}
	return release.Cache{Dir: dir}
}

// progress returns the progress factory for a download: a bar on a terminal stderr,
// a log line per 10% with --verbose, nothing otherwise (--quiet, JSON, no terminal).
func (f *Factory) progress(name string) func(total int64) io.Writer {
	if f.Opts.Quiet || f.Opts.Output == "json" {
		return nil
	}
	if f.IO.ErrTTY {
		return func(total int64) io.Writer {
			return progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(f.IO.ErrOut),
				progressbar.OptionSetDescription(name),
				progressbar.OptionShowBytes(true),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionThrottle(100e6),
			)
		}
	}
	if f.Opts.Verbose {
		return func(total int64) io.Writer { return &tenPercentLogger{log: f.Logger(), name: name, total: total} }
	}
	return nil
}

// tenPercentLogger logs a line each time another tenth of the download has arrived.
type tenPercentLogger struct {
	log   *slog.Logger
	name  string
	total int64
	n     int64
	last  int64
}

func (t *tenPercentLogger) Write(p []byte) (int, error) {
	t.n += int64(len(p))
	if t.total > 0 {
		if tenth := t.n * 10 / t.total; tenth > t.last {
			t.last = tenth
			t.log.Debug(fmt.Sprintf("downloaded %d%% of %s", tenth*10, t.name), "bytes", t.n)
		}
	}
	return len(p), nil
}
