package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// FindRepoRoot walks up from dir to the folder that holds go.work and the
// function module: the root of this project's checkout.
func FindRepoRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find project root: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.work")) && fileExists(filepath.Join(d, "function", "go.mod")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no project root (go.work with function/) above %s: run bench from the repository, or pass --binary", abs)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// HostArch is this machine's architecture as Lambda names it.
func HostArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// BuildFunction builds the function binary for linux/goarch into
// dist/function/linux-<goarch>/bootstrap under root, exactly as
// `make function` does, and returns its path. The Go build cache makes an
// up-to-date build take about a second, so it always builds: a benchmark never
// runs a stale binary. The compiler's output goes to log.
func BuildFunction(ctx context.Context, root, goarch string, log io.Writer) (string, error) {
	out := filepath.Join(root, "dist", "function", "linux-"+goarch, "bootstrap")
	if err := buildBootstrap(ctx, "function", filepath.Join(root, "function"), ".", out, goarch, log); err != nil {
		return "", err
	}
	return out, nil
}

// buildBootstrap builds the Go main package pkg of the module in dir as a provided.al2023
// bootstrap for linux/goarch at out, with `make function`'s flags (static, lambda.norpc,
// trimmed, stripped) and the module on its own (GOWORK=off). what names it in errors.
func buildBootstrap(ctx context.Context, what, dir, pkg, out, goarch string, log io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", what, err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOWORK=off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("build %s for linux/%s failed (see the compiler output above): %w", what, goarch, err)
		}
		return fmt.Errorf("build %s: %w (is Go installed and on PATH?)", what, err)
	}
	return nil
}
