package verify

import "errors"

// AWSKeysArmored returns a copy of AWS's embedded public signing keys, as the armored
// text they were published in (several key blocks), for importing into other tools'
// keyrings such as the rpm database.
func AWSKeysArmored() []byte { return append([]byte(nil), awsKeysArmored...) }

// Marks on verification errors, for errors.Is: they say whether the file itself is
// at fault. A signer that is not trusted, or a signature dated after this machine's
// clock, may be a good file met with missing trust or a wrong clock; a copy kept
// in a cache or mirror is then not thrown away.
var (
	// ErrUntrustedSigner: the signature is by a key that is not among the trusted keys.
	ErrUntrustedSigner = errors.New("untrusted signer")
	// ErrClock: the signature is dated after this machine's clock (beyond the skew).
	ErrClock = errors.New("signature dated after the clock")
)

// marked is a verification error that also matches a mark with errors.Is; its
// message and kind are the wrapped error's.
type marked struct {
	error
	mark error
}

func (m marked) Is(target error) bool { return target == m.mark }
func (m marked) Unwrap() error        { return m.error }
