package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"
)

// TestMain registers the real entry point as the program "ssm-setup" for the scripts.
func TestMain(m *testing.M) {
	// No test of this package may reach real instance metadata: EC2 detection is
	// tested with httptest stand-ins through AWS_EC2_METADATA_SERVICE_ENDPOINT.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	testscript.Main(m, map[string]func(){
		// A failing run ends its stderr with "[exit code N]" so scripts can assert the
		// exact documented exit code (testscript itself only tells zero from non-zero).
		"ssm-setup": func() {
			code := Main()
			if code != 0 {
				fmt.Fprintf(os.Stderr, "[exit code %d]\n", code)
			}
			os.Exit(code)
		},
	})
}

// TestScripts runs the end-to-end scripts in testdata/scripts over temp roots.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/scripts",
		Setup: func(env *testscript.Env) error {
			// Keep the host's AWS configuration and instance metadata out of every script.
			env.Setenv("AWS_CONFIG_FILE", filepath.Join(env.WorkDir, ".aws-config"))
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(env.WorkDir, ".aws-credentials"))
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			return nil
		},
	})
}

func TestOutputFromArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"none", []string{"detect", "--bogus"}, ""},
		{"long", []string{"detect", "--bogus", "--output", "json"}, "json"},
		{"long with =", []string{"--output=json", "nosuch"}, "json"},
		{"short", []string{"-o", "json", "nosuch"}, "json"},
		{"short joined", []string{"-ojson", "nosuch"}, "json"},
		{"short with =", []string{"-o=json", "nosuch"}, "json"},
		{"short in a group", []string{"-qo", "json", "nosuch"}, "json"},
		{"last wins", []string{"-o", "json", "--output", "text"}, "text"},
		{"missing value", []string{"detect", "--output"}, ""},
		{"after -- is an argument", []string{"detect", "--", "-o", "json"}, ""},
		{"other long flags", []string{"--root", "/mnt", "--dry-run"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outputFromArgs(tt.args); got != tt.want {
				t.Errorf("outputFromArgs(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

// TestExecuteKinds checks that only Cobra's own checks become usage errors: an error a
// command returns keeps its kind (or exit 1) even when its text looks like Cobra's.
func TestExecuteKinds(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		{"command error that reads like a usage error", []string{"boom"}, 1, "", "ssm-setup: open /dev/x: invalid argument\n"},
		{"command error in json", []string{"boom", "-o", "json"}, 1, `"kind": "unexpected"`, "invalid argument"},
		{"wrong argument count", []string{"boom", "extra"}, 2, "", `unknown command "extra"`},
		{"missing required flag", []string{"needs", "-o", "json"}, 2, `"exit_code": 2`, `required flag(s) "name" not set`},
		{"unknown flag before --output", []string{"boom", "--nope", "--output", "json"}, 2, `"kind": "usage"`, "unknown flag: --nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			f := newFactory(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			root := newRootCmd(f)
			root.AddCommand(&cobra.Command{Use: "boom", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error {
				return errors.New("open /dev/x: invalid argument")
			}})
			needs := &cobra.Command{Use: "needs", RunE: func(*cobra.Command, []string) error { return nil }}
			needs.Flags().String("name", "", "")
			needs.MarkFlagRequired("name")
			root.AddCommand(needs)
			code := executeRoot(context.Background(), f, root, tt.args)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout %q, want it to contain %q", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tt.wantErr)
			}
			if strings.Count(errOut.String(), "ssm-setup: ") != 1 {
				t.Errorf("stderr %q: want the error printed exactly once", errOut.String())
			}
		})
	}
}
