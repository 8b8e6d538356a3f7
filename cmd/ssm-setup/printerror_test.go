package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// TestPrintErrorWithResult: with --output json a failed command that did part of its
// work prints one object holding both the error and that partial result.
func TestPrintErrorWithResult(t *testing.T) {
	var out, errOut bytes.Buffer
	f := newFactory(IOStreams{Out: &out, ErrOut: &errOut})
	f.Opts.Output = "json"
	err := withResult(fail.WithHint(fail.New(fail.PackageManager, "uninstall failed in 1 of 3 steps"), "fix it"), map[string]any{"changed": true})
	printError(f, err)
	if got := fail.Code(err); got != int(fail.PackageManager) {
		t.Errorf("exit code: got %d, want %d", got, fail.PackageManager)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out.String())
	}
	want := map[string]any{
		"error":  map[string]any{"message": "uninstall failed in 1 of 3 steps", "hint": "fix it", "kind": "package_manager", "exit_code": float64(6)},
		"result": map[string]any{"changed": true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	if errOut.String() != "ssm-setup: uninstall failed in 1 of 3 steps\nhint: fix it\n" {
		t.Errorf("stderr: got %q", errOut.String())
	}
}
