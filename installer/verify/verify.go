// Package verify checks SSM Agent packages: a detached OpenPGP signature from a trusted
// key, and SHA-256 digests.
//
// AWS signs every deb and rpm from agent 3.1.1141.0 on with a detached signature
// (PACKAGE.sig) and rotates the signing key every 14 to 18 months. A package signed
// while its key was valid stays genuine after the key expires, so this package judges
// a signature by the key's validity at the signature's creation time, and refuses
// signatures dated in the future. See
// https://docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html.
//
// A download feeds the package once through a Verifier (an io.Writer), next to the
// file and the progress bar; Finish then checks the signature against the hash state
// it accumulated. Verification needs no gpg binary.
//
// Every failure is a fail.Verification error that names the check that failed.
package verify

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// MaxClockSkew is how far a signature's creation time may lie ahead of the local
// clock before the signature counts as dated in the future.
const MaxClockSkew = 5 * time.Minute

// maxSignatureSize bounds a detached signature file; real ones are under 1 KiB.
const maxSignatureSize = 64 << 10

// timeFormat is how times appear in error messages.
const timeFormat = "2006-01-02 15:04:05 UTC"

// Hints for the user, one per kind of failure.
const (
	hintUntrusted = "if you trust this signer, pass --trusted-key FILE with its armored public key"
	hintTampered  = "the download is corrupt or was tampered with; download it again and do not install this file"
	hintClock     = "check this machine's clock (timedatectl status, or your NTP setup), then retry"
	hintKeyState  = "the package was not signed by a key that was valid at the time; do not install it, and report it to AWS if it came from an AWS bucket"
	hintMissing   = "AWS publishes PACKAGE.sig beside every deb and rpm from agent 3.1.1141.0 on; fetch it too, or choose a newer version"
)

// Result describes a package that passed verification.
type Result struct {
	// SHA256 is the package's SHA-256 digest, 64 lower-case hex digits. Finish
	// also sets it when verification fails.
	SHA256 string
	// SignerFingerprint is the fingerprint of the trusted primary key that made the
	// signature, directly or through a subkey; upper-case hex.
	SignerFingerprint string
	// SubkeyFingerprint is the fingerprint of the signing subkey, when a subkey
	// made the signature; else empty.
	SubkeyFingerprint string
	// SignerUID is the primary user ID of the signer's key.
	SignerUID string
	// SignedAt is the signature's creation time, UTC.
	SignedAt time.Time
	// KeyCreated is when the signer's primary key was created, UTC.
	KeyCreated time.Time
	// KeyExpires is when the signer's primary key expires according to the
	// self-signature in effect at SignedAt; zero means never. It may lie in the
	// past: a key that expired after it signed still vouches for the package.
	KeyExpires time.Time
}

// Verifier checks a detached signature over data written to it. Write the whole
// package to it (it is an io.Writer, so it can sit in an io.MultiWriter next to the
// file being written), then call Finish once.
type Verifier struct {
	kr         *Keyring
	digest     hash.Hash   // SHA-256 of the data, also the hash of v4 SHA-256 signatures
	extra      []hash.Hash // further hashes the signatures need, fed the same data
	candidates []candidate
	finished   bool
}

// candidate is one signature packet whose issuer is in the keyring.
type candidate struct {
	sig     *packet.Signature
	signers []signer
	// hashed holds the data hashed for this signature; nil means the SHA-256
	// digest itself, which a v4 SHA-256 signature shares.
	hashed hash.Hash
}

// NewVerifier prepares to check sig, a detached signature (binary, as in AWS's .sig
// files, or ASCII-armored), against keys in kr. A file may hold several signatures;
// the data is genuine when any one of them from a trusted key checks out.
//
// It fails early, before any data is read, when sig cannot be parsed ("bad
// signature") or when none of its signatures comes from a key in kr ("unknown
// signer"), so a download can stop before it starts.
func NewVerifier(sig []byte, kr *Keyring) (*Verifier, error) {
	if kr == nil {
		return nil, fail.New(fail.Unexpected, "verify: nil keyring")
	}
	sigs, err := parseSignatures(sig)
	if err != nil {
		return nil, fail.WithHint(fail.New(fail.Verification, "bad signature: %w", err), hintTampered)
	}
	v := &Verifier{kr: kr, digest: sha256.New()}
	byHash := map[crypto.Hash]hash.Hash{}
	var issuers []string
	for _, s := range sigs {
		issuers = append(issuers, issuerString(s))
		signers := kr.signersFor(s)
		if len(signers) == 0 {
			continue
		}
		c := candidate{sig: s, signers: signers}
		switch {
		case s.Version == 6:
			// v6 signatures start the hash with a per-signature salt.
			h, err := s.PrepareVerify()
			if err != nil {
				return nil, fail.WithHint(fail.New(fail.Verification, "bad signature by key %s: %w", issuerString(s), err), hintTampered)
			}
			c.hashed = h
			v.extra = append(v.extra, h)
		case s.Hash == crypto.SHA256:
			// The signature hash and the digest cover the same bytes: hash once,
			// then clone the state in Finish and append the signature trailer.
		default:
			h, ok := byHash[s.Hash]
			if !ok {
				h = s.Hash.New()
				byHash[s.Hash] = h
				v.extra = append(v.extra, h)
			}
			c.hashed = h
		}
		v.candidates = append(v.candidates, c)
	}
	if len(v.candidates) == 0 {
		return nil, marked{fail.WithHint(fail.New(fail.Verification,
			"unknown signer: the signature was made by key %s, which is not among the %d trusted keys",
			strings.Join(issuers, ", "), len(kr.entries)), hintUntrusted), ErrUntrustedSigner}
	}
	return v, nil
}

// Write feeds p to the SHA-256 digest and to the signature's hash. It never fails
// before Finish.
func (v *Verifier) Write(p []byte) (int, error) {
	if v.finished {
		return 0, fail.New(fail.Unexpected, "verify: write after Finish")
	}
	v.digest.Write(p)
	for _, h := range v.extra {
		h.Write(p)
	}
	return len(p), nil
}

// Finish checks the signature over everything written and returns the package's
// digest and signer. now is the current time: a signature dated more than
// MaxClockSkew after it is refused. The signing key must have been valid when the
// signature was made: created by then, not yet expired, not revoked; whether it has
// expired since does not matter. On failure the Result still carries SHA256.
func (v *Verifier) Finish(now time.Time) (Result, error) {
	if v.finished {
		return Result{}, fail.New(fail.Unexpected, "verify: Finish called twice")
	}
	v.finished = true
	sum := hex.EncodeToString(v.digest.Sum(nil))
	var firstErr error
	for _, c := range v.candidates {
		for _, s := range c.signers {
			res, err := v.check(c, s, now)
			if err == nil {
				res.SHA256 = sum
				return res, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return Result{SHA256: sum}, firstErr
}

// check verifies one signature against one candidate key, in a fixed order: the
// cryptographic check first, so that a forged signature never gets as far as the
// date checks and their more specific messages; then the signature's date against
// now; then the key's validity at the signature's date.
func (v *Verifier) check(c candidate, s signer, now time.Time) (Result, error) {
	base := c.hashed
	if base == nil {
		base = v.digest
	}
	h, err := cloneHash(base)
	if err != nil {
		return Result{}, err
	}
	e := s.entry.entity
	primaryFP := fingerprintHex(e.PrimaryKey)
	who := "key " + primaryFP
	if s.subkey != nil {
		who = fmt.Sprintf("subkey %s of key %s", fingerprintHex(s.subkey.PublicKey), primaryFP)
	}
	if err := s.publicKey().VerifySignature(h, c.sig); err != nil {
		return Result{}, fail.WithHint(fail.New(fail.Verification,
			"bad signature: the signature by %s does not match the data: %w", who, err), hintTampered)
	}

	signedAt := c.sig.CreationTime.UTC()
	if signedAt.After(now.Add(MaxClockSkew)) {
		return Result{}, marked{fail.WithHint(fail.New(fail.Verification,
			"signature dated in the future: %s signed at %s, %s after this machine's clock (%s); at most %s is allowed",
			who, signedAt.Format(timeFormat), signedAt.Sub(now).Round(time.Second), now.UTC().Format(timeFormat), MaxClockSkew), hintClock), ErrClock}
	}
	if sigExpiredAt(c.sig, now) {
		return Result{}, fail.WithHint(fail.New(fail.Verification,
			"signature by %s expired on %s (signed %s)",
			who, sigExpiry(c.sig).Format(timeFormat), signedAt.Format(timeFormat)), hintKeyState)
	}

	primary := primaryStateAt(e, signedAt)
	if err := keyValidAt("key "+primaryFP, e.PrimaryKey, primary, signedAt); err != nil {
		return Result{}, err
	}
	if s.subkey == nil {
		if primary.binding.FlagsValid && !primary.binding.FlagSign {
			return Result{}, fail.WithHint(fail.New(fail.Verification,
				"bad signature: key %s made the signature but its key flags do not allow signing", primaryFP), hintKeyState)
		}
	} else {
		sub := subkeyStateAt(s.subkey, signedAt)
		if err := keyValidAt(who, s.subkey.PublicKey, sub, signedAt); err != nil {
			return Result{}, err
		}
		if !sub.binding.FlagsValid || !sub.binding.FlagSign {
			return Result{}, fail.WithHint(fail.New(fail.Verification,
				"bad signature: %s made the signature but is not bound as a signing subkey", who), hintKeyState)
		}
	}

	res := Result{
		SignerFingerprint: primaryFP,
		SignedAt:          signedAt,
		KeyCreated:        e.PrimaryKey.CreationTime.UTC(),
		KeyExpires:        primary.expires,
	}
	if s.subkey != nil {
		res.SubkeyFingerprint = fingerprintHex(s.subkey.PublicKey)
	}
	if id := e.PrimaryIdentity(); id != nil {
		res.SignerUID = id.Name
	}
	return res, nil
}

// keyValidAt checks that pk, in state st, could sign at t; who names it in errors.
func keyValidAt(who string, pk *packet.PublicKey, st keyState, t time.Time) error {
	signed := t.Format(timeFormat)
	switch {
	case pk.CreationTime.After(t):
		return fail.WithHint(fail.New(fail.Verification,
			"signature made by %s on %s, before the key was created on %s",
			who, signed, pk.CreationTime.UTC().Format(timeFormat)), hintKeyState)
	case st.hardRevoked:
		return fail.WithHint(fail.New(fail.Verification,
			"signature made by %s, which is revoked%s", who, revocationReason(st.revocation)), hintKeyState)
	case st.revokedAtTime(t):
		return fail.WithHint(fail.New(fail.Verification,
			"signature made by %s on %s, after it was revoked on %s%s",
			who, signed, st.revokedAt.Format(timeFormat), revocationReason(st.revocation)), hintKeyState)
	case st.binding == nil:
		return fail.WithHint(fail.New(fail.Verification,
			"signature made by %s on %s, when the key had no valid self-signature", who, signed), hintKeyState)
	case st.expiredAt(t):
		return fail.WithHint(fail.New(fail.Verification,
			"signature made by %s after it expired on %s (signed %s)",
			who, st.expires.Format(timeFormat), signed), hintKeyState)
	}
	return nil
}

// revocationReason formats a revocation's reason for an error message.
func revocationReason(rev *packet.Signature) string {
	if rev == nil {
		return ""
	}
	reason := "no reason given"
	if rev.RevocationReason != nil {
		switch *rev.RevocationReason {
		case packet.KeySuperseded:
			reason = "key superseded"
		case packet.KeyCompromised:
			reason = "key compromised"
		case packet.KeyRetired:
			reason = "key retired"
		case packet.NoReason:
		default:
			reason = fmt.Sprintf("reason code %d", *rev.RevocationReason)
		}
	}
	if rev.RevocationReasonText != "" {
		reason += ": " + rev.RevocationReasonText
	}
	return " (" + reason + ")"
}

// VerifyFile checks the package at pkgPath against the detached signature at
// sigPath (binary or armored) and keys in kr, as a Verifier does, reading the
// package once. A missing signature file is a "missing signature" error: an
// unsigned package is never accepted.
func VerifyFile(pkgPath, sigPath string, kr *Keyring, now time.Time) (Result, error) {
	sig, err := readSignatureFile(sigPath)
	if err != nil {
		return Result{}, err
	}
	v, err := NewVerifier(sig, kr)
	if err != nil {
		return Result{}, err
	}
	f, err := os.Open(pkgPath)
	if err != nil {
		return Result{}, fail.New(fail.Verification, "package: %w", err)
	}
	defer f.Close()
	// Hide os.File's WriterTo and the Verifier's lack of ReaderFrom so that
	// io.CopyBuffer uses our buffer: large reads keep the hash loop busy.
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(struct{ io.Writer }{v}, struct{ io.Reader }{f}, buf); err != nil {
		return Result{}, fail.New(fail.Verification, "package: read %s: %w", pkgPath, err)
	}
	return v.Finish(now)
}

// readSignatureFile reads a detached signature file, bounding its size.
func readSignatureFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fail.WithHint(fail.New(fail.Verification, "missing signature: %s", path), hintMissing)
	}
	if err != nil {
		return nil, fail.New(fail.Verification, "signature: %w", err)
	}
	defer f.Close()
	sig, err := io.ReadAll(io.LimitReader(f, maxSignatureSize+1))
	if err != nil {
		return nil, fail.New(fail.Verification, "signature: read %s: %w", path, err)
	}
	return sig, nil
}

// CheckSHA256 compares a computed SHA-256 digest (got) with the expected one (want),
// both hex, ignoring case and surrounding space. A mismatch is a fail.Verification
// error that shows both.
func CheckSHA256(got, want string) error {
	got = strings.ToLower(strings.TrimSpace(got))
	want = strings.ToLower(strings.TrimSpace(want))
	if !isSHA256Hex(want) {
		return fail.New(fail.Verification, "sha256 check: expected digest %q is not 64 hex digits", want)
	}
	if !isSHA256Hex(got) {
		return fail.New(fail.Unexpected, "sha256 check: computed digest %q is not 64 hex digits", got)
	}
	if got != want {
		return fail.WithHint(fail.New(fail.Verification,
			"sha256 mismatch: expected %s, actual %s", want, got), hintTampered)
	}
	return nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// parseSignatures reads the signature packets of a detached signature, binary or
// armored. It accepts only binary-document signatures (type 0x00) with a hash that
// is still collision resistant enough for a signature made by a trusted key.
func parseSignatures(data []byte) ([]*packet.Signature, error) {
	if len(data) == 0 {
		return nil, errors.New("signature is empty")
	}
	if len(data) > maxSignatureSize {
		return nil, fmt.Errorf("signature is %d bytes or more, want at most %d", len(data), maxSignatureSize)
	}
	var r io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("-----BEGIN ")) {
		block, err := armor.Decode(bufio.NewReader(r))
		if err != nil {
			return nil, fmt.Errorf("read armor: %w", err)
		}
		if block.Type != openpgp.SignatureType {
			return nil, fmt.Errorf("armored block is a %q, want a %q", block.Type, openpgp.SignatureType)
		}
		r = block.Body
	}
	packets := packet.NewReader(r)
	var sigs []*packet.Signature
	for {
		p, err := packets.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read packet %d: %w", len(sigs)+1, err)
		}
		sig, ok := p.(*packet.Signature)
		if !ok {
			return nil, fmt.Errorf("packet %d is a %T, want a detached signature", len(sigs)+1, p)
		}
		if sig.SigType != packet.SigTypeBinary {
			return nil, fmt.Errorf("signature by key %s has type 0x%02x, want a binary document signature (0x00)", issuerString(sig), uint8(sig.SigType))
		}
		if !acceptedHash(sig.Hash) {
			return nil, fmt.Errorf("signature by key %s uses hash %v, which is not accepted", issuerString(sig), sig.Hash)
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return nil, errors.New("no signature packet found")
	}
	return sigs, nil
}

// acceptedHash is the hash policy for document signatures. SHA-1 stays accepted:
// AWS signed SSM Agent packages with RSA/SHA-1 until at least 2025
// (https://github.com/aws/amazon-ssm-agent/issues/559), a collision needs the
// signer's cooperation, and pinned older versions must still verify. MD5 and
// RIPEMD-160 are refused, as go-crypto refuses them by default.
func acceptedHash(h crypto.Hash) bool {
	switch h {
	case crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512,
		crypto.SHA3_256, crypto.SHA3_512:
		return h.Available()
	}
	return false
}

// issuerString names a signature's issuer: its fingerprint when the signature
// carries one, else its 64-bit key id.
func issuerString(sig *packet.Signature) string {
	switch {
	case len(sig.IssuerFingerprint) > 0:
		return strings.ToUpper(hex.EncodeToString(sig.IssuerFingerprint))
	case sig.IssuerKeyId != nil:
		return keyIDHex(*sig.IssuerKeyId)
	}
	return "(no issuer)"
}

// cloneHash returns an independent copy of h's state.
func cloneHash(h hash.Hash) (hash.Hash, error) {
	c, ok := h.(hash.Cloner)
	if !ok {
		return nil, fail.New(fail.Unexpected, "verify: hash %T cannot be cloned", h)
	}
	clone, err := c.Clone()
	if err != nil {
		return nil, fail.New(fail.Unexpected, "verify: clone hash: %w", err)
	}
	return clone, nil
}
