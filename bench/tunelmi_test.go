package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/lmitune"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/tune"
)

// lmiState is what tune --lmi must leave as it found it: tune's
// functionState, the capacity provider configuration and the scaling
// config of $LATEST.PUBLISHED.
type lmiState struct {
	functionState
	GiBPerVCPU  float64
	Concurrency int32
	Provider    string
	Scaling     string
}

func lmiStateOf(t *testing.T, ctx context.Context, api *lambda.Client, fn string) lmiState {
	t.Helper()
	st := lmiState{functionState: stateOf(t, ctx, api, fn)}
	c, err := api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	if cp := c.CapacityProviderConfig; cp != nil && cp.LambdaManagedInstancesCapacityProviderConfig != nil {
		l := cp.LambdaManagedInstancesCapacityProviderConfig
		st.GiBPerVCPU, st.Concurrency, st.Provider = aws.ToFloat64(l.ExecutionEnvironmentMemoryGiBPerVCpu), aws.ToInt32(l.PerExecutionEnvironmentMaxConcurrency), aws.ToString(l.CapacityProviderArn)
	}
	sc, err := api.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String("$LATEST.PUBLISHED")})
	if err != nil {
		t.Fatal(err)
	}
	if a := sc.AppliedFunctionScalingConfig; a != nil {
		st.Scaling = itoa32(a.MinExecutionEnvironments) + "-" + itoa32(a.MaxExecutionEnvironments)
	}
	return st
}

func itoa32(p *int32) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(int(*p))
}

func fmtInt(n int) string { return strconv.Itoa(n) }

// lmiServer serves the example as "managed", an LMI function (2048 MB, 2
// GiB per vCPU, 8 per environment, one variable of its own).
func lmiServer(t *testing.T, ctx context.Context, bin string) (*target.LocalTarget, lmiState) {
	t.Helper()
	lt, err := target.StartLocal(ctx, target.LocalOptions{Functions: []locallambda.FunctionSpec{{
		Name: "managed", Binary: bin, Handler: "bootstrap", MemoryMB: 2048, Timeout: 10 * time.Second, Env: map[string]string{"MODE": "prod"},
		Mode: locallambda.LMI, GiBPerVCPU: 2, MaxConcurrency: 8, MinEnvironments: 0, MaxEnvironments: 2,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lt.Close() })
	before := lmiStateOf(t, ctx, lt.Lambda, "managed")
	if before.Memory != 2048 || before.GiBPerVCPU != 2 || before.Concurrency != 8 {
		t.Fatalf("unexpected starting state %+v", before)
	}
	return lt, before
}

func TestTuneLMILocal(t *testing.T) {
	ctx := testContext(t, 5*time.Minute)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"tune", "--lmi", "--target", "local", "--binary", exampleBinary(t), "--payload", smallPayload(t),
		"--memory", "2048", "--gib-per-vcpu", "2,4", "--per-env-concurrency", "2", "--step", "1s", "--slo", "p99<5s",
		"--rates", "1,100,10000", "--out", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("tune --lmi: %v\n%s", err, stderr.String())
	}
	sum, err := lmitune.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Results) != 2 || sum.Standard == nil || sum.Standard.MemoryMB != 2048 || len(sum.Rates) != 3 || sum.BreakEven == "" {
		t.Fatalf("summary: %d configurations, standard %+v, %d rates, break-even %q", len(sum.Results), sum.Standard, len(sum.Rates), sum.BreakEven)
	}
	steps := map[string]int{} // config/step → requests + dropped
	for _, r := range sum.Results {
		// A ramp of 1, 2, 4 virtual users against 2 slots: 4 is beyond
		// what one environment takes at once, so it is throttled and
		// breaks; the knee is an earlier step.
		if !r.Held() || r.KneeRPSPerEnv <= 0 || r.KneeRPSPerVCPU != round(r.KneeRPSPerEnv/r.VCPUsPerEnv) || len(r.Steps) != 3 {
			t.Errorf("%s: knee step %d, %v req/s per env, %v per vCPU, %d steps", r.Label, r.KneeStep, r.KneeRPSPerEnv, r.KneeRPSPerVCPU, len(r.Steps))
		}
		last := r.Steps[len(r.Steps)-1]
		if last.Held || last.Status429 == 0 {
			t.Errorf("%s: the last step (4 VUs on 2 slots) should break on throttles: %+v", r.Label, last)
		}
		for _, s := range r.Steps {
			steps[r.Label+"/"+fmtInt(s.Step)] = int(s.Requests + s.Dropped)
			if s.Environments != 1 {
				t.Errorf("%s step %d: %d environments, want the 1 it was pinned to", r.Label, s.Step, s.Environments)
			}
		}
	}
	for _, rc := range sum.Rates {
		if len(rc.LMI) != 2 || rc.StandardUSDPerHour == nil || rc.LMI[0].Instances < 3 {
			t.Errorf("rate %v: %+v", rc.RPS, rc)
		}
	}
	// samples.csv holds every request, with its configuration and step.
	f, err := os.Open(filepath.Join(dir, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, row := range rows[1:] {
		got[row[0]+"/"+row[4]]++
	}
	if !reflect.DeepEqual(got, steps) {
		t.Errorf("samples per step %v, summary %v", got, steps)
	}
	for _, f := range []string{"summary.md", "tune-journal.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	for _, want := range []string{"req/s/env", "Break-even:", "Cost per hour"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	// report rebuilds the same knees from samples.csv.
	if err := run(ctx, []string{"report", dir}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	again, err := lmitune.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again.Results {
		if r.KneeStep != sum.Results[i].KneeStep || r.KneeRPSPerEnv != sum.Results[i].KneeRPSPerEnv || r.Steps[0].Latency != sum.Results[i].Steps[0].Latency {
			t.Errorf("rebuilt %s: knee %d %v, want %d %v", r.Label, r.KneeStep, r.KneeRPSPerEnv, sum.Results[i].KneeStep, sum.Results[i].KneeRPSPerEnv)
		}
	}
}

func round(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

func TestTuneLMIAgainstServeLeavesFunctionAsFound(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	lt, before := lmiServer(t, ctx, exampleBinary(t))
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	// No --lmi: tune finds out that the function runs on LMI.
	err := run(ctx, []string{"tune", "--endpoint-url", lt.Server.InvokeEndpoint(), "--function", "managed", "--payload", smallPayload(t),
		"--memory", "2048,4096", "--gib-per-vcpu", "4", "--per-env-concurrency", "1", "--ramp", "1", "--step", "1s",
		"--instance-type", "c7g.xlarge", "--rates", "10", "--out", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("tune: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "runs on Lambda Managed Instances: tuning it as 'tune --lmi' does") {
		t.Errorf("stderr does not say tune switched to LMI:\n%s", stderr.String())
	}
	if after := lmiStateOf(t, ctx, lt.Lambda, "managed"); !reflect.DeepEqual(before, after) {
		t.Fatalf("the function changed:\nbefore %+v\nafter  %+v", before, after)
	}
	j, err := tune.Open(dir)
	if err != nil || len(j.Versions) != 2 || !j.CleanedUp || j.Original.LMI == nil {
		t.Fatalf("journal %+v, %v", j, err)
	}
	sum, err := lmitune.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Meta.InstanceType != "c7g.xlarge" || sum.Standard != nil || !strings.Contains(sum.BreakEven, "no standard Lambda figure") {
		t.Errorf("instance %q, standard %+v, break-even %q", sum.Meta.InstanceType, sum.Standard, sum.BreakEven)
	}
}

// startLMISubprocess runs bench tune --lmi against the server and waits
// until its sweep is under way (a version published, samples written).
//
// With checkpoint it runs 1 s steps and waits for the first summary.json
// they leave; without, one step of an hour.
func startLMISubprocess(t *testing.T, bench, endpoint, dir, payload string, checkpoint bool) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	ramp := []string{"--per-env-concurrency", "1", "--ramp", "1", "--step", "1h"}
	if checkpoint {
		ramp = []string{"--per-env-concurrency", "64", "--ramp", "1,2,3,4,5,6,7,8,9,10,11,12", "--step", "1s", "--slo", "p99<10s"}
	}
	cmd := exec.Command(bench, append([]string{"tune", "--lmi", "--endpoint-url", endpoint, "--function", "managed", "--payload", payload,
		"--memory", "2048,4096", "--gib-per-vcpu", "4", "--out", dir}, ramp...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(time.Minute)
	for {
		if j, err := tune.Open(dir); err == nil && len(j.Versions) > 0 {
			if checkpoint {
				if _, err := os.Stat(filepath.Join(dir, "summary.json")); err == nil {
					return cmd, &out
				}
			} else if b, err := os.ReadFile(filepath.Join(dir, "samples.csv")); err == nil && len(b) > 0 {
				time.Sleep(300 * time.Millisecond) // some requests under way
				return cmd, &out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tune --lmi did not start its sweep within a minute:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTuneLMISIGINTCleansUp(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	lt, before := lmiServer(t, ctx, exampleBinary(t))
	dir := t.TempDir()
	cmd, out := startLMISubprocess(t, benchBinary(t), lt.Server.InvokeEndpoint(), dir, smallPayload(t), false)
	if mid := lmiStateOf(t, ctx, lt.Lambda, "managed"); reflect.DeepEqual(before, mid) {
		t.Fatalf("mid-sweep the function should carry the sweep's configuration and version: %+v", mid)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130\n%s", err, out.String())
	}
	if after := lmiStateOf(t, ctx, lt.Lambda, "managed"); !reflect.DeepEqual(before, after) {
		t.Fatalf("after SIGINT the function changed:\nbefore %+v\nafter  %+v\n%s", before, after, out.String())
	}
	sum, err := lmitune.Read(dir)
	if err != nil || !sum.Meta.Interrupted || len(sum.Results) == 0 || len(sum.Results[0].Steps) == 0 || sum.Results[0].Steps[0].Requests == 0 {
		t.Fatalf("an interrupted tune --lmi keeps what it measured: %+v, %v", sum, err)
	}
}

func TestTuneLMICleanupAfterCrash(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	lt, before := lmiServer(t, ctx, exampleBinary(t))
	dir := t.TempDir()
	cmd, _ := startLMISubprocess(t, benchBinary(t), lt.Server.InvokeEndpoint(), dir, smallPayload(t), true)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if mid := lmiStateOf(t, ctx, lt.Lambda, "managed"); reflect.DeepEqual(before, mid) {
		t.Fatal("the killed run left nothing to clean up: the test proves nothing")
	}
	var stdout bytes.Buffer
	if err := run(ctx, []string{"tune", "--cleanup", dir}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatalf("tune --cleanup: %v", err)
	}
	if after := lmiStateOf(t, ctx, lt.Lambda, "managed"); !reflect.DeepEqual(before, after) {
		t.Fatalf("after --cleanup the function changed:\nbefore %+v\nafter  %+v", before, after)
	}
	// What the killed run measured is kept: report rebuilds it.
	var stderr bytes.Buffer
	if err := run(ctx, []string{"report", dir}, &bytes.Buffer{}, &stderr); err != nil {
		t.Fatalf("report after a crash: %v\n%s", err, stderr.String())
	}
	sum, err := lmitune.Read(dir)
	if err != nil || !sum.Meta.Interrupted || len(sum.Results) == 0 || len(sum.Results[0].Steps) == 0 || sum.Results[0].Steps[0].OK == 0 {
		t.Fatalf("rebuilt after a crash: %+v, %v", sum, err)
	}
}

func TestTuneLMIUsageErrors(t *testing.T) {
	tmp := t.TempDir()
	ep := "http://127.0.0.1:1"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"memory below LMI's", []string{"--memory", "1024"}, "below 2048 MB"},
		{"ratio out of range", []string{"--gib-per-vcpu", "1.5"}, "--gib-per-vcpu: \"1.5\" is not a number between 2 and 8"},
		{"concurrency zero", []string{"--per-env-concurrency", "0,4"}, "between 1 and 1600"},
		{"concurrency fraction", []string{"--per-env-concurrency", "2.5"}, "not a whole number"},
		{"environments", []string{"--environments", "0"}, "--environments 0"},
		{"both ramps", []string{"--ramp", "1,2", "--rate-ramp", "5"}, "exclude each other"},
		{"step", []string{"--step", "10ms"}, "--step 10ms"},
		{"scoped slo", []string{"--slo", "x:p99<1s"}, "leave out the scope"},
		{"bad slo", []string{"--slo", "p99<<1"}, "--slo"},
		{"error rate", []string{"--max-error-rate", "150%"}, "--max-error-rate"},
		{"rates", []string{"--rates", "0"}, "--rates"},
		{"unknown instance type", []string{"--instance-type", "z9.huge"}, "--prices"},
		{"standard memory on aws", []string{"--standard-memory", "1024"}, "--standard-from DIR"},
		{"standard-from not a tune", []string{"--standard-from", tmp}, "--standard-from"},
		{"weighted payload", []string{"--payload", `[{"payload": {}, "weight": 1}, {"payload": {"a": 1}, "weight": 1}]`}, "one payload"},
		{"standard-only flag", []string{"--cold", "2"}, "tune --lmi: flag provided but not defined: -cold"},
		{"source not a folder", []string{"--target", "local", "--source", filepath.Join(tmp, "none")}, "--source " + filepath.Join(tmp, "none") + ": not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(tmp, "out-"+strings.ReplaceAll(tt.name, " ", "-"))
			args := append([]string{"tune", "--lmi", "--endpoint-url", ep, "--function", "managed", "--out", out}, tt.args...)
			var stderr bytes.Buffer
			err := run(context.Background(), args, &bytes.Buffer{}, &stderr)
			if code := exitCode(err, &bytes.Buffer{}); code != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("exit %d, err %v; want 2 and %q", code, err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is more than one line: %q", err)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("a refused run left %s", out)
			}
		})
	}
}

func TestTuneLMIDryRunChangesNothing(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	lt, before := lmiServer(t, ctx, exampleBinary(t))
	var stdout bytes.Buffer
	err := run(ctx, []string{"tune", "--lmi", "--endpoint-url", lt.Server.InvokeEndpoint(), "--function", "managed", "--dry-run",
		"--gib-per-vcpu", "2,8", "--per-env-concurrency", "4"}, &stdout, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 configuration(s)", "PutFunctionScalingConfig min = max = 1", "ramp 1,2,4,8 virtual users",
		"lambda:PutFunctionScalingConfig", "$LATEST.PUBLISHED is never changed"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the plan lacks %q:\n%s", want, stdout.String())
		}
	}
	if after := lmiStateOf(t, ctx, lt.Lambda, "managed"); !reflect.DeepEqual(before, after) {
		t.Fatalf("a dry run changed the function:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestTuneLMIFunctionFails(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	// The example needs an image: {} fails every invocation.
	err := run(ctx, []string{"tune", "--lmi", "--target", "local", "--binary", exampleBinary(t), "--payload", "{}",
		"--gib-per-vcpu", "2,4", "--per-env-concurrency", "2", "--step", "1s", "--out", dir}, &stdout, &stderr)
	if code := exitCode(err, &bytes.Buffer{}); code != 1 || !strings.Contains(err.Error(), "no configuration was measured") || !strings.Contains(err.Error(), "image is required") {
		t.Fatalf("exit %d, %v; want 1 saying nothing was measured and why\n%s", code, err, stderr.String())
	}
	sum, err := lmitune.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Results) != 2 {
		t.Fatalf("%d configurations, want both tried: a function error fails one configuration, not the sweep", len(sum.Results))
	}
	for _, r := range sum.Results {
		if !strings.HasPrefix(r.Status, "failed: the function failed its warm-up invocation") || len(r.Steps) != 0 {
			t.Errorf("%s: status %q, %d steps", r.Label, r.Status, len(r.Steps))
		}
	}
}

func TestTuneLMIPinsEnvironments(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	dir := t.TempDir()
	var stderr bytes.Buffer
	err := run(ctx, []string{"tune", "--lmi", "--target", "local", "--binary", exampleBinary(t), "--payload", smallPayload(t),
		"--gib-per-vcpu", "8", "--per-env-concurrency", "1", "--environments", "2", "--ramp", "1,2", "--step", "1s",
		"--slo", "p99<5s", "--out", dir}, &bytes.Buffer{}, &stderr)
	if err != nil {
		t.Fatalf("tune --lmi: %v\n%s", err, stderr.String())
	}
	sum, err := lmitune.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := sum.Results[0]
	if len(r.Steps) != 2 || r.KneeStep == 0 {
		t.Fatalf("%s: %d steps, knee step %d", r.Label, len(r.Steps), r.KneeStep)
	}
	for _, s := range r.Steps {
		if s.Environments != 2 {
			t.Errorf("step %d: %d environments, want the 2 it was pinned to from the start", s.Step, s.Environments)
		}
	}
	k := r.Steps[r.KneeStep-1]
	if want := round(k.Goodput / 2); r.KneeRPSPerEnv != want {
		t.Errorf("knee %v req/s per environment, want the step's %v req/s ÷ 2 = %v", r.KneeRPSPerEnv, k.Goodput, want)
	}
}
