// Command infra is the CDK app of the Go Lambda benchmark: the bcrypt function
// matrix stack and the standard-versus-LMI stack, checked by cdk-nag's
// AwsSolutions rule pack. cdk.json builds it and runs it from the repository
// root (the CDK library reads paths the CLI passes relative to its own
// directory, from the moment the jsii kernel starts); CDK context
// (-c key=value) configures it, see settings.go.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"lambdabench/infra/internal/bundle"
	"lambdabench/infra/internal/stacks"
)

func main() {
	cliDir := flag.String("cli-dir", "", "directory the cdk CLI runs in; a relative CDK_OUTDIR is resolved against it")
	flag.Parse()
	err := run(*cliDir)
	// jsii.Close may print "Runtime process exited abnormally" without a
	// newline (a harmless race in jsii-runtime-go); start the error on a line of its own.
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "\ninfra:", err)
		os.Exit(1)
	}
}

func run(cliDir string) (err error) {
	outdir, err := resolveOutdir(os.Getenv("CDK_OUTDIR"), cliDir)
	if err != nil {
		return err
	}
	var props awscdk.AppProps
	if outdir != "" {
		props.Outdir = jsii.String(outdir)
	}
	app := awscdk.NewApp(&props)
	stacks.AddNagChecks(app)
	s, err := readSettings(func(key string) any { return app.Node().TryGetContext(&key) })
	if err != nil {
		return err
	}
	dir, err := functionDir(s.FunctionDir)
	if err != nil {
		return err
	}
	builder, err := bundle.New(dir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := builder.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	loadgen, err := loadGenBuilder(dir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := loadgen.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := defineStacks(app, s, builder, loadgen); err != nil {
		return err
	}
	return synth(app)
}

// defineStacks adds the stacks to app: code builds the function, loadgen
// the load generator.
func defineStacks(app awscdk.App, s settings, code, loadgen stacks.CodeSource) error {
	s.Matrix.Code = code
	s.Lmi.Code = code
	s.Matrix.Description = stackDescription("bcrypt function matrix")
	s.Lmi.Description = stackDescription("standard Lambda versus Lambda Managed Instances behind API Gateway")
	_, merr := stacks.NewMatrixStack(app, s.MatrixStackName, &s.Matrix)
	_, lerr := stacks.NewLmiStack(app, s.LmiStackName, &s.Lmi)
	lg := stacks.LoadGenStackProps{Prefix: s.Matrix.Prefix, LogRetentionDays: s.Matrix.LogRetentionDays, Code: loadgen}
	lg.Description = stackDescription("load generator running bench's load engine on Lambda")
	_, gerr := stacks.NewLoadGenStack(app, s.LoadGenStackName, &lg)
	return errors.Join(merr, lerr, gerr)
}

func stackDescription(what string) *string {
	return jsii.String("Go Lambda benchmark: " + what)
}

// synth writes the cloud assembly. Local bundling reports a failed go build by
// panicking inside synth; that is turned back into an error here.
func synth(app awscdk.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth: %v", r)
		}
	}()
	app.Synth(nil)
	return nil
}

// resolveOutdir makes a relative CDK_OUTDIR (the CLI passes its --output as
// given) absolute against the CLI's directory, because cdk.json runs this app
// from infra/ while the CLI reads the assembly from its own directory.
func resolveOutdir(outdir, cliDir string) (string, error) {
	if outdir == "" || filepath.IsAbs(outdir) || cliDir == "" {
		return outdir, nil
	}
	base, err := filepath.Abs(cliDir)
	if err != nil {
		return "", fmt.Errorf("resolve -cli-dir %s: %w", cliDir, err)
	}
	return filepath.Join(base, outdir), nil
}

// functionDir finds the function module: the context value if given, else
// ../function (run from infra/) or ./function (run from the repository root).
func functionDir(fromContext string) (string, error) {
	candidates := []string{filepath.Join("..", "function"), "function"}
	if fromContext != "" {
		candidates = []string{fromContext}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "go.mod")); err == nil {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("function module not found (looked in %v; set context %s)", candidates, ctxFunctionDir)
}

// loadGenBuilder builds the load generator (bench/cmd/loadgen), found next
// to the function module.
func loadGenBuilder(functionDir string) (*bundle.Builder, error) {
	b, err := bundle.New(filepath.Join(filepath.Dir(functionDir), "bench"))
	if err != nil {
		return nil, fmt.Errorf("load generator: %w", err)
	}
	b.Package = "./cmd/loadgen"
	return b, nil
}
