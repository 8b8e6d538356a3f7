package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ssm-setup/ssm-setup/installer/proxy"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// ProxyPasswordEnv names the environment variable that may hold a proxy password.
const ProxyPasswordEnv = "SSM_SETUP_PROXY_PASSWORD"

// ProxyPasswordFlags say where a proxy password comes from. A password never comes from
// the command line: argv is visible to every user (ps, /proc) and lands in shell history.
// The proxy URL names the user (http://user@proxy:3128); the password comes from a file,
// standard input or SSM_SETUP_PROXY_PASSWORD.
type ProxyPasswordFlags struct {
	File  string
	Stdin bool
}

func (p *ProxyPasswordFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&p.File, "proxy-password-file", "", "read the proxy password for the user in the proxy URL from this file (or use --proxy-password-stdin, or "+ProxyPasswordEnv+")")
	fs.BoolVar(&p.Stdin, "proxy-password-stdin", false, "read the proxy password for the user in the proxy URL from standard input")
}

const proxyPasswordHint = "name the user in the URL (http://user@proxy.example.com:3128) and pass the password with --proxy-password-file FILE, --proxy-password-stdin or " + ProxyPasswordEnv

// apply refuses proxy URLs that carry a password on the command line, reads the
// password from its one source when a URL names a user, and puts it into those URLs.
// urls maps a flag name to its value; empty values are skipped.
func (p *ProxyPasswordFlags) apply(getenv func(string) string, stdin io.Reader, urls ...proxyFlag) error {
	withUser := 0
	for _, u := range urls {
		if *u.value == "" {
			continue
		}
		parsed, err := url.Parse(*u.value)
		if err != nil || parsed.User == nil {
			continue // ParseProxyURL reports bad URLs, masked
		}
		if _, has := parsed.User.Password(); has {
			return fail.WithHint(fail.Usagef("invalid %s %q: a password on the command line is visible to every user of this machine (ps, /proc, shell history)", u.flag, proxy.Mask(*u.value)), proxyPasswordHint)
		}
		withUser++
	}
	env := getenv(ProxyPasswordEnv)
	sources := 0
	for _, given := range []bool{p.File != "", p.Stdin, env != ""} {
		if given {
			sources++
		}
	}
	switch {
	case sources > 1:
		return fail.WithHint(fail.Usagef("the proxy password comes from more than one place"), "pass exactly one of --proxy-password-file, --proxy-password-stdin and "+ProxyPasswordEnv)
	case sources == 1 && withUser == 0 && env == "":
		return fail.WithHint(fail.Usagef("a proxy password was given, but no proxy URL names a user"), proxyPasswordHint)
	case sources == 0 || withUser == 0:
		return nil
	}
	password, err := p.read(env, stdin)
	if err != nil {
		return err
	}
	for _, u := range urls {
		if *u.value == "" {
			continue
		}
		parsed, err := url.Parse(*u.value)
		if err != nil || parsed.User == nil {
			continue
		}
		parsed.User = url.UserPassword(parsed.User.Username(), password)
		*u.value = parsed.String()
	}
	return nil
}

// proxyFlag is a proxy URL flag: its name, for messages, and its value, which apply
// may rewrite with the password.
type proxyFlag struct {
	flag  string
	value *string
}

func (p *ProxyPasswordFlags) read(env string, stdin io.Reader) (string, error) {
	var pw string
	switch {
	case p.File != "":
		data, err := os.ReadFile(p.File)
		if err != nil {
			return "", fail.Usagef("invalid --proxy-password-file %q: %w", p.File, err)
		}
		pw = string(data)
	case p.Stdin:
		line, err := readLine(stdin)
		if err != nil {
			return "", fail.Usagef("read the proxy password from standard input: %w", err)
		}
		pw = line
	default:
		pw = env
	}
	pw = strings.TrimRight(pw, "\r\n")
	if pw == "" {
		return "", fail.WithHint(fail.Usagef("the proxy password is empty"), proxyPasswordHint)
	}
	if strings.ContainsAny(pw, "\r\n") {
		return "", fail.Usagef("the proxy password holds a line break: give only the password")
	}
	return pw, nil
}

// readLine reads r up to and including the first newline, one byte at a time: nothing
// after the line is consumed, so the rest of standard input is left for
// --activation-code-stdin (install reads the password first, the code after installing).
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() <= maxPasswordBytes {
		n, err := r.Read(buf)
		if n == 1 {
			b.WriteByte(buf[0])
			if buf[0] == '\n' {
				return b.String(), nil
			}
		}
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("the first line is longer than %d bytes: give only the password", maxPasswordBytes)
}

// maxPasswordBytes bounds the line read as a proxy password.
const maxPasswordBytes = 4 << 10
