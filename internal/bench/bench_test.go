//go:build linux

package bench

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

func TestSignVerifies(t *testing.T) {
	key, pubPath := NewTestKey(t)
	file := filepath.Join(t.TempDir(), "pkg.deb")
	if err := os.WriteFile(file, []byte("package bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	pub, err := os.Open(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ring, err := openpgp.ReadArmoredKeyRing(pub)
	if err != nil {
		t.Fatalf("reading the armored public key: %v", err)
	}
	if ring[0].PrivateKey != nil {
		t.Error("the public key file holds a private key")
	}
	for _, armored := range []bool{false, true} {
		Sign(t, key, file, armored)
		sig, err := os.ReadFile(file + ".sig")
		if err != nil {
			t.Fatal(err)
		}
		var sigR io.Reader = bytes.NewReader(sig)
		if armored {
			block, err := armor.Decode(sigR)
			if err != nil {
				t.Fatalf("armored signature: %v", err)
			}
			sigR = block.Body
		}
		data, _ := os.Open(file)
		signer, err := openpgp.CheckDetachedSignature(ring, data, sigR, nil)
		data.Close()
		if err != nil {
			t.Errorf("armored=%v: signature does not verify: %v", armored, err)
		} else if signer.PrimaryKey.KeyId != key.PrimaryKey.KeyId {
			t.Errorf("armored=%v: signed by %X, want %X", armored, signer.PrimaryKey.KeyId, key.PrimaryKey.KeyId)
		}
	}
}

func TestMirrorFrom(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"deb822", "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n", "http://deb.debian.org/debian"},
		{"security only", "Types: deb\nURIs: http://deb.debian.org/debian-security\n", ""},
		{"one-line", "# x\ndeb [arch=amd64] http://mirror.example/debian/ bookworm main\n", "http://mirror.example/debian"},
		{"other repo", "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mirrorFrom(tt.src); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBucketServer(t *testing.T) {
	tmp := t.TempDir()
	deb := filepath.Join(tmp, "a.deb")
	rpm := filepath.Join(tmp, "a.rpm")
	os.WriteFile(deb, []byte("deb v1"), 0o644)
	os.WriteFile(rpm, []byte("rpm v1"), 0o644)
	deb2 := filepath.Join(tmp, "b.deb")
	rpm2 := filepath.Join(tmp, "b.rpm")
	os.WriteFile(deb2, []byte("deb v2"), 0o644)
	os.WriteFile(rpm2, []byte("rpm v2"), 0o644)
	key, _ := NewTestKey(t)
	dir := filepath.Join(tmp, "bucket")
	BuildBucket(t, dir, "eu-west-1", Bucket{
		Releases: []Release{{Version: "3.3.100.0", Deb: deb, RPM: rpm}, {Version: "3.3.200.0", Deb: deb2, RPM: rpm2}},
		Stable:   "3.3.100.0",
		Signer:   key,
	})
	s := ServeBucket(t, dir, "eu-west-1")

	get := func(method, path string, hdr map[string]string) (int, string) {
		req, _ := http.NewRequest(method, s.Endpoint()+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		wantCode           int
		wantBody           string
	}{
		{"latest", "GET", "/amazon-ssm-eu-west-1/latest/VERSION", nil, 200, "3.3.200.0"},
		{"stable", "GET", "/amazon-ssm-eu-west-1/stable/VERSION", nil, 200, "3.3.100.0"},
		{"latest deb", "GET", "/amazon-ssm-eu-west-1/latest/debian_amd64/amazon-ssm-agent.deb", nil, 200, "deb v2"},
		{"pinned rpm", "GET", "/amazon-ssm-eu-west-1/3.3.100.0/linux_amd64/amazon-ssm-agent.rpm", nil, 200, "rpm v1"},
		{"range", "GET", "/amazon-ssm-eu-west-1/3.3.100.0/linux_amd64/amazon-ssm-agent.rpm", map[string]string{"Range": "bytes=4-"}, 206, "v1"},
		{"head", "HEAD", "/amazon-ssm-eu-west-1/latest/VERSION", nil, 200, ""},
		{"missing", "GET", "/amazon-ssm-eu-west-1/9.9.9.9/debian_amd64/amazon-ssm-agent.deb", nil, 404, "<Code>NoSuchKey</Code>"},
		{"other bucket", "GET", "/amazon-ssm-us-east-1/latest/VERSION", nil, 404, "<Code>NoSuchBucket</Code>"},
		{"escape", "GET", "/amazon-ssm-eu-west-1/../../etc/passwd", nil, 404, "<Error><Code>NoSuch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(tt.method, tt.path, tt.hdr)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
	if got := s.Requests("latest/VERSION"); got != 3 { // GET, HEAD, and GET in another bucket
		t.Errorf("Requests(latest/VERSION): got %d, want 3", got)
	}
	if got := s.Requests("latest/linux_amd64/amazon-ssm-agent.rpm"); got != 0 {
		t.Errorf("Requests of an unfetched key: got %d, want 0", got)
	}
	for _, k := range []string{"latest/debian_amd64/amazon-ssm-agent.deb.sig", "3.3.100.0/linux_amd64/amazon-ssm-agent.rpm.sig", "ssm-agent-manifest.json", "amazon-ssm-agent/3.3.200.0/amazon-ssm-agent-ubuntu-amd64.tar.gz"} {
		if code, _ := get("HEAD", "/amazon-ssm-eu-west-1/"+k, nil); code != 200 {
			t.Errorf("HEAD %s: got %d, want 200", k, code)
		}
	}
	s.Fail("latest/VERSION", 403)
	if code, body := get("GET", "/amazon-ssm-eu-west-1/latest/VERSION", nil); code != 403 || !strings.Contains(body, "AccessDenied") {
		t.Errorf("forced 403: got %d %q", code, body)
	}
}

func TestBuildPackages(t *testing.T) {
	deb, rpm := BuildPackages(t, PkgOptions{Version: "3.3.100.0"})
	for _, p := range []string{deb, rpm} {
		fi, err := os.Stat(p)
		if err != nil || fi.Size() == 0 {
			t.Fatalf("package %s: %v", p, err)
		}
	}
	if !strings.HasSuffix(deb, "amazon-ssm-agent_3.3.100.0-1_amd64.deb") || !strings.HasSuffix(rpm, "amazon-ssm-agent-3.3.100.0-1.x86_64.rpm") {
		t.Errorf("unexpected names %s %s", deb, rpm)
	}
}

// TestSmoke exercises the whole bench on real dpkg, rpm and systemd: install, upgrade
// and purge a deb, then install, upgrade and erase an rpm in a fresh container.
func TestSmoke(t *testing.T) {
	RequireSystem(t)
	const v1, v2 = "3.3.100.0", "3.3.200.0"
	start := time.Now()
	root := DebianRoot(t)
	t.Logf("timing: DebianRoot (first call, cached or not) %s", time.Since(start).Round(time.Millisecond))
	deb1, rpm1 := BuildPackages(t, PkgOptions{Version: v1})
	deb2, rpm2 := BuildPackages(t, PkgOptions{Version: v2})

	start = time.Now()
	c := Boot(t, root)
	t.Logf("timing: Boot %s", time.Since(start).Round(time.Millisecond))
	for host, ctr := range map[string]string{deb1: "/root/v1.deb", deb2: "/root/v2.deb"} {
		if err := c.CopyIn(host, ctr); err != nil {
			t.Fatal(err)
		}
	}

	c.Run(t, "dpkg", "-i", "/root/v1.deb")
	waitActive(t, c, "active")
	if got := c.Run(t, "amazon-ssm-agent", "-version"); got != "SSM Agent version: "+v1+"\n" {
		t.Errorf("-version: got %q", got)
	}
	waitFor(t, "ssm-user created", func() bool {
		_, _, code, _ := c.Exec(t.Context(), "stat", "/etc/sudoers.d/ssm-agent-users")
		return code == 0
	})
	if !strings.Contains(c.Run(t, "cat", "/etc/passwd"), "\nssm-user:") {
		t.Error("ssm-user missing from /etc/passwd")
	}
	if got := strings.TrimSpace(c.Run(t, "stat", "-c", "%a", "/etc/sudoers.d/ssm-agent-users")); got != "440" {
		t.Errorf("sudoers mode: got %s, want 440", got)
	}
	c.Run(t, "visudo", "-c")
	if got := c.Run(t, "dpkg-query", "-W", "-f=${Version}", PackageName); got != v1+"-1" {
		t.Errorf("dpkg-query version: got %q, want %s-1", got, v1)
	}

	c.Run(t, "dpkg", "-i", "/root/v2.deb")
	waitActive(t, c, "active")
	waitFor(t, "v2 running", func() bool {
		log, _ := os.ReadFile(filepath.Join(c.Root(), "var/log/amazon/ssm/amazon-ssm-agent.log"))
		return strings.Contains(string(log), "[fakeagent "+v2+"] running")
	})
	if got := c.Run(t, "amazon-ssm-agent", "-version"); got != "SSM Agent version: "+v2+"\n" {
		t.Errorf("-version after upgrade: got %q", got)
	}

	c.Run(t, "dpkg", "-P", PackageName)
	waitActive(t, c, "inactive")
	if out, _, _, _ := c.Exec(t.Context(), "systemctl", "list-unit-files", "--no-legend", "amazon-ssm-agent.service"); strings.TrimSpace(out) != "" {
		t.Errorf("unit still known after purge: %q", out)
	}
	if _, err := os.Stat(filepath.Join(c.Root(), DebUnitPath)); err == nil {
		t.Error("unit file left after purge")
	}

	// rpm in a fresh container. Debian's rpm database is empty, hence --nodeps.
	start = time.Now()
	root2 := DebianRoot(t)
	t.Logf("timing: DebianRoot (cached copy) %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	c2 := Boot(t, root2)
	t.Logf("timing: Boot %s", time.Since(start).Round(time.Millisecond))
	if err := c2.CopyIn(rpm1, "/root/v1.rpm"); err != nil {
		t.Fatal(err)
	}
	if err := c2.CopyIn(rpm2, "/tmp/v2.rpm"); err != nil {
		t.Fatal(err)
	}
	c2.Run(t, "rpm", "-U", "--nodeps", "/root/v1.rpm")
	waitActive(t, c2, "active")
	if got := c2.Run(t, "rpm", "-q", "--qf", "%{VERSION}", PackageName); got != v1 {
		t.Errorf("rpm -q: got %q, want %s", got, v1)
	}
	c2.Run(t, "rpm", "-U", "--nodeps", "/tmp/v2.rpm")
	waitActive(t, c2, "active")
	waitFor(t, "v2 running", func() bool {
		log, _ := os.ReadFile(filepath.Join(c2.Root(), "var/log/amazon/ssm/amazon-ssm-agent.log"))
		return strings.Contains(string(log), "[fakeagent "+v2+"] running")
	})
	c2.Run(t, "rpm", "-e", "--nodeps", PackageName)
	waitActive(t, c2, "inactive")
	if _, err := os.Stat(filepath.Join(c2.Root(), RPMUnitPath)); err == nil {
		t.Error("unit file left after rpm -e")
	}
}

// waitActive waits up to 15 s for `systemctl is-active amazon-ssm-agent` to print want.
func waitActive(t *testing.T, c *Container, want string) {
	t.Helper()
	var got string
	ok := poll(15*time.Second, func() bool {
		out, _, _, _ := c.Exec(t.Context(), "systemctl", "is-active", "amazon-ssm-agent")
		got = strings.TrimSpace(out)
		return got == want
	})
	if !ok {
		st, _, _, _ := c.Exec(t.Context(), "systemctl", "status", "--no-pager", "amazon-ssm-agent")
		t.Fatalf("systemctl is-active amazon-ssm-agent: got %q, want %q\n%s", got, want, st)
	}
}

// waitFor waits up to 15 s for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !poll(15*time.Second, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func poll(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
