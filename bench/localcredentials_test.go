package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/locallambda"
)

// TestMain keeps the AWS SDK's default chain away from the developer's credentials and from the
// instance metadata service: the local Lambda resolves credentials for a user's function (serve
// --function, tune --target local), and tests give it theirs through the environment.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bench-test-aws-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		os.Unsetenv(v)
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// envReportBinary builds the local Lambda's test function that reports its environment.
func envReportBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./internal/locallambda/testdata/envreport")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the test function: %v\n%s", err, out)
	}
	return bin
}

var invokeAPILine = regexp.MustCompile(`Invoke API\s+(http://127\.0\.0\.1:\d+)`)

// TestServeGivesYourFunctionCredentialsAndMetadata: serve --function hands the function your
// credentials (or placeholders with --profile none), the endpoint overrides of its environment,
// and a metadata endpoint; it says which credentials once, without the secret.
func TestServeGivesYourFunctionCredentialsAndMetadata(t *testing.T) {
	bin := envReportBinary(t)
	const key, secret = "AKIASERVETESTKEY1234", "serve-test-secret"
	tests := []struct {
		name     string
		args     []string
		wantKey  string
		wantAZ   string
		wantLine string
	}{
		{"your default chain", nil, key, "euw1-local-az1", "Credentials for the function: yours, from your default chain (EnvConfigCredentials): access key …1234, region eu-west-1."},
		{"placeholders", []string{"--profile", "none"}, locallambda.PlaceholderAccessKeyID, "use1-local-az1", "Credentials for the function: placeholders, as asked"},
		{"an AZ ID of your choice", []string{"--az-id", "euw1-az3"}, key, "euw1-az3", "access key …1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", key)
			t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
			t.Setenv("AWS_REGION", "eu-west-1")
			t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
			ctx, cancel := context.WithCancel(testContext(t, time.Minute))
			defer cancel()
			var stdout syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- runServe(ctx, append([]string{"--function", "envfn", "--binary", bin, "--invoke-addr", "127.0.0.1:0", "--quiet"}, tt.args...), &stdout, io.Discard)
			}()
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(stdout.String(), "Ctrl+C stops everything") {
				select {
				case err := <-done:
					t.Fatalf("serve ended before it was up: %v\n%s", err, stdout.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("serve did not start:\n%s", stdout.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			out := stdout.String()
			m := invokeAPILine.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no Invoke API address in:\n%s", out)
			}
			resp, err := http.Post(m[1]+"/2015-03-31/functions/envfn/invocations", "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Env      map[string]string
				Metadata struct {
					Status int
					Body   string
				}
			}
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := r.Env["AWS_ACCESS_KEY_ID"]; got != tt.wantKey {
				t.Errorf("AWS_ACCESS_KEY_ID=%q, want %q", got, tt.wantKey)
			}
			if got := r.Env["AWS_ENDPOINT_URL_DYNAMODB"]; got != "http://127.0.0.1:8000" {
				t.Errorf("AWS_ENDPOINT_URL_DYNAMODB=%q, want it passed through", got)
			}
			if want := fmt.Sprintf(`{"AvailabilityZoneID":%q}`, tt.wantAZ); r.Metadata.Status != 200 || r.Metadata.Body != want {
				t.Errorf("metadata: %d %s, want 200 %s", r.Metadata.Status, r.Metadata.Body, want)
			}
			if !strings.Contains(out, tt.wantLine) || strings.Count(out, "Credentials for the function:") != 1 ||
				!strings.Contains(out, "Endpoints for the function: AWS_ENDPOINT_URL_DYNAMODB, from this environment.") {
				t.Errorf("serve should say once which credentials and endpoints (%q):\n%s", tt.wantLine, out)
			}
			if strings.Contains(out, secret) || strings.Contains(out, key) {
				t.Errorf("serve printed a secret:\n%s", out)
			}
		})
	}
}

func TestServeCredentialsUsageErrors(t *testing.T) {
	bin := envReportBinary(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "dev"}, "name it with --function"},
		{[]string{"--az-id", "Not An AZ"}, "--az-id"},
		{[]string{"--function", "f", "--binary", bin, "--profile", "nosuch", "--invoke-addr", "127.0.0.1:0"}, "--profile nosuch: no credentials"},
	} {
		err := runServe(testContext(t, time.Minute), tt.args, io.Discard, io.Discard)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve %v: %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
}

// TestTuneLocalGivesCredentials: tune --target local hands the function your credentials, or
// placeholders with --profile none, and the metadata endpoint (the function fails otherwise).
func TestTuneLocalGivesCredentials(t *testing.T) {
	bin := envReportBinary(t)
	const key = "AKIATUNETESTKEY05678"
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "tune-test-secret")
	for _, tt := range []struct {
		name    string
		args    []string
		wantKey string
		line    string
	}{
		{"your default chain", nil, key, "Credentials for the function: yours, from your default chain (EnvConfigCredentials): access key …5678, region us-east-1."},
		{"placeholders", []string{"--profile", "none"}, locallambda.PlaceholderAccessKeyID, "Credentials for the function: placeholders, as asked"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			args := append([]string{"tune", "--target", "local", "--binary", bin, "--memory", "128", "--cold", "0", "--runs", "2",
				"--payload", fmt.Sprintf(`{"action":"expect","key":%q}`, tt.wantKey), "--threshold", "error_rate<1%", "--out", t.TempDir(), "--force"}, tt.args...)
			if err := run(testContext(t, 2*time.Minute), args, &stdout, &stderr); err != nil {
				t.Fatalf("tune: %v\n%s\n%s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.line) || strings.Contains(stderr.String(), "tune-test-secret") {
				t.Errorf("tune should say which credentials (%q), without the secret:\n%s", tt.line, stderr.String())
			}
		})
	}
}
