package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/tune"
)

const exampleSource = "../examples/thumbnail"

// exampleBinary builds the example function for this machine once per test.
func exampleBinary(t *testing.T) string {
	t.Helper()
	bin, err := tune.BuildSource(testContext(t, 3*time.Minute), exampleSource, target.HostArch(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// smallPayload asks the example to scale a 96×64 PNG: a few milliseconds.
func smallPayload(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 96, 64))); err != nil {
		t.Fatal(err)
	}
	p, _ := json.Marshal(map[string]any{"image": base64.StdEncoding.EncodeToString(b.Bytes()), "widths": []int{24}})
	return string(p)
}

// otherArch is the architecture this machine cannot run.
func otherArch() string {
	if target.HostArch() == "arm64" {
		return "x86_64"
	}
	return "arm64"
}

func TestTuneLocalSource(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(testContext(t, 4*time.Minute), []string{"tune", "--target", "local", "--source", exampleSource, "--payload", smallPayload(t),
		"--memory", "128,1024", "--arch", "arm64,x86_64", "--cold", "1", "--runs", "4", "--threshold", "p50<0.001ms",
		"--junit", filepath.Join(dir, "junit.xml"), "--out", dir}, &stdout, &stderr)
	if code := exitCode(err, &bytes.Buffer{}); code != 99 {
		t.Fatalf("tune with a threshold nothing meets: exit %d (%v), want 99\n%s", code, err, stderr.String())
	}
	// One test case per measured configuration, each failed.
	if cases := readJUnit(t, filepath.Join(dir, "junit.xml")).Suites[0].Cases; len(cases) != 2 || cases[0].Failure == nil || cases[1].Failure == nil || cases[0].Classname != "bench.tune" {
		t.Fatalf("JUnit cases: %+v", cases)
	}
	sum, samples := readMatrixRun(t, dir)
	if sum.Kind != "tune" || sum.Meta.Tune == nil || sum.Meta.Tune.Function != "tune-thumbnail" || sum.Verdict == nil {
		t.Fatalf("summary: kind %q, tune %+v, verdict %+v", sum.Kind, sum.Meta.Tune, sum.Verdict)
	}
	for _, r := range sum.Results {
		switch r.Arch {
		case target.HostArch():
			if !r.Measured() || r.Warm.N != 4 || r.ColdSeen != 1 || r.CostPerMillion <= 0 || r.ColdCostPerMillion <= 0 {
				t.Errorf("%s: measured %v, warm n %d, cold %d, cost %v / cold %v", r.Label(), r.Measured(), r.Warm.N, r.ColdSeen, r.CostPerMillion, r.ColdCostPerMillion)
			}
		case otherArch():
			if r.Measured() || !strings.Contains(r.Skip, "cannot run linux/") {
				t.Errorf("%s: the other architecture must be reported as not measured, got skip %q", r.Label(), r.Skip)
			}
		}
	}
	if sum.Verdict.Choice.Arch != target.HostArch() {
		t.Errorf("verdict on %s, which was not measured", sum.Verdict.Choice.Arch)
	}
	aliases := map[string]bool{}
	for _, s := range samples {
		if s.Kind == matrix.KindCold || s.Kind == matrix.KindWarm {
			if !strings.HasPrefix(s.Qualifier, tune.AliasPrefix) {
				t.Fatalf("sample invoked %q, want an alias %s…", s.Qualifier, tune.AliasPrefix)
			}
			aliases[s.Qualifier] = true
		}
	}
	if len(aliases) != 2 {
		t.Errorf("aliases used: %v, want one per measured configuration", aliases)
	}
	for _, f := range []string{"summary.md", matrix.ChartPowerView, matrix.ChartCost, matrix.ChartColdInit, "build/linux-" + runtime.GOARCH + "/bootstrap"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if !strings.Contains(stdout.String(), "Verdict (balanced)") || !strings.Contains(stdout.String(), "not measured: this ") {
		t.Errorf("stdout lacks the verdict or the other architecture's line:\n%s", stdout.String())
	}
	// report rebuilds the same verdict.
	var rebuilt bytes.Buffer
	if err := run(testContext(t, time.Minute), []string{"report", dir}, &rebuilt, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	again, _ := readMatrixRun(t, dir)
	if again.Kind != "tune" || again.Verdict == nil || again.Verdict.Choice != sum.Verdict.Choice {
		t.Errorf("rebuilt verdict %+v, want %+v", again.Verdict, sum.Verdict)
	}
}

// functionState is what tune must leave as it found it.
type functionState struct {
	Memory   int32
	Arch     []string
	Env      map[string]string
	Code     string
	Handler  string
	Versions []string
	Aliases  []string
}

func stateOf(t *testing.T, ctx context.Context, api *lambda.Client, fn string) functionState {
	t.Helper()
	c, err := api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	st := functionState{Memory: aws.ToInt32(c.MemorySize), Code: aws.ToString(c.CodeSha256), Handler: aws.ToString(c.Handler), Env: map[string]string{}}
	for _, a := range c.Architectures {
		st.Arch = append(st.Arch, string(a))
	}
	if c.Environment != nil {
		st.Env = c.Environment.Variables
	}
	vs, err := api.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Versions {
		st.Versions = append(st.Versions, aws.ToString(v.Version))
	}
	as, err := api.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as.Aliases {
		st.Aliases = append(st.Aliases, aws.ToString(a.Name)+"→"+aws.ToString(a.FunctionVersion))
	}
	sort.Strings(st.Aliases)
	return st
}

// tuneServer serves the example as "thumb" (384 MB, one variable of its
// own, an alias "live" on a published version 1) as serve --function does.
func tuneServer(t *testing.T, ctx context.Context, bin string) (*target.LocalTarget, functionState) {
	t.Helper()
	lt, err := target.StartLocal(ctx, target.LocalOptions{Functions: []locallambda.FunctionSpec{{
		Name: "thumb", Binary: bin, Handler: "bootstrap", MemoryMB: 384, Timeout: 10 * time.Second, Env: map[string]string{"MODE": "prod"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lt.Close() })
	if _, err := lt.Lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("thumb")}); err != nil {
		t.Fatal(err)
	}
	if _, err := lt.Lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("thumb"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	before := stateOf(t, ctx, lt.Lambda, "thumb")
	if !reflect.DeepEqual(before.Versions, []string{"$LATEST", "1"}) || before.Memory != 384 {
		t.Fatalf("unexpected starting state %+v", before)
	}
	return lt, before
}

func TestTuneAWSAgainstServeLeavesFunctionAsFound(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	lt, before := tuneServer(t, ctx, exampleBinary(t))
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"tune", "--endpoint-url", lt.Server.InvokeEndpoint(), "--function", "thumb", "--payload", smallPayload(t),
		"--memory", "128,512", "--cold", "2", "--runs", "3", "--out", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("tune: %v\n%s", err, stderr.String())
	}
	checkPowerTuningLink(t, stdout.String(), dir)
	after := stateOf(t, ctx, lt.Lambda, "thumb")
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("the function changed:\nbefore %+v\nafter  %+v", before, after)
	}
	j, err := tune.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Two configurations × two cold starts: four versions, two aliases, all gone now.
	if len(j.Versions) != 4 || len(j.Aliases) != 2 || !j.CleanedUp {
		t.Fatalf("journal: %d versions, %d aliases, cleaned up %v", len(j.Versions), len(j.Aliases), j.CleanedUp)
	}
	sum, _ := readMatrixRun(t, dir)
	for _, r := range sum.Results {
		if !r.Measured() || r.ColdSeen != 2 || r.Warm.N != 3 {
			t.Errorf("%s: measured %v, %d cold starts seen, %d warm", r.Label(), r.Measured(), r.ColdSeen, r.Warm.N)
		}
	}
}

// checkPowerTuningLink finds the Power Tuning link tune printed for each
// architecture and checks that it decodes to the numbers of summary.json:
// per configuration measured, in memory order, its trimmed mean and cost
// per invocation; and that the result object is the one of its pick.
func checkPowerTuningLink(t *testing.T, stdout, dir string) {
	t.Helper()
	sum, _ := readMatrixRun(t, dir)
	if len(sum.PowerTuning) == 0 {
		t.Fatalf("summary.json has no power_tuning")
	}
	for arch, pt := range sum.PowerTuning {
		if !strings.Contains(stdout, pt.StateMachine.Visualization) {
			t.Fatalf("tune did not print the %s link %s:\n%s", arch, pt.StateMachine.Visualization, stdout)
		}
		mem, dur, usd, err := matrix.ParsePowerTuningLink(pt.StateMachine.Visualization)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for _, r := range sum.Results {
			if r.Arch != arch || !r.Measured() {
				continue
			}
			if i >= len(mem) || mem[i] != r.MemoryMB || float32(dur[i]) != float32(r.Duration()) || float32(usd[i]) != float32(r.CostPerMillion/1e6) {
				t.Fatalf("%s: the link does not hold %s (%v ms, $%v per invocation): %v %v %v", arch, r.Label(), r.Duration(), r.CostPerMillion/1e6, mem, dur, usd)
			}
			if r.MemoryMB == pt.Power && (pt.Duration != r.Duration() || pt.Cost != r.CostPerMillion/1e6) {
				t.Fatalf("%s: result object %+v is not %s's numbers", arch, pt, r.Label())
			}
			i++
		}
		if i != len(mem) {
			t.Fatalf("%s: the link holds %d configurations, the summary %d", arch, len(mem), i)
		}
	}
}

// benchBinary builds this command for subprocess tests.
func benchBinary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bench")
	cmd := exec.CommandContext(testContext(t, 3*time.Minute), "go", "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build bench: %v\n%s", err, b)
	}
	return out
}

// startTuneSubprocess runs bench tune against the server and waits until its
// journal records a published version: the sweep is under way.
func startTuneSubprocess(t *testing.T, bench, endpoint, dir, payload string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bench, "tune", "--endpoint-url", endpoint, "--function", "thumb", "--payload", payload,
		"--memory", "128,256,512", "--cold", "1", "--runs", "100000", "--parallel-configs", "1", "--out", dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(time.Minute)
	for {
		if j, err := tune.Open(dir); err == nil && len(j.Versions) > 0 {
			if b, err := os.ReadFile(filepath.Join(dir, "samples.csv")); err == nil && bytes.Count(b, []byte("\n")) > 3 {
				return cmd, &out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tune did not start its sweep within a minute:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTuneSIGINTMidSweepCleansUp(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	lt, before := tuneServer(t, ctx, exampleBinary(t))
	dir := t.TempDir()
	cmd, out := startTuneSubprocess(t, benchBinary(t), lt.Server.InvokeEndpoint(), dir, smallPayload(t))
	mid := stateOf(t, ctx, lt.Lambda, "thumb")
	if len(mid.Aliases) != 2 || mid.Memory != 128 {
		t.Fatalf("mid-sweep the function should have tune's alias and 128 MB: %+v", mid)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130\n%s", err, out.String())
	}
	if after := stateOf(t, ctx, lt.Lambda, "thumb"); !reflect.DeepEqual(before, after) {
		t.Fatalf("after SIGINT the function changed:\nbefore %+v\nafter  %+v\n%s", before, after, out.String())
	}
	sum, _ := readMatrixRun(t, dir)
	if !sum.Partial || len(sum.Results) == 0 || !sum.Results[0].Measured() {
		t.Fatalf("an interrupted tune keeps a partial summary of what it measured: %+v", sum)
	}
}

func TestTuneCleanupAfterCrash(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	lt, before := tuneServer(t, ctx, exampleBinary(t))
	dir := t.TempDir()
	cmd, _ := startTuneSubprocess(t, benchBinary(t), lt.Server.InvokeEndpoint(), dir, smallPayload(t))
	if err := cmd.Process.Kill(); err != nil { // no chance to clean up
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if mid := stateOf(t, ctx, lt.Lambda, "thumb"); reflect.DeepEqual(before, mid) {
		t.Fatal("the killed run left nothing to clean up: the test proves nothing")
	}
	var stdout bytes.Buffer
	if err := run(ctx, []string{"tune", "--cleanup", dir}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatalf("tune --cleanup: %v", err)
	}
	if after := stateOf(t, ctx, lt.Lambda, "thumb"); !reflect.DeepEqual(before, after) {
		t.Fatalf("after --cleanup the function changed:\nbefore %+v\nafter  %+v", before, after)
	}
	// A second cleanup has nothing to do.
	stdout.Reset()
	if err := run(ctx, []string{"tune", "--cleanup", dir}, &stdout, &bytes.Buffer{}); err != nil || !strings.Contains(stdout.String(), "already cleaned up") {
		t.Fatalf("second cleanup: %v %q", err, stdout.String())
	}
}

func TestTuneUsageErrors(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	bin := exampleBinary(t)
	lt, err := target.StartLocal(ctx, target.LocalOptions{Functions: []locallambda.FunctionSpec{
		{Name: "thumb", Binary: bin, Handler: "bootstrap"},
		{Name: "managed", Binary: bin, Handler: "bootstrap", MemoryMB: 2048, Mode: locallambda.LMI, MinEnvironments: 0, MaxEnvironments: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer lt.Close()
	ep := lt.Server.InvokeEndpoint()
	tmp := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notJSON := write("bad.json", "{nope")
	weightless := write("weights.json", `[{"payload":{}}]`)
	write("badsrc/main.go", "package main\nfunc main() { undefined() }\n")
	write("badsrc/go.mod", "module badsrc\n\ngo 1.26\n")
	script := write("script.sh", "#!/bin/sh\necho hi\n")
	unwritable := write("file", "x")
	// A journal cut off mid-write: the only record of what its run left.
	cutJournal := `{"run_id": "20261203-1", "function": "thumb", "target": "aws", "original": {"function_name": "thumb", "memory_size": 512}, "versions": ["7", "8"], "ali`
	damaged := write("damaged/tune-journal.json", cutJournal)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown function", []string{"--endpoint-url", ep, "--function", "nope"}, "function nope not found"},
		{"LMI with a flag tune --lmi lacks", []string{"--endpoint-url", ep, "--function", "managed", "--cold", "2"}, "managed runs on Lambda Managed Instances, which tune sweeps as 'tune --lmi' does; that has no --cold"},
		{"no function", []string{"--endpoint-url", ep}, "--function NAME|ARN is required"},
		{"memory too small", []string{"--endpoint-url", ep, "--function", "thumb", "--memory", "64"}, "between 128 and 10240"},
		{"memory too large", []string{"--endpoint-url", ep, "--function", "thumb", "--memory", "10241"}, "between 128 and 10240"},
		{"memory repeated", []string{"--endpoint-url", ep, "--function", "thumb", "--memory", "128,256,128"}, "128 MB is given twice"},
		{"damaged journal in out", []string{"--endpoint-url", ep, "--function", "thumb", "--out", filepath.Dir(damaged)}, `damaged journal`},
		{"empty memory", []string{"--endpoint-url", ep, "--function", "thumb", "--memory", ","}, "no memory size"},
		{"missing payload file", []string{"--endpoint-url", ep, "--function", "thumb", "--payload", "@" + filepath.Join(tmp, "none.json")}, "no such file"},
		{"payload file not JSON", []string{"--endpoint-url", ep, "--function", "thumb", "--payload", "@" + notJSON}, "not valid JSON"},
		{"weighted list without weight", []string{"--endpoint-url", ep, "--function", "thumb", "--payload", "@" + weightless}, "needs a weight"},
		{"weighted list misspelt", []string{"--endpoint-url", ep, "--function", "thumb", "--payload", `[{"payload":{},"wieght":2}]`}, "weighted list"},
		{"strategy weight out of range", []string{"--endpoint-url", ep, "--function", "thumb", "--strategy", "balanced:1.5"}, "between 0 and 1"},
		{"strategy weight on cost", []string{"--endpoint-url", ep, "--function", "thumb", "--strategy", "cost:0.5"}, "only balanced takes a weight"},
		{"cold starts only, in parallel", []string{"--endpoint-url", ep, "--function", "thumb", "--cold", "3", "--runs", "0", "--parallel-invocations", "2"}, "no warm invocations"},
		{"handler without a name", []string{"--target", "local", "--binary", bin, "--env", "_HANDLER="}, "needs a name"},
		{"apply what", []string{"--endpoint-url", ep, "--function", "thumb", "--apply", "yes"}, "want latest"},
		{"apply to a bad alias", []string{"--endpoint-url", ep, "--function", "thumb", "--apply", "alias:12"}, "not a Lambda alias name"},
		{"apply to tune's alias", []string{"--endpoint-url", ep, "--function", "thumb", "--apply", "alias:bench-tune-x"}, "tune's own"},
		{"apply locally", []string{"--target", "local", "--binary", bin, "--apply", "latest"}, "--apply changes a deployed function"},
		{"power tuning input missing", []string{"--power-tuning-input", filepath.Join(tmp, "none.json")}, "no such file"},
		{"power tuning input not JSON", []string{"--power-tuning-input", notJSON}, "not a Power Tuning input"},
		{"power tuning payloadS3", []string{"--power-tuning-input", write("s3.json", `{"lambdaARN":"thumb","num":5,"payloadS3":"s3://b/k"}`)}, "payloadS3 is not supported"},
		{"power tuning pre-processor", []string{"--power-tuning-input", write("pre.json", `{"lambdaARN":"thumb","num":5,"preProcessorARN":"arn:aws:lambda:us-east-1:1:function:pre"}`)}, "preProcessorARN is not supported"},
		{"power tuning post-processor", []string{"--power-tuning-input", write("post.json", `{"lambdaARN":"thumb","num":5,"postProcessorARN":"arn:aws:lambda:us-east-1:1:function:post"}`)}, "postProcessorARN is not supported"},
		{"power tuning unknown key", []string{"--power-tuning-input", write("typo.json", `{"lambdaARN":"thumb","nmu":5}`)}, `unknown key "nmu"`},
		{"power tuning bad powerValues", []string{"--power-tuning-input", write("pv.json", `{"lambdaARN":"thumb","num":5,"powerValues":"SOME"}`)}, "powerValues"},
		{"power tuning num as text", []string{"--power-tuning-input", write("num.json", `{"lambdaARN":"thumb","num":"ten"}`)}, "num"},
		{"power tuning memory out of range", []string{"--endpoint-url", ep, "--power-tuning-input", write("mem.json", `{"lambdaARN":"thumb","num":5,"powerValues":[64]}`)}, "between 128 and 10240"},
		{"other arch without code", []string{"--endpoint-url", ep, "--function", "thumb", "--arch", otherArch()}, "needs code built for it"},
		{"source does not build", []string{"--target", "local", "--source", filepath.Join(tmp, "badsrc")}, "does not build"},
		{"binary not ELF", []string{"--target", "local", "--binary", script}, "not a Linux executable"},
		{"binary for one architecture only", []string{"--target", "local", "--binary", bin, "--arch", otherArch()}, "no code for " + otherArch()},
		{"source and binary", []string{"--target", "local", "--binary", bin, "--source", exampleSource}, "one of them"},
		{"negative sleep", []string{"--endpoint-url", ep, "--function", "thumb", "--sleep-between", "-1s"}, "must not be negative"},
		{"unwritable out", []string{"--endpoint-url", ep, "--function", "thumb", "--out", filepath.Join(unwritable, "sub")}, "--out"},
		{"cleanup of a folder without journal", []string{"--cleanup", tmp}, "has no tune-journal.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"tune"}, tt.args...)
			out := filepath.Join(t.TempDir(), "out")
			if !contains(tt.args, "--out") && !contains(tt.args, "--cleanup") {
				args = append(args, "--out", out)
			}
			var stderr bytes.Buffer
			err := run(ctx, args, &bytes.Buffer{}, &bytes.Buffer{})
			code := exitCode(err, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line containing %q", code, stderr.String(), tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("exit 2 left %s behind", out)
			}
		})
	}
	if b, err := os.ReadFile(damaged); err != nil || string(b) != cutJournal {
		t.Errorf("the damaged journal was touched: %q, %v", b, err)
	}
	// Nothing was changed by any of them.
	st := stateOf(t, ctx, lt.Lambda, "thumb")
	if len(st.Versions) != 1 || len(st.Aliases) != 0 {
		t.Fatalf("a rejected run changed the function: %+v", st)
	}
}

func TestTuneDryRunChangesNothing(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	lt, before := tuneServer(t, ctx, exampleBinary(t))
	var stdout bytes.Buffer
	err := run(ctx, []string{"tune", "--endpoint-url", lt.Server.InvokeEndpoint(), "--function", "thumb", "--memory", "128,1024",
		"--arch", "arm64,x86_64", "--source", exampleSource, "--cold", "2", "--apply", "alias:live", "--dry-run"}, &stdout, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	plan := stdout.String()
	for _, want := range []string{"Dry run", "UpdateFunctionCode", "Architectures=[arm64]", "CreateAlias bench-tune-", "UpdateAlias", "DeleteAlias", "MemorySize=384",
		"Apply (after the verdict", "MemorySize=<the verdict's>", "UpdateAlias live"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if after := stateOf(t, ctx, lt.Lambda, "thumb"); !reflect.DeepEqual(before, after) {
		t.Fatalf("--dry-run changed the function:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestTuneLabelsTimeouts(t *testing.T) {
	dir := t.TempDir()
	// The big payload takes seconds at 128 MB: every invocation times out.
	err := run(testContext(t, 3*time.Minute), []string{"tune", "--target", "local", "--source", exampleSource, "--timeout", "1s",
		"--payload", "@" + exampleSource + "/testdata/payload.json", "--memory", "128", "--cold", "1", "--runs", "2", "--out", dir},
		&bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no configuration was measured successfully") || exitCode(err, &bytes.Buffer{}) != 1 {
		t.Fatalf("err = %v, want a failed run that names the cause", err)
	}
	sum, samples := readMatrixRun(t, dir)
	r := sum.Results[0]
	if r.Timeouts != 3 || r.Failures != 3 || r.Status() != "timeout 3/3" {
		t.Fatalf("status %q, %d timeouts of %d failures", r.Status(), r.Timeouts, r.Failures)
	}
	for _, s := range samples {
		if s.ErrorKind != matrix.ErrorTimeout {
			t.Fatalf("sample %s %d: error kind %q (%s), want timeout", s.Kind, s.Seq, s.ErrorKind, s.Error)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	if !strings.Contains(string(md), "timeout 3/3") {
		t.Fatalf("summary.md does not label the timeouts:\n%s", md)
	}
}

func TestTuneAWSWithSourceRestoresCode(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	// The deployed code differs from what --source builds (no -s -w), so the
	// restore has something to prove.
	deployed := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", deployed, ".")
	cmd.Dir = exampleSource
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	lt, before := tuneServer(t, ctx, deployed)
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := run(ctx, []string{"tune", "--endpoint-url", lt.Server.InvokeEndpoint(), "--function", "thumb", "--source", exampleSource,
		"--payload", smallPayload(t), "--memory", "256", "--cold", "1", "--runs", "2", "--out", dir}, &bytes.Buffer{}, &stderr); err != nil {
		t.Fatalf("tune --source: %v\n%s", err, stderr.String())
	}
	j, err := tune.Open(dir)
	if err != nil || !j.CodeChanged {
		t.Fatalf("journal: %+v, %v; want the code change recorded", j, err)
	}
	if !strings.Contains(stderr.String(), "UpdateFunctionCode thumb: original code") {
		t.Errorf("no code restore in the log:\n%s", stderr.String())
	}
	if after := stateOf(t, ctx, lt.Lambda, "thumb"); !reflect.DeepEqual(before, after) {
		t.Fatalf("the function changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// A Power Tuning execution input tunes the function against the local
// Lambda's API (as 'bench serve' serves it): the printed link decodes to
// the summary's numbers, autoOptimize/autoOptimizeAlias leave the winning
// memory on $LATEST and alias live on a new version with it, and
// 'tune --cleanup' undoes that.
func TestTunePowerTuningInputAppliesAndCleanupUndoes(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	lt, before := tuneServer(t, ctx, exampleBinary(t))
	dir := t.TempDir()
	input := filepath.Join(t.TempDir(), "power-tuning.json")
	body, _ := json.Marshal(map[string]any{
		"lambdaARN": "arn:aws:lambda:" + locallambda.Region + ":" + locallambda.Account + ":function:thumb", "powerValues": []int{128, 1024},
		"num": 5, "payload": smallPayload(t), "strategy": "speed", "autoOptimize": true, "autoOptimizeAlias": "live", "includeOutputResults": true,
	})
	if err := os.WriteFile(input, body, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"tune", "--endpoint-url", lt.Server.InvokeEndpoint(), "--power-tuning-input", input, "--out", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("tune: %v\n%s", err, stderr.String())
	}
	checkPowerTuningLink(t, stdout.String(), dir)
	sum, _ := readMatrixRun(t, dir)
	if sum.Meta.Runs != 5 || sum.Meta.Cold != 1 || sum.Meta.Strategy != "speed" || sum.Verdict == nil {
		t.Fatalf("the input's settings were not used: runs %d, cold %d, strategy %s", sum.Meta.Runs, sum.Meta.Cold, sum.Meta.Strategy)
	}
	for _, pt := range sum.PowerTuning {
		if len(pt.Stats) != 2 {
			t.Errorf("includeOutputResults: %d stats, want 2", len(pt.Stats))
		}
	}
	win := sum.Verdict.Choice
	after := stateOf(t, ctx, lt.Lambda, "thumb")
	j, err := tune.Open(dir)
	if err != nil || j.Applied == nil || j.Applied.Version == "" {
		t.Fatalf("journal: %+v, %v", j, err)
	}
	if after.Memory != int32(win.MemoryMB) || !reflect.DeepEqual(after.Env, before.Env) ||
		!reflect.DeepEqual(after.Aliases, []string{"live→" + j.Applied.Version}) || !strings.Contains(stdout.String(), "Applied: ") {
		t.Fatalf("after --apply of %d MB: %+v\n%s", win.MemoryMB, after, stdout.String())
	}
	v, err := lt.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("thumb"), Qualifier: aws.String("live")})
	if err != nil || aws.ToInt32(v.MemorySize) != int32(win.MemoryMB) {
		t.Fatalf("alias live: %v MB, %v; want %d MB", aws.ToInt32(v.MemorySize), err, win.MemoryMB)
	}
	// The journal of an --apply still in place is not given up to --force.
	if err := run(ctx, []string{"tune", "--endpoint-url", lt.Server.InvokeEndpoint(), "--function", "thumb", "--out", dir, "--force"}, &bytes.Buffer{}, &bytes.Buffer{}); exitCode(err, &bytes.Buffer{}) != 2 || !strings.Contains(err.Error(), "--apply is still on") {
		t.Fatalf("reusing the folder of an --apply: %v", err)
	}
	if err := run(ctx, []string{"tune", "--cleanup", dir}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatalf("tune --cleanup: %v", err)
	}
	if undone := stateOf(t, ctx, lt.Lambda, "thumb"); !reflect.DeepEqual(before, undone) {
		t.Fatalf("after --cleanup:\nbefore %+v\nafter  %+v", before, undone)
	}
	var again bytes.Buffer
	if err := run(ctx, []string{"tune", "--cleanup", dir}, &again, &bytes.Buffer{}); err != nil || !strings.Contains(again.String(), "already cleaned up") {
		t.Fatalf("second cleanup: %v %q", err, again.String())
	}
}

// With a function that sleeps, measuring the configurations at once (every
// version published first, as Power Tuning's initializer does) is more than
// three times faster than one after another for six configurations, and
// measures the same: every configuration, its cold start, the same
// durations within noise.
func TestTuneParallelConfigsIsFaster(t *testing.T) {
	if testing.Short() {
		t.Skip("two tunes of six configurations with a sleeping function")
	}
	ctx := testContext(t, 4*time.Minute)
	lt, err := target.StartLocal(ctx, target.LocalOptions{NoCPUControl: true, Functions: []locallambda.FunctionSpec{{
		Name: "sleepy", Binary: functionBinary(t), Handler: "hello", MemoryMB: 128, Timeout: 10 * time.Second,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer lt.Close()
	const sleepMs = 100
	tuneOnce := func(parallel string) (time.Duration, matrix.Summary) {
		dir := t.TempDir()
		start := time.Now()
		var stderr bytes.Buffer
		err := run(ctx, []string{"tune", "--endpoint-url", lt.Server.InvokeEndpoint(), "--function", "sleepy",
			"--payload", fmt.Sprintf(`{"queryStringParameters":{"delay_ms":"%d"}}`, sleepMs),
			"--memory", "128,256,512,1024,1536,2048", "--cold", "1", "--runs", "10", "--parallel-configs", parallel, "--out", dir}, &bytes.Buffer{}, &stderr)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("tune --parallel-configs %s: %v\n%s", parallel, err, stderr.String())
		}
		sum, _ := readMatrixRun(t, dir)
		return took, sum
	}
	seqTook, seq := tuneOnce("1")
	parTook, par := tuneOnce("6")
	t.Logf("6 configurations × (1 cold + 10 warm) of a %d ms sleep: one at a time %s, at once %s (%.1f×)", sleepMs, seqTook.Round(time.Millisecond), parTook.Round(time.Millisecond), seqTook.Seconds()/parTook.Seconds())
	// Under -race the in-process local Lambda's own work (publishing,
	// six environments starting at once on this machine's cores) weighs
	// several times more; at once must still be clearly faster.
	want := 3.0
	if raceDetector {
		want = 1.5
	}
	if seqTook.Seconds() < want*parTook.Seconds() {
		t.Errorf("at once took %s, one at a time %s: want at least %.1f× faster", parTook, seqTook, want)
	}
	if len(seq.Results) != 6 || len(par.Results) != 6 {
		t.Fatalf("results: %d one at a time, %d at once; want 6 each", len(seq.Results), len(par.Results))
	}
	for i, s := range seq.Results {
		p := par.Results[i]
		if s.Label() != p.Label() || p.Warm.N != 10 || s.Warm.N != 10 || p.ColdSeen != 1 || s.ColdSeen != 1 || p.Failures+s.Failures != 0 {
			t.Fatalf("%s: one at a time %d warm, %d cold, %d failed; %s at once %d warm, %d cold, %d failed",
				s.Label(), s.Warm.N, s.ColdSeen, s.Failures, p.Label(), p.Warm.N, p.ColdSeen, p.Failures)
		}
		if math.Abs(p.Duration()-s.Duration()) > 0.2*s.Duration() || s.Duration() < sleepMs {
			t.Errorf("%s: trimmed mean %.1f ms at once, %.1f ms one at a time", s.Label(), p.Duration(), s.Duration())
		}
	}
}
