package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
