// Package proxy configures the SSM Agent's service to reach AWS through an HTTP proxy:
// it validates proxy URLs, writes the settings where the agent's init system reads them
// (a systemd drop-in, with an EnvironmentFile when a URL holds credentials, or a marked
// block in the upstart override file), reloads and restarts the agent, and checks that the
// running agent process has them.
//
// The agent reads http_proxy, https_proxy and no_proxy from its service environment; its
// JSON configuration has no proxy keys (see the SSM Agent facts reference,
// section 4, and agent/proxyconfig in github.com/aws/amazon-ssm-agent). A proxy URL can
// hold user:password@: nothing this package logs, returns or writes outside a mode-0600
// file holds the password; it shows URLs through Mask.
package proxy

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// IMDS addresses that no_proxy always holds: instance metadata must never go through
// the proxy, or calls fail or take the proxy's identity. The IPv6 address is written bare,
// not as "[fd00:ec2::254]": Go's no_proxy matcher (golang.org/x/net/http/httpproxy, which
// the agent's HTTP clients use) reads a bracketed address without a port as a domain name
// that never matches.
const (
	IMDSv4 = "169.254.169.254"
	IMDSv6 = "fd00:ec2::254"
)

// Settings are the proxy settings of the agent's service. HTTPProxy and HTTPSProxy are
// URLs (http://[user:password@]host:port), either may be empty; NoProxy is a
// comma-separated list of hosts, domains and CIDRs that bypass the proxy.
//
// The values hold secrets: show them only through Mask.
type Settings struct {
	HTTPProxy  string
	HTTPSProxy string
	NoProxy    string
}

// IsZero reports whether s sets nothing.
func (s Settings) IsZero() bool { return s == Settings{} }

// Masked returns s with the passwords of its URLs replaced by "***".
func (s Settings) Masked() Settings {
	return Settings{HTTPProxy: Mask(s.HTTPProxy), HTTPSProxy: Mask(s.HTTPSProxy), NoProxy: s.NoProxy}
}

// hasCredentials reports whether a URL of s has a user part (with or without password).
func (s Settings) hasCredentials() bool {
	for _, raw := range []string{s.HTTPProxy, s.HTTPSProxy} {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || u.User != nil {
			// An unparsable value is treated as secret: it never reaches a world-readable file.
			return true
		}
	}
	return false
}

// Normalize checks s and returns it in the form ssm-setup writes: each URL parsed by
// ParseProxyURL (explicit port, no path) and NoProxy merged by MergeNoProxy. At least one
// of the URLs must be set. An https:// proxy URL logs a warning: Session Manager does not
// work through an HTTPS proxy. Errors are fail.Usage and name the variable.
func (s Settings) Normalize(logger *slog.Logger) (Settings, error) {
	if s.HTTPProxy == "" && s.HTTPSProxy == "" {
		return Settings{}, fail.WithHint(fail.Usagef("proxy settings: no proxy URL given"), "pass --proxy URL, or --http-proxy and/or --https-proxy")
	}
	var out Settings
	for _, v := range []struct {
		name string
		raw  string
		dst  *string
	}{{"http_proxy", s.HTTPProxy, &out.HTTPProxy}, {"https_proxy", s.HTTPSProxy, &out.HTTPSProxy}} {
		if v.raw == "" {
			continue
		}
		u, err := ParseProxyURL(v.name, v.raw)
		if err != nil {
			return Settings{}, err
		}
		*v.dst = u.String()
		if u.Scheme == "https" && logger != nil {
			logger.Warn("Session Manager does not work through an HTTPS proxy; use an http:// proxy URL for it", "variable", v.name, "proxy", Mask(*v.dst))
		}
	}
	if out.HTTPSProxy == "" && logger != nil {
		logger.Warn("no https_proxy: the agent reaches AWS over HTTPS and so bypasses the proxy; pass --https-proxy or --proxy to send it through")
	}
	np, err := ParseNoProxy("no_proxy", s.NoProxy)
	if err != nil {
		return Settings{}, err
	}
	out.NoProxy = np
	return out, nil
}

// ParseProxyURL checks a proxy URL given with flag (named in errors, e.g. "--http-proxy")
// and returns it normalized to scheme://[userinfo@]host:port.
//
// The scheme must be http or https; a URL without a scheme ("proxy:3128") is refused
// rather than guessed. The host is required. A missing port means the scheme's default
// (80 for http, 443 for https), as Go's HTTP client, which the agent uses, reads it; the
// returned URL spells the port out so the written setting is unambiguous. A port must be
// 1-65535. A path other than "/", a query or a fragment is refused: a proxy URL has none,
// and one usually means a typo. Every error is fail.Usage and shows the value masked.
func ParseProxyURL(flag, raw string) (*url.URL, error) {
	bad := func(reason string) error {
		return fail.WithHint(fail.Usagef("invalid %s %q: %s", flag, Mask(raw), reason),
			"write it as http://HOST:PORT or http://USER@HOST:PORT (the password apart, from a file, stdin or the environment), e.g. http://proxy.example.com:3128")
	}
	if strings.TrimSpace(raw) == "" {
		return nil, bad("empty")
	}
	// The parser's own errors are not shown: they can quote parts of the password.
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Opaque != "" {
		return nil, bad("the scheme must be http or https")
	}
	host := u.Hostname()
	if host == "" {
		return nil, bad("no host")
	}
	port := u.Port()
	switch {
	case port == "" && u.Scheme == "http":
		port = "80"
	case port == "":
		port = "443"
	default:
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad(fmt.Sprintf("port %s is not in the range 1-65535", port))
		}
	}
	if _, rest, _ := strings.Cut(raw, "://"); u.User == nil && strings.Contains(rest, "@") {
		return nil, bad("the user info holds an unescaped '/', '?' or '#' (percent-encode it)")
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, bad("a proxy URL has no path, query or fragment")
	}
	return &url.URL{Scheme: u.Scheme, User: u.User, Host: net.JoinHostPort(host, port)}, nil
}

// Mask returns the URL u with its password replaced by "***"
// ("http://user:***@host:3128"). A URL without a password comes back unchanged. A value
// that does not parse is masked too: everything between the first ':' after the scheme
// and the last '@' is replaced.
func Mask(u string) string {
	if u == "" {
		return ""
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Opaque != "" {
		return maskRaw(u)
	}
	if parsed.User == nil {
		// A password with an unescaped '/', '?' or '#' ends the authority early:
		// "http://bob:12#pw@proxy:3128" parses as host "bob:12" with the rest in the
		// fragment. An '@' after the scheme then still marks user info to hide.
		if i := strings.Index(u, "://"); i >= 0 && strings.Contains(u[i+3:], "@") {
			return maskRaw(u)
		}
		return u
	}
	if _, ok := parsed.User.Password(); !ok {
		return u
	}
	cp := *parsed
	cp.User = nil
	prefix := cp.Scheme + "://"
	rest, ok := strings.CutPrefix(cp.String(), prefix)
	if !ok {
		return maskRaw(u)
	}
	return prefix + url.User(parsed.User.Username()).String() + ":***@" + rest
}

// maskRaw masks the password of a string that is not a valid URL.
func maskRaw(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
	}
	at := strings.LastIndex(s, "@")
	if at < start {
		return s
	}
	colon := strings.Index(s[start:at], ":")
	if colon < 0 {
		return s
	}
	return s[:start+colon] + ":***" + s[at:]
}

// MergeNoProxy returns the user's comma-separated no_proxy entries in their order,
// trimmed, without empty entries and without duplicates (compared case-insensitively,
// the first spelling kept), followed by IMDSv4 and IMDSv6 when missing.
func MergeNoProxy(user string) string {
	var out []string
	seen := map[string]bool{}
	add := func(e string) {
		e = strings.TrimSpace(e)
		if e == "" || seen[strings.ToLower(e)] {
			return
		}
		seen[strings.ToLower(e)] = true
		out = append(out, e)
	}
	for _, e := range strings.Split(user, ",") {
		add(e)
	}
	add(IMDSv4)
	add(IMDSv6)
	return strings.Join(out, ",")
}

// ParseNoProxy checks a no_proxy list given with flag and returns MergeNoProxy of it.
// Entries may hold letters, digits and . - _ * : / [ ] % (host names, domains, ".domain",
// "*", IPv4 and IPv6 addresses, CIDRs, host:port); anything else, such as spaces inside
// an entry, quotes or '=', is fail.Usage. The check keeps every value safe to write
// unquoted into an upstart "env" line.
func ParseNoProxy(flag, raw string) (string, error) {
	for _, e := range strings.Split(raw, ",") {
		e = strings.TrimSpace(e)
		if i := strings.IndexFunc(e, func(r rune) bool { return !noProxyRune(r) }); i >= 0 {
			r, _ := utf8.DecodeRuneInString(e[i:])
			return "", fail.WithHint(fail.Usagef("invalid %s entry %q: character %q is not allowed", flag, e, string(r)),
				"separate entries with commas: hosts, .domains, IP addresses or CIDRs, e.g. localhost,.corp.example.com,10.0.0.0/8")
		}
	}
	return MergeNoProxy(raw), nil
}

func noProxyRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_*:/[]%", r)
}
