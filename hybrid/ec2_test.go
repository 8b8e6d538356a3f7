package hybrid

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/google/go-cmp/cmp"
)

// fakeIMDS is a stand-in instance metadata service (IMDSv2): a token from PUT
// /latest/api/token, then GETs that must carry it.
type fakeIMDS struct {
	t       *testing.T
	iamInfo string // "" answers 404: no instance profile
	mu      sync.Mutex
	paths   []string
}

const imdsToken = "test-token"

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
		io.WriteString(w, imdsToken)
		return
	}
	if r.Header.Get("X-Aws-Ec2-Metadata-Token") != imdsToken {
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/latest/dynamic/instance-identity/document":
		io.WriteString(w, `{"instanceId":"i-0123456789abcdef0","region":"eu-central-1","accountId":"123456789012"}`)
	case "/latest/meta-data/iam/info":
		if f.iamInfo == "" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, f.iamInfo)
	default:
		http.NotFound(w, r)
	}
}

func TestDetectEC2(t *testing.T) {
	tests := []struct {
		name    string
		iamInfo string
		want    *EC2Instance
	}{
		{"with profile", `{"Code":"Success","InstanceProfileArn":"arn:aws:iam::123456789012:instance-profile/SSM","InstanceProfileId":"AIPA"}`,
			&EC2Instance{InstanceID: "i-0123456789abcdef0", Region: "eu-central-1", InstanceProfile: "arn:aws:iam::123456789012:instance-profile/SSM"}},
		{"without profile", "", &EC2Instance{InstanceID: "i-0123456789abcdef0", Region: "eu-central-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t, false)
			t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
			imds := &fakeIMDS{t: t, iamInfo: tt.iamInfo}
			srv := httptest.NewServer(imds)
			defer srv.Close()
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
			got, err := DetectEC2(context.Background(), nil)
			if err != nil {
				t.Fatalf("DetectEC2: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("instance (-want +got):\n%s", diff)
			}
			imds.mu.Lock()
			defer imds.mu.Unlock()
			if len(imds.paths) == 0 || imds.paths[0] != "PUT /latest/api/token" {
				t.Errorf("got requests %v, want the token PUT first", imds.paths)
			}
		})
	}
}

func TestDetectEC2NotEC2(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		awsEnv(t, false) // sets AWS_EC2_METADATA_DISABLED=true
		// A working metadata service: only the setting keeps detection away from it.
		imds := &fakeIMDS{t: t}
		srv := httptest.NewServer(imds)
		defer srv.Close()
		t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
		got, err := DetectEC2(context.Background(), nil)
		if got != nil || err != nil {
			t.Errorf("got %+v, %v; want nil, nil", got, err)
		}
		imds.mu.Lock()
		defer imds.mu.Unlock()
		if len(imds.paths) != 0 {
			t.Errorf("got requests %v with AWS_EC2_METADATA_DISABLED=true, want none", imds.paths)
		}
	})
	t.Run("unreachable, within the budget", func(t *testing.T) {
		awsEnv(t, false)
		t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
		// A server that never answers: detection must give up within EC2Budget.
		block := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(block)
		t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
		start := time.Now()
		got, err := DetectEC2(context.Background(), nil)
		if got != nil || err != nil {
			t.Errorf("got %+v, %v; want nil, nil", got, err)
		}
		if d := time.Since(start); d > EC2Budget+500*time.Millisecond {
			t.Errorf("detection took %v, want at most about %v", d, EC2Budget)
		}
	})
}

// TestIMDSNoProxy: instance metadata is never asked through a proxy, whatever
// HTTP_PROXY says (Go's proxy support would otherwise send it there).
func TestIMDSNoProxy(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.example:3128")
	bc, ok := imdsOptions(nil).HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("got HTTP client %T, want the SDK's BuildableClient", imdsOptions(nil).HTTPClient)
	}
	if proxy := bc.GetTransport().Proxy; proxy != nil {
		req, _ := http.NewRequest("GET", "http://169.254.169.254/latest/api/token", nil)
		u, _ := proxy(req)
		t.Errorf("the metadata client has a proxy function (it picks %v); want none", u)
	}
}
