package verify

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// TestAWSKeyring checks the embedded keys against the table in
// shared/reference/ssm-agent-facts.md, section 2, and fails 90 days before the newest
// key expires, so the next AWS key ships in time.
func TestAWSKeyring(t *testing.T) {
	kr, err := AWSKeyring()
	if err != nil {
		t.Fatalf("AWSKeyring: %v", err)
	}
	const uid = "SSM Agent <ssm-agent-signer@amazon.com>"
	// Created and expiry dates at day precision, from the facts table.
	want := []struct{ fingerprint, created, expires string }{
		{"1C5B395CBE5E74E2F1CA21592784DBF388D19D46", "2026-06-04", "2027-11-25"},
		{"4855A9E6833216D6A77D8FE451A8E050D0052E5D", "2025-01-22", "2026-07-15"},
		{"DE92C7DA3E56E92331D62A36BC1F495C97DD04ED", "2023-08-28", "2025-02-17"},
		{"2BC7C7C267BBD505EAA491E6DD81A61756BAA549", "2022-03-15", "2023-09-05"},
		{"8108A07A9EBE248E3F1C63F254F4F56E693ECA21", "2020-10-06", "2022-03-29"},
	}
	got := kr.Keys()
	if len(got) != len(want) {
		t.Fatalf("got %d keys, want %d", len(got), len(want))
	}
	var newest time.Time
	for i, w := range want {
		g := got[i]
		if g.Fingerprint != w.fingerprint {
			t.Errorf("key %d: got fingerprint %s, want %s", i, g.Fingerprint, w.fingerprint)
		}
		if g.UID != uid || g.Source != AWSKeySource {
			t.Errorf("key %s: got UID %q source %q, want %q %q", w.fingerprint, g.UID, g.Source, uid, AWSKeySource)
		}
		if d := g.Created.Format(time.DateOnly); d != w.created {
			t.Errorf("key %s: got created %s, want %s", w.fingerprint, d, w.created)
		}
		if d := g.Expires.Format(time.DateOnly); d != w.expires {
			t.Errorf("key %s: got expires %s, want %s", w.fingerprint, d, w.expires)
		}
		if g.Expires.After(newest) {
			newest = g.Expires
		}
	}
	if left := time.Until(newest); left < 90*24*time.Hour {
		t.Errorf("the newest embedded AWS key expires on %s, in %s: ship the next AWS key (add it to installer/verify/aws-keys.asc and to the table above)",
			newest.Format(time.DateOnly), left.Round(time.Hour))
	}
}

// TestAWSKeyringIndependent: each call returns its own keyring, so a --trusted-key
// added for one run does not leak into the next.
func TestAWSKeyringIndependent(t *testing.T) {
	a, err := AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddFiles(testdata("test-signer.pub.asc")); err != nil {
		t.Fatal(err)
	}
	b, err := AWSKeyring()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(a.Keys()), 6; got != want {
		t.Errorf("got %d keys after AddFiles, want %d", got, want)
	}
	if got, want := len(b.Keys()), 5; got != want {
		t.Errorf("got %d keys in a fresh AWS keyring, want %d", got, want)
	}
}

func TestAddArmored(t *testing.T) {
	e1 := newEntity(t, keyOpts{created: t0, lifetime: 30 * day})
	e2 := newEntity(t, keyOpts{created: t0.Add(day)})
	pub1, pub2 := armoredPublic(t, e1), armoredPublic(t, e2)
	// Two keys in one armored block, as `gpg --export --armor A B` writes them.
	var both bytes.Buffer
	w, err := armor.Encode(&both, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e1.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := e2.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	info1 := KeyInfo{Fingerprint: fingerprintHex(e1.PrimaryKey), UID: testUID, Created: t0, Expires: t0.Add(30 * day), Source: "f"}
	info2 := KeyInfo{Fingerprint: fingerprintHex(e2.PrimaryKey), UID: testUID, Created: t0.Add(day), Source: "f"}
	secret := readTestdata(t, "test-signer.sec.asc")
	tests := []struct {
		name    string
		input   []byte
		want    []KeyInfo
		wantErr string
	}{
		{name: "one key", input: pub1, want: []KeyInfo{info1}},
		{name: "two blocks with text around them", input: bytes.Join([][]byte{[]byte("first:\n"), pub1, []byte("\nsecond:\n"), pub2}, nil), want: []KeyInfo{info1, info2}},
		{name: "two keys in one block", input: both.Bytes(), want: []KeyInfo{info1, info2}},
		{name: "two blocks back to back", input: bytes.Join([][]byte{pub1, pub2}, []byte("\n")), want: []KeyInfo{info1, info2}},
		{name: "same key twice", input: bytes.Join([][]byte{pub1, pub1}, []byte("\n")), want: []KeyInfo{info1}},
		{name: "empty", input: nil, wantErr: "trusted keys f: no \"PGP PUBLIC KEY BLOCK\" found"},
		{name: "not armored", input: []byte("hello\n"), wantErr: "no \"PGP PUBLIC KEY BLOCK\" found"},
		{name: "private key", input: secret, wantErr: "armored block 1 is a \"PGP PRIVATE KEY BLOCK\""},
		{name: "good block then a signature", input: bytes.Join([][]byte{pub1, readTestdata(t, "package.bin.asc")}, []byte("\n")), wantErr: "armored block 2 is a \"PGP SIGNATURE\""},
		{name: "corrupt block", input: bytes.Replace(pub1, []byte("\n"), []byte("\n!!"), 3), wantErr: "trusted keys f: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr := &Keyring{}
			err := kr.AddArmored(bytes.NewReader(tt.input), "f")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if got := fail.KindOf(err); got != fail.Usage {
					t.Errorf("got kind %v, want %v", got, fail.Usage)
				}
				if len(kr.Keys()) != 0 {
					t.Errorf("got %d keys after a failed AddArmored, want 0", len(kr.Keys()))
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tt.want, kr.Keys()); diff != "" {
				t.Errorf("Keys mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.asc")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	fixture := testdata("test-signer.pub.asc")
	tests := []struct {
		name        string
		paths       []string
		wantSources []string
		wantErr     string
	}{
		{name: "fixture key", paths: []string{fixture}, wantSources: []string{fixture}},
		{name: "missing file", paths: []string{filepath.Join(dir, "nosuch.asc")}, wantErr: "trusted key file: open " + filepath.Join(dir, "nosuch.asc")},
		{name: "good file then a bad one keeps the first", paths: []string{fixture, garbage}, wantSources: []string{fixture}, wantErr: "trusted keys " + garbage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr := &Keyring{}
			err := kr.AddFiles(tt.paths...)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if fail.KindOf(err) != fail.Usage || fail.HintOf(err) == "" {
					t.Errorf("got kind %v hint %q, want %v with a hint", fail.KindOf(err), fail.HintOf(err), fail.Usage)
				}
			}
			var sources []string
			for _, k := range kr.Keys() {
				sources = append(sources, k.Source)
			}
			if diff := cmp.Diff(tt.wantSources, sources); diff != "" {
				t.Errorf("sources mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
