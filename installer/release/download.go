package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// Package files by bucket folder prefix. See ssm-agent-facts.md, section 1.
var packageFiles = []struct{ prefix, file string }{
	{"linux_", "amazon-ssm-agent.rpm"},
	{"debian_", "amazon-ssm-agent.deb"},
	{"windows_", "AmazonSSMAgentSetup.exe"},
	{"darwin_", "amazon-ssm-agent.pkg"},
}

// Folders lists the bucket folders that hold agent packages.
var Folders = []string{
	"linux_amd64", "linux_arm64", "linux_386",
	"debian_amd64", "debian_arm64", "debian_386", "debian_arm",
	"darwin_amd64", "darwin_arm64",
	"windows_amd64", "windows_386",
}

// FileName is the package file in a bucket folder: amazon-ssm-agent.rpm for linux_*,
// amazon-ssm-agent.deb for debian_*, AmazonSSMAgentSetup.exe for windows_* and
// amazon-ssm-agent.pkg for darwin_*. Unknown folders are a fail.Usage error.
func FileName(folder string) (string, error) {
	if slices.Contains(Folders, folder) {
		for _, p := range packageFiles {
			if strings.HasPrefix(folder, p.prefix) {
				return p.file, nil
			}
		}
	}
	return "", fail.Usagef("release folder %q is not one of %s", folder, strings.Join(Folders, ", "))
}

// PackageKey is the key of the package of version ("a.b.c.d" or "latest") in folder:
// VERSION/FOLDER/FILE. Its detached signature is at the same key + ".sig".
func PackageKey(version, folder string) (string, error) {
	file, err := FileName(folder)
	if err != nil {
		return "", err
	}
	if version != "latest" {
		if v, err := ParseVersion(version); err != nil || v.String() != version {
			return "", fail.Usagef("package version %q: want latest or a.b.c.d", version)
		}
	}
	return version + "/" + folder + "/" + file, nil
}

// DownloadOptions configure Download.
type DownloadOptions struct {
	// Sinks receive every byte of the file exactly once, in order (e.g. the signature
	// verifier). A sink's write error ends the download.
	Sinks []io.Writer
	// Progress, when not nil, is called once with the total size (-1 when unknown) and
	// returns the writer that counts the bytes as they arrive (e.g. a progress bar).
	Progress func(total int64) io.Writer
	// Retries is how many times an interrupted or failed transfer is tried again,
	// resuming where it stopped; 0 means 4, a negative value means none.
	Retries int
	// Backoff is the wait before the first retry, doubled at each next one (at most
	// 30 s); 0 means 500 ms.
	Backoff time.Duration
	// StallTimeout ends a try that receives no byte for this long; 0 means 60 s.
	StallTimeout time.Duration
	// Logger receives records of retries; nil discards them.
	Logger *slog.Logger
	// NoDigest skips Download's own SHA-256 when a sink hashes the bytes already (the
	// signature verifier does): hashing 30 MB twice costs more than the transfer on a
	// fast link. DownloadResult.SHA256 is then empty.
	NoDigest bool
}

// DownloadResult describes a downloaded file.
type DownloadResult struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // lower-case hex
	URL    string `json:"url"`
}

const (
	defaultRetries      = 4
	defaultBackoff      = 500 * time.Millisecond
	maxDownloadBackoff  = 30 * time.Second
	defaultStallTimeout = 60 * time.Second
	copyBufferSize      = 256 << 10
	smallFetchTimeout   = 2 * time.Minute
)

var (
	errChanged  = errors.New("object changed during the download")
	errStalled  = errors.New("no data received")
	errTooLarge = errors.New("larger than expected")
)

// Download streams key from src into destPath in one pass: the bytes go to a temp file
// beside destPath, the SHA-256, o.Sinks and the progress writer. A transfer that fails
// midway is tried again from the byte where it stopped (a Range request); from a
// source that cannot resume, the object is fetched again from the start and the bytes
// already received are skipped. Either way every sink sees each byte exactly once.
// Answers such as 404 or 403 are not retried.
// On success the temp file is renamed to destPath (mode 0644); on failure it is
// removed and destPath is left untouched.
func Download(ctx context.Context, src Source, key, destPath string, o DownloadOptions) (DownloadResult, error) {
	d := &download{
		src: src, key: key, url: src.URL(key), opts: o, log: orDiscard(o.Logger),
		size: -1,
	}
	if !o.NoDigest {
		d.hash = sha256.New()
	}
	for i := range d.bufs {
		d.bufs[i] = make([]byte, copyBufferSize)
	}
	retries := o.Retries
	if retries == 0 {
		retries = defaultRetries
	}
	retries = max(retries, 0)
	wait := o.Backoff
	if wait <= 0 {
		wait = defaultBackoff
	}
	d.stall = o.StallTimeout
	if d.stall <= 0 {
		d.stall = defaultStallTimeout
	}

	dir := filepath.Dir(destPath)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return DownloadResult{}, fail.Wrap(fail.Download, fmt.Errorf("download %s: create %s: %w", d.url, dir, err))
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(destPath)+".*.part")
	if err != nil {
		return DownloadResult{}, fail.Wrap(fail.Download, fmt.Errorf("download %s: %w", d.url, err))
	}
	d.file = f
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	for try := 1; ; try++ {
		err := d.once(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return DownloadResult{}, fail.Wrap(fail.Download, fmt.Errorf("download %s: %w", d.url, ctx.Err()))
		}
		if isPermanent(err) || d.writeErr != nil {
			return DownloadResult{}, err
		}
		if try > retries {
			if d.opened && d.size >= 0 && d.written < d.size {
				return DownloadResult{}, fail.WithHint(fail.New(fail.Download, "download %s: truncated: got %d bytes, want %d, after %d tries: %w", d.url, d.written, d.size, try, err),
					"the connection keeps dropping: check the network and proxy, then re-run")
			}
			return DownloadResult{}, fail.Wrap(fail.Download, fmt.Errorf("download %s: gave up after %d tries: %w", d.url, try, err))
		}
		pause := min(wait<<(try-1), maxDownloadBackoff)
		d.log.Warn("download interrupted; resuming", "url", d.url, "at", d.written, "size", d.size, "try", try+1, "wait", pause, "error", err)
		if err := sleep(ctx, pause); err != nil {
			return DownloadResult{}, fail.Wrap(fail.Download, fmt.Errorf("download %s: %w", d.url, err))
		}
	}

	// No fsync: a package in the cache or a mirror is verified again at every use, and
	// a copy torn by a crash fails that check and is fetched again.
	if err := f.Close(); err != nil {
		return DownloadResult{}, fail.Wrap(fail.Download, fmt.Errorf("download %s: write %s: %w", d.url, f.Name(), err))
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return DownloadResult{}, fail.Wrap(fail.Download, fmt.Errorf("download %s: %w", d.url, err))
	}
	if err := os.Rename(f.Name(), destPath); err != nil {
		return DownloadResult{}, fail.Wrap(fail.Download, fmt.Errorf("download %s: %w", d.url, err))
	}
	done = true
	res := DownloadResult{Path: destPath, Size: d.written, URL: d.url}
	if d.hash != nil {
		res.SHA256 = hex.EncodeToString(d.hash.Sum(nil))
	}
	return res, nil
}

// download is the state of one Download across its tries.
type download struct {
	src      Source
	key, url string
	opts     DownloadOptions
	log      *slog.Logger
	stall    time.Duration

	file     *os.File
	hash     hash.Hash // nil with NoDigest
	fileW    io.Writer // the temp file, written by pipeCopy's reading goroutine
	out      io.Writer // hash, sinks, progress
	bufs     [pipeDepth][]byte
	opened   bool  // the first Open succeeded: size and out are set
	size     int64 // total size, -1 when unknown
	written  int64 // bytes written to out
	writeErr error // a failed write to the file or a sink; never retried
}

// once is one try: open at d.written and copy until the end of the object. A read
// error, a stall or a short body is returned for a retry.
func (d *download) once(ctx context.Context) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(d.stall, func() { cancel(errStalled) })
	defer timer.Stop()

	body, size, err := d.src.Open(actx, d.key, d.written)
	var skip int64
	if err != nil && d.written > 0 && errors.Is(err, ErrRangeIgnored) {
		// A server without Range support (python -m http.server, many simple web
		// mirrors) sends the whole object again: read past the bytes the file and the
		// sinks already have, so that they still see each byte once.
		d.log.Warn("the source cannot resume; downloading from the start and skipping the bytes already received", "url", d.url, "skip", d.written)
		body, size, err = d.src.Open(actx, d.key, 0)
		skip = d.written
	}
	if err != nil {
		if errors.Is(context.Cause(actx), errStalled) && ctx.Err() == nil {
			return fmt.Errorf("no response for %v: %w", d.stall, errStalled)
		}
		return err
	}
	defer body.Close()
	if !d.opened {
		d.opened, d.size = true, size
		d.fileW = &errWriter{w: d.file, d: d}
		var ws []io.Writer
		if d.hash != nil {
			ws = append(ws, d.hash)
		}
		for _, s := range d.opts.Sinks {
			ws = append(ws, &errWriter{w: s, d: d})
		}
		if d.opts.Progress != nil {
			if p := d.opts.Progress(size); p != nil {
				ws = append(ws, &errWriter{w: p, d: d})
			}
		}
		d.out = io.MultiWriter(ws...)
	} else if size != d.size {
		return fail.WithHint(fail.New(fail.Download, "download %s: the object changed during the download: size was %d bytes, now %d: %w", d.url, d.size, size, errChanged),
			"re-run to download it again")
	}

	r := &watchReader{r: body, timer: timer, stall: d.stall}
	if skip > 0 {
		if n, err := io.CopyN(io.Discard, r, skip); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if errors.Is(context.Cause(actx), errStalled) && ctx.Err() == nil {
				err = errStalled
			}
			return fmt.Errorf("restart from byte 0: skipped %d of the %d bytes received before: %w", n, skip, err)
		}
	}
	var src io.Reader = r
	if d.size >= 0 {
		src = io.LimitReader(r, d.size-d.written+1) // one extra byte shows an overlong body
	}
	n, err := pipeCopy(d.out, src, d.fileW, d.bufs[:], func() { body.Close() })
	d.written += n
	switch {
	case d.writeErr != nil:
		return fail.Wrap(fail.Download, fmt.Errorf("download %s: %w", d.url, d.writeErr))
	case d.size >= 0 && d.written > d.size:
		return fail.New(fail.Download, "download %s: the source sent more than the %d bytes it announced: %w", d.url, d.size, errChanged)
	case d.size >= 0 && d.written == d.size:
		return nil // complete, even if the connection broke after the last byte
	case err != nil && errors.Is(context.Cause(actx), errStalled) && ctx.Err() == nil:
		return fmt.Errorf("no data for %v at byte %d: %w", d.stall, d.written, errStalled)
	case err != nil:
		return fmt.Errorf("read at byte %d: %w", d.written, err)
	case d.size >= 0:
		return fmt.Errorf("the body ended at byte %d of %d: %w", d.written, d.size, io.ErrUnexpectedEOF)
	}
	return nil // size unknown: the end of the body is the end of the object
}

// pipeDepth is how many buffers pipeCopy keeps in flight.
const pipeDepth = 4

// pipeCopy copies src to near and dst like io.Copy to both, in two stages: a goroutine
// reads each chunk and writes it to near (the file), while dst (the hashes, the sinks,
// the progress bar) takes the previous chunk, so receiving and writing overlap hashing
// on two cores. near, when not nil, always gets a chunk before dst does. It returns the
// bytes written to dst and the first error (io.EOF is not an error). It returns only
// once the reading goroutine has ended: on an early return it calls abort (when not
// nil; it closes the body) to end a read that is blocked.
func pipeCopy(dst io.Writer, src io.Reader, near io.Writer, bufs [][]byte, abort func()) (int64, error) {
	type chunk struct {
		b   []byte
		err error
	}
	full := make(chan chunk, len(bufs))
	free := make(chan []byte, len(bufs))
	for _, b := range bufs {
		free <- b
	}
	stop := make(chan struct{})
	finished := false
	defer func() {
		close(stop)
		if !finished && abort != nil {
			abort()
		}
		for range full { // wait for the reading goroutine to end
		}
	}()
	go func() {
		defer close(full)
		for {
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				return
			}
			n, err := src.Read(b)
			if n == 0 && err == nil {
				free <- b
				continue
			}
			if n > 0 && near != nil {
				if _, werr := near.Write(b[:n]); werr != nil {
					n, err = 0, werr
				}
			}
			select {
			case full <- chunk{b[:n], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var written int64
	for c := range full {
		if len(c.b) > 0 {
			n, err := dst.Write(c.b)
			written += int64(n)
			if err != nil {
				return written, err
			}
		}
		free <- c.b[:cap(c.b)]
		if c.err == io.EOF {
			finished = true
			return written, nil
		}
		if c.err != nil {
			finished = true // the reader has stopped by itself
			return written, c.err
		}
	}
	finished = true
	return written, nil
}

// errWriter records the first write error of the file or a sink, which ends the
// download without a retry (a retry would feed the sinks bytes twice).
type errWriter struct {
	w io.Writer
	d *download
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil && e.d.writeErr == nil {
		e.d.writeErr = err
	}
	return n, err
}

// watchReader pushes the stall timer back whenever data arrives.
type watchReader struct {
	r     io.Reader
	timer *time.Timer
	stall time.Duration
}

func (w *watchReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.timer.Reset(w.stall)
	}
	return n, err
}

// FetchSmall reads a small object whole: a VERSION file, a signature, the manifest.
// An object larger than limit bytes is an error. Short or broken bodies are tried
// again (3 tries in all, each at most 2 minutes). A request that fails is not: the
// source has retried it already (see Source.Open), and retrying its retries would
// multiply the wait on a machine without network.
func FetchSmall(ctx context.Context, src Source, key string, limit int64) ([]byte, error) {
	const tries = 3
	for try := 1; ; try++ {
		b, opened, err := fetchSmallOnce(ctx, src, key, limit)
		if err == nil {
			return b, nil
		}
		if !opened || isPermanent(err) || errors.Is(err, errTooLarge) || ctx.Err() != nil || try >= tries {
			return nil, err
		}
		if err := sleep(ctx, backoff(try, 200*time.Millisecond, 2*time.Second)); err != nil {
			return nil, fail.Wrap(fail.Download, fmt.Errorf("get %s: %w", src.URL(key), err))
		}
	}
}

// fetchSmallOnce is one try of FetchSmall; opened says whether the source answered
// with a body (only then is a failure worth another try).
func fetchSmallOnce(ctx context.Context, src Source, key string, limit int64) (b []byte, opened bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, smallFetchTimeout)
	defer cancel()
	body, size, err := src.Open(ctx, key, 0)
	if err != nil {
		return nil, false, err
	}
	defer body.Close()
	u := src.URL(key)
	if size > limit {
		return nil, true, fail.New(fail.Download, "get %s: %d bytes is %w (at most %d)", u, size, errTooLarge, limit)
	}
	b, err = io.ReadAll(io.LimitReader(body, limit+1))
	switch {
	case int64(len(b)) > limit:
		return nil, true, fail.New(fail.Download, "get %s: the body is %w (at most %d bytes)", u, errTooLarge, limit)
	case err != nil:
		return nil, true, fail.Wrap(fail.Download, fmt.Errorf("get %s: read at byte %d: %w", u, len(b), err))
	case size >= 0 && int64(len(b)) != size:
		return nil, true, fail.New(fail.Download, "get %s: truncated: got %d bytes, want %d", u, len(b), size)
	}
	return b, true, nil
}
