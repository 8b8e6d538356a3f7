package proxy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const noProxy = "localhost,169.254.169.254,fd00:ec2::254"

var (
	plain = Settings{HTTPProxy: "http://proxy:3128", HTTPSProxy: "http://proxy:3128", NoProxy: noProxy}
	creds = Settings{HTTPProxy: "http://user:" + secret + "@proxy:3128", HTTPSProxy: "http://user:" + secret + "@proxy:3128", NoProxy: noProxy}
)

const plainDropIn = header + `[Service]
Environment="http_proxy=http://proxy:3128"
Environment="HTTP_PROXY=http://proxy:3128"
Environment="https_proxy=http://proxy:3128"
Environment="HTTPS_PROXY=http://proxy:3128"
Environment="no_proxy=localhost,169.254.169.254,fd00:ec2::254"
Environment="NO_PROXY=localhost,169.254.169.254,fd00:ec2::254"
`

const credsDropIn = header + `# The proxy URL holds credentials, so the values are in /etc/amazon/ssm/ssm-setup-proxy.env (mode 0600).
[Service]
EnvironmentFile=/etc/amazon/ssm/ssm-setup-proxy.env
`

const credsEnvFile = header + `# Read by the agent's service through EnvironmentFile=; mode 0600: it holds a password.
http_proxy="http://user:S3cr3t\$pw@proxy:3128"
HTTP_PROXY="http://user:S3cr3t\$pw@proxy:3128"
https_proxy="http://user:S3cr3t\$pw@proxy:3128"
HTTPS_PROXY="http://user:S3cr3t\$pw@proxy:3128"
no_proxy="localhost,169.254.169.254,fd00:ec2::254"
NO_PROXY="localhost,169.254.169.254,fd00:ec2::254"
`

// bs turns a string into file content; "<none>" is a missing file (nil).
func bs(s string) []byte {
	if s == "<none>" {
		return nil
	}
	return []byte(s)
}

func str(b []byte) string {
	if b == nil {
		return "<none>"
	}
	return string(b)
}

type renderFunc func([]byte, Settings) ([]byte, bool, error)

func TestRender(t *testing.T) {
	tests := []struct {
		name        string
		render      renderFunc
		cur         string
		s           Settings
		want        string
		wantChanged bool
	}{
		{name: "drop-in fresh", render: RenderDropIn, cur: "<none>", s: plain, want: plainDropIn, wantChanged: true},
		{name: "drop-in unchanged", render: RenderDropIn, cur: plainDropIn, s: plain, want: plainDropIn},
		{name: "drop-in change", render: RenderDropIn, cur: strings.ReplaceAll(plainDropIn, "3128", "8080"), s: plain, want: plainDropIn, wantChanged: true},
		{name: "drop-in only http", render: RenderDropIn, cur: "<none>", s: Settings{HTTPProxy: "http://p:1", NoProxy: "a"},
			want: header + "[Service]\nEnvironment=\"http_proxy=http://p:1\"\nEnvironment=\"HTTP_PROXY=http://p:1\"\nEnvironment=\"no_proxy=a\"\nEnvironment=\"NO_PROXY=a\"\n", wantChanged: true},
		{name: "drop-in percent escaped", render: RenderDropIn, cur: "<none>", s: Settings{HTTPSProxy: "http://[fe80::1%25eth0]:3128"},
			want: header + "[Service]\nEnvironment=\"https_proxy=http://[fe80::1%%25eth0]:3128\"\nEnvironment=\"HTTPS_PROXY=http://[fe80::1%%25eth0]:3128\"\n", wantChanged: true},
		{name: "drop-in with credentials", render: RenderDropIn, cur: plainDropIn, s: creds, want: credsDropIn, wantChanged: true},
		{name: "drop-in unset", render: RenderDropIn, cur: plainDropIn, s: Settings{}, want: "<none>", wantChanged: true},
		{name: "drop-in unset missing", render: RenderDropIn, cur: "<none>", s: Settings{}, want: "<none>"},
		{name: "env file with credentials", render: RenderEnvFile, cur: "<none>", s: creds, want: credsEnvFile, wantChanged: true},
		{name: "env file unchanged", render: RenderEnvFile, cur: credsEnvFile, s: creds, want: credsEnvFile},
		{name: "env file without credentials goes", render: RenderEnvFile, cur: credsEnvFile, s: plain, want: "<none>", wantChanged: true},
		{name: "env file user only is a credential", render: RenderEnvFile, cur: "<none>", s: Settings{HTTPProxy: "http://u@p:1"},
			want: header + "# Read by the agent's service through EnvironmentFile=; mode 0600: it holds a password.\nhttp_proxy=\"http://u@p:1\"\nHTTP_PROXY=\"http://u@p:1\"\n", wantChanged: true},
		{name: "env file unset", render: RenderEnvFile, cur: credsEnvFile, s: Settings{}, want: "<none>", wantChanged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := tt.render(bs(tt.cur), tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, str(got)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed: got %v, want %v", changed, tt.wantChanged)
			}
		})
	}
}

func TestDropInHidesPassword(t *testing.T) {
	got, _, err := RenderDropIn(nil, creds)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), secret) || strings.Contains(string(got), "Environment=\"") {
		t.Errorf("drop-in holds the settings although a URL has credentials:\n%s", got)
	}
}

const upstartBlock = UpstartBegin + "\n" + header + `env http_proxy=http://proxy:3128
env HTTP_PROXY=http://proxy:3128
env https_proxy=http://proxy:3128
env HTTPS_PROXY=http://proxy:3128
env no_proxy=localhost,169.254.169.254,fd00:ec2::254
env NO_PROXY=localhost,169.254.169.254,fd00:ec2::254
` + UpstartEnd + "\n"

func TestEditUpstartOverride(t *testing.T) {
	other := "manual\n# keep me  \r\nenv FOO=bar\n"
	tests := []struct {
		name        string
		cur         string
		s           Settings
		want        string
		wantChanged bool
		wantErr     string
	}{
		{name: "fresh", cur: "<none>", s: plain, want: upstartBlock, wantChanged: true},
		{name: "unchanged", cur: upstartBlock, s: plain, want: upstartBlock},
		{name: "appended after other lines", cur: other, s: plain, want: other + upstartBlock, wantChanged: true},
		{name: "newline added to a last line without one", cur: "manual", s: plain, want: "manual\n" + upstartBlock, wantChanged: true},
		{name: "replaced in place", cur: "a\n" + strings.ReplaceAll(upstartBlock, "3128", "8080") + "b\n", s: plain, want: "a\n" + upstartBlock + "b\n", wantChanged: true},
		{name: "unchanged in the middle", cur: "a\n" + upstartBlock + "b", s: plain, want: "a\n" + upstartBlock + "b"},
		{name: "unset keeps other lines", cur: other + upstartBlock + "tail\n", s: Settings{}, want: other + "tail\n", wantChanged: true},
		{name: "unset removes a file left empty", cur: "\n" + upstartBlock, s: Settings{}, want: "<none>", wantChanged: true},
		{name: "unset without block", cur: other, s: Settings{}, want: other},
		{name: "unset missing file", cur: "<none>", s: Settings{}, want: "<none>"},
		{name: "begin without end", cur: "a\n" + UpstartBegin + "\nenv x=y\n", s: plain, wantErr: `"# BEGIN ssm-setup proxy" on line 2 has no "# END ssm-setup proxy" after it`},
		{name: "end without begin", cur: UpstartEnd + "\n", s: Settings{}, wantErr: "without a"},
		{name: "two blocks", cur: upstartBlock + upstartBlock, s: plain, wantErr: "a second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := EditUpstartOverride(bs(tt.cur), tt.s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v, want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, str(got)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed: got %v, want %v", changed, tt.wantChanged)
			}
		})
	}
}

func TestEditUpstartOverrideRefusesUnsafeValues(t *testing.T) {
	_, _, err := EditUpstartOverride(nil, Settings{HTTPProxy: "http://p:1", NoProxy: "a b"})
	if err == nil {
		t.Fatalf("got nil error, want one for a value with a space")
	}
}

// TestReadBack checks that what the renderers write parses back to the settings.
func TestReadBack(t *testing.T) {
	odd := Settings{HTTPProxy: `http://u:a"b\c$d%25e` + "`" + `@p:1`, NoProxy: "x"}
	for _, s := range []Settings{plain, creds, odd} {
		t.Run(s.Masked().HTTPProxy, func(t *testing.T) {
			if !s.hasCredentials() {
				b, _, err := RenderDropIn(nil, s)
				if err != nil {
					t.Fatal(err)
				}
				vars, envFile := parseDropIn(b)
				if diff := cmp.Diff(s, settingsFrom(vars)); diff != "" || envFile != "" {
					t.Errorf("drop-in read back (-want +got):\n%s\nenvironment file %q", diff, envFile)
				}
				ub, _, err := EditUpstartOverride(nil, s)
				if err != nil {
					t.Fatal(err)
				}
				uvars, found := parseUpstartBlock(ub)
				if diff := cmp.Diff(s, settingsFrom(uvars)); diff != "" || !found {
					t.Errorf("upstart read back (-want +got):\n%s", diff)
				}
				return
			}
			b, _, err := RenderDropIn(nil, s)
			if err != nil {
				t.Fatal(err)
			}
			if _, envFile := parseDropIn(b); envFile != EnvFilePath {
				t.Errorf("environment file: got %q, want %q", envFile, EnvFilePath)
			}
			eb, _, err := RenderEnvFile(nil, s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, settingsFrom(parseEnvFile(eb))); diff != "" {
				t.Errorf("environment file read back (-want +got):\n%s", diff)
			}
		})
	}
}
