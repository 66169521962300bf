package lmitune

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/stats"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
	"lambdabench/bench/internal/tune"
)

// measurer runs one configuration's ramp against its version.
type measurer struct {
	o        Options
	api      tune.LMIAPI
	lt       *target.LocalTarget
	mon      *hostload.Monitor
	samples  *sampleWriter
	function string
	version  string
	// checkpoint, when set, is told the configuration after every step.
	checkpoint func(Result)
	// timeout is the function's own: a request is given that and 5 s.
	timeout time.Duration
}

// ramp steps the load up until a step breaks an objective (that step is
// recorded too) or the ramp ends, and sets the knee: the held step with
// the highest goodput.
func (m *measurer) ramp(ctx context.Context, res *Result) error {
	for i, level := range m.o.RampFor(res.Config) {
		if ctx.Err() != nil {
			return nil
		}
		st, err := m.step(ctx, res, i+1, level)
		if err != nil {
			return err
		}
		if ctx.Err() != nil && st.Requests == 0 {
			return nil
		}
		res.Steps = append(res.Steps, st)
		res.setKnee()
		if m.checkpoint != nil {
			m.checkpoint(*res)
		}
		if m.o.OnStep != nil {
			m.o.OnStep(*res, st)
		}
		if !st.Held || ctx.Err() != nil {
			break
		}
	}
	return nil
}

// errorRate is failed or dropped ÷ attempted (0–1; 0 when none was).
func errorRate(requests, dropped, ok int64) float64 {
	if n := requests + dropped; n > 0 {
		return float64(n-ok) / float64(n)
	}
	return 0
}

// setKnee sets the knee from the steps: the held step with the most
// successful requests per second, per environment and per vCPU.
func (r *Result) setKnee() {
	r.KneeStep, r.KneeRPSPerEnv, r.KneeRPSPerVCPU, r.KneeP99 = 0, 0, 0, 0
	for _, st := range r.Steps {
		if st.Held && (r.KneeStep == 0 || st.Goodput > r.Steps[r.KneeStep-1].Goodput) {
			r.KneeStep = st.Step
		}
	}
	if r.KneeStep == 0 {
		return
	}
	k := r.Steps[r.KneeStep-1]
	envs := float64(max(r.Environments, 1))
	r.KneeRPSPerEnv = round3(k.Goodput / envs)
	r.KneeRPSPerVCPU = round3(k.Goodput / envs / r.VCPUsPerEnv)
	r.KneeP99 = k.Latency.P99
}

// step offers one level for Step and measures it.
func (m *measurer) step(ctx context.Context, res *Result, n int, level float64) (Step, error) {
	o := m.o
	st := Step{Step: n, Offered: level, Environments: -1, EnvCPU: -1}
	stages := load.Stages{{Duration: 0, Target: level}, {Duration: o.Step, Target: level}}
	ep := load.Endpoint{Name: res.Label, Function: &load.Function{Name: m.function + ":" + m.version, Payload: o.Payload}}
	var envs *envCounter
	if m.lt != nil {
		envs = newEnvCounter(m.lt, m.function, m.version) // before the load starts
	}
	started := time.Now()
	ch, err := load.Attack(ctx, []load.Endpoint{ep}, load.AttackOptions{
		Scenario: res.Label, Model: o.Model, Stages: stages, Timeout: m.timeout + 5*time.Second,
		MaxInFlight: load.DefaultMaxInFlight, Invoker: m.api,
	})
	if err != nil {
		return st, err
	}
	stopEnvs := make(chan struct{})
	var wg sync.WaitGroup
	if envs != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			envs.watch(stopEnvs)
		}()
	}
	metrics := load.NewMetrics()
	hist := stats.NewHistogram()
	for r := range ch {
		metrics.Add(r)
		if r.OK() {
			// To the microsecond, as samples.csv keeps it (truncated),
			// so that a rebuild from the samples gives the same figures.
			hist.Record(r.Latency.Truncate(time.Microsecond))
		}
		m.samples.write(res, n, level, r)
	}
	close(stopEnvs)
	wg.Wait()
	ended := time.Now()
	if ctx.Err() != nil {
		metrics.MarkPartial()
	}
	metrics.Close()
	sums := metrics.Summaries(nil)
	if len(sums) == 0 || len(sums[0].Endpoints) == 0 {
		return st, nil
	}
	t := sums[0].Endpoints[0].Total
	st.DurationS = round3(t.WindowS)
	st.Requests = t.Requests
	st.OK = t.OK
	st.Status429, st.Status4xx, st.Status5xx = t.Status429, t.Status4xx, t.Status5xx
	st.FunctionErrors, st.NetworkErrors, st.Dropped = t.FunctionErrors, t.NetworkErrors, t.Dropped
	st.Throughput = round3(t.Throughput)
	if t.WindowS > 0 {
		st.Goodput = round3(float64(t.OK) / t.WindowS)
	}
	st.ErrorRate = errorRate(t.Requests, t.Dropped, t.OK)
	st.Latency = hist.Summary(stats.DefaultTrim)
	st.Environments = res.Environments // on AWS: as pinned, which waitEnvironments saw applied
	if envs != nil {
		st.Environments = envs.max()
		st.EnvCPU = round3(envs.cpu())
	}
	if m.mon != nil {
		st.Host = hostload.Window(m.mon.Samples(), hostload.DefaultInterval, started, ended)
	}
	st.Held, st.Broke = judge(o.SLO, o.MaxErrorRate, res.Label, st)
	return st, nil
}

// waitEnvironments waits, before the ramp, until the version runs the
// environments it was pinned to: locally until that many have finished
// their init; on AWS until the applied scaling config is the one asked.
// Waiting longer than wait is an error.
func (m *measurer) waitEnvironments(ctx context.Context, n int, wait time.Duration) error {
	every := time.Second
	if m.lt != nil {
		every = 50 * time.Millisecond
	}
	return tune.Poll(ctx, wait, every, func() (bool, error) {
		if m.lt != nil {
			return m.lt.Server.ReadyEnvironments(m.function, m.version) >= n, nil
		}
		out, err := m.api.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String(m.function), Qualifier: aws.String(m.version)})
		if err != nil {
			return false, tune.Explain(fmt.Errorf("read the scaling config of %s:%s: %w", m.function, m.version, err), "lambda:GetFunctionScalingConfig")
		}
		a := out.AppliedFunctionScalingConfig
		return a != nil && aws.ToInt32(a.MinExecutionEnvironments) == int32(n) && aws.ToInt32(a.MaxExecutionEnvironments) == int32(n), nil
	}, func() error {
		return fmt.Errorf("version %s of %s does not run %d execution environment(s) after %s", m.version, m.function, n, wait)
	})
}

// functionError is a warm-up invocation the function itself failed.
type functionError struct{ msg string }

func (e *functionError) Error() string { return e.msg }

// warmUp invokes the version once before its ramp: a function that fails
// on the payload, or a caller that may not invoke it, is told in one line
// (with the IAM action) instead of as a ramp of failed steps.
func (m *measurer) warmUp(ctx context.Context) error {
	out, err := m.api.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(m.function), Qualifier: aws.String(m.version), Payload: payloadOr(m.o.Payload)})
	if err != nil {
		return tune.Explain(fmt.Errorf("warm-up invocation of %s:%s: %w", m.function, m.version, err), "lambda:InvokeFunction")
	}
	if out.FunctionError != nil {
		return &functionError{fmt.Sprintf("the function failed its warm-up invocation (%s): %s", aws.ToString(out.FunctionError), matrix.Truncate(string(out.Payload), 200))}
	}
	return nil
}

// judge checks a step against the objectives: every SLO threshold on the
// successful requests' latency, and the error rate. A step with no
// successful request never holds.
func judge(slo []threshold.Threshold, maxErr float64, label string, st Step) (bool, string) {
	var why []string
	if st.ErrorRate > maxErr {
		why = append(why, fmt.Sprintf("errors %.2f%% > %.2f%%", 100*st.ErrorRate, 100*maxErr))
	}
	if st.OK == 0 {
		why = append(why, "no successful request")
	} else {
		outs, _ := threshold.Evaluate(slo, []threshold.Subject{{Name: label, Summary: st.Latency, ErrorRate: st.ErrorRate, Dropped: st.Dropped}})
		for _, out := range outs {
			if !out.Passed {
				f := out.Failure()
				unit := "ms"
				v := strconv.FormatFloat(f.Actual, 'f', 1, 64)
				switch f.Threshold.Metric {
				case "error_rate":
					unit, v = "%", strconv.FormatFloat(100*f.Actual, 'f', 2, 64)
				case "dropped":
					unit = ""
				}
				why = append(why, fmt.Sprintf("%s %s%s breaks %s", f.Threshold.Metric, v, unit, f.Threshold.Raw))
			}
		}
	}
	if len(why) > 0 {
		return false, strings.Join(why, "; ")
	}
	return true, ""
}

func deleteInput(fn, version string) *lambda.DeleteFunctionInput {
	return &lambda.DeleteFunctionInput{FunctionName: aws.String(fn), Qualifier: aws.String(version)}
}

// sampleWriter writes samples.csv: one row per request with its
// configuration and step. A row is appended into one reused buffer (as
// load's CSVEncoder does): it is written once per request, while the
// load runs on this machine.
type sampleWriter struct {
	f      *os.File
	w      *bufio.Writer
	err    error
	row    []byte
	prefix []byte // the configuration and step columns of the current step
	key    struct {
		label   string
		step    int
		offered float64
	}
}

// SampleHeader names the columns of an LMI tune's samples.csv.
var SampleHeader = []string{"config", "memory_mb", "gib_per_vcpu", "per_env_concurrency", "step", "offered",
	"time", "elapsed_ms", "status", "latency_ms", "lag_ms", "error"}

func newSampleWriter(path string) (*sampleWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	s := &sampleWriter{f: f, w: bufio.NewWriter(f)}
	_, s.err = s.w.WriteString(strings.Join(SampleHeader, ",") + "\n")
	return s, nil
}

func (s *sampleWriter) write(res *Result, step int, offered float64, r *load.Result) {
	if s.err != nil {
		return
	}
	if k := s.key; k.label != res.Label || k.step != step || k.offered != offered || s.prefix == nil {
		s.key.label, s.key.step, s.key.offered = res.Label, step, offered
		b := append(s.prefix[:0], res.Label...) // Config.Label: never quoted
		b = strconv.AppendInt(append(b, ','), int64(res.MemoryMB), 10)
		b = strconv.AppendFloat(append(b, ','), res.GiBPerVCPU, 'g', -1, 64)
		b = strconv.AppendInt(append(b, ','), int64(res.PerEnvConcurrency), 10)
		b = strconv.AppendInt(append(b, ','), int64(step), 10)
		s.prefix = strconv.AppendFloat(append(b, ','), offered, 'g', -1, 64)
	}
	b := append(s.row[:0], s.prefix...)
	b = r.Time.UTC().AppendFormat(append(b, ','), "2006-01-02T15:04:05.000000Z07:00")
	b = load.AppendMillis(append(b, ','), r.Elapsed)
	b = strconv.AppendInt(append(b, ','), int64(r.Status), 10)
	b = load.AppendMillis(append(b, ','), r.Latency)
	b = load.AppendMillis(append(b, ','), r.Lag)
	b = append(load.AppendCSVField(b, r.Error), '\n')
	s.row = b
	_, s.err = s.w.Write(b)
}

// flush pushes the rows written so far to the file.
func (s *sampleWriter) flush() {
	if s.f != nil && s.err == nil {
		s.err = s.w.Flush()
	}
}

func (s *sampleWriter) close() error {
	if s.f == nil {
		return s.err
	}
	if s.err == nil {
		s.err = s.w.Flush()
	}
	if err := s.f.Close(); err != nil && s.err == nil {
		s.err = err
	}
	s.f = nil
	if s.err != nil {
		return fmt.Errorf("samples: %w", s.err)
	}
	return nil
}

// measureStandard measures the standard copy of the function on the local
// Lambda: one warm-up, then warm invocations one at a time for a few
// seconds; the figure is the mean billed duration of the REPORT lines.
func measureStandard(ctx context.Context, api tune.LMIAPI, name string, o Options, arch string) (*Standard, error) {
	o.logf("Standard Lambda: %s at %d MB, warm invocations one at a time …", name, o.StandardMemory)
	fn := &load.Function{Name: name, Payload: o.Payload, LogTail: true}
	if _, err := api.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payloadOr(o.Payload)}); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	d := min(max(o.Step, 2*time.Second), 10*time.Second)
	ch, err := load.Attack(ctx, []load.Endpoint{{Name: "standard", Function: fn}}, load.AttackOptions{
		Scenario: "standard", Model: load.Closed, Stages: load.Stages{{Duration: 0, Target: 1}, {Duration: d, Target: 1}},
		Timeout: max(o.Timeout, time.Second) + 5*time.Second, Invoker: api,
	})
	if err != nil {
		return nil, err
	}
	var sum float64
	var n, failed int
	for r := range ch {
		if !r.OK() || r.BilledMs <= 0 {
			failed++
			continue
		}
		sum += r.BilledMs
		n++
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if n == 0 {
		return nil, fmt.Errorf("no successful invocation of %s (%d failed)", name, failed)
	}
	if failed > 0 {
		return nil, fmt.Errorf("%d of %d invocations of %s failed", failed, failed+n, name)
	}
	return &Standard{MemoryMB: o.StandardMemory, Arch: arch, DurationMs: round3(sum / float64(n)), N: n,
		Source: "measured in this run on the local Lambda (one invocation at a time)"}, nil
}

func payloadOr(p []byte) []byte {
	if len(p) == 0 {
		return []byte("{}")
	}
	return p
}
