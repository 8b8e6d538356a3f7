package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// TestREADMEExitCodes keeps the README's exit-code table and `help exit-codes` (both
// from fail.Kind.Describe) the same: scripts rely on the documented codes.
func TestREADMEExitCodes(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, k := range fail.Kinds {
		row := fmt.Sprintf("| %d | %s |", int(k), k.Describe())
		if !strings.Contains(readme, row) {
			t.Errorf("README.md lacks the exit-code row %q", row)
		}
	}
}
