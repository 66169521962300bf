package tune

import (
	"strings"
	"testing"

	"lambdabench/bench/internal/matrix"
)

func TestParseApply(t *testing.T) {
	tests := []struct {
		in, alias, wantErr string
		none               bool
	}{
		{in: "", none: true},
		{in: "latest"},
		{in: "$LATEST"},
		{in: "alias:live", alias: "live"},
		{in: "alias:prod_2-b", alias: "prod_2-b"},
		{in: "alias:", wantErr: "not a Lambda alias name"},
		{in: "alias:42", wantErr: "not a Lambda alias name"},
		{in: "alias:a/b", wantErr: "not a Lambda alias name"},
		{in: "alias:bench-tune-x", wantErr: "tune's own"},
		{in: "true", wantErr: "want latest"},
	}
	for _, tt := range tests {
		a, err := ParseApply(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: %v, want %q", tt.in, err, tt.wantErr)
			}
		case err != nil || (a == nil) != tt.none || (a != nil && a.Alias != tt.alias):
			t.Errorf("%q: %+v, %v", tt.in, a, err)
		}
	}
}

// The verdict is not applied when a gate failed, nor when it left
// configurations out for errors, unless --allowed-errors said how many
// failures are fine.
func TestApplyRefusal(t *testing.T) {
	clean := matrix.Summary{Results: []matrix.Result{{Config: matrix.Config{Arch: "arm64", MemoryMB: 512}}}}
	excluded := matrix.Summary{Results: []matrix.Result{{Config: matrix.Config{Arch: "arm64", MemoryMB: 128}, Excluded: "3 failed invocations"}}}
	gate := func(matrix.Summary) string { return "a --threshold was crossed" }
	tests := []struct {
		name string
		sum  matrix.Summary
		o    Options
		want string
	}{
		{"clean", clean, Options{}, ""},
		{"excluded", excluded, Options{}, "left out arm64 128 MB"},
		{"excluded, errors allowed", excluded, Options{AllowedErrorsSet: true}, ""},
		{"gate", clean, Options{ApplyGate: gate}, "threshold"},
	}
	for _, tt := range tests {
		if got := applyRefusal(tt.sum, tt.o); (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
