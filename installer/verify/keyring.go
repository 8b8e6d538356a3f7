package verify

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// awsKeysArmored holds the public keys AWS signs SSM Agent packages with, one armored
// block per key, as published in the AWS documentation ("Verify the signature of SSM
// Agent"). AWS rotates the key every 14 to 18 months; a test fails 90 days before the
// newest one expires, so that the next key gets shipped in time.
//
//go:embed aws-keys.asc
var awsKeysArmored []byte

// AWSKeySource is the KeyInfo.Source of the keys embedded in ssm-setup.
const AWSKeySource = "embedded AWS SSM Agent keys"

// awsEntries parses the embedded keys once per process.
var awsEntries = sync.OnceValues(func() ([]*entry, error) {
	kr := &Keyring{}
	if err := kr.AddArmored(bytes.NewReader(awsKeysArmored), AWSKeySource); err != nil {
		return nil, err
	}
	return kr.entries, nil
})

// Keyring is a set of trusted OpenPGP public keys (certificates). A signature counts
// only when it was made by one of them or by one of their signing subkeys.
//
// A Keyring is not safe for concurrent modification; build it first, then verify with
// it from any number of goroutines.
type Keyring struct {
	entries []*entry
}

// entry is one certificate in a Keyring, with the name of where it came from.
type entry struct {
	entity *openpgp.Entity
	source string
}

// KeyInfo describes one trusted primary key, for `ssm-setup keys` style listings.
type KeyInfo struct {
	// Fingerprint is the primary key's fingerprint, 40 upper-case hex digits for v4 keys.
	Fingerprint string
	// UID is the primary user ID, e.g. "SSM Agent <ssm-agent-signer@amazon.com>".
	UID string
	// Created is when the key was created.
	Created time.Time
	// Expires is when the key expires according to its newest self-signature; the
	// zero time means never.
	Expires time.Time
	// Source is where the key came from: AWSKeySource or the file name passed to
	// AddFiles or AddArmored.
	Source string
}

// AWSKeyring returns a new Keyring holding the AWS SSM Agent signing keys embedded in
// ssm-setup. The keys are parsed once per process, so calling it again is cheap; each
// call returns an independent Keyring that the caller may add keys to.
func AWSKeyring() (*Keyring, error) {
	entries, err := awsEntries()
	if err != nil {
		return nil, fail.Wrap(fail.Unexpected, fmt.Errorf("embedded AWS signing keys: %w", err))
	}
	return &Keyring{entries: append([]*entry(nil), entries...)}, nil
}

// AddArmored adds every public key in r, which holds one or more ASCII-armored
// "PGP PUBLIC KEY BLOCK"s (as written by `gpg --export --armor`), each with one or
// more keys. source names r in KeyInfo and in errors, usually a file name. A key
// that is already in the keyring is skipped. On error the keyring is unchanged.
// Errors are of kind fail.Usage: the keys usually come from a --trusted-key flag.
func (k *Keyring) AddArmored(r io.Reader, source string) error {
	br := bufio.NewReader(r)
	var added []*entry
	blocks := 0
	for {
		block, err := armor.Decode(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return keyFileError(source, "read armored block %d: %w", blocks+1, err)
		}
		blocks++
		if block.Type != openpgp.PublicKeyType {
			return keyFileError(source, "armored block %d is a %q, want a %q", blocks, block.Type, openpgp.PublicKeyType)
		}
		entities, err := readEntities(block.Body)
		if err != nil {
			return keyFileError(source, "armored block %d: %w", blocks, err)
		}
		for _, e := range entities {
			added = append(added, &entry{entity: e, source: source})
		}
	}
	if blocks == 0 {
		return keyFileError(source, "no %q found", openpgp.PublicKeyType)
	}
	for _, e := range added {
		if k.find(e.entity.PrimaryKey.Fingerprint) == nil {
			k.entries = append(k.entries, e)
		}
	}
	return nil
}

// AddFiles adds the armored public keys in each file, in order, as AddArmored does.
// Each key's Source is its file name. It stops at the first file that fails; keys
// from the files before it stay added.
func (k *Keyring) AddFiles(paths ...string) error {
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return fail.WithHint(fail.New(fail.Usage, "trusted key file: %w", err),
				"pass a file that holds an armored public key (gpg --export --armor KEYID > FILE)")
		}
		if err := k.AddArmored(bytes.NewReader(data), path); err != nil {
			return err
		}
	}
	return nil
}

// Keys describes the primary keys in the keyring, in the order they were added.
func (k *Keyring) Keys() []KeyInfo {
	infos := make([]KeyInfo, 0, len(k.entries))
	for _, e := range k.entries {
		pk := e.entity.PrimaryKey
		info := KeyInfo{
			Fingerprint: fingerprintHex(pk),
			Created:     pk.CreationTime.UTC(),
			Source:      e.source,
		}
		if id := e.entity.PrimaryIdentity(); id != nil {
			info.UID = id.Name
		}
		if self := newestSelfSignature(e.entity); self != nil {
			info.Expires = keyExpiry(pk, self)
		}
		infos = append(infos, info)
	}
	return infos
}

// find returns the entry whose primary key has fingerprint fp, or nil.
func (k *Keyring) find(fp []byte) *entry {
	for _, e := range k.entries {
		if bytes.Equal(e.entity.PrimaryKey.Fingerprint, fp) {
			return e
		}
	}
	return nil
}

// signer is a key in the keyring that may have made a signature: a primary key
// (subkey == nil) or one of its subkeys.
type signer struct {
	entry  *entry
	subkey *openpgp.Subkey
}

// publicKey is the key that made the signature.
func (s signer) publicKey() *packet.PublicKey {
	if s.subkey != nil {
		return s.subkey.PublicKey
	}
	return s.entry.entity.PrimaryKey
}

// signersFor returns the keys that match the issuer of sig: by issuer fingerprint
// when the signature names one, else by its 64-bit key id (which can match more than
// one key).
func (k *Keyring) signersFor(sig *packet.Signature) []signer {
	matches := func(pk *packet.PublicKey) bool {
		if len(sig.IssuerFingerprint) > 0 {
			return bytes.Equal(sig.IssuerFingerprint, pk.Fingerprint)
		}
		return sig.IssuerKeyId != nil && *sig.IssuerKeyId == pk.KeyId
	}
	var out []signer
	for _, e := range k.entries {
		if matches(e.entity.PrimaryKey) {
			out = append(out, signer{entry: e})
		}
		for i := range e.entity.Subkeys {
			if matches(e.entity.Subkeys[i].PublicKey) {
				out = append(out, signer{entry: e, subkey: &e.entity.Subkeys[i]})
			}
		}
	}
	return out
}

// readEntities reads every certificate in r, strictly: unlike openpgp.ReadKeyRing,
// which skips keys it cannot use, a key the user asked us to trust and that cannot be
// read is an error, not silently ignored.
func readEntities(r io.Reader) ([]*openpgp.Entity, error) {
	packets := packet.NewReader(r)
	var out []*openpgp.Entity
	for {
		e, err := openpgp.ReadEntity(packets)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", len(out)+1, err)
		}
		if e.PrivateKey != nil {
			return nil, fmt.Errorf("key %s is a private key, want a public key", fingerprintHex(e.PrimaryKey))
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("no public key in the block")
	}
	return out, nil
}

func keyFileError(source, format string, args ...any) error {
	return fail.WithHint(
		fail.New(fail.Usage, "trusted keys %s: %w", source, fmt.Errorf(format, args...)),
		"pass a file that holds armored public keys (gpg --export --armor KEYID > FILE)")
}

// fingerprintHex formats a key's fingerprint as upper-case hex.
func fingerprintHex(pk *packet.PublicKey) string {
	return strings.ToUpper(hex.EncodeToString(pk.Fingerprint))
}

// keyIDHex formats a 64-bit key id as 16 upper-case hex digits.
func keyIDHex(id uint64) string {
	return fmt.Sprintf("%016X", id)
}
