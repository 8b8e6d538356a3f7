package verify

import (
	"crypto"
	"crypto/sha256"
	"testing"
)

// benchVerify feeds 30 MB (about one agent rpm) through a Verifier in 1 MiB writes,
// as a download does, and checks a signature made with hash h.
func benchVerify(b *testing.B, h crypto.Hash) {
	e := newEntity(b, keyOpts{created: t0})
	kr := keyringOf(b, e)
	data := make([]byte, 30<<20)
	for i := range data {
		data[i] = byte(i ^ i>>8)
	}
	sig := detachSign(b, e.PrivateKey, data, sigOpts{at: t0, hash: h})
	const chunk = 1 << 20
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		v, err := NewVerifier(sig, kr)
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(data); off += chunk {
			v.Write(data[off:min(off+chunk, len(data))])
		}
		if _, err := v.Finish(t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify30MB is the common case: a SHA-256 signature, whose hash shares the
// SHA-256 digest's state, so the data is hashed once.
func BenchmarkVerify30MB(b *testing.B) { benchVerify(b, crypto.SHA256) }

// BenchmarkVerify30MBSHA1 is a SHA-1 signature, as on older AWS packages: two hashes.
func BenchmarkVerify30MBSHA1(b *testing.B) { benchVerify(b, crypto.SHA1) }

// BenchmarkVerify30MBSHA512 is a SHA-512 signature: two hashes.
func BenchmarkVerify30MBSHA512(b *testing.B) { benchVerify(b, crypto.SHA512) }

// BenchmarkSHA256Baseline hashes the same 30 MB with crypto/sha256 alone: the
// ceiling for BenchmarkVerify30MB, which should come within a few percent of it.
func BenchmarkSHA256Baseline(b *testing.B) {
	data := make([]byte, 30<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		h := sha256.New()
		for off := 0; off < len(data); off += 1 << 20 {
			h.Write(data[off:min(off+1<<20, len(data))])
		}
		h.Sum(nil)
	}
}
