package tune

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// GOARCH is Go's name for a Lambda architecture.
func GOARCH(arch string) string {
	if arch == "arm64" {
		return "arm64"
	}
	return "amd64"
}

// BuildError is a --source that does not build.
type BuildError struct {
	Dir, Arch string
	Output    string
}

func (e *BuildError) Error() string {
	out := strings.TrimSpace(e.Output)
	if i := strings.IndexByte(out, '\n'); i >= 0 {
		out = out[:i] + " …"
	}
	return fmt.Sprintf("--source %s does not build for linux/%s: %s", e.Dir, GOARCH(e.Arch), out)
}

// BuildSource builds the Go main package in dir as a provided.al2023
// bootstrap for linux/<arch>, with the flags `make function` uses
// (CGO_ENABLED=0, -tags lambda.norpc -trimpath -ldflags "-s -w"), into
// outDir/linux-<goarch>/bootstrap.
func BuildSource(ctx context.Context, dir, arch, outDir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--source: %w", err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", &BuildError{Dir: dir, Arch: arch, Output: "not a folder"}
	}
	// The compiler runs in dir: the output path must not be relative.
	out, err := filepath.Abs(filepath.Join(outDir, "linux-"+GOARCH(arch), "bootstrap"))
	if err != nil {
		return "", fmt.Errorf("build: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("build: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+GOARCH(arch))
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", &BuildError{Dir: dir, Arch: arch, Output: buf.String()}
		}
		return "", fmt.Errorf("build %s: %w (is Go installed and on PATH?)", dir, err)
	}
	return out, nil
}

// BinaryError is a --binary that is not a Linux executable for the wanted
// architecture.
type BinaryError struct{ Msg string }

func (e *BinaryError) Error() string { return e.Msg }

// BinaryArch reads an executable's ELF header and returns its Lambda
// architecture; anything but a Linux x86_64 or arm64 executable is an error.
func BinaryArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", &BinaryError{fmt.Sprintf("--binary %s: no such file", path)}
		}
		return "", &BinaryError{fmt.Sprintf("--binary %s is not a Linux executable (ELF): %v", path, err)}
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", &BinaryError{fmt.Sprintf("--binary %s is an ELF %s, not an executable", path, f.Type)}
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return "", &BinaryError{fmt.Sprintf("--binary %s is built for %s, not Linux", path, f.OSABI)}
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "x86_64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	}
	return "", &BinaryError{fmt.Sprintf("--binary %s is built for %s: Lambda runs linux/amd64 (x86_64) or linux/arm64", path, f.Machine)}
}

// Zip packs a bootstrap as Lambda's deployment package.
func Zip(bootstrap string) ([]byte, error) {
	src, err := os.Open(bootstrap)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	defer src.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Unix(0, 0)}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	if _, err := io.Copy(w, src); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}
