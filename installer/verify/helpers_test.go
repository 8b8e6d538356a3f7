package verify

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// testUID is the user ID of keys the tests generate.
const testUID = "Test Signer <signer@example.invalid>"

// keyOpts describes a key generated for a test. Ed25519 keys generate in
// microseconds, so every test row can have its own key with its own dates.
type keyOpts struct {
	created  time.Time
	lifetime time.Duration // zero: never expires
	// subkey adds a signing subkey created at subCreated, valid for subLifetime.
	subkey      bool
	subCreated  time.Time
	subLifetime time.Duration
}

func keyConfig(at time.Time, lifetime time.Duration) *packet.Config {
	return &packet.Config{
		Algorithm:       packet.PubKeyAlgoEdDSA,
		Curve:           packet.Curve25519,
		DefaultHash:     crypto.SHA256,
		Time:            func() time.Time { return at },
		KeyLifetimeSecs: uint32(lifetime / time.Second),
	}
}

// newEntity generates a key pair as o describes.
func newEntity(t testing.TB, o keyOpts) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity("Test Signer", "", "signer@example.invalid", keyConfig(o.created, o.lifetime))
	if err != nil {
		t.Fatalf("NewEntity: %v", err)
	}
	if o.subkey {
		if err := e.AddSigningSubkey(keyConfig(o.subCreated, o.subLifetime)); err != nil {
			t.Fatalf("AddSigningSubkey: %v", err)
		}
	}
	return e
}

// signingSubkey returns e's subkey that can sign (NewEntity also adds an encryption
// one), whatever its binding's flags say.
func signingSubkey(t testing.TB, e *openpgp.Entity) *openpgp.Subkey {
	t.Helper()
	for i := range e.Subkeys {
		if e.Subkeys[i].PublicKey.CanSign() {
			return &e.Subkeys[i]
		}
	}
	t.Fatal("entity has no signing subkey")
	return nil
}

// armoredPublic returns e's public key, armored, as `gpg --export --armor` would.
func armoredPublic(t testing.TB, e *openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatalf("serialize public key: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// keyringOf returns a keyring that trusts the public parts of entities, read back
// from their armored form.
func keyringOf(t testing.TB, entities ...*openpgp.Entity) *Keyring {
	t.Helper()
	kr := &Keyring{}
	for _, e := range entities {
		if err := kr.AddArmored(bytes.NewReader(armoredPublic(t, e)), "test"); err != nil {
			t.Fatalf("AddArmored: %v", err)
		}
	}
	return kr
}

// sigOpts describes a detached signature made for a test.
type sigOpts struct {
	at       time.Time
	hash     crypto.Hash // zero: SHA-256
	armored  bool
	lifetime time.Duration // signature expiration; zero: never
}

// detachSign signs data with key at o.at, at the packet level: openpgp.DetachSign
// refuses keys that are invalid at the signing time, and the tests need exactly
// such signatures.
func detachSign(t testing.TB, key *packet.PrivateKey, data []byte, o sigOpts) []byte {
	t.Helper()
	h := o.hash
	if h == 0 {
		h = crypto.SHA256
	}
	sig := &packet.Signature{
		Version:      key.PublicKey.Version,
		SigType:      packet.SigTypeBinary,
		PubKeyAlgo:   key.PublicKey.PubKeyAlgo,
		Hash:         h,
		CreationTime: o.at,
		IssuerKeyId:  &key.KeyId,
	}
	if o.lifetime > 0 {
		secs := uint32(o.lifetime / time.Second)
		sig.SigLifetimeSecs = &secs
	}
	// No salt notation: go-crypto cannot make one for SHA-1, which AWS used.
	noSalt := false
	cfg := &packet.Config{Time: func() time.Time { return o.at }, NonDeterministicSignaturesViaNotation: &noSalt}
	hasher, err := sig.PrepareSign(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hasher.Write(data)
	if err := sig.Sign(hasher, key, cfg); err != nil {
		t.Fatalf("sign: %v", err)
	}
	var buf bytes.Buffer
	if !o.armored {
		if err := sig.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	w, err := armor.Encode(&buf, openpgp.SignatureType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// verifyBytes runs data through a Verifier, as a download does.
func verifyBytes(sig, data []byte, kr *Keyring, now time.Time) (Result, error) {
	v, err := NewVerifier(sig, kr)
	if err != nil {
		return Result{}, err
	}
	if _, err := v.Write(data); err != nil {
		return Result{}, err
	}
	return v.Finish(now)
}

// checkErr fails the test unless err matches wantErr: nil when wantErr is empty,
// else a fail.Verification error with a hint whose message contains every
// "|"-separated part of wantErr.
func checkErr(t *testing.T, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want one containing %q", wantErr)
	}
	for _, part := range strings.Split(wantErr, "|") {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("got error %q, want it to contain %q", err, part)
		}
	}
	if got := fail.KindOf(err); got != fail.Verification {
		t.Errorf("got kind %v, want %v", got, fail.Verification)
	}
	if fail.HintOf(err) == "" {
		t.Errorf("got no hint on error %q, want one", err)
	}
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// testdata returns the path of a file in the repository's testdata/keys.
func testdata(name string) string {
	return filepath.Join("..", "..", "testdata", "keys", name)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(testdata(name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}
