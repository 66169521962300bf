package main

import (
	"errors"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/threshold"
)

// TestStandaloneBinary builds bench as a user installs it (go build
// -trimpath), copies it into an empty folder and runs it there with no Go
// toolchain on PATH: `load --url` draws its charts and exits 0, and a
// crossed --threshold exits 99.
func TestStandaloneBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bench: not in -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building bench needs the go command: %v", err)
	}
	built := filepath.Join(t.TempDir(), "bench")
	build := exec.CommandContext(testContext(t, 5*time.Minute), gobin, "build", "-trimpath", "-o", built, ".")
	build.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -trimpath: %v\n%s", err, out)
	}
	empty := t.TempDir()
	bin := filepath.Join(empty, "bench")
	b, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(2 * time.Millisecond)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name     string
		extra    []string
		wantExit int
	}{
		{name: "charts drawn", wantExit: 0},
		{name: "threshold crossed", extra: []string{"--threshold", "p50<1us"}, wantExit: threshold.ExitCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(empty, strings.ReplaceAll(tt.name, " ", "-"))
			args := append([]string{"load", "--url", "api=" + srv.URL + "/", "--rate", "0s:20,1s:20", "--out", out}, tt.extra...)
			cmd := exec.CommandContext(testContext(t, time.Minute), bin, args...)
			cmd.Dir = empty
			// No Go toolchain, no checkout, no Go environment.
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + empty}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantExit {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantExit, stderr.String())
			}
			if strings.Contains(stderr.String(), "charts not drawn") {
				t.Errorf("a chart was not drawn:\n%s", stderr.String())
			}
			f, err := os.Open(filepath.Join(out, "load-load.png"))
			if err != nil {
				t.Fatalf("no chart: %v; stderr:\n%s", err, stderr.String())
			}
			defer f.Close()
			if _, err := png.Decode(f); err != nil {
				t.Errorf("load-load.png: %v", err)
			}
		})
	}
}
