//go:build linux

package bench

import (
	"crypto"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Test key identity: the uid AWS's signing keys carry (facts, section 2), so code that
// checks the uid accepts the test key too.
const (
	TestKeyName  = "SSM Agent"
	TestKeyEmail = "ssm-agent-signer@amazon.com"
)

// NewTestKey makes a fresh RSA 2048 signing key with no expiry, created one day ago (so
// SignAt can date signatures in the recent past), and writes its armored public key to
// a file in a t.TempDir(). It returns the entity, which holds the private key, and the
// path of the public key.
func NewTestKey(t testing.TB) (entity *openpgp.Entity, armoredPublicKeyPath string) {
	t.Helper()
	created := time.Now().Add(-24 * time.Hour)
	cfg := &packet.Config{
		Algorithm:   packet.PubKeyAlgoRSA,
		RSABits:     2048,
		DefaultHash: crypto.SHA256,
		Time:        func() time.Time { return created },
	}
	e, err := openpgp.NewEntity(TestKeyName, "ssm-setup test key", TestKeyEmail, cfg)
	if err != nil {
		t.Fatalf("bench: generating the test key: %v", err)
	}
	path := filepath.Join(t.TempDir(), "test-key.asc")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	w, err := armor.Encode(f, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatalf("bench: writing the test key: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("bench: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("bench: %v", err)
	}
	return e, path
}

// Sign writes a detached SHA-256 signature of file by signer to file+".sig", armored or
// binary, dated now.
func Sign(t testing.TB, signer *openpgp.Entity, file string, armored bool) {
	t.Helper()
	SignAt(t, signer, file, armored, time.Now())
}

// SignAt is Sign with the signature's creation time set to when, for tests of
// signatures made after a key expired or dated in the future.
func SignAt(t testing.TB, signer *openpgp.Entity, file string, armored bool, when time.Time) {
	t.Helper()
	in, err := os.Open(file)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	defer in.Close()
	out, err := os.Create(file + ".sig")
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	cfg := &packet.Config{DefaultHash: crypto.SHA256, Time: func() time.Time { return when }}
	if armored {
		err = openpgp.ArmoredDetachSign(out, signer, in, cfg)
	} else {
		err = openpgp.DetachSign(out, signer, in, cfg)
	}
	if err != nil {
		out.Close()
		t.Fatalf("bench: signing %s: %v", file, err)
	}
	if err := out.Close(); err != nil {
		t.Fatalf("bench: %v", err)
	}
}
