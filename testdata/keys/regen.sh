#!/bin/sh
# Regenerates the test-only OpenPGP key and the signed fixtures in this directory.
# See README.md. Needs gpg (GnuPG 2.2 or later). Run from anywhere:
#   sh testdata/keys/regen.sh
set -eu
cd "$(dirname "$0")"
GNUPGHOME=$(mktemp -d)
export GNUPGHOME
trap 'gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$GNUPGHOME"' EXIT

uid='ssm-setup test signer (TEST ONLY, never trust) <test-signer@ssm-setup.invalid>'
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key "$uid" rsa3072 cert,sign never
fpr=$(gpg --batch --with-colons --list-keys "$uid" | awk -F: '$1 == "fpr" { print $10; exit }')
gpg --batch --pinentry-mode loopback --passphrase '' --quick-add-key "$fpr" ed25519 sign never
sub=$(gpg --batch --with-colons --list-keys "$fpr" | awk -F: '$1 == "fpr" { n++ } $1 == "fpr" && n == 2 { print $10; exit }')

gpg --batch --armor --export "$fpr" > test-signer.pub.asc
gpg --batch --pinentry-mode loopback --passphrase '' --armor --export-secret-keys "$fpr" > test-signer.sec.asc

# package.bin: 64 KiB of fixed pseudo-random bytes stands in for an agent package.
head -c 65536 /dev/urandom > package.bin
# Binary signature by the RSA primary key (the "!" forces that exact key), SHA-256,
# like AWS's .sig files.
gpg --batch --pinentry-mode loopback --passphrase '' --digest-algo SHA256 \
	--local-user "$fpr!" --output package.bin.sig --detach-sign package.bin
# Armored signature by the Ed25519 signing subkey, SHA-512.
gpg --batch --pinentry-mode loopback --passphrase '' --digest-algo SHA512 \
	--local-user "$sub!" --armor --output package.bin.asc --detach-sign package.bin

printf 'primary %s\nsubkey  %s\n' "$fpr" "$sub" > fingerprints.txt
cat fingerprints.txt
