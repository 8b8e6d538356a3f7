package verify

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

const day = 24 * time.Hour

// t0 is when most test keys are created.
var t0 = date("2025-01-01")

// addSelfSignature adds a new self-signature on testUID made at `at`, giving the key
// the lifetime (zero: never expires) and the signing flag; with only set, it drops
// every older self-signature, as `gpg --export-options export-minimal` does.
func addSelfSignature(t *testing.T, e *openpgp.Entity, at time.Time, lifetime time.Duration, sign, only bool) {
	t.Helper()
	id := e.Identities[testUID]
	secs := uint32(lifetime / time.Second)
	sig := &packet.Signature{
		Version:         e.PrimaryKey.Version,
		SigType:         packet.SigTypePositiveCert,
		PubKeyAlgo:      e.PrimaryKey.PubKeyAlgo,
		Hash:            crypto.SHA256,
		CreationTime:    at,
		IssuerKeyId:     &e.PrimaryKey.KeyId,
		KeyLifetimeSecs: &secs,
		FlagsValid:      true,
		FlagCertify:     true,
		FlagSign:        sign,
	}
	if err := sig.SignUserId(testUID, e.PrimaryKey, e.PrivateKey, keyConfig(at, 0)); err != nil {
		t.Fatalf("SignUserId: %v", err)
	}
	if only {
		id.Signatures = nil
	}
	id.Signatures = append(id.Signatures, sig)
	id.SelfSignature = sig
}

func revokeKey(reason packet.ReasonForRevocation, at time.Time) func(*testing.T, *openpgp.Entity) {
	return func(t *testing.T, e *openpgp.Entity) {
		t.Helper()
		if err := e.RevokeKey(reason, "test revocation", keyConfig(at, 0)); err != nil {
			t.Fatalf("RevokeKey: %v", err)
		}
	}
}

// revokeUID revokes testUID at `at`.
func revokeUID(at time.Time) func(*testing.T, *openpgp.Entity) {
	return func(t *testing.T, e *openpgp.Entity) {
		t.Helper()
		sig := &packet.Signature{
			Version:      e.PrimaryKey.Version,
			SigType:      packet.SigTypeCertificationRevocation,
			PubKeyAlgo:   e.PrimaryKey.PubKeyAlgo,
			Hash:         crypto.SHA256,
			CreationTime: at,
			IssuerKeyId:  &e.PrimaryKey.KeyId,
		}
		if err := sig.SignUserId(testUID, e.PrimaryKey, e.PrivateKey, keyConfig(at, 0)); err != nil {
			t.Fatalf("revoke user ID: %v", err)
		}
		id := e.Identities[testUID]
		id.Signatures = append(id.Signatures, sig)
	}
}

func TestVerifierRules(t *testing.T) {
	oneYear := keyOpts{created: t0, lifetime: 365 * day}
	withSubkey := keyOpts{created: t0, lifetime: 365 * day, subkey: true, subCreated: t0.Add(10 * day), subLifetime: 100 * day}
	now := t0.Add(60 * day)
	tests := []struct {
		name      string
		key       keyOpts
		mutate    func(*testing.T, *openpgp.Entity) // changes the key before it is trusted
		bySubkey  bool
		sig       sigOpts
		tamper    bool // flip a bit of the data after signing
		untrusted bool // the keyring holds another key
		now       time.Time
		// wantExpires is Result.KeyExpires on success.
		wantExpires time.Time
		// wantErr: "" for success, else "|"-separated parts of the message;
		// {fp} and {subfp} stand for the primary and subkey fingerprints.
		wantErr string
	}{
		{
			name: "good binary signature", key: oneYear,
			sig: sigOpts{at: t0.Add(30 * day)}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "good armored signature", key: oneYear,
			sig: sigOpts{at: t0.Add(30 * day), armored: true}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "key that never expires", key: keyOpts{created: t0},
			sig: sigOpts{at: t0.Add(30 * day)}, now: now,
		},
		{
			name: "sha-512 signature", key: oneYear,
			sig: sigOpts{at: t0.Add(30 * day), hash: crypto.SHA512}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "sha-1 signature, as AWS made until 2025", key: oneYear,
			sig: sigOpts{at: t0.Add(30 * day), hash: crypto.SHA1}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "tampered data", key: oneYear, tamper: true,
			sig: sigOpts{at: t0.Add(30 * day)}, now: now,
			wantErr: "bad signature|key {fp}|does not match the data",
		},
		{
			name: "tampered data, sha-1 signature", key: oneYear, tamper: true,
			sig: sigOpts{at: t0.Add(30 * day), hash: crypto.SHA1}, now: now,
			wantErr: "bad signature|key {fp}",
		},
		{
			name: "untrusted signer", key: oneYear, untrusted: true,
			sig: sigOpts{at: t0.Add(30 * day)}, now: now,
			wantErr: "unknown signer|{fp}",
		},
		{
			name: "signature dated more than 5 minutes in the future", key: oneYear,
			sig: sigOpts{at: now.Add(10 * time.Minute)}, now: now,
			wantErr: "signature dated in the future|key {fp}|10m0s",
		},
		{
			name: "signature dated within the allowed clock skew", key: oneYear,
			sig: sigOpts{at: now.Add(4 * time.Minute)}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "key expired now but valid at signing time", key: oneYear,
			sig: sigOpts{at: t0.Add(300 * day)}, now: t0.Add(900 * day), wantExpires: t0.Add(365 * day),
		},
		{
			name: "signature made after the key expired", key: oneYear,
			sig: sigOpts{at: t0.Add(400 * day)}, now: t0.Add(401 * day),
			wantErr: "signature made by key {fp} after it expired on 2026-01-01 00:00:00 UTC",
		},
		{
			name: "signature made at the second the key expired", key: oneYear,
			sig: sigOpts{at: t0.Add(365 * day)}, now: t0.Add(401 * day),
			wantErr: "signature made by key {fp} after it expired on",
		},
		{
			name: "signature made before the key was created", key: oneYear,
			sig: sigOpts{at: t0.Add(-day)}, now: now,
			wantErr: "signature made by key {fp} on 2024-12-31 00:00:00 UTC, before the key was created on 2025-01-01",
		},
		{
			name: "signature that has itself expired", key: oneYear,
			sig: sigOpts{at: t0.Add(30 * day), lifetime: day}, now: now,
			wantErr: "signature by key {fp} expired on 2025-02-01",
		},
		{
			name: "signature with an expiry still ahead", key: oneYear,
			sig: sigOpts{at: t0.Add(30 * day), lifetime: 90 * day}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "subkey signature", key: withSubkey, bySubkey: true,
			sig: sigOpts{at: t0.Add(20 * day)}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "subkey expired now but valid at signing time", key: withSubkey, bySubkey: true,
			sig: sigOpts{at: t0.Add(20 * day), armored: true}, now: t0.Add(300 * day), wantExpires: t0.Add(365 * day),
		},
		{
			name: "subkey signature made after the subkey expired", key: withSubkey, bySubkey: true,
			sig: sigOpts{at: t0.Add(200 * day)}, now: t0.Add(201 * day),
			wantErr: "signature made by subkey {subfp} of key {fp} after it expired on 2025-04-21",
		},
		{
			name: "subkey signature made before the subkey was created", key: withSubkey, bySubkey: true,
			sig: sigOpts{at: t0.Add(5 * day)}, now: now,
			wantErr: "signature made by subkey {subfp} of key {fp}|before the key was created on 2025-01-11",
		},
		{
			name: "subkey signature made after the primary key expired", bySubkey: true,
			key: keyOpts{created: t0, lifetime: 100 * day, subkey: true, subCreated: t0},
			sig: sigOpts{at: t0.Add(150 * day)}, now: t0.Add(151 * day),
			wantErr: "signature made by key {fp} after it expired on 2025-04-11",
		},
		{
			name: "subkey revoked before the signature", key: withSubkey, bySubkey: true,
			mutate: func(t *testing.T, e *openpgp.Entity) {
				if err := e.RevokeSubkey(signingSubkey(t, e), packet.KeyRetired, "retired", keyConfig(t0.Add(15*day), 0)); err != nil {
					t.Fatal(err)
				}
			},
			sig: sigOpts{at: t0.Add(20 * day)}, now: now,
			wantErr: "signature made by subkey {subfp} of key {fp} on 2025-01-21 00:00:00 UTC, after it was revoked on 2025-01-16|key retired",
		},
		{
			name: "subkey bound without the signing flag", key: withSubkey, bySubkey: true,
			mutate: func(t *testing.T, e *openpgp.Entity) {
				sk := signingSubkey(t, e)
				sk.Sig.FlagSign, sk.Sig.FlagAuthenticate, sk.Sig.EmbeddedSignature = false, true, nil
				if err := sk.Sig.SignKey(sk.PublicKey, e.PrivateKey, keyConfig(t0.Add(10*day), 0)); err != nil {
					t.Fatal(err)
				}
			},
			sig: sigOpts{at: t0.Add(20 * day)}, now: now,
			wantErr: "bad signature: subkey {subfp} of key {fp} made the signature but is not bound as a signing subkey",
		},
		{
			name: "only user ID revoked before the signature", key: oneYear,
			mutate: revokeUID(t0.Add(10 * day)),
			sig:    sigOpts{at: t0.Add(20 * day)}, now: now,
			wantErr: "signature made by key {fp} on 2025-01-21 00:00:00 UTC, when the key had no valid self-signature",
		},
		{
			name: "only user ID revoked after the signature", key: oneYear,
			mutate: revokeUID(t0.Add(10 * day)),
			sig:    sigOpts{at: t0.Add(5 * day)}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "key compromised: every signature refused", key: oneYear,
			mutate: revokeKey(packet.KeyCompromised, t0.Add(200*day)),
			sig:    sigOpts{at: t0.Add(30 * day)}, now: now,
			wantErr: "signature made by key {fp}, which is revoked (key compromised",
		},
		{
			name: "key superseded later: older signature accepted", key: oneYear,
			mutate: revokeKey(packet.KeySuperseded, t0.Add(200*day)),
			sig:    sigOpts{at: t0.Add(30 * day)}, now: t0.Add(300 * day), wantExpires: t0.Add(365 * day),
		},
		{
			name: "key superseded: newer signature refused", key: oneYear,
			mutate: revokeKey(packet.KeySuperseded, t0.Add(200*day)),
			sig:    sigOpts{at: t0.Add(250 * day)}, now: t0.Add(300 * day),
			wantErr: "after it was revoked on 2025-07-20|key superseded",
		},
		{
			name: "key expiry extended later: signature in the gap refused",
			key:  keyOpts{created: t0, lifetime: 100 * day},
			mutate: func(t *testing.T, e *openpgp.Entity) {
				addSelfSignature(t, e, t0.Add(150*day), 400*day, true, false)
			},
			sig: sigOpts{at: t0.Add(120 * day)}, now: t0.Add(200 * day),
			wantErr: "signature made by key {fp} after it expired on 2025-04-11",
		},
		{
			name: "key expiry extended: signature after the extension accepted",
			key:  keyOpts{created: t0, lifetime: 100 * day},
			mutate: func(t *testing.T, e *openpgp.Entity) {
				addSelfSignature(t, e, t0.Add(150*day), 400*day, true, false)
			},
			sig: sigOpts{at: t0.Add(200 * day)}, now: t0.Add(210 * day), wantExpires: t0.Add(400 * day),
		},
		{
			name: "key published with only a self-signature newer than the signature",
			key:  keyOpts{created: t0, lifetime: 100 * day},
			mutate: func(t *testing.T, e *openpgp.Entity) {
				addSelfSignature(t, e, t0.Add(50*day), 365*day, true, true)
			},
			sig: sigOpts{at: t0.Add(10 * day)}, now: now, wantExpires: t0.Add(365 * day),
		},
		{
			name: "primary key not flagged for signing", key: oneYear,
			mutate: func(t *testing.T, e *openpgp.Entity) {
				addSelfSignature(t, e, t0.Add(day), 365*day, false, true)
			},
			sig: sigOpts{at: t0.Add(30 * day)}, now: now,
			wantErr: "bad signature: key {fp} made the signature but its key flags do not allow signing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEntity(t, tt.key)
			if tt.mutate != nil {
				tt.mutate(t, e)
			}
			priv := e.PrivateKey
			subFP := ""
			if tt.bySubkey {
				sk := signingSubkey(t, e)
				priv = sk.PrivateKey
				subFP = fingerprintHex(sk.PublicKey)
			}
			data := bytes.Repeat([]byte("ssm-agent package "), 1000)
			sig := detachSign(t, priv, data, tt.sig)
			if tt.tamper {
				data[len(data)/2] ^= 1
			}
			kr := keyringOf(t, e)
			if tt.untrusted {
				kr = keyringOf(t, newEntity(t, keyOpts{created: t0}))
			}
			fp := fingerprintHex(e.PrimaryKey)

			got, err := verifyBytes(sig, data, kr, tt.now)
			checkErr(t, err, strings.NewReplacer("{fp}", fp, "{subfp}", subFP).Replace(tt.wantErr))
			if tt.wantErr != "" {
				return
			}
			want := Result{
				SHA256:            sha256Hex(data),
				SignerFingerprint: fp,
				SubkeyFingerprint: subFP,
				SignerUID:         testUID,
				SignedAt:          tt.sig.at,
				KeyCreated:        tt.key.created,
				KeyExpires:        tt.wantExpires,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyFileFixtures(t *testing.T) {
	fixtureKeys := &Keyring{}
	if err := fixtureKeys.AddFiles(testdata("test-signer.pub.asc")); err != nil {
		t.Fatal(err)
	}
	aws, err := AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "package.bin")
	data := readTestdata(t, "package.bin")
	data[100] ^= 0x80
	if err := os.WriteFile(tampered, data, 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		primaryFP = "C5A4E666D73B5CB5A499416A56B06C9BDC577450"
		subkeyFP  = "6CC2659E403B7586073A6E201D67A47CE62EB0A9"
	)
	now := date("2026-12-01")
	tests := []struct {
		name        string
		pkg, sig    string
		kr          *Keyring
		wantSigner  string
		wantSubkey  string
		wantErr     string
		wantErrKind fail.Kind
	}{
		{name: "binary signature by the RSA primary key", pkg: testdata("package.bin"), sig: testdata("package.bin.sig"), kr: fixtureKeys, wantSigner: primaryFP},
		{name: "armored signature by the Ed25519 subkey", pkg: testdata("package.bin"), sig: testdata("package.bin.asc"), kr: fixtureKeys, wantSigner: primaryFP, wantSubkey: subkeyFP},
		{name: "tampered package", pkg: tampered, sig: testdata("package.bin.sig"), kr: fixtureKeys, wantErr: "bad signature|" + primaryFP},
		{name: "signer not among the AWS keys", pkg: testdata("package.bin"), sig: testdata("package.bin.sig"), kr: aws, wantErr: "unknown signer|" + primaryFP + "|5 trusted keys"},
		{name: "missing signature", pkg: testdata("package.bin"), sig: testdata("package.bin.nosuch"), kr: fixtureKeys, wantErr: "missing signature: " + testdata("package.bin.nosuch")},
		{name: "public key instead of a signature", pkg: testdata("package.bin"), sig: testdata("test-signer.pub.asc"), kr: fixtureKeys, wantErr: "bad signature|want a \"PGP SIGNATURE\""},
		{name: "package instead of a signature", pkg: testdata("package.bin"), sig: testdata("package.bin"), kr: fixtureKeys, wantErr: "bad signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyFile(tt.pkg, tt.sig, tt.kr, now)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			if got.SignerFingerprint != tt.wantSigner {
				t.Errorf("got signer %s, want %s", got.SignerFingerprint, tt.wantSigner)
			}
			if got.SubkeyFingerprint != tt.wantSubkey {
				t.Errorf("got subkey %q, want %q", got.SubkeyFingerprint, tt.wantSubkey)
			}
			if want := sha256Hex(readTestdata(t, "package.bin")); got.SHA256 != want {
				t.Errorf("got SHA256 %s, want %s", got.SHA256, want)
			}
			if !strings.HasPrefix(got.SignerUID, "ssm-setup test signer (TEST ONLY") {
				t.Errorf("got UID %q, want the test signer's", got.SignerUID)
			}
		})
	}
}

func TestNewVerifierBadSignature(t *testing.T) {
	e := newEntity(t, keyOpts{created: t0})
	kr := keyringOf(t, e)
	good := detachSign(t, e.PrivateKey, []byte("data"), sigOpts{at: t0})
	textSig := func() []byte {
		sig := &packet.Signature{
			Version: 4, SigType: packet.SigTypeText, PubKeyAlgo: e.PrivateKey.PubKeyAlgo,
			Hash: crypto.SHA256, CreationTime: t0, IssuerKeyId: &e.PrivateKey.KeyId,
		}
		h, _ := sig.PrepareSign(nil)
		h.Write([]byte("data"))
		if err := sig.Sign(h, e.PrivateKey, nil); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := sig.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}()
	var keyBuf bytes.Buffer
	if err := e.PrimaryKey.Serialize(&keyBuf); err != nil {
		t.Fatal(err)
	}
	publicKeyPacket := keyBuf.Bytes()
	tests := []struct {
		name    string
		sig     []byte
		wantErr string
	}{
		{name: "empty", sig: nil, wantErr: "bad signature: signature is empty"},
		{name: "truncated", sig: good[:len(good)-10], wantErr: "bad signature: read packet 1"},
		{name: "garbage", sig: []byte("not a signature at all"), wantErr: "bad signature"},
		{name: "armored public key", sig: armoredPublic(t, e), wantErr: "bad signature: armored block is a \"PGP PUBLIC KEY BLOCK\""},
		{name: "signature followed by a key", sig: append(bytes.Clone(good), publicKeyPacket...), wantErr: "bad signature: packet 2 is a *packet.PublicKey, want a detached signature"},
		{name: "text-mode signature", sig: textSig, wantErr: "bad signature|type 0x01, want a binary document signature"},
		{name: "oversized", sig: bytes.Repeat([]byte{0}, maxSignatureSize+1), wantErr: "bad signature: signature is 65537 bytes or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.sig, kr)
			checkErr(t, err, tt.wantErr)
			if v != nil {
				t.Errorf("got a Verifier with error %v, want nil", err)
			}
		})
	}
}

// TestVerifierSeveralSignatures: a .sig file may carry one signature per key
// during a key rotation; one from a trusted key is enough.
func TestVerifierSeveralSignatures(t *testing.T) {
	trusted := newEntity(t, keyOpts{created: t0})
	other := newEntity(t, keyOpts{created: t0})
	expired := newEntity(t, keyOpts{created: t0, lifetime: day})
	data := []byte("package")
	at := sigOpts{at: t0.Add(10 * day)}
	join := func(sigs ...[]byte) []byte { return bytes.Join(sigs, nil) }
	tests := []struct {
		name       string
		sig        []byte
		kr         *Keyring
		wantSigner *openpgp.Entity
		wantErr    string
	}{
		{
			name:       "unknown then trusted",
			sig:        join(detachSign(t, other.PrivateKey, data, at), detachSign(t, trusted.PrivateKey, data, at)),
			kr:         keyringOf(t, trusted),
			wantSigner: trusted,
		},
		{
			name:       "failing then good, both trusted",
			sig:        join(detachSign(t, expired.PrivateKey, data, at), detachSign(t, trusted.PrivateKey, data, sigOpts{at: t0.Add(10 * day), hash: crypto.SHA384})),
			kr:         keyringOf(t, expired, trusted),
			wantSigner: trusted,
		},
		{
			name:    "all failing: the first failure is reported",
			sig:     join(detachSign(t, expired.PrivateKey, data, at), detachSign(t, trusted.PrivateKey, []byte("other"), at)),
			kr:      keyringOf(t, expired, trusted),
			wantErr: "after it expired on 2025-01-02",
		},
		{
			name:    "all unknown",
			sig:     join(detachSign(t, other.PrivateKey, data, at), detachSign(t, expired.PrivateKey, data, at)),
			kr:      keyringOf(t, trusted),
			wantErr: "unknown signer|" + fingerprintHex(other.PrimaryKey) + ", " + fingerprintHex(expired.PrimaryKey),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verifyBytes(tt.sig, data, tt.kr, t0.Add(20*day))
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			if want := fingerprintHex(tt.wantSigner.PrimaryKey); got.SignerFingerprint != want {
				t.Errorf("got signer %s, want %s", got.SignerFingerprint, want)
			}
		})
	}
}

// TestVerifierChunking: the result must not depend on how a download splits the
// data into writes, for the shared SHA-256 state and for a separate hash.
func TestVerifierChunking(t *testing.T) {
	e := newEntity(t, keyOpts{created: t0})
	kr := keyringOf(t, e)
	data := make([]byte, 300_001)
	for i := range data {
		data[i] = byte(i * 7)
	}
	tests := []struct {
		name  string
		hash  crypto.Hash
		chunk int
	}{
		{name: "sha-256, 1 byte", hash: crypto.SHA256, chunk: 1},
		{name: "sha-256, 4095 bytes", hash: crypto.SHA256, chunk: 4095},
		{name: "sha-256, all at once", hash: crypto.SHA256, chunk: len(data)},
		{name: "sha-512, 63 bytes", hash: crypto.SHA512, chunk: 63},
		{name: "sha-1, 32 KiB", hash: crypto.SHA1, chunk: 32 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := detachSign(t, e.PrivateKey, data, sigOpts{at: t0, hash: tt.hash})
			v, err := NewVerifier(sig, kr)
			if err != nil {
				t.Fatal(err)
			}
			for rest := data; len(rest) > 0; {
				n := min(tt.chunk, len(rest))
				if got, err := v.Write(rest[:n]); err != nil || got != n {
					t.Fatalf("Write: got (%d, %v), want (%d, nil)", got, err, n)
				}
				rest = rest[n:]
			}
			got, err := v.Finish(t0.Add(day))
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if want := sha256Hex(data); got.SHA256 != want {
				t.Errorf("got SHA256 %s, want %s", got.SHA256, want)
			}
		})
	}
}

func TestVerifierMisuse(t *testing.T) {
	e := newEntity(t, keyOpts{created: t0})
	kr := keyringOf(t, e)
	v, err := NewVerifier(detachSign(t, e.PrivateKey, []byte("x"), sigOpts{at: t0}), kr)
	if err != nil {
		t.Fatal(err)
	}
	v.Write([]byte("x"))
	if _, err := v.Finish(t0); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if _, err := v.Write([]byte("y")); err == nil {
		t.Error("Write after Finish: got no error, want one")
	}
	if _, err := v.Finish(t0); err == nil {
		t.Error("second Finish: got no error, want one")
	}
	if _, err := NewVerifier([]byte("x"), nil); err == nil {
		t.Error("NewVerifier with nil keyring: got no error, want one")
	}
}

func TestFinishReportsDigestOnFailure(t *testing.T) {
	e := newEntity(t, keyOpts{created: t0})
	data := []byte("package")
	got, err := verifyBytes(detachSign(t, e.PrivateKey, []byte("other"), sigOpts{at: t0}), data, keyringOf(t, e), t0)
	if err == nil {
		t.Fatal("got no error, want bad signature")
	}
	if want := sha256Hex(data); got.SHA256 != want {
		t.Errorf("got SHA256 %q, want %q", got.SHA256, want)
	}
}

func TestCheckSHA256(t *testing.T) {
	const (
		a = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		b = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
	)
	tests := []struct {
		name      string
		got, want string
		wantErr   string
		wantKind  fail.Kind
	}{
		{name: "equal", got: a, want: a},
		{name: "case and space ignored", got: a, want: " " + strings.ToUpper(a) + "\n"},
		{name: "mismatch", got: a, want: b, wantErr: "sha256 mismatch: expected " + b + ", actual " + a, wantKind: fail.Verification},
		{name: "expected not hex", got: a, want: "xyz", wantErr: "expected digest \"xyz\" is not 64 hex digits", wantKind: fail.Verification},
		{name: "expected too short", got: a, want: a[:62], wantErr: "is not 64 hex digits", wantKind: fail.Verification},
		{name: "computed not hex", got: "", want: a, wantErr: "computed digest", wantKind: fail.Unexpected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSHA256(tt.got, tt.want)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if got := fail.KindOf(err); got != tt.wantKind {
				t.Errorf("got kind %v, want %v", got, tt.wantKind)
			}
		})
	}
}

func TestAcceptedHash(t *testing.T) {
	tests := []struct {
		hash crypto.Hash
		want bool
	}{
		{crypto.SHA256, true},
		{crypto.SHA512, true},
		{crypto.SHA1, true},
		{crypto.MD5, false},
		{crypto.RIPEMD160, false},
	}
	for _, tt := range tests {
		t.Run(tt.hash.String(), func(t *testing.T) {
			if got := acceptedHash(tt.hash); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
