package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

func TestProxyPasswordApply(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cr@t/pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		flags   ProxyPasswordFlags
		env     string
		stdin   string
		url     string
		want    string
		wantErr string
		// wantRest is what standard input still holds afterwards (checked when set).
		wantRest string
	}{
		{name: "no user, no password", url: "http://proxy:3128", want: "http://proxy:3128"},
		{name: "user without a password source", url: "http://user@proxy:3128", want: "http://user@proxy:3128"},
		{name: "password from a file, escaped", flags: ProxyPasswordFlags{File: pwFile}, url: "http://user@proxy:3128", want: "http://user:s3cr%40t%2Fpw@proxy:3128"},
		{name: "password from stdin", flags: ProxyPasswordFlags{Stdin: true}, stdin: "pw\n", url: "http://user@proxy:3128", want: "http://user:pw@proxy:3128"},
		{name: "password from stdin, first line only", flags: ProxyPasswordFlags{Stdin: true}, stdin: "pw\nACTIVATION-CODE\n", url: "http://user@proxy:3128", want: "http://user:pw@proxy:3128", wantRest: "ACTIVATION-CODE\n"},
		{name: "password from the environment", env: "pw", url: "http://user@proxy:3128", want: "http://user:pw@proxy:3128"},
		{name: "environment ignored without a user", env: "pw", url: "http://proxy:3128", want: "http://proxy:3128"},
		{name: "password on the command line", url: "http://user:pw@proxy:3128", wantErr: `invalid --proxy "http://user:***@proxy:3128": a password on the command line`},
		{name: "source without a user", flags: ProxyPasswordFlags{File: pwFile}, url: "http://proxy:3128", wantErr: "no proxy URL names a user"},
		{name: "two sources", flags: ProxyPasswordFlags{Stdin: true}, env: "pw", url: "http://user@proxy:3128", wantErr: "more than one place"},
		{name: "empty password", flags: ProxyPasswordFlags{Stdin: true}, stdin: "\n", url: "http://user@proxy:3128", wantErr: "the proxy password is empty"},
		{name: "missing file", flags: ProxyPasswordFlags{File: pwFile + ".nope"}, url: "http://user@proxy:3128", wantErr: "invalid --proxy-password-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value := tt.url
			getenv := func(k string) string {
				if k == ProxyPasswordEnv {
					return tt.env
				}
				return ""
			}
			stdin := strings.NewReader(tt.stdin)
			err := tt.flags.apply(getenv, stdin, proxyFlag{"--proxy", &value})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if fail.KindOf(err) != fail.Usage {
					t.Errorf("got kind %v, want usage", fail.KindOf(err))
				}
				if strings.Contains(err.Error(), "s3cr") || strings.Contains(err.Error(), ":pw@") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if value != tt.want {
				t.Errorf("got URL %q, want %q", value, tt.want)
			}
			if tt.wantRest != "" {
				rest, _ := io.ReadAll(stdin)
				if string(rest) != tt.wantRest {
					t.Errorf("got standard input left %q, want %q", rest, tt.wantRest)
				}
			}
		})
	}
}
