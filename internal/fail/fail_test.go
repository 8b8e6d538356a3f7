package fail

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodes(t *testing.T) {
	// The exit codes are a documented interface: never renumber them.
	want := map[Kind]int{Unexpected: 1, Usage: 2, Unsupported: 3, Verification: 4, Download: 5,
		PackageManager: 6, Registration: 7, Locked: 8, NeedRoot: 9, Unhealthy: 10}
	if len(Kinds) != len(want) {
		t.Fatalf("Kinds has %d kinds, want %d", len(Kinds), len(want))
	}
	seen := map[string]bool{}
	for i, k := range Kinds {
		if int(k) != want[k] || int(k) != i+1 {
			t.Errorf("kind %s is %d, want %d in exit-code order", k, int(k), want[k])
		}
		if k.Describe() == "" || k.String() == "" || seen[k.String()] {
			t.Errorf("kind %d: name %q (unique?) description %q", int(k), k.String(), k.Describe())
		}
		seen[k.String()] = true
	}
	if got := Kind(42).String(); got != "kind(42)" {
		t.Errorf("unknown kind names itself %q", got)
	}
}

func TestKindCodeHint(t *testing.T) {
	base := errors.New("connection refused")
	tests := []struct {
		name     string
		err      error
		wantKind Kind
		wantCode int
		wantHint string
		wantMsg  string
	}{
		{"nil", nil, Unexpected, 0, "", ""},
		{"plain error", base, Unexpected, 1, "", "connection refused"},
		{"wrapped", Wrap(Download, base), Download, 5, "", "connection refused"},
		{"wrap nil", Wrap(Download, nil), Unexpected, 0, "", ""},
		{"formatted", New(Verification, "digest of %s: got %s, want %s", "a.deb", "ab", "cd"), Verification, 4, "", "digest of a.deb: got ab, want cd"},
		{"usagef", Usagef("invalid --arch %q", "sparc"), Usage, 2, "", `invalid --arch "sparc"`},
		{"hint keeps the kind", WithHint(New(NeedRoot, "install"), "re-run as root"), NeedRoot, 9, "re-run as root", "install"},
		{"hint on a plain error", WithHint(base, "check the network"), Unexpected, 1, "check the network", "connection refused"},
		{"hint nil", WithHint(nil, "x"), Unexpected, 0, "", ""},
		{"outermost kind wins", Wrap(Registration, fmt.Errorf("register: %w", Wrap(Download, base))), Registration, 7, "", "register: connection refused"},
		{"kind through fmt wrapping", fmt.Errorf("install: %w", New(PackageManager, "dpkg failed")), PackageManager, 6, "", "install: dpkg failed"},
		{"inner hint found", fmt.Errorf("outer: %w", WithHint(New(Locked, "locked"), "wait")), Locked, 8, "wait", "outer: locked"},
		{"outer hint first", WithHint(WithHint(New(Usage, "x"), "inner"), "outer"), Usage, 2, "outer", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil && tt.wantCode == 0 {
				if Code(tt.err) != 0 || HintOf(tt.err) != "" {
					t.Errorf("nil error: code %d hint %q", Code(tt.err), HintOf(tt.err))
				}
				return
			}
			if got := KindOf(tt.err); got != tt.wantKind {
				t.Errorf("KindOf = %v, want %v", got, tt.wantKind)
			}
			if got := Code(tt.err); got != tt.wantCode {
				t.Errorf("Code = %d, want %d", got, tt.wantCode)
			}
			if got := HintOf(tt.err); got != tt.wantHint {
				t.Errorf("HintOf = %q, want %q", got, tt.wantHint)
			}
			if got := tt.err.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
		})
	}
	if !errors.Is(Wrap(Download, base), base) {
		t.Error("Wrap hides the wrapped error from errors.Is")
	}
}
