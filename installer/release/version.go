package release

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// Version is an agent version. Agent versions have exactly four numeric parts
// (3.3.1142.0) and compare on all four.
type Version struct {
	Major, Minor, Build, Revision uint32
}

// sentinel is the placeholder version the update manifest sometimes lists; it is never
// a real release (read latest/VERSION instead).
var sentinel = Version{255, 255, 65535, 999}

// ParseVersion parses "a.b.c.d". Surrounding white space (a VERSION file's newline) is
// ignored; anything else that is not four decimal numbers is a fail.Usage error.
func ParseVersion(s string) (Version, error) {
	t := strings.TrimSpace(s)
	parts := strings.Split(t, ".")
	if len(parts) != 4 {
		return Version{}, fail.Usagef("version %q: want four numbers a.b.c.d, e.g. 3.3.1142.0", s)
	}
	var n [4]uint32
	for i, p := range parts {
		if p == "" || strings.TrimLeft(p, "0123456789") != "" {
			return Version{}, fail.Usagef("version %q: part %d %q is not a number", s, i+1, p)
		}
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return Version{}, fail.Usagef("version %q: part %d %q is out of range", s, i+1, p)
		}
		n[i] = uint32(v)
	}
	return Version{n[0], n[1], n[2], n[3]}, nil
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int {
	if c := cmp.Compare(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, w.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Build, w.Build); c != 0 {
		return c
	}
	return cmp.Compare(v.Revision, w.Revision)
}

// IsZero reports whether v is the zero Version (no version).
func (v Version) IsZero() bool { return v == Version{} }

// String formats v as a.b.c.d.
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d.%d", v.Major, v.Minor, v.Build, v.Revision)
}

// MarshalText writes v as a.b.c.d, so that JSON output shows a string.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses a.b.c.d.
func (v *Version) UnmarshalText(b []byte) error {
	p, err := ParseVersion(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
