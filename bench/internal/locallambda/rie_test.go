package locallambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rieDifferences are the variables the function sees differently under the local Lambda and
// under AWS's Runtime Interface Emulator run outside its container image, and why. docs/local-lambda.md
// ("What a function sees") lists the same; a difference not listed here fails the test.
var rieDifferences = map[string]string{
	"LANG":                           "the local Lambda sets en_US.UTF-8 as Lambda does; RIE passes its own environment's (the image's)",
	"TZ":                             "the local Lambda sets :UTC as Lambda does; RIE passes its own environment's",
	"PATH":                           "the local Lambda sets Lambda's; RIE passes its own environment's",
	"LD_LIBRARY_PATH":                "the local Lambda sets Lambda's; RIE passes its own environment's",
	"LAMBDA_TASK_ROOT":               "the local Lambda sets the binary's folder; RIE leaves it to the image (/var/task)",
	"LAMBDA_RUNTIME_DIR":             "the local Lambda sets the binary's folder; RIE leaves it to the image (/var/runtime)",
	"AWS_DEFAULT_REGION":             "Lambda sets it, as the local Lambda does; RIE sets AWS_REGION only",
	"AWS_LAMBDA_INITIALIZATION_TYPE": "Lambda sets on-demand, as the local Lambda does; RIE does not set it",
	"AWS_LAMBDA_LOG_GROUP_NAME":      "the local Lambda names /aws/lambda/<function> as Lambda does; RIE a fixed /aws/lambda/Functions",
	"AWS_LAMBDA_LOG_STREAM_NAME":     "the local Lambda names a stream per environment as Lambda does; RIE a fixed $LATEST",
	"AWS_LAMBDA_METADATA_API":        "the address of each one's own Runtime API (both serve the metadata endpoint there; Lambda uses 169.254.100.1:9001)",
	"AWS_LAMBDA_METADATA_TOKEN":      "a random token per environment in both",
	"AWS_LAMBDA_RUNTIME_API":         "each one's own Runtime API address",
	"_X_AMZN_TRACE_ID":               "the local Lambda sends a trace ID per invocation as Lambda does; RIE an empty one",
	"AWS_LAMBDA_FUNCTION_TIMEOUT":    "RIE's own setting (its timeout), passed on from its environment; Lambda does not set it",
}

// rieBinary finds aws-lambda-rie: $AWS_LAMBDA_RIE, then PATH, then .cache/bin of the repository
// (where make deps installs it).
func rieBinary() (string, bool) {
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		return p, true
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, true
	}
	dir, err := os.Getwd()
	for err == nil {
		if _, statErr := os.Stat(filepath.Join(dir, "go.work")); statErr == nil {
			p := filepath.Join(dir, ".cache", "bin", "aws-lambda-rie")
			_, statErr := os.Stat(p)
			return p, statErr == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", false
}

// freeAddr is a free port on 127.0.0.1.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// invocation is how an invocation came back over HTTP.
type invocationResult struct {
	status        int
	functionError string
	body          []byte
}

func postInvoke(t *testing.T, url, payload string) invocationResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return invocationResult{resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), b}
}

// startRIE runs the function under aws-lambda-rie with only the environment a Lambda image gives
// it, and returns its invoke URL.
func startRIE(t *testing.T, rie, bin string, env []string) string {
	t.Helper()
	addr, runtimeAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", runtimeAddr, bin)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", rie, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("aws-lambda-rie's output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("aws-lambda-rie exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws-lambda-rie does not listen on %s: %s", addr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + addr + "/2015-03-31/functions/function/invocations"
}

// TestMatchesRuntimeInterfaceEmulator runs one function (testdata/envreport) under AWS's Runtime
// Interface Emulator and under the local Lambda, and compares what it sees — its environment,
// its lambdacontext, its credentials, the metadata endpoint — and how a success, a function error
// and a timeout come back. Every difference must be one of rieDifferences.
func TestMatchesRuntimeInterfaceEmulator(t *testing.T) {
	rie, ok := rieBinary()
	if !ok {
		msg := "aws-lambda-rie is not installed: 'make deps' installs it into .cache/bin (or set AWS_LAMBDA_RIE=/path/to/aws-lambda-rie)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin := envReportBinary(t)
	const (
		name    = "envfn"
		memory  = 256
		timeout = time.Second
		key     = "AKIAEXAMPLERIE001234"
		secret  = "rie-comparison-secret"
		token   = "rie-comparison-token"
		region  = "eu-west-1"
	)

	rieURL := startRIE(t, rie, bin, []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", memory),
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", int(timeout.Seconds())),
		"AWS_REGION=" + region,
		"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_SESSION_TOKEN=" + token,
		"_HANDLER=bootstrap",
	})
	s := start(t, Config{
		Functions:   []FunctionSpec{{Name: name, Binary: bin, Handler: "bootstrap", MemoryMB: memory, Timeout: timeout}},
		Credentials: Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token, Region: region},
		AZID:        "use1-az1", // RIE's, so that the answers compare
	})
	localURL := s.InvokeEndpoint() + "/2015-03-31/functions/" + name + "/invocations"

	// Success: what the function sees.
	fromRIE, fromLocal := postInvoke(t, rieURL, `{}`), postInvoke(t, localURL, `{}`)
	if fromRIE.status != 200 || fromLocal.status != 200 || fromRIE.functionError != "" || fromLocal.functionError != "" {
		t.Fatalf("success: RIE %d %q, local %d %q; want 200 without X-Amz-Function-Error\nRIE: %s\nlocal: %s",
			fromRIE.status, fromRIE.functionError, fromLocal.status, fromLocal.functionError, fromRIE.body, fromLocal.body)
	}
	r, l := parseEnvReport(t, fromRIE.body), parseEnvReport(t, fromLocal.body)

	same := func(what string, a, b any) {
		t.Helper()
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: RIE %v, local Lambda %v", what, a, b)
		}
	}
	for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "_HANDLER"} {
		same(k, r.Env[k], l.Env[k])
	}
	same("lambdacontext.FunctionName", r.Context.FunctionName, l.Context.FunctionName)
	same("lambdacontext.FunctionVersion", r.Context.FunctionVersion, l.Context.FunctionVersion)
	same("lambdacontext.MemoryLimitInMB", r.Context.MemoryLimitInMB, l.Context.MemoryLimitInMB)
	for who, rep := range map[string]envReport{"RIE": r, "local Lambda": l} {
		if rep.Context.RequestID == "" || !strings.HasPrefix(rep.Context.InvokedFunctionArn, "arn:aws:lambda:") ||
			!strings.HasSuffix(rep.Context.InvokedFunctionArn, ":function:"+name) {
			t.Errorf("%s: request id %q, function ARN %q", who, rep.Context.RequestID, rep.Context.InvokedFunctionArn)
		}
		if d := rep.Context.DeadlineInMS; d < 500 || d > timeout.Milliseconds() {
			t.Errorf("%s: the deadline is %d ms away, want about %s", who, d, timeout)
		}
	}
	// The metadata endpoint: the same answers, the same AZ ID (use1-az1 is RIE's; the local
	// Lambda's default says it is local), the same refusals.
	same("metadata status", r.Metadata.Status, l.Metadata.Status)
	same("metadata body", azOf(t, r.Metadata.Body), azOf(t, l.Metadata.Body))
	same("metadata Cache-Control", r.Metadata.CacheControl, l.Metadata.CacheControl)
	same("metadata Content-Type", r.Metadata.ContentType, l.Metadata.ContentType)
	same("metadata without a token", r.Metadata.NoTokenStatus, l.Metadata.NoTokenStatus)
	same("metadata with a wrong token", r.Metadata.BadTokenStatus, l.Metadata.BadTokenStatus)
	same("metadata POST", r.Metadata.PostStatus, l.Metadata.PostStatus)

	// Every other variable: equal, or a known difference.
	keys := map[string]bool{}
	for k := range r.Env {
		keys[k] = true
	}
	for k := range l.Env {
		keys[k] = true
	}
	var unexplained []string
	for k := range keys {
		rv, rok := r.Env[k]
		lv, lok := l.Env[k]
		if rok == lok && rv == lv {
			continue
		}
		if why, ok := rieDifferences[k]; ok {
			t.Logf("differs: %s (RIE %q, local %q): %s", k, rv, lv, why)
			continue
		}
		unexplained = append(unexplained, fmt.Sprintf("%s: RIE %q (set %v), local Lambda %q (set %v)", k, rv, rok, lv, lok))
	}
	sort.Strings(unexplained)
	if len(unexplained) > 0 {
		t.Errorf("differences not in rieDifferences (and docs/local-lambda.md):\n  %s", strings.Join(unexplained, "\n  "))
	}

	// A function error: the same payload; the local Lambda adds X-Amz-Function-Error as AWS does.
	fromRIE, fromLocal = postInvoke(t, rieURL, `{"action":"error"}`), postInvoke(t, localURL, `{"action":"error"}`)
	same("function error: status", fromRIE.status, fromLocal.status)
	same("function error: payload", jsonOf(t, fromRIE.body), jsonOf(t, fromLocal.body))
	if fromLocal.functionError != "Unhandled" || fromRIE.functionError != "" {
		t.Errorf("function error: X-Amz-Function-Error RIE %q, local %q; want none (RIE's difference) and Unhandled (AWS's)", fromRIE.functionError, fromLocal.functionError)
	}

	// A timeout: both say "Task timed out after 1.00 seconds"; the local Lambda as a function
	// error, as AWS does, RIE as a plain-text body.
	fromRIE, fromLocal = postInvoke(t, rieURL, `{"action":"sleep","ms":3000}`), postInvoke(t, localURL, `{"action":"sleep","ms":3000}`)
	same("timeout: status", fromRIE.status, fromLocal.status)
	want := fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds())
	if !bytes.Contains(fromRIE.body, []byte(want)) || !bytes.Contains(fromLocal.body, []byte(want)) {
		t.Errorf("timeout: RIE %q, local %q; want both to say %q", fromRIE.body, fromLocal.body, want)
	}
	var e struct{ ErrorType string }
	if json.Unmarshal(fromLocal.body, &e) != nil || e.ErrorType != "Sandbox.Timedout" || fromLocal.functionError != "Unhandled" {
		t.Errorf("timeout: local %q (X-Amz-Function-Error %q), want a Sandbox.Timedout function error", fromLocal.body, fromLocal.functionError)
	}

	// Both replace the environment: the next invocation succeeds in a fresh one.
	fromRIE, fromLocal = postInvoke(t, rieURL, `{}`), postInvoke(t, localURL, `{}`)
	if fromRIE.status != 200 || fromLocal.status != 200 || fromLocal.functionError != "" {
		t.Errorf("after the timeout: RIE %d %s, local %d %q %s", fromRIE.status, fromRIE.body, fromLocal.status, fromLocal.functionError, fromLocal.body)
	}
}

// jsonOf is b re-encoded (so that key order and spacing do not matter).
func jsonOf(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
