package locallambda

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Binaries built once for the whole test run by TestMain.
var (
	fakeBinary     string // testdata/fakeruntime
	functionBinary string // the real function (../function); "" when its source is absent
	binDir         string
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "locallambda-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	binDir = dir
	fakeBinary = filepath.Join(dir, "fake", "bootstrap")
	if err := goBuild(".", "./testdata/fakeruntime", fakeBinary); err != nil {
		return 0, fmt.Errorf("build the fake runtime: %w", err)
	}
	if src, ok := functionSource(); ok {
		functionBinary = filepath.Join(dir, "function", "bootstrap")
		if err := goBuild(src, ".", functionBinary); err != nil {
			return 0, fmt.Errorf("build the function: %w", err)
		}
	}
	return m.Run(), nil
}

// functionSource finds the function module: the go.work directory's function/, if it has a main.
func functionSource() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			src := filepath.Join(dir, "function")
			_, err := os.Stat(filepath.Join(src, "main.go"))
			return src, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func goBuild(dir, pkg, out string) error {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// needFunction skips a test that needs the real function when its source does not exist.
func needFunction(t *testing.T) string {
	t.Helper()
	if functionBinary == "" {
		t.Skip("the function's source (../function/main.go) does not exist")
	}
	return functionBinary
}

// start starts a server on free ports with cgroups when possible (see below), closed at the end of the test.
func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.InvokeAddr == "" {
		cfg.InvokeAddr = "127.0.0.1:0"
	}
	if cfg.APIAddr == "" {
		cfg.APIAddr = "127.0.0.1:0"
	}
	// LOCALLAMBDA_TEST_NO_CGROUPS=1 runs the suite unconfined, as on a machine without cgroups.
	cfg.CPUControl = os.Getenv("LOCALLAMBDA_TEST_NO_CGROUPS") == ""
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func client(s *Server) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(s.InvokeEndpoint()),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		RetryMaxAttempts: 1,
	})
}

func invoke(t *testing.T, c *lambda.Client, name, payload string) *lambda.InvokeOutput {
	t.Helper()
	out, err := c.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String(name),
		Payload:      []byte(payload),
		LogType:      "Tail",
	})
	if err != nil {
		t.Fatalf("invoke %s: %v", name, err)
	}
	return out
}

// report is a parsed REPORT line.
type report struct {
	duration, billed, init float64
	memorySize, maxMemory  int
	hasInit                bool
	status                 string
	line                   string
}

var reportField = regexp.MustCompile(`^([A-Za-z ]+): ([0-9.]+|[A-Za-z.]+)(?: (ms|MB))?$`)

// parseReport finds and parses the REPORT line of a LogType Tail log.
func parseReport(t *testing.T, logResult *string) (report, string) {
	t.Helper()
	if logResult == nil {
		t.Fatal("no LogResult")
	}
	b, err := base64.StdEncoding.DecodeString(*logResult)
	if err != nil {
		t.Fatalf("LogResult: %v", err)
	}
	log := string(b)
	var r report
	for line := range strings.SplitSeq(log, "\n") {
		if !strings.HasPrefix(line, "REPORT RequestId: ") {
			continue
		}
		r.line = line
		for i, f := range strings.Split(line, "\t") {
			if i == 0 || f == "" {
				continue
			}
			m := reportField.FindStringSubmatch(f)
			if m == nil {
				t.Fatalf("REPORT field %q in %q", f, line)
			}
			v, _ := strconv.ParseFloat(m[2], 64)
			switch m[1] {
			case "Duration":
				r.duration = v
			case "Billed Duration":
				r.billed = v
			case "Memory Size":
				r.memorySize = int(v)
			case "Max Memory Used":
				r.maxMemory = int(v)
			case "Init Duration":
				r.init, r.hasInit = v, true
			case "Status":
				r.status = m[2]
			}
		}
		return r, log
	}
	t.Fatalf("no REPORT line in %q", log)
	return r, log
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveEnvironments counts a function's environments.
func liveEnvironments(s *Server, name string) int {
	f := s.functions[name]
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.envs)
}
