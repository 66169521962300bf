// Command templatecheck checks every CloudFormation template in a cloud
// assembly (cdk.out) against the CloudFormation resource specification and the
// project's security rules, and exits 1 if it finds anything.
//
//	go run ./cmd/templatecheck -spec ../node_modules/@aws-cdk/aws-service-spec/db.json.gz ../cdk.out
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"lambdabench/infra/internal/templatecheck"
)

const defaultSpec = "node_modules/@aws-cdk/aws-service-spec/db.json.gz"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("templatecheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specPath := fs.String("spec", defaultSpec, "CloudFormation resource specification (db.json.gz of npm @aws-cdk/aws-service-spec)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: templatecheck [-spec db.json.gz] <cdk.out directory or template.json>...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	start := time.Now()
	spec, err := templatecheck.LoadSpec(*specPath)
	if err != nil {
		fmt.Fprintln(stderr, "templatecheck:", err)
		return 2
	}
	loaded := time.Since(start)
	files, err := templates(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "templatecheck:", err)
		return 2
	}
	failed := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(stderr, "templatecheck:", err)
			return 2
		}
		tpl, err := templatecheck.ParseTemplate(data)
		if err != nil {
			fmt.Fprintf(stderr, "templatecheck: %s: %v\n", f, err)
			return 2
		}
		findings := templatecheck.Check(spec, tpl)
		resources, _ := tpl["Resources"].(map[string]any)
		if len(findings) == 0 {
			fmt.Fprintf(stdout, "ok    %s (%d resources)\n", filepath.Base(f), len(resources))
			continue
		}
		failed = true
		fmt.Fprintf(stdout, "FAIL  %s: %d findings\n", filepath.Base(f), len(findings))
		for _, fd := range findings {
			fmt.Fprintf(stdout, "      %s\n", fd)
		}
	}
	fmt.Fprintf(stdout, "checked %d templates in %v (specification loaded in %v)\n",
		len(files), time.Since(start).Round(time.Millisecond), loaded.Round(time.Millisecond))
	if failed {
		return 1
	}
	return 0
}

// templates expands directories into the *.template.json files they hold.
func templates(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		found, err := filepath.Glob(filepath.Join(a, "*.template.json"))
		if err != nil {
			return nil, fmt.Errorf("templates in %s: %w", a, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("no *.template.json in %s (run cdk synth first)", a)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}
