package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"lambdabench/bench/internal/contract"
)

// DefaultPayload is the bcrypt matrix's request: 20 items hashed in parallel.
const DefaultPayload = `{"count":20,"mode":"parallel"}`

// ColdStartVariable is the environment variable bench changes to force a
// cold start (UpdateFunctionConfiguration retires warm environments), as
// Lambda Power Tuning and lambda-perf do.
const ColdStartVariable = "BENCH_COLD_START"

// Options controls a matrix run.
type Options struct {
	Cold         int           // forced cold starts per configuration
	Runs         int           // warm invocations per configuration
	Payload      []byte        // request payload
	Parallel     int           // warm invocations in flight at once (1 = one after another)
	SleepBetween time.Duration // pause after each warm invocation
	LogTail      bool          // ask for the log tail (REPORT line)
	UpdateWait   time.Duration // how long a configuration update may take
	PollEvery    time.Duration // how often to check an update's status

	// Payloads, when set, replaces Payload with a weighted list: the
	// invocations of each configuration are split by weight (interleaved)
	// and each sample records its payload's name.
	Payloads []Payload
	// Prepare, when set, replaces ForceColdStart: it is called before each
	// forced cold start (cold counts from 0) and, with Cold 0, before the
	// warm-up, and returns the configuration to invoke (for example with
	// the Qualifier of a version it published).
	Prepare func(ctx context.Context, c Config, cold int) (Config, error)
	// AnyResponse accepts any response of a function that did not fail
	// (not only the bcrypt handler's JSON); durations then come from the
	// REPORT line alone.
	AnyResponse bool

	// OnSample receives every sample as it is taken (from one goroutine at a
	// time). An error stops the run.
	OnSample func(Sample) error
	// OnProgress is told when a configuration has done one more invocation.
	OnProgress func(c Config, done, total int)
}

func (o *Options) defaults() error {
	if o.Runs < 0 || o.Cold < 0 {
		return errors.New("--runs and --cold must not be negative")
	}
	if o.Runs == 0 && o.Cold == 0 {
		return errors.New("nothing to measure: --runs and --cold are both 0")
	}
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if len(o.Payload) == 0 {
		o.Payload = []byte(DefaultPayload)
	}
	if len(o.Payloads) == 0 {
		o.Payloads = []Payload{{Body: o.Payload, Weight: 1}}
	}
	for i, p := range o.Payloads {
		if !json.Valid(p.Body) {
			return fmt.Errorf("payload %d is not valid JSON: %.200s", i+1, p.Body)
		}
		if p.Weight <= 0 {
			return fmt.Errorf("payload %d: weight must be positive", i+1)
		}
	}
	if o.UpdateWait <= 0 {
		o.UpdateWait = 2 * time.Minute
	}
	if o.PollEvery <= 0 {
		o.PollEvery = time.Second
	}
	return nil
}

// Total is the number of invocations a configuration gets.
func (o Options) Total() int {
	n := o.Cold + o.Runs
	if o.Cold == 0 {
		n++ // the warm-up
	}
	return n
}

// Run measures every configuration in turn. It stops at the first error of
// the machinery (a failed cold-start update, a sample that cannot be
// written, a cancelled context); failed invocations are samples, not errors.
func Run(ctx context.Context, api Lambda, cfgs []Config, o Options) error {
	if err := o.defaults(); err != nil {
		return err
	}
	for _, c := range cfgs {
		if err := runConfig(ctx, api, c, o); err != nil {
			return err
		}
	}
	return nil
}

func runConfig(ctx context.Context, api Lambda, c Config, o Options) error {
	base := Sample{Function: c.Function, Arch: c.Arch, MemoryMB: c.MemoryMB, Workers: c.Workers, VCPUs: c.VCPUs}
	if c.Skip != "" {
		s := blank(base)
		s.Time, s.Kind, s.Error = time.Now(), KindSkipped, c.Skip
		return o.OnSample(s)
	}
	prepare := func(i int) error {
		if o.Prepare == nil {
			return ForceColdStart(ctx, api, c.Function, o.UpdateWait, o.PollEvery)
		}
		pc, err := o.Prepare(ctx, c, i)
		if err != nil {
			return err
		}
		c = pc
		base.Qualifier = c.Qualifier
		return nil
	}
	coldPick, warmPick := schedule(o.Payloads, o.Cold), schedule(o.Payloads, o.Runs)
	total, done := o.Total(), 0
	progress := func() {
		done++
		if o.OnProgress != nil {
			o.OnProgress(c, done, total)
		}
	}
	for i := range o.Cold {
		if err := prepare(i); err != nil {
			return err
		}
		s := invoke(ctx, api, base, o, o.Payloads[coldPick[i]])
		s.Kind, s.Seq = KindCold, i+1
		if err := emit(ctx, o, s); err != nil {
			return err
		}
		progress()
	}
	if o.Cold == 0 {
		if o.Prepare != nil {
			if err := prepare(0); err != nil {
				return err
			}
		}
		s := invoke(ctx, api, base, o, o.Payloads[0])
		s.Kind = KindWarmup
		if err := emit(ctx, o, s); err != nil {
			return err
		}
		progress()
	}

	// Warm invocations, o.Parallel at a time.
	var (
		mu      sync.Mutex
		firstEr error
		wg      sync.WaitGroup
		next    = make(chan int)
	)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(o.Parallel, max(o.Runs, 1)) {
		wg.Go(func() {
			for seq := range next {
				s := invoke(runCtx, api, base, o, o.Payloads[warmPick[seq-1]])
				s.Kind, s.Seq = KindWarm, seq
				mu.Lock()
				err := emit(runCtx, o, s)
				if err == nil {
					progress()
				} else if firstEr == nil {
					firstEr = err
					cancel()
				}
				mu.Unlock()
				if o.SleepBetween > 0 {
					select {
					case <-runCtx.Done():
					case <-time.After(o.SleepBetween):
					}
				}
			}
		})
	}
feed:
	for i := range o.Runs {
		select {
		case next <- i + 1:
		case <-runCtx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstEr != nil {
		return firstEr
	}
	return ctx.Err()
}

// emit hands a sample on, unless the run was cancelled while it was being
// taken: such a sample measures the cancellation, not the function.
func emit(ctx context.Context, o Options, s Sample) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return o.OnSample(s)
}

// ForceColdStart changes ColdStartVariable on the function and waits until
// the update has completed, so that the next invocation starts a new
// execution environment.
func ForceColdStart(ctx context.Context, api Lambda, function string, wait, every time.Duration) error {
	cur, err := api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
	if err != nil {
		return fmt.Errorf("force cold start of %s: %w", function, err)
	}
	vars := map[string]string{}
	if cur.Environment != nil {
		maps.Copy(vars, cur.Environment.Variables)
	}
	vars[ColdStartVariable] = strconv.FormatInt(time.Now().UnixNano(), 10)
	if _, err := api.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(function),
		Environment:  &types.Environment{Variables: vars},
	}); err != nil {
		return fmt.Errorf("force cold start of %s: %w", function, err)
	}
	deadline := time.Now().Add(wait)
	for {
		out, err := api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
		if err != nil {
			return fmt.Errorf("wait for update of %s: %w", function, err)
		}
		switch out.LastUpdateStatus {
		case types.LastUpdateStatusSuccessful, "":
			return nil
		case types.LastUpdateStatusFailed:
			return fmt.Errorf("update of %s failed: %s", function, aws.ToString(out.LastUpdateStatusReason))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("update of %s still %s after %s", function, out.LastUpdateStatus, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

func blank(base Sample) Sample {
	nan := math.NaN()
	s := base
	s.RoundTripMs, s.DurationMs, s.BilledMs, s.InitMs, s.MaxMemoryMB = nan, nan, nan, nan, nan
	s.HandlerMs, s.Processed, s.HandlerWork, s.DetectedCPUs, s.Gomaxprocs = nan, nan, nan, nan, nan
	s.ThreadsUsed, s.CPUMs, s.Parallelism, s.MemoryUsedKB = nan, nan, nan, nan
	return s
}

func noRetry(o *lambda.Options) { o.Retryer = aws.NopRetryer{} }

// invoke makes one synchronous invocation and turns everything it learns into
// a sample. A failure of any kind is recorded in the sample.
func invoke(ctx context.Context, api Lambda, base Sample, o Options, p Payload) Sample {
	s := blank(base)
	s.Payload = p.Name
	in := &lambda.InvokeInput{FunctionName: aws.String(base.Function), Payload: p.Body}
	if base.Qualifier != "" {
		in.Qualifier = aws.String(base.Qualifier)
	}
	if o.LogTail {
		in.LogType = types.LogTypeTail
	}
	s.Time = time.Now()
	out, err := api.Invoke(ctx, in, noRetry)
	s.RoundTripMs = float64(time.Since(s.Time).Microseconds()) / 1000
	if err != nil {
		s.Error = fmt.Sprintf("invoke: %v", err)
		s.ErrorKind = ErrorInvoke
		var tooMany *types.TooManyRequestsException
		if errors.As(err, &tooMany) {
			s.ErrorKind = ErrorThrottle
		}
		return s
	}
	var notes []string
	timedOut := false
	if out.LogResult != nil {
		r, err := ParseLogResult(aws.ToString(out.LogResult))
		if err != nil {
			notes = append(notes, err.Error())
		}
		if r.Found {
			s.DurationMs, s.BilledMs, s.MaxMemoryMB = r.DurationMs, r.BilledMs, float64(r.MaxMemoryMB)
			if r.HasInit {
				s.InitMs = r.InitMs
			}
			timedOut = r.Status == "timeout"
		}
	}
	if o.AnyResponse {
		return anyResponse(s, out, timedOut, notes)
	}
	resp, ferr, err := contract.DecodeBcrypt(out.Payload, out.FunctionError != nil)
	if out.FunctionError != nil {
		msg := ferr.ErrorMessage
		if msg == "" {
			msg = string(out.Payload)
		}
		s.Error = fmt.Sprintf("function error (%s): %s", aws.ToString(out.FunctionError), msg)
		s.ErrorKind = errorKind(ferr.ErrorType, timedOut)
		return s
	}
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.OK = true
	s.Mode = resp.Mode
	for _, f := range []struct {
		dst *float64
		src *float64
	}{
		{&s.HandlerMs, resp.DurationMs}, {&s.Processed, resp.Processed}, {&s.HandlerWork, resp.Workers},
		{&s.DetectedCPUs, resp.DetectedCPUs}, {&s.Gomaxprocs, resp.Gomaxprocs}, {&s.ThreadsUsed, resp.ThreadsUsed},
		{&s.CPUMs, resp.CPUMs}, {&s.Parallelism, resp.Parallelism}, {&s.MemoryUsedKB, resp.MemoryUsedKB},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if math.IsNaN(s.HandlerMs) && math.IsNaN(s.DurationMs) {
		s.OK = false
		notes = append(notes, "response has no duration_ms and the log has no REPORT line")
	}
	if len(notes) > 0 {
		s.Error = fmt.Sprint(notes)
	}
	return s
}
