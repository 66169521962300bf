package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/contract"
	"lambdabench/bench/internal/hello"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/target"
)

const smokeDescription = `Checks that a target is healthy: every matrix function gets one forced cold start
and a few warm invocations, every hello endpoint a few GET requests, and every
response is checked against its contract (fields, values, error messages).
Exits 0 when every check passes, 1 otherwise.`

// smokeItems is the batch size of the smoke payload.
const smokeItems = 6

// check is one smoke-test assertion.
type check struct {
	subject, name string
	err           error
	took          time.Duration
}

func runSmoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("smoke", "smoke [flags]", smokeDescription, stdout, stderr)
	var tf targetFlags
	tf.register(fs, "local", targetOutputs|targetLocal|targetEndpoint)
	matrixStack := fs.String("matrix-stack", target.MatrixStack, "aws: the matrix stack ('' to skip it)")
	lmiStack := fs.String("lmi-stack", target.LmiStack, "aws: the LMI stack with the hello endpoints ('' to skip it)")
	warm := fs.Int("warm", 3, "warm invocations (requests) per function (endpoint)")
	bcryptCost := fs.Int("cost", 4, "bcrypt cost of the smoke payload (4 keeps it fast; the contract's default is 10)")
	timeout := fs.Duration("timeout", 60*time.Second, "per invocation and request")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	kind, err := tf.kind()
	if err != nil {
		return err
	}
	if *warm < 1 || *warm > 100 {
		return usagef("--warm must be between 1 and 100")
	}
	if *bcryptCost < 4 || *bcryptCost > 14 {
		return usagef("--cost must be between 4 and 14")
	}
	if *timeout <= 0 {
		return usagef("--timeout %s: want a positive duration, such as 60s", *timeout)
	}
	if err := tf.check(); err != nil {
		return err
	}

	var (
		api           matrix.Lambda
		matrixOutputs map[string]string
		lmiOutputs    map[string]string
	)
	if kind == target.Local {
		cpu, _ := tf.cpuModel() // checked above
		lt, err := target.StartLocal(ctx, target.LocalOptions{Binary: tf.binary, Matrix: true, Hello: true, BuildLog: stderr, NoCPUControl: tf.noCPULimits, CPU: cpu})
		if err != nil {
			return err
		}
		defer lt.Close()
		api, matrixOutputs, lmiOutputs = lt.Lambda, lt.Outputs, lt.Outputs
	} else {
		for _, s := range []struct {
			name string
			dst  *map[string]string
		}{{*matrixStack, &matrixOutputs}, {*lmiStack, &lmiOutputs}} {
			if s.name == "" {
				continue
			}
			at, err := tf.aws(ctx, s.name)
			if err != nil {
				return err
			}
			api, *s.dst = at.Lambda, at.Outputs
		}
	}

	var checks []check
	report := func(c check) {
		checks = append(checks, c)
		status := "PASS"
		if c.err != nil {
			status = "FAIL"
		}
		fmt.Fprintf(stdout, "%s  %-28s %-40s %6.0f ms", status, c.subject, c.name, float64(c.took.Microseconds())/1000)
		if c.err != nil {
			fmt.Fprintf(stdout, "  %v", c.err)
		}
		fmt.Fprintln(stdout)
	}
	if matrixOutputs != nil {
		if err := smokeMatrix(ctx, api, matrixOutputs, *warm, *bcryptCost, *timeout, report); err != nil {
			return err
		}
	}
	if lmiOutputs != nil {
		smokeHello(ctx, lmiOutputs, *warm, *timeout, report)
	}
	failed := 0
	for _, c := range checks {
		if c.err != nil {
			failed++
		}
	}
	fmt.Fprintf(stdout, "\nsmoke: %d passed, %d failed\n", len(checks)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d smoke check(s) failed", failed)
	}
	if len(checks) == 0 {
		return fmt.Errorf("nothing to check: the outputs name no functions or endpoints")
	}
	return nil
}

func smokeMatrix(ctx context.Context, api matrix.Lambda, outputs map[string]string, warm, bcryptCost int, timeout time.Duration, report func(check)) error {
	cfgs, err := matrix.Discover(ctx, api, outputs, nil, "", 0)
	if err != nil {
		if strings.Contains(err.Error(), "name no matrix functions") {
			return nil
		}
		return err
	}
	// Six items: enough for every worker of the largest pool (WORKER_COUNT ≤ 6).
	payload := fmt.Sprintf(`{"count":%d,"mode":"parallel","cost":%d}`, smokeItems, bcryptCost)
	for _, c := range cfgs {
		start := time.Now()
		err := matrix.ForceColdStart(ctx, api, c.Function, 2*time.Minute, time.Second)
		report(check{c.Function, "force cold start", err, time.Since(start)})
		for i := 0; i <= warm; i++ {
			name := "warm invoke"
			if i == 0 {
				name = "cold invoke"
			}
			ictx, cancel := context.WithTimeout(ctx, timeout)
			start := time.Now()
			out, err := api.Invoke(ictx, &lambda.InvokeInput{FunctionName: aws.String(c.Function), Payload: []byte(payload)}, target.NoRetry)
			took := time.Since(start)
			cancel()
			if err == nil {
				err = checkBcryptResponse(out, c, bcryptCost)
			}
			report(check{c.Function, name, err, took})
		}
		// The contract's errors: a function error with the contract's message.
		for _, bad := range []struct{ payload, want string }{
			{`{"count":0,"mode":"parallel"}`, "count must be greater than 0"},
			{`{"count":1001,"mode":"parallel"}`, "count exceeds maximum of 1000 items"},
		} {
			start := time.Now()
			out, err := api.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(c.Function), Payload: []byte(bad.payload)}, target.NoRetry)
			if err == nil {
				switch {
				case out.FunctionError == nil:
					err = fmt.Errorf("%s: want a function error, got %s", bad.payload, out.Payload)
				case !strings.Contains(string(out.Payload), bad.want):
					err = fmt.Errorf("%s: error %s does not say %q", bad.payload, out.Payload, bad.want)
				}
			}
			report(check{c.Function, "rejects " + bad.payload, err, time.Since(start)})
		}
	}
	return nil
}

func checkBcryptResponse(out *lambda.InvokeOutput, c matrix.Config, bcryptCost int) error {
	if out.FunctionError != nil {
		return fmt.Errorf("function error: %s", out.Payload)
	}
	resp, _, err := contract.DecodeBcrypt(out.Payload, false)
	if err != nil {
		return err
	}
	r := struct {
		Processed, Workers, DetectedCPUs, MemoryUsedKB, ThreadsUsed, Gomaxprocs, Cost *int
		DurationMs, AvgMs                                                             *float64
		Mode                                                                          string
	}{asInt(resp.Processed), asInt(resp.Workers), asInt(resp.DetectedCPUs), asInt(resp.MemoryUsedKB), asInt(resp.ThreadsUsed),
		asInt(resp.Gomaxprocs), asInt(resp.Cost), resp.DurationMs, resp.AvgMsPerItem, resp.Mode}
	switch {
	case r.Processed == nil || *r.Processed != smokeItems:
		return fmt.Errorf("processed = %v, want %d", deref(r.Processed), smokeItems)
	case r.DurationMs == nil || *r.DurationMs <= 0:
		return fmt.Errorf("duration_ms missing or not positive")
	case r.Mode != "parallel" && !(r.Mode == "sequential" && c.Workers == 1):
		return fmt.Errorf("mode = %q, want parallel", r.Mode)
	case r.Workers == nil || (c.Workers > 0 && *r.Workers != c.Workers):
		return fmt.Errorf("workers = %v, want WORKER_COUNT %d", deref(r.Workers), c.Workers)
	case r.DetectedCPUs == nil || *r.DetectedCPUs < 1:
		return fmt.Errorf("detected_cpus = %v", deref(r.DetectedCPUs))
	case r.AvgMs == nil || *r.AvgMs <= 0:
		return fmt.Errorf("avg_ms_per_item missing or not positive")
	case r.MemoryUsedKB == nil || *r.MemoryUsedKB <= 0:
		return fmt.Errorf("memory_used_kb missing")
	case r.Gomaxprocs == nil || *r.Gomaxprocs < 1:
		return fmt.Errorf("gomaxprocs missing")
	case r.ThreadsUsed == nil || *r.ThreadsUsed < 1 || (*r.Workers <= *r.Gomaxprocs && *r.ThreadsUsed > *r.Workers):
		// A pool larger than GOMAXPROCS runs unlocked, on the threads the Go runtime gives it.
		return fmt.Errorf("threads_used = %v, want 1..%d (the workers)", deref(r.ThreadsUsed), *r.Workers)
	case r.Cost != nil && *r.Cost != bcryptCost:
		return fmt.Errorf("cost = %d, want %d", *r.Cost, bcryptCost)
	}
	return nil
}

func asInt(p *float64) *int {
	if p == nil {
		return nil
	}
	n := int(*p)
	return &n
}

func deref(p *int) any {
	if p == nil {
		return "missing"
	}
	return *p
}

func smokeHello(ctx context.Context, outputs map[string]string, warm int, timeout time.Duration, report func(check)) {
	client := &http.Client{Timeout: timeout}
	for _, ep := range hello.HelloEndpoints {
		name, base := ep.Name, outputs[ep.URLKey]
		if base == "" {
			continue
		}
		for i := 0; i < warm; i++ {
			start := time.Now()
			err := checkHello(ctx, client, base, url.Values{"delay_ms": {"10"}, "hash_loops": {"1000"}}, http.StatusOK, "")
			report(check{name, fmt.Sprintf("GET delay_ms=10&hash_loops=1000 #%d", i+1), err, time.Since(start)})
		}
		for _, bad := range []struct {
			q    url.Values
			want string
		}{
			{url.Values{"delay_ms": {"abc"}}, "delay_ms must be an integer"},
			{url.Values{"delay_ms": {"15001"}}, "delay_ms must be between 0 and 15000"},
			{url.Values{"hash_loops": {"1000001"}}, "hash_loops must be between 0 and 1000000"},
		} {
			start := time.Now()
			err := checkHello(ctx, client, base, bad.q, http.StatusBadRequest, bad.want)
			report(check{name, "400 for " + bad.q.Encode(), err, time.Since(start)})
		}
	}
}

func checkHello(ctx context.Context, client *http.Client, base string, q url.Values, wantStatus int, wantError string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != wantStatus {
		return fmt.Errorf("status %d, want %d: %.200s", resp.StatusCode, wantStatus, body)
	}
	r, e, err := contract.DecodeHello(resp.StatusCode, body)
	if err != nil {
		return err
	}
	if wantError != "" {
		if e.Error != wantError {
			return fmt.Errorf("body %.200s, want error %q", body, wantError)
		}
		return nil
	}
	var loops int
	fmt.Sscan(q.Get("hash_loops"), &loops)
	switch {
	case r.Message != "Hello World!":
		return fmt.Errorf("message = %q", r.Message)
	case r.HashLoops == nil || *r.HashLoops != loops:
		return fmt.Errorf("hash_loops = %v, want %d", deref(r.HashLoops), loops)
	case r.Hash != chainedSHA256(loops):
		return fmt.Errorf("hash = %s, want %s", r.Hash, chainedSHA256(loops))
	case r.Cold == nil:
		return fmt.Errorf("cold field missing")
	}
	return nil
}

// chainedSHA256 is the hello contract's work, computed independently of the
// function: d = 32 zero bytes; d = sha256(d || uint64le(i)) for i < loops.
func chainedSHA256(loops int) string {
	d := make([]byte, 32)
	buf := make([]byte, 40)
	for i := 0; i < loops; i++ {
		copy(buf, d)
		binary.LittleEndian.PutUint64(buf[32:], uint64(i))
		sum := sha256.Sum256(buf)
		d = sum[:]
	}
	return hex.EncodeToString(d)
}
