package verify

import (
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// This file decides whether a key was valid at a given moment: the moment a signature
// was made, not the moment we check it. go-crypto's high-level API answers "is the
// key valid now?", which rejects every package AWS signed with a key that has since
// expired (AWS rotates keys every 14 to 18 months), so we judge validity ourselves.

// keyState is what a certificate said about a key at one moment.
type keyState struct {
	// binding is the self-signature (primary key) or binding signature (subkey)
	// in effect; nil when the key has none.
	binding *packet.Signature
	// expires is when the key expires per binding; zero means never.
	expires time.Time
	// revokedAt is when a soft revocation ("superseded", "retired") took effect,
	// or the zero time.
	revokedAt time.Time
	// hardRevoked is set for a revocation that voids the key at every moment:
	// "compromised", "no reason" or an unknown reason (RFC 9580, 5.2.3.31).
	hardRevoked bool
	// revocation is the revocation that applies, for its reason text.
	revocation *packet.Signature
}

// isCertification reports whether sig is a user ID certification (0x10 to 0x13).
func isCertification(sig *packet.Signature) bool {
	switch sig.SigType {
	case packet.SigTypeGenericCert, packet.SigTypePersonaCert, packet.SigTypeCasualCert, packet.SigTypePositiveCert:
		return true
	}
	return false
}

// selfSignatures returns the primary key's self-signatures that were in effect at t:
// certifications of user IDs that were not revoked at t (go-crypto verified each one
// while reading the key), and for v6 keys the direct-key self-signature.
func selfSignatures(e *openpgp.Entity, t time.Time) []*packet.Signature {
	var out []*packet.Signature
	if e.PrimaryKey.Version == 6 && e.SelfSignature != nil {
		out = append(out, e.SelfSignature)
	}
	for _, id := range e.Identities {
		if uidRevokedAt(id, t) {
			continue
		}
		for _, sig := range id.Signatures {
			if isCertification(sig) && sig.CheckKeyIdOrFingerprint(e.PrimaryKey) {
				out = append(out, sig)
			}
		}
	}
	return out
}

// uidRevokedAt reports whether a user ID was revoked at or before t.
func uidRevokedAt(id *openpgp.Identity, t time.Time) bool {
	for _, rev := range id.Revocations {
		if !rev.CreationTime.After(t) {
			return true
		}
	}
	return false
}

// bindingAt picks, from a key's self- or binding signatures, the one in effect at t:
// the newest one made at or before t that had not itself expired at t.
//
// When every one of them is newer than t, it falls back to the oldest one. Keys are
// often re-published with only their newest self-signature (keyservers and
// `gpg --export-options export-minimal` drop the others), and go-crypto keeps only
// the newest subkey binding; a signature made before the key was re-signed must
// still verify. The key's own creation time is checked separately, so this fallback
// never accepts a signature made before the key existed.
func bindingAt(sigs []*packet.Signature, t time.Time) *packet.Signature {
	var inEffect, oldest *packet.Signature
	for _, sig := range sigs {
		if oldest == nil || sig.CreationTime.Before(oldest.CreationTime) {
			oldest = sig
		}
		if sig.CreationTime.After(t) || sigExpiredAt(sig, t) {
			continue
		}
		if inEffect == nil || sig.CreationTime.After(inEffect.CreationTime) {
			inEffect = sig
		}
	}
	if inEffect != nil {
		return inEffect
	}
	if oldest != nil && oldest.CreationTime.After(t) {
		return oldest
	}
	return nil
}

// newestSelfSignature returns the primary key's newest self-signature, or nil.
func newestSelfSignature(e *openpgp.Entity) *packet.Signature {
	var newest *packet.Signature
	for _, sig := range selfSignatures(e, time.Unix(1<<40, 0)) {
		if newest == nil || sig.CreationTime.After(newest.CreationTime) {
			newest = sig
		}
	}
	return newest
}

// sigExpiredAt reports whether sig carries a signature expiration time that had
// passed at t.
func sigExpiredAt(sig *packet.Signature, t time.Time) bool {
	exp := sigExpiry(sig)
	return !exp.IsZero() && !t.Before(exp)
}

// sigExpiry is when sig itself expires (signature expiration time subpacket), or
// the zero time for never.
func sigExpiry(sig *packet.Signature) time.Time {
	if sig.SigLifetimeSecs == nil || *sig.SigLifetimeSecs == 0 {
		return time.Time{}
	}
	return sig.CreationTime.Add(time.Duration(*sig.SigLifetimeSecs) * time.Second).UTC()
}

// keyExpiry is when pk expires according to the self- or binding signature sig, or
// the zero time for never.
func keyExpiry(pk *packet.PublicKey, sig *packet.Signature) time.Time {
	if sig == nil || sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
		return time.Time{}
	}
	return pk.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second).UTC()
}

// revocationState applies revocation signatures (already verified by go-crypto) to st.
func revocationState(st *keyState, revocations []*packet.Signature) {
	for _, rev := range revocations {
		soft := rev.RevocationReason != nil &&
			(*rev.RevocationReason == packet.KeySuperseded || *rev.RevocationReason == packet.KeyRetired)
		if !soft {
			st.hardRevoked = true
			st.revocation = rev
			return
		}
		if st.revokedAt.IsZero() || rev.CreationTime.Before(st.revokedAt) {
			st.revokedAt = rev.CreationTime.UTC()
			st.revocation = rev
		}
	}
}

// primaryStateAt is what the certificate says about its primary key at t.
func primaryStateAt(e *openpgp.Entity, t time.Time) keyState {
	var st keyState
	st.binding = bindingAt(selfSignatures(e, t), t)
	st.expires = keyExpiry(e.PrimaryKey, st.binding)
	revocationState(&st, e.Revocations)
	return st
}

// subkeyStateAt is what the certificate says about subkey sk at t.
func subkeyStateAt(sk *openpgp.Subkey, t time.Time) keyState {
	var st keyState
	if sk.Sig != nil {
		st.binding = bindingAt([]*packet.Signature{sk.Sig}, t)
	}
	st.expires = keyExpiry(sk.PublicKey, st.binding)
	revocationState(&st, sk.Revocations)
	return st
}

// revokedAtTime reports whether the state voids a signature made at t.
func (st keyState) revokedAtTime(t time.Time) bool {
	return st.hardRevoked || (!st.revokedAt.IsZero() && !t.Before(st.revokedAt))
}

// expiredAt reports whether the key had expired at t.
func (st keyState) expiredAt(t time.Time) bool {
	return !st.expires.IsZero() && !t.Before(st.expires)
}
