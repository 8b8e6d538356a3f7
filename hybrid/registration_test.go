package hybrid

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

func TestRegistrationStatus(t *testing.T) {
	ec2 := &EC2Instance{InstanceID: "i-0123456789abcdef0", Region: "eu-west-1"}
	tests := []struct {
		name string
		file string // registration file content; "" for none
		ec2  *EC2Instance
		want Registration
	}{
		{"none", "", nil, Registration{Type: TypeNone}},
		{"ec2", "", ec2, Registration{Type: TypeEC2, ManagedInstanceID: "i-0123456789abcdef0", Region: "eu-west-1"}},
		{"hybrid", `{"ManagedInstanceID":"` + oldID + `","Region":"us-east-1"}`, nil, Registration{Type: TypeHybrid, ManagedInstanceID: oldID, Region: "us-east-1"}},
		{"hybrid wins on EC2", `{"ManagedInstanceID":"` + oldID + `","Region":"us-east-1"}`, ec2, Registration{Type: TypeHybrid, ManagedInstanceID: oldID, Region: "us-east-1"}},
		{"corrupt file", `{"ManagedInstanceID":`, nil, Registration{Type: TypeNone}},
		{"not an mi- id", `{"ManagedInstanceID":"i-123","Region":"us-east-1"}`, nil, Registration{Type: TypeNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t)
			if tt.file != "" {
				writeFile(t, root, RegistrationFile, tt.file, 0o600)
			}
			if diff := cmp.Diff(tt.want, RegistrationStatus(root, tt.ec2)); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadActivationCode(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good", "  Secr3tCodeXyz0123456\n")
	empty := file("empty", " \n")
	twoLines := file("two", "Secr3tCode\nsecond\n")
	big := file("big", strings.Repeat("x", maxCodeBytes+1))
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == ActivationCodeEnv {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		name     string
		file     string
		stdin    string
		useStdin bool
		env      string
		want     string
		wantErr  string
	}{
		{"file", good, "", false, "", testCode, ""},
		{"stdin", "", "Secr3tCodeXyz0123456\r\n", true, "", testCode, ""},
		{"env", "", "", false, " Secr3tCodeXyz0123456 ", testCode, ""},
		{"none", "", "", false, "", "", "activation code required"},
		{"two sources", good, "", false, "x", "", "given 2 ways (--activation-code-file, SSM_ACTIVATION_CODE)"},
		{"three sources", good, "x", true, "x", "", "given 3 ways"},
		{"empty file", empty, "", false, "", "", "activation code from file " + empty + " is empty"},
		{"empty stdin", "", "", true, "", "", "from standard input is empty"},
		{"two lines", twoLines, "", false, "", "", "spaces or line breaks inside"},
		{"missing file", filepath.Join(dir, "nope"), "", false, "", "", "read the activation code file"},
		{"huge file", big, "", false, "", "", "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadActivationCode(tt.file, strings.NewReader(tt.stdin), tt.useStdin, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want an error containing %q", got, err, tt.wantErr)
				}
				if fail.KindOf(err) != fail.Usage {
					t.Errorf("got kind %v, want usage", fail.KindOf(err))
				}
				if strings.Contains(err.Error(), "Secr3tCode") {
					t.Errorf("error shows the code: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestAgentBinaryFor(t *testing.T) {
	for via, want := range map[string]string{"snap": SnapAgentBinary, "deb": AgentBinary, "rpm": AgentBinary, "": AgentBinary} {
		if got := AgentBinaryFor(via); got != want {
			t.Errorf("AgentBinaryFor(%q) = %q, want %q", via, got, want)
		}
	}
}
