//go:build linux

package bench

import (
	"archive/tar"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/ssm-setup/ssm-setup/installer/release"
)

// Release is one agent version published in a bucket.
type Release struct {
	// Version is the agent version ("3.3.100.0").
	Version string
	// Deb and RPM are the package files to publish; when either is empty, BuildPackages
	// makes both for Version.
	Deb, RPM string
	// Status is the manifest status (Active, Inactive, Deprecated); empty means Active.
	Status string
}

// Bucket describes what BuildBucket publishes for one region.
type Bucket struct {
	// Releases are the published versions.
	Releases []Release
	// Latest is written to latest/VERSION and picks the files copied under latest/;
	// empty means the last release.
	Latest string
	// Stable is written to stable/VERSION; empty means Latest.
	Stable string
	// Signer signs every package (SHA-256, detached, .sig beside it); nil publishes no
	// signatures.
	Signer *openpgp.Entity
	// Armored writes ASCII-armored signatures instead of binary ones.
	Armored bool
}

// Bucket folders and file names for amd64 (facts, section 1).
const (
	DebFolder = "debian_amd64"
	RPMFolder = "linux_amd64"
	DebFile   = "amazon-ssm-agent.deb"
	RPMFile   = "amazon-ssm-agent.rpm"
)

// bundles maps the update bundle names to the package file each one carries.
var bundles = []struct{ name, folder, file string }{
	{"amazon-ssm-agent-ubuntu-amd64.tar.gz", DebFolder, DebFile},
	{"amazon-ssm-agent-linux-amd64.tar.gz", RPMFolder, RPMFile},
}

// BuildBucket lays out the bucket amazon-ssm-REGION in dir (keys are paths under dir):
// VERSION/debian_amd64/amazon-ssm-agent.deb and VERSION/linux_amd64/amazon-ssm-agent.rpm
// for every release, latest/VERSION, stable/VERSION, latest/FOLDER/FILE copies of the
// latest release, .sig files when b.Signer is set, update bundles
// amazon-ssm-agent/VERSION/amazon-ssm-agent-{ubuntu,linux}-amd64.tar.gz (each holding
// the package), and ssm-agent-manifest.json listing the bundles with their SHA-256.
func BuildBucket(t testing.TB, dir, region string, b Bucket) {
	t.Helper()
	if len(b.Releases) == 0 {
		t.Fatal("bench: BuildBucket needs at least one release")
	}
	if b.Latest == "" {
		b.Latest = b.Releases[len(b.Releases)-1].Version
	}
	if b.Stable == "" {
		b.Stable = b.Latest
	}
	manifest := release.Manifest{
		SchemaVersion: "1.0",
		URIFormat:     "https://s3.{Region}.amazonaws.com/amazon-ssm-{Region}/{PackageName}/{PackageVersion}/{FileName}",
		Packages:      []release.ManifestPackage{{Name: PackageName}},
	}
	versions := make([][]release.ManifestVersion, len(bundles))
	put := func(key string, src string) {
		dst := filepath.Join(dir, filepath.FromSlash(key))
		if err := copyFile(src, dst); err != nil {
			t.Fatalf("bench: %v", err)
		}
		if b.Signer != nil {
			Sign(t, b.Signer, dst, b.Armored)
		}
	}
	latestFound := false
	for _, r := range b.Releases {
		if r.Deb == "" || r.RPM == "" {
			r.Deb, r.RPM = BuildPackages(t, PkgOptions{Version: r.Version})
		}
		status := r.Status
		if status == "" {
			status = "Active"
		}
		put(r.Version+"/"+DebFolder+"/"+DebFile, r.Deb)
		put(r.Version+"/"+RPMFolder+"/"+RPMFile, r.RPM)
		if r.Version == b.Latest {
			latestFound = true
			put("latest/"+DebFolder+"/"+DebFile, r.Deb)
			put("latest/"+RPMFolder+"/"+RPMFile, r.RPM)
		}
		for i, bu := range bundles {
			src := r.Deb
			if bu.file == RPMFile {
				src = r.RPM
			}
			key := PackageName + "/" + r.Version + "/" + bu.name
			sum, err := writeBundle(filepath.Join(dir, filepath.FromSlash(key)), bu.file, src)
			if err != nil {
				t.Fatalf("bench: %v", err)
			}
			versions[i] = append(versions[i], release.ManifestVersion{Version: r.Version, Checksum: sum, Status: status})
		}
	}
	if !latestFound {
		t.Fatalf("bench: latest version %s is not among the releases", b.Latest)
	}
	for i, bu := range bundles {
		manifest.Packages[0].Files = append(manifest.Packages[0].Files, release.ManifestFile{Name: bu.name, AvailableVersions: versions[i]})
	}
	mj, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	for key, data := range map[string][]byte{
		"latest/VERSION":          []byte(b.Latest),
		"stable/VERSION":          []byte(b.Stable),
		"ssm-agent-manifest.json": mj,
	} {
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("bench: %v", err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatalf("bench: %v", err)
		}
	}
}

// copyFile copies src to dst, creating dst's directory.
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeBundle writes a tar.gz holding src as name and returns its SHA-256 in hex.
func writeBundle(dst, name, src string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	f, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(f, h))
	tw := tar.NewWriter(gz)
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := tw.WriteHeader(hdr); err != nil {
		f.Close()
		return "", err
	}
	if _, err := tw.Write(data); err != nil {
		f.Close()
		return "", err
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return "", err
	}
	if err := gz.Close(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Server is a local stand-in for S3 serving agent buckets from directories.
type Server struct {
	srv      *http.Server
	endpoint string

	mu       sync.Mutex
	buckets  map[string]string // bucket name -> directory
	requests map[string]int    // "bucket/key" and "key" -> count
	fail     map[string]int    // key -> forced status
}

// ServeBucket serves dir as the bucket amazon-ssm-REGION on a loopback port until the
// test ends. Requests are path style (GET/HEAD /amazon-ssm-REGION/KEY, the form the AWS
// SDK uses with UsePathStyle or a custom endpoint) or virtual-hosted (Host
// amazon-ssm-REGION.*). Missing keys get S3's 404 NoSuchKey XML; Range requests work.
// Containers booted with Boot share the host network and reach it at Endpoint().
func ServeBucket(t testing.TB, dir, region string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	s := &Server{
		endpoint: "http://" + ln.Addr().String(),
		buckets:  map[string]string{},
		requests: map[string]int{},
		fail:     map[string]int{},
	}
	s.AddBucket("amazon-ssm-"+region, dir)
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Endpoint is the server's base URL, http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return s.endpoint }

// AddBucket serves dir as the bucket name as well (another region, or a global copy).
func (s *Server) AddBucket(name, dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[name] = dir
}

// Requests counts the requests (any method, any bucket) made so far for key, e.g.
// "latest/debian_amd64/amazon-ssm-agent.deb".
func (s *Server) Requests(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[key]
}

// Fail makes every later request for key answer with status (e.g. 403, 500), as S3 XML.
// Status 0 removes the failure.
func (s *Server) Fail(key string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.fail, key)
		return
	}
	s.fail[key] = status
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amz-request-id", fmt.Sprintf("BENCH%d", time.Now().UnixNano()))
	w.Header().Set("Server", "AmazonS3")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.s3Error(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.", "")
		return
	}
	bucket, key := s.split(r)
	s.mu.Lock()
	dir, ok := s.buckets[bucket]
	s.requests[key]++
	forced := s.fail[key]
	s.mu.Unlock()
	switch {
	case !ok:
		s.s3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", key)
		return
	case forced != 0:
		s.s3Error(w, r, forced, statusCode(forced), http.StatusText(forced), key)
		return
	case key == "" || strings.HasSuffix(key, "/") || strings.Contains("/"+key+"/", "/../"):
		s.s3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", key)
		return
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(key)))
	if err != nil {
		s.s3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", key)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		s.s3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", key)
		return
	}
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		s.s3Error(w, r, http.StatusInternalServerError, "InternalError", err.Error(), key)
		return
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.s3Error(w, r, http.StatusInternalServerError, "InternalError", err.Error(), key)
		return
	}
	w.Header().Set("ETag", `"`+hex.EncodeToString(h.Sum(nil))+`"`)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// split returns the bucket and key of a request, virtual-hosted or path style.
func (s *Server) split(r *http.Request) (bucket, key string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if strings.HasSuffix(r.URL.Path, "/") && p != "" {
		p += "/"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.buckets {
		if strings.HasPrefix(host, name+".") {
			return name, p
		}
	}
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// statusCode names an S3 error code for a forced status.
func statusCode(status int) string {
	switch status {
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusNotFound:
		return "NoSuchKey"
	case http.StatusServiceUnavailable:
		return "SlowDown"
	default:
		return "InternalError"
	}
}

// s3Error answers like S3 does: an XML error document (no body for HEAD).
func (s *Server) s3Error(w http.ResponseWriter, r *http.Request, status int, code, msg, key string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><Key>%s</Key><RequestId>BENCH</RequestId><HostId>bench</HostId></Error>", code, html.EscapeString(msg), html.EscapeString(key))
}
