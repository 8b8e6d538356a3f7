package main

import (
	"net/http"
	"testing"
)

func TestProxyFunc(t *testing.T) {
	proxyFor := proxyFunc("http://proxy.example:3128", "s3.internal.example,.corp.example")
	tests := []struct {
		name string
		url  string
		want string // proxy URL, "" = direct
	}{
		{name: "bucket over https", url: "https://amazon-ssm-us-east-1.s3.us-east-1.amazonaws.com/latest/VERSION", want: "http://proxy.example:3128"},
		{name: "plain http mirror", url: "http://mirror.example/latest/VERSION", want: "http://proxy.example:3128"},
		{name: "no_proxy host", url: "https://s3.internal.example/x", want: ""},
		{name: "no_proxy domain", url: "https://mirror.corp.example/x", want: ""},
		{name: "instance metadata always direct", url: "http://169.254.169.254/latest/api/token", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := proxyFor(req)
			if err != nil {
				t.Fatal(err)
			}
			gotS := ""
			if got != nil {
				gotS = got.String()
			}
			if gotS != tt.want {
				t.Errorf("proxy for %s: got %q, want %q", tt.url, gotS, tt.want)
			}
		})
	}
}
