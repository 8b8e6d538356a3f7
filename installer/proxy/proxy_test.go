package proxy

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

const secret = "S3cr3t$pw"

func TestParseProxyURL(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string
		wantErr string // substring of the error; "" means no error
	}{
		{name: "http with port", raw: "http://proxy.example.com:3128", want: "http://proxy.example.com:3128"},
		{name: "https default port", raw: "https://proxy.example.com", want: "https://proxy.example.com:443"},
		{name: "http default port", raw: "http://proxy", want: "http://proxy:80"},
		{name: "trailing slash dropped", raw: "http://proxy:8080/", want: "http://proxy:8080"},
		{name: "upper-case scheme", raw: "HTTP://proxy:8080", want: "http://proxy:8080"},
		{name: "ipv6", raw: "http://[fd00::1]:3128", want: "http://[fd00::1]:3128"},
		{name: "credentials kept", raw: "http://user:pw@proxy:3128", want: "http://user:pw@proxy:3128"},
		{name: "encoded password kept encoded", raw: "http://user:p%40ss@proxy:3128", want: "http://user:p%40ss@proxy:3128"},
		{name: "ftp", raw: "ftp://user:" + secret + "@proxy:21", wantErr: `invalid --http-proxy "ftp://user:***@proxy:21": the scheme must be http or https`},
		{name: "socks", raw: "socks5://proxy:1080", wantErr: "the scheme must be http or https"},
		{name: "no scheme", raw: "proxy.example.com:3128", wantErr: "the scheme must be http or https"},
		{name: "no scheme ip", raw: "10.0.0.1:3128", wantErr: "not a valid URL"},
		{name: "no host", raw: "http://:3128", wantErr: "no host"},
		{name: "only scheme", raw: "http://", wantErr: "no host"},
		{name: "port 0", raw: "http://proxy:0", wantErr: "port 0 is not in the range 1-65535"},
		{name: "port 70000", raw: "http://user:" + secret + "@proxy:70000", wantErr: `"http://user:***@proxy:70000": port 70000 is not in the range 1-65535`},
		{name: "port not a number", raw: "http://proxy:31x8", wantErr: "not a valid URL"},
		{name: "garbage", raw: "::::", wantErr: "not a valid URL"},
		{name: "space", raw: "http://pro xy:3128", wantErr: "not a valid URL"},
		{name: "empty", raw: " ", wantErr: "empty"},
		{name: "path", raw: "http://proxy:3128/pac", wantErr: "no path, query or fragment"},
		{name: "query", raw: "http://proxy:3128?x=1", wantErr: "no path, query or fragment"},
		{name: "unescaped # in password", raw: "http://user:12#" + secret + "@proxy:3128", wantErr: `"http://user:***@proxy:3128": the user info holds an unescaped`},
		{name: "unescaped ? in password", raw: "http://user:12?" + secret + "@proxy:3128", wantErr: `"http://user:***@proxy:3128": the user info holds an unescaped`},
		{name: "bad escape in password", raw: "http://user:ab%zzcd@proxy:3128", wantErr: `"http://user:***@proxy:3128": not a valid URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseProxyURL("--http-proxy", tt.raw)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %v, nil error, want an error containing %q", u, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--http-proxy") {
					t.Errorf("error: got %q, want it to name --http-proxy and contain %q", err, tt.wantErr)
				}
				if fail.KindOf(err) != fail.Usage {
					t.Errorf("kind: got %v, want usage", fail.KindOf(err))
				}
				if fail.HintOf(err) == "" {
					t.Errorf("hint: got none, want an example")
				}
				for _, s := range []string{secret, "ab%zzcd", "%zz"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q shows the password", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %s", err, tt.want)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"http://proxy:3128", "http://proxy:3128"},
		{"http://user@proxy:3128", "http://user@proxy:3128"},
		{"http://user:pw@proxy:3128", "http://user:***@proxy:3128"},
		{"https://us%40er:p%3Aw@[fd00::1]:443", "https://us%40er:***@[fd00::1]:443"},
		{"http://user:" + secret + "@proxy:3128", "http://user:***@proxy:3128"},
		{"http://user:a@b@proxy:3128", "http://user:***@proxy:3128"},
		{"http://user:ab%zz@proxy:3128", "http://user:***@proxy:3128"},
		{"user:ab%zz@proxy:3128", "user:***@proxy:3128"},
		{"not a url", "not a url"},
		// An unescaped '#', '?' or '/' in the password moves it out of the user info
		// as url.Parse reads it; it must still be hidden.
		{"http://bob:1234#pw@proxy:3128", "http://bob:***@proxy:3128"},
		{"http://bob:12?pw@proxy:3128", "http://bob:***@proxy:3128"},
		{"http://bob:12/pw@proxy:3128", "http://bob:***@proxy:3128"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMergeNoProxy(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "empty", in: "", want: "169.254.169.254,fd00:ec2::254"},
		{name: "user entries first", in: "localhost,.corp.example.com", want: "localhost,.corp.example.com,169.254.169.254,fd00:ec2::254"},
		{name: "duplicates and blanks", in: " a, b,,A ,a,", want: "a,b,169.254.169.254,fd00:ec2::254"},
		{name: "imds already there", in: "fd00:ec2::254,10.0.0.0/8,169.254.169.254", want: "fd00:ec2::254,10.0.0.0/8,169.254.169.254"},
		{name: "bracketed ipv6 is not the bare one", in: "[fd00:ec2::254]", want: "[fd00:ec2::254],169.254.169.254,fd00:ec2::254"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MergeNoProxy(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseNoProxy(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "fine", in: "localhost, *.corp, 10.0.0.0/8, host:8080", want: "localhost,*.corp,10.0.0.0/8,host:8080,169.254.169.254,fd00:ec2::254"},
		{name: "space inside", in: "a b", wantErr: `invalid --no-proxy entry "a b": character " " is not allowed`},
		{name: "quote", in: `a,"b"`, wantErr: `character "\"" is not allowed`},
		{name: "equals", in: "a=b", wantErr: `character "=" is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNoProxy("--no-proxy", tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || fail.KindOf(err) != fail.Usage {
					t.Fatalf("got %q, %v, want a usage error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v, want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name     string
		in       Settings
		want     Settings
		wantErr  string
		wantWarn []string // substrings of the log, each required
	}{
		{
			name: "both",
			in:   Settings{HTTPProxy: "http://p:3128", HTTPSProxy: "http://p:3128", NoProxy: "localhost"},
			want: Settings{HTTPProxy: "http://p:3128", HTTPSProxy: "http://p:3128", NoProxy: "localhost,169.254.169.254,fd00:ec2::254"},
		},
		{
			name:     "https proxy warns",
			in:       Settings{HTTPSProxy: "https://user:" + secret + "@p"},
			want:     Settings{HTTPSProxy: "https://user:" + secret + "@p:443", NoProxy: "169.254.169.254,fd00:ec2::254"},
			wantWarn: []string{"level=WARN", "Session Manager does not work through an HTTPS proxy", "proxy=https://user:***@p:443"},
		},
		{
			name:     "no https_proxy warns",
			in:       Settings{HTTPProxy: "http://p:3128"},
			want:     Settings{HTTPProxy: "http://p:3128", NoProxy: "169.254.169.254,fd00:ec2::254"},
			wantWarn: []string{"no https_proxy"},
		},
		{name: "nothing", in: Settings{NoProxy: "a"}, wantErr: "no proxy URL given"},
		{name: "bad url", in: Settings{HTTPSProxy: "ftp://p"}, wantErr: `invalid https_proxy "ftp://p"`},
		{name: "bad no_proxy", in: Settings{HTTPSProxy: "http://p:1", NoProxy: "a;b"}, wantErr: `invalid no_proxy entry "a;b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			got, err := tt.in.Normalize(slog.New(slog.NewTextHandler(&log, nil)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v, want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, w := range tt.wantWarn {
				if !strings.Contains(log.String(), w) {
					t.Errorf("log: got %q, want it to contain %q", log.String(), w)
				}
			}
			if strings.Contains(log.String(), secret) {
				t.Errorf("log shows the password: %s", log.String())
			}
		})
	}
}
