package proxy

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// Where the settings live. The systemd drop-in directories are the agent unit's (deb and
// rpm) and the snap's; systemd reads only *.conf files there. The upstart job reads
// "env NAME=value" lines from its override file. See ssm-agent-facts.md, section 3.
const (
	// DropInName is the name of ssm-setup's drop-in in the unit's .service.d directory.
	DropInName = "ssm-setup-proxy.conf"
	// EnvFilePath holds the variables when a proxy URL has credentials: the drop-in then
	// only points at it, so the password is neither world-readable nor in "systemctl show".
	EnvFilePath = "/etc/amazon/ssm/ssm-setup-proxy.env"
	// UpstartOverridePath is the upstart job's override file, of which ssm-setup edits
	// only the block between UpstartBegin and UpstartEnd.
	UpstartOverridePath = "/etc/init/amazon-ssm-agent.override"
	// UpstartBegin and UpstartEnd mark ssm-setup's block in the override file.
	UpstartBegin = "# BEGIN ssm-setup proxy"
	UpstartEnd   = "# END ssm-setup proxy"
)

// DropInPath is the path of ssm-setup's drop-in for the agent's unit: the snap's unit
// when snap is true.
func DropInPath(snap bool) string {
	unit := "amazon-ssm-agent.service"
	if snap {
		unit = "snap.amazon-ssm-agent.amazon-ssm-agent.service"
	}
	return path.Join("/etc/systemd/system", unit+".d", DropInName)
}

const header = "# managed by ssm-setup: the SSM Agent's proxy settings. Change them with\n" +
	"# 'ssm-setup proxy set', remove them with 'ssm-setup proxy unset'; edits here are overwritten.\n"

// envVar is one environment variable of the agent's service.
type envVar struct{ name, value string }

// env lists the variables for s in the order they are written. Each is written in lower
// case, which the agent's proxyconfig package reads, and in upper case: Go's HTTP proxy
// lookup (the agent's AWS SDK clients) reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY before
// the lower-case names, so an upper-case value inherited from systemd's
// DefaultEnvironment= would otherwise win over ours. Empty settings are not written.
func (s Settings) env() []envVar {
	var out []envVar
	for _, v := range []envVar{{"http_proxy", s.HTTPProxy}, {"https_proxy", s.HTTPSProxy}, {"no_proxy", s.NoProxy}} {
		if v.value == "" {
			continue
		}
		out = append(out, v, envVar{strings.ToUpper(v.name), v.value})
	}
	return out
}

// varNames are the variables ssm-setup writes, lower case first.
var varNames = []string{"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}

// settingsFrom reads Settings back from variables (the lower-case names).
func settingsFrom(vars map[string]string) Settings {
	return Settings{HTTPProxy: vars["http_proxy"], HTTPSProxy: vars["https_proxy"], NoProxy: vars["no_proxy"]}
}

// result compares the wanted content with the current one; nil means "no file".
func result(cur, next []byte) ([]byte, bool, error) {
	changed := (cur == nil) != (next == nil) || !bytes.Equal(cur, next)
	return next, changed, nil
}

// checkValue refuses characters no config syntax here can carry safely. Normalized
// settings never hold them; this guards callers that skip Normalize.
func checkValue(v envVar, forbidden string) error {
	if i := strings.IndexAny(v.value, forbidden); i >= 0 {
		return fail.New(fail.Usage, "proxy setting %s holds a character (%q) that cannot be written", v.name, v.value[i:i+1])
	}
	return nil
}

// RenderDropIn returns the systemd drop-in for s, given the current content cur (nil when
// the file does not exist). A zero s means no drop-in: next is nil and the file is to be
// removed. Without credentials the drop-in sets each variable with Environment=; with
// credentials it only names EnvFilePath in EnvironmentFile= (see RenderEnvFile). In
// Environment= values, '%' is written '%%' (systemd specifiers) and '\' and '"' are
// backslash-escaped inside the double quotes.
func RenderDropIn(cur []byte, s Settings) (next []byte, changed bool, err error) {
	if s.IsZero() {
		return result(cur, nil)
	}
	var b strings.Builder
	b.WriteString(header)
	if s.hasCredentials() {
		b.WriteString("# The proxy URL holds credentials, so the values are in " + EnvFilePath + " (mode 0600).\n")
		b.WriteString("[Service]\nEnvironmentFile=" + EnvFilePath + "\n")
		return result(cur, []byte(b.String()))
	}
	b.WriteString("[Service]\n")
	for _, v := range s.env() {
		if err := checkValue(v, "\n\r\x00"); err != nil {
			return nil, false, err
		}
		val := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%").Replace(v.value)
		fmt.Fprintf(&b, "Environment=\"%s=%s\"\n", v.name, val)
	}
	return result(cur, []byte(b.String()))
}

// RenderEnvFile returns the systemd EnvironmentFile for s, given its current content cur
// (nil when missing). It exists only when a URL of s holds credentials; otherwise next is
// nil (remove the file). Values are double-quoted with '\', '"', '$' and '`'
// backslash-escaped, the characters systemd's environment file parser treats specially.
func RenderEnvFile(cur []byte, s Settings) (next []byte, changed bool, err error) {
	if s.IsZero() || !s.hasCredentials() {
		return result(cur, nil)
	}
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("# Read by the agent's service through EnvironmentFile=; mode 0600: it holds a password.\n")
	for _, v := range s.env() {
		if err := checkValue(v, "\n\r\x00"); err != nil {
			return nil, false, err
		}
		val := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(v.value)
		fmt.Fprintf(&b, "%s=\"%s\"\n", v.name, val)
	}
	return result(cur, []byte(b.String()))
}

// EditUpstartOverride returns the upstart override file with ssm-setup's block set to s,
// given the current content cur (nil when missing). Only the lines from UpstartBegin to
// UpstartEnd are ssm-setup's; every other byte stays as it is. A missing block is
// appended at the end. A zero s removes the block; when nothing but blank lines remains,
// next is nil (remove the file). The values are written unquoted ("env
// http_proxy=http://proxy:3128", as AWS documents it), so whitespace, quotes, '\' and '#'
// are refused; normalized settings never hold them. Unbalanced or repeated markers are an
// error: the block's extent would be a guess.
func EditUpstartOverride(cur []byte, s Settings) (next []byte, changed bool, err error) {
	lines := bytes.SplitAfter(cur, []byte("\n"))
	begin, end := -1, -1
	for i, l := range lines {
		switch strings.TrimRight(string(l), "\r\n") {
		case UpstartBegin:
			if begin >= 0 {
				return nil, false, damaged("a second %q on line %d", UpstartBegin, i+1)
			}
			begin = i
		case UpstartEnd:
			if end >= 0 || begin < 0 {
				return nil, false, damaged("%q on line %d without a %q before it", UpstartEnd, i+1, UpstartBegin)
			}
			end = i
		}
	}
	if begin >= 0 && end < 0 {
		return nil, false, damaged("%q on line %d has no %q after it", UpstartBegin, begin+1, UpstartEnd)
	}

	var block []byte
	if !s.IsZero() {
		var b strings.Builder
		b.WriteString(UpstartBegin + "\n")
		b.WriteString(header)
		for _, v := range s.env() {
			if err := checkValue(v, " \t\n\r\x00\"'\\#"); err != nil {
				return nil, false, err
			}
			fmt.Fprintf(&b, "env %s=%s\n", v.name, v.value)
		}
		b.WriteString(UpstartEnd + "\n")
		block = []byte(b.String())
	}

	var out []byte
	if begin < 0 {
		if block == nil {
			return result(cur, cur)
		}
		out = append(out, cur...)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, block...)
		return result(cur, out)
	}
	for _, l := range lines[:begin] {
		out = append(out, l...)
	}
	out = append(out, block...)
	for _, l := range lines[end+1:] {
		out = append(out, l...)
	}
	if block == nil && len(bytes.TrimSpace(out)) == 0 {
		return result(cur, nil)
	}
	return result(cur, out)
}

func damaged(format string, args ...any) error {
	return fail.New(fail.Unexpected, "ssm-setup's proxy block is damaged: "+format, args...)
}

// parseDropIn reads the variables of a drop-in RenderDropIn wrote, and the path of its
// EnvironmentFile= ("" when none).
func parseDropIn(b []byte) (vars map[string]string, envFile string) {
	vars = map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if f, ok := strings.CutPrefix(line, "EnvironmentFile="); ok {
			envFile = strings.TrimPrefix(f, "-")
			continue
		}
		q, ok := strings.CutPrefix(line, "Environment=")
		if !ok || len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
			continue
		}
		kv := unescape(q[1:len(q)-1], true)
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return vars, envFile
}

// parseEnvFile reads the variables of a file RenderEnvFile wrote.
func parseEnvFile(b []byte) map[string]string {
	vars := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = unescape(v[1:len(v)-1], false)
		}
		vars[k] = v
	}
	return vars
}

// parseUpstartBlock reads the variables of ssm-setup's block in an override file; found
// is false when there is no block.
func parseUpstartBlock(b []byte) (vars map[string]string, found bool) {
	vars = map[string]string{}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case line == UpstartBegin:
			in, found = true, true
		case line == UpstartEnd:
			in = false
		case in:
			if kv, ok := strings.CutPrefix(line, "env "); ok {
				if k, v, ok := strings.Cut(kv, "="); ok {
					vars[k] = v
				}
			}
		}
	}
	return vars, found
}

// unescape undoes backslash escapes, and "%%" when percent is true.
func unescape(s string, percent bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
		case percent && s[i] == '%' && i+1 < len(s) && s[i+1] == '%':
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
