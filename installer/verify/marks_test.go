package verify

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestErrorMarks: an untrusted signer and a signature dated after the clock are told
// apart from a bad file with errors.Is, so callers keep a copy that may be good.
func TestErrorMarks(t *testing.T) {
	keys := filepath.Join("..", "..", "testdata", "keys")
	pkg := filepath.Join(keys, "package.bin")
	trusted, err := AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	if err := trusted.AddFiles(filepath.Join(keys, "test-signer.pub.asc")); err != nil {
		t.Fatal(err)
	}
	awsOnly, err := AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		kr        *Keyring
		now       time.Time
		sig       string
		untrusted bool
		clock     bool
	}{
		{name: "untrusted signer", kr: awsOnly, now: time.Now(), sig: pkg + ".sig", untrusted: true},
		{name: "signed after the clock", kr: trusted, now: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), sig: pkg + ".sig", clock: true},
		{name: "bad signature is neither", kr: trusted, now: time.Now(), sig: filepath.Join(keys, "test-signer.pub.asc")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyFile(pkg, tt.sig, tt.kr, tt.now)
			if err == nil {
				t.Fatal("got no error")
			}
			if got := errors.Is(err, ErrUntrustedSigner); got != tt.untrusted {
				t.Errorf("errors.Is(ErrUntrustedSigner): got %v, want %v (%v)", got, tt.untrusted, err)
			}
			if got := errors.Is(err, ErrClock); got != tt.clock {
				t.Errorf("errors.Is(ErrClock): got %v, want %v (%v)", got, tt.clock, err)
			}
		})
	}
}
