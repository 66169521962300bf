// Package bundle turns the function's Go source into Lambda code assets: it
// builds the bootstrap binary with the local Go toolchain during synth (CDK
// local bundling; Docker is never used), once per architecture per process.
package bundle

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
)

// placeholderImage satisfies BundlingOptions.Image, which CDK requires. Local
// bundling always succeeds or panics, so CDK never falls back to Docker and the
// image is never pulled.
const placeholderImage = "local-go-build.invalid/never-pulled"

// BuildFlags are the flags every bootstrap is built with (the same as `make function`).
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}

// Builder builds the function in SourceDir for Lambda. The zero value is not
// usable; create one with New and Close it when synth is done.
type Builder struct {
	// SourceDir is the function's module directory (absolute).
	SourceDir string
	// Go is the go command to run; "go" when empty.
	Go string
	// Package is the package to build, relative to SourceDir; "." when empty.
	Package string

	mu     sync.Mutex
	cache  string            // directory holding one binary per GOARCH
	built  map[string]string // GOARCH -> binary path in cache
	counts map[string]int    // GOARCH -> number of go builds run (for tests)
}

// New returns a Builder for the function module in sourceDir.
func New(sourceDir string) (*Builder, error) {
	abs, err := filepath.Abs(sourceDir)
	if err != nil {
		return nil, fmt.Errorf("function source %s: %w", sourceDir, err)
	}
	if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
		return nil, fmt.Errorf("function source %s: no go.mod: %w", abs, err)
	}
	cache, err := os.MkdirTemp("", "lambdabench-bootstrap-")
	if err != nil {
		return nil, fmt.Errorf("bootstrap cache: %w", err)
	}
	return &Builder{SourceDir: abs, cache: cache, built: map[string]string{}, counts: map[string]int{}}, nil
}

// Close removes the builder's temporary binaries.
func (b *Builder) Close() error {
	if err := os.RemoveAll(b.cache); err != nil {
		return fmt.Errorf("remove bootstrap cache: %w", err)
	}
	return nil
}

// Builds reports how many times the Go toolchain ran for goarch.
func (b *Builder) Builds(goarch string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts[goarch]
}

// Binary returns the path of the bootstrap binary for goarch, building it on first use.
func (b *Builder) Binary(goarch string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.built[goarch]; ok {
		return p, nil
	}
	out := filepath.Join(b.cache, "linux-"+goarch, "bootstrap")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("build bootstrap for linux/%s: %w", goarch, err)
	}
	goCmd := b.Go
	if goCmd == "" {
		goCmd = "go"
	}
	args := append([]string{"build"}, BuildFlags...)
	pkg := b.Package
	if pkg == "" {
		pkg = "."
	}
	args = append(args, "-o", out, pkg)
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = b.SourceDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	b.counts[goarch]++
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build bootstrap for linux/%s in %s (%s %s): %w\n%s",
			goarch, b.SourceDir, goCmd, strings.Join(args, " "), err, strings.TrimSpace(string(msg)))
	}
	b.built[goarch] = out
	return out, nil
}

// Code builds the function for goarch (on first use) and returns it as Lambda
// code. A failed build is returned as an error, before synth starts. Bind each
// returned Code to one stack only (CDK ties an asset to the stack that first
// uses it); within that stack, share it between functions. The asset hash is
// the hash of the built binary, so the arm64 and amd64 assets can never be
// mistaken for each other, and an unchanged binary keeps its hash.
func (b *Builder) Code(goarch string) (awslambda.Code, error) {
	if _, err := b.Binary(goarch); err != nil {
		return nil, err
	}
	return awslambda.Code_FromAsset(jsii.String(b.SourceDir), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			Image:       awscdk.DockerImage_FromRegistry(jsii.String(placeholderImage)),
			Environment: &map[string]*string{"GOOS": jsii.String("linux"), "GOARCH": jsii.String(goarch)},
			Local:       &localBuild{builder: b, goarch: goarch},
		},
	}), nil
}

// localBuild implements awscdk.ILocalBundling for one architecture.
type localBuild struct {
	builder *Builder
	goarch  string
}

// TryBundle copies the architecture's bootstrap (built by Code) into outputDir.
// A failure panics, which jsii turns into a synth error: returning false would
// send CDK to Docker, which this project never uses.
func (l *localBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	bin, err := l.builder.Binary(l.goarch)
	if err == nil {
		err = copyFile(bin, filepath.Join(*outputDir, "bootstrap"))
	}
	if err != nil {
		panic(fmt.Errorf("local bundling: %w", err))
	}
	return jsii.Bool(true)
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy bootstrap: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("copy bootstrap: %w", err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("copy bootstrap: %w", cerr)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy bootstrap to %s: %w", dst, err)
	}
	return nil
}
