package verify

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVerifyGPGSignatures checks signatures made by the real gpg, in a throw-away
// GNUPGHOME, against our verifier: the format AWS's own signing produces.
func TestVerifyGPGSignatures(t *testing.T) {
	gpgPath, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("gpg not found on PATH: install gnupg to run the signatures-made-by-gpg test")
	}
	// Short directory: gpg-agent's socket path must fit in sun_path.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	gpg := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(gpgPath, append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	const uid = "gpg test signer <gpg-signer@example.invalid>"
	gpg("--quick-gen-key", uid, "default", "default", "1y")
	var fpr string
	for _, line := range strings.Split(string(gpg("--with-colons", "--list-keys", uid)), "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" {
			fpr = f[9]
			break
		}
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "amazon-ssm-agent.rpm")
	data := bytes.Repeat([]byte("rpm payload\n"), 50_000)
	if err := os.WriteFile(pkg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	gpg("--output", pkg+".sig", "--detach-sign", pkg)
	gpg("--armor", "--output", pkg+".asc", "--detach-sign", pkg)
	keyFile := filepath.Join(dir, "signer.asc")
	if err := os.WriteFile(keyFile, gpg("--armor", "--export", fpr), 0o600); err != nil {
		t.Fatal(err)
	}
	kr, err := AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.AddFiles(keyFile); err != nil {
		t.Fatal(err)
	}
	aws, err := AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	tests := []struct {
		name    string
		sig     string
		kr      *Keyring
		now     time.Time
		wantErr string
	}{
		{name: "binary signature", sig: pkg + ".sig", kr: kr, now: now},
		{name: "armored signature", sig: pkg + ".asc", kr: kr, now: now},
		{name: "key expired now, valid when it signed", sig: pkg + ".sig", kr: kr, now: now.AddDate(2, 0, 0)},
		{name: "clock an hour behind the signer", sig: pkg + ".sig", kr: kr, now: now.Add(-time.Hour), wantErr: "signature dated in the future|" + fpr},
		{name: "signer not trusted", sig: pkg + ".sig", kr: aws, now: now, wantErr: "unknown signer|" + fpr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyFile(pkg, tt.sig, tt.kr, tt.now)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			if got.SignerFingerprint != fpr || got.SignerUID != uid {
				t.Errorf("got signer %s %q, want %s %q", got.SignerFingerprint, got.SignerUID, fpr, uid)
			}
			if want := sha256Hex(data); got.SHA256 != want {
				t.Errorf("got SHA256 %s, want %s", got.SHA256, want)
			}
			if d := time.Since(got.SignedAt); d < -time.Minute || d > 10*time.Minute {
				t.Errorf("got SignedAt %s, want about now", got.SignedAt)
			}
		})
	}
}
