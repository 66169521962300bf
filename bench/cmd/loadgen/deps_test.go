package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoPlotting: the generator, deployed as a Lambda function and
// cold-started for every window, draws nothing, so it links neither the
// chart renderer nor the plotting library.
func TestLinksNoPlotting(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "gonum.org/v1/plot") || strings.HasSuffix(dep, "/internal/charts/render") {
			t.Errorf("cmd/loadgen depends on %s", dep)
		}
	}
}
