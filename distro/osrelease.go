package distro

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// osReleaseFiles are read in this order, as os-release(5) says: the first that exists wins.
// https://www.freedesktop.org/software/systemd/man/latest/os-release.html
var osReleaseFiles = []string{"etc/os-release", "usr/lib/os-release"}

// legacyReleaseFiles are read when no os-release exists. Amazon Linux 1 AMIs before
// 2017 and RHEL/CentOS/Oracle Linux 6 before 6.? carry only these one-line files.
var legacyReleaseFiles = []string{"etc/system-release", "etc/redhat-release"}

var osReleaseKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseOSRelease parses an os-release(5) file: KEY=VALUE lines, blank lines and
// "#" comments. A value may be bare (backslash escapes the next character), in double
// quotes (backslash escapes $ ` " and \, as in the shell) or in single quotes (no
// escapes). A line that is none of these is an error naming its line number. A key
// given twice keeps its last value, as when the shell sources the file.
func ParseOSRelease(data []byte) (map[string]string, error) {
	vars := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want KEY=VALUE, got %q", n, line)
		}
		if !osReleaseKey.MatchString(key) {
			return nil, fmt.Errorf("line %d: key %q is not a shell variable name", n, key)
		}
		value, err := unquoteOSReleaseValue(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", n, key, err)
		}
		vars[key] = value
	}
	return vars, nil
}

// unquoteOSReleaseValue undoes shell-style quoting of one os-release value.
func unquoteOSReleaseValue(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	var b strings.Builder
	switch q := raw[0]; q {
	case '\'':
		end := strings.IndexByte(raw[1:], '\'')
		if end < 0 {
			return "", errors.New("unterminated single quote")
		}
		if rest := raw[end+2:]; rest != "" {
			return "", fmt.Errorf("unexpected %q after the closing quote", rest)
		}
		return raw[1 : end+1], nil
	case '"':
		for i := 1; i < len(raw); i++ {
			c := raw[i]
			switch {
			case c == '\\' && i+1 < len(raw) && strings.IndexByte("$`\"\\", raw[i+1]) >= 0:
				b.WriteByte(raw[i+1])
				i++
			case c == '"':
				if rest := raw[i+1:]; rest != "" {
					return "", fmt.Errorf("unexpected %q after the closing quote", rest)
				}
				return b.String(), nil
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated double quote")
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\':
			if i+1 == len(raw) {
				return "", errors.New("trailing backslash")
			}
			b.WriteByte(raw[i+1])
			i++
		case c == ' ' || c == '\t':
			return "", fmt.Errorf("unquoted value %q contains a space; quote it", raw)
		case strings.IndexByte("\"'`$;|&<>()", c) >= 0:
			return "", fmt.Errorf("unquoted value %q contains %q; quote it", raw, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// distroFromOSRelease turns parsed os-release variables into a Distro.
func distroFromOSRelease(vars map[string]string) Distro {
	d := Distro{
		ID:         vars["ID"],
		IDLike:     strings.Fields(vars["ID_LIKE"]),
		VersionID:  vars["VERSION_ID"],
		Name:       vars["NAME"],
		PrettyName: vars["PRETTY_NAME"],
	}
	// os-release(5) defaults.
	if d.ID == "" {
		d.ID = "linux"
	}
	if d.Name == "" {
		d.Name = "Linux"
	}
	if d.PrettyName == "" {
		d.PrettyName = d.Name
	}
	return d
}

// legacyRelease maps the product names of one-line release files to os-release
// identities, in the order they are tried.
var legacyRelease = []struct {
	prefix string
	id     string
	idLike []string
}{
	{"Amazon Linux AMI", "amzn", []string{"rhel", "fedora"}},
	{"Amazon Linux", "amzn", []string{"rhel", "fedora"}},
	{"CentOS Linux", "centos", []string{"rhel", "fedora"}},
	{"CentOS Stream", "centos", []string{"rhel", "fedora"}},
	{"CentOS", "centos", []string{"rhel", "fedora"}},
	{"Red Hat Enterprise Linux", "rhel", []string{"fedora"}},
	{"Oracle Linux", "ol", []string{"fedora"}},
	{"Enterprise Linux", "ol", []string{"fedora"}},
}

var legacyReleaseLine = regexp.MustCompile(`^(.+?) release ([0-9][0-9.]*)`)

// parseLegacyRelease parses a one-line etc/system-release or etc/redhat-release, such
// as "CentOS release 6.10 (Final)". A product it does not know keeps its name, gets the
// first word as ID and is taken to be like rhel, since only Red Hat's family ships
// these files.
func parseLegacyRelease(data []byte) (Distro, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	line = strings.TrimSpace(line)
	m := legacyReleaseLine.FindStringSubmatch(line)
	if m == nil {
		return Distro{}, fmt.Errorf("line 1: want \"NAME release VERSION\", got %q", line)
	}
	d := Distro{Name: m[1], VersionID: m[2], PrettyName: line}
	for _, l := range legacyRelease {
		if strings.HasPrefix(m[1], l.prefix) {
			d.ID, d.IDLike = l.id, l.idLike
			return d, nil
		}
	}
	first, _, _ := strings.Cut(m[1], " ")
	d.ID = strings.ToLower(first)
	d.IDLike = []string{"rhel", "fedora"}
	return d, nil
}

// readDistro finds and parses the os-release (or a legacy release file) of the root.
func readDistro(r root, rootDir string) (Distro, error) {
	for _, name := range osReleaseFiles {
		data, err := r.readFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Distro{}, fail.Wrap(fail.Unexpected, fmt.Errorf("read %s under %s: %w", name, rootDir, err))
		}
		vars, err := ParseOSRelease(data)
		if err != nil {
			return Distro{}, fail.WithHint(fail.New(fail.Unsupported, "%s under %s is malformed: %w", name, rootDir, err),
				"fix that line (see os-release(5)), or pass --root at a healthy system")
		}
		return distroFromOSRelease(vars), nil
	}
	for _, name := range legacyReleaseFiles {
		data, err := r.readFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Distro{}, fail.Wrap(fail.Unexpected, fmt.Errorf("read %s under %s: %w", name, rootDir, err))
		}
		d, err := parseLegacyRelease(data)
		if err != nil {
			return Distro{}, fail.WithHint(fail.New(fail.Unsupported, "%s under %s is malformed: %w", name, rootDir, err),
				"fix the file, or add an etc/os-release")
		}
		return d, nil
	}
	return Distro{}, fail.WithHint(fail.New(fail.Usage, "no etc/os-release or usr/lib/os-release under %s", rootDir),
		"point --root at the root of a Linux system")
}
