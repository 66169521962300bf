package load

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// GenPlanVersion is the version of the GenPlan and GenResult contract
// (2: plans carry the window of the run they send).
const GenPlanVersion = 2

// MaxResponseBytes is Lambda's limit on a synchronous invocation's response
// (6 MB); a generator's encoded result must stay below it.
const MaxResponseBytes = 6 << 20

// GenPlan is what one invocation of one of several load generators runs:
// the whole run's endpoints, scenarios and profile, which share of it is
// this generator's, and which window of the run this invocation sends.
// Every generator of a run gets the same plan but for Generator; a run
// longer than one invocation is split into windows (SplitWindows), each
// sent by its own invocation of every generator, all with the same
// StartAt.
type GenPlan struct {
	Version    int `json:"version"`
	Generator  int `json:"generator"`  // 1-based
	Generators int `json:"generators"` // how many share the load
	// StartAt is when the first scenario starts, on every generator;
	// scenario k starts at StartAt + k·(Stages.Total() + Timeout).
	StartAt   time.Time  `json:"start_at"`
	Endpoints []Endpoint `json:"endpoints"`
	Scenarios []Scenario `json:"scenarios"`
	Model     Model      `json:"model"`
	// Stages is the whole run's profile: this generator sends its share
	// (ShareStages).
	Stages      Stages        `json:"stages"`
	Timeout     time.Duration `json:"timeout_ns"`
	MaxInFlight int           `json:"max_in_flight"` // the whole run's, per endpoint
	// Samples asks for every request's sample (samples.csv lines) in the
	// answer, as far as Lambda's response limit allows.
	Samples bool `json:"samples,omitempty"`
	// Window is the part of the run this invocation sends, in offsets
	// from StartAt; Windows how many windows the run has (Window is the
	// WindowIndex-th, 1-based).
	Window      Window `json:"window"`
	WindowIndex int    `json:"window_index"`
	Windows     int    `json:"windows"`
}

// Window is a stretch [From, To) of a distributed run, in offsets from its
// start (GenPlan.StartAt): what one invocation of each generator sends.
// Offsets between scenarios count as in GenPlan.ScenarioStart.
type Window struct {
	From time.Duration `json:"from_ns"`
	To   time.Duration `json:"to_ns"`
}

// String formats the window as "14m0s–28m0s".
func (w Window) String() string { return w.From.String() + "–" + w.To.String() }

// WindowMargin is kept at the end of every generator invocation, after its
// window's last requests have had their timeout: the generator stops
// deadlineMargin before its deadline, then encodes and returns its answer.
const WindowMargin = 20 * time.Second

// MaxWindow is the longest window one generator invocation can send when
// the invocation may last limit, is made lead before its window starts, and
// its window's last requests may take up to requestTimeout: what is left of
// limit after those and WindowMargin.
func MaxWindow(limit, lead, requestTimeout time.Duration) time.Duration {
	return limit - lead - requestTimeout - WindowMargin
}

// MaxOverlap is how many invocations of one generator run at once at most
// when each window's is made lead before the window starts and lasts until
// its last requests have had their timeout and it has answered
// (WindowMargin): 2 when windows are longer than lead and timeout
// together, more for shorter windows.
func MaxOverlap(windows []Window, lead, timeout time.Duration) int {
	most := 0
	for i, w := range windows {
		n := 0
		at := w.From - lead // when window i's invocation is made
		for _, o := range windows[:i+1] {
			if o.To+timeout+WindowMargin > at {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// span is how long one scenario takes: its profile, then the request
// timeout for the last answers.
func (p *GenPlan) span() time.Duration { return p.Stages.Total() + p.Timeout }

// LoadEnd is the offset from StartAt at which the last scenario's load
// ends (its last requests may be answered up to Timeout later).
func (p *GenPlan) LoadEnd() time.Duration {
	return time.Duration(len(p.Scenarios)-1)*p.span() + p.Stages.Total()
}

// SplitWindows splits the run's load time — every scenario's profile, one
// after another as ScenarioStart places them — into windows of at most w
// (w <= 0: one window for the whole run). Each window begins where the
// previous ends; a window that would begin in the pause between two
// scenarios (the earlier one's request timeout) begins at the next
// scenario's start instead, so no invocation is spent waiting. The
// windows tile every scenario's profile exactly: each offset of load
// belongs to one window.
func (p *GenPlan) SplitWindows(w time.Duration) []Window {
	end := p.LoadEnd()
	if w <= 0 {
		return []Window{{From: 0, To: end}}
	}
	total, span := p.Stages.Total(), p.span()
	var out []Window
	for cur := time.Duration(0); cur < end; {
		if k := cur / span; cur-k*span >= total {
			cur = (k + 1) * span // in the pause after scenario k
			continue
		}
		to := min(cur+w, end)
		out = append(out, Window{From: cur, To: to})
		cur = to
	}
	return out
}

// Validate checks a plan before anything is sent.
func (p *GenPlan) Validate() error {
	switch {
	case p.Version != GenPlanVersion:
		return fmt.Errorf("plan version %d: this generator reads version %d", p.Version, GenPlanVersion)
	case p.Generators < 1 || p.Generator < 1 || p.Generator > p.Generators:
		return fmt.Errorf("plan: generator %d of %d", p.Generator, p.Generators)
	case p.StartAt.IsZero():
		return errors.New("plan: no start time")
	case len(p.Endpoints) == 0 || len(p.Scenarios) == 0:
		return errors.New("plan: no endpoints or no scenarios")
	case p.Model != Open && p.Model != Closed:
		return fmt.Errorf("plan: unknown model %q", p.Model)
	case len(p.Stages) == 0 || p.Stages.Total() <= 0:
		return errors.New("plan: empty load profile")
	case p.Timeout <= 0 || p.MaxInFlight < 1:
		return errors.New("plan: timeout and max in flight must be positive")
	}
	if p.Window.From < 0 || p.Window.To <= p.Window.From || p.Window.To > p.LoadEnd() {
		return fmt.Errorf("plan: window %s outside the run's load (0s–%s)", p.Window, p.LoadEnd())
	}
	if p.Windows < 1 || p.WindowIndex < 1 || p.WindowIndex > p.Windows {
		return fmt.Errorf("plan: window %d of %d", p.WindowIndex, p.Windows)
	}
	for _, ep := range p.Endpoints {
		if ep.Function != nil {
			return fmt.Errorf("plan: endpoint %s: generators send HTTP requests only", ep.Name)
		}
		if err := CheckEndpoint(ep); err != nil {
			return fmt.Errorf("plan: endpoint %s: %w", ep.Name, err)
		}
	}
	return nil
}

// ShareStages is generator i's (1-based) share of stages split over n
// generators: in the open model each gets 1/n of every rate; in the closed
// model the virtual users are dealt out, the first generators taking one
// more when they do not divide evenly, so the shares always add up to the
// whole.
func ShareStages(st Stages, m Model, i, n int) Stages {
	out := make(Stages, len(st))
	for k, s := range st {
		t := s.Target / float64(n)
		if m == Closed {
			whole := int(s.Target)
			t = float64(whole / n)
			if i <= whole%n {
				t++
			}
		}
		out[k] = Stage{Duration: s.Duration, Target: t}
	}
	return out
}

// ShareMaxInFlight is each generator's share of the in-flight bound.
func ShareMaxInFlight(total, n int) int {
	return max(1, int(math.Ceil(float64(total)/float64(n))))
}

// ScenarioStart is when scenario k (0-based) of a plan starts.
func (p *GenPlan) ScenarioStart(k int) time.Time {
	return p.StartAt.Add(time.Duration(k) * p.span())
}

// End is when the last scenario of a plan is over at the latest.
func (p *GenPlan) End() time.Time { return p.ScenarioStart(len(p.Scenarios)) }

// WindowEnd is when the invocation sending the plan's window is over at the
// latest: its window's end, then the request timeout for the answers still
// in flight.
func (p *GenPlan) WindowEnd() time.Time { return p.StartAt.Add(p.Window.To + p.Timeout) }

// Second is one second of one endpoint as a generator saw it: requests by
// the second they were due (or sent) in, counted from the scenario's start.
type Second struct {
	Scenario string        `json:"scenario"`
	Endpoint string        `json:"endpoint"`
	Second   int           `json:"second"`
	Sent     int64         `json:"sent"`
	OK       int64         `json:"status_2xx"`
	Errors   int64         `json:"errors"` // sent and not 2xx
	Dropped  int64         `json:"dropped"`
	MaxLat   time.Duration `json:"max_latency_ns"`
	MaxLag   time.Duration `json:"max_lag_ns"`
}

// GenResult is what a generator measured.
type GenResult struct {
	Version    int `json:"version"`
	Generator  int `json:"generator"`
	Generators int `json:"generators"`
	// Window is the window of the run it sent (GenPlan.WindowIndex).
	Window Window `json:"window"`
	// WindowIndex is the plan's (1-based).
	WindowIndex int `json:"window_index"`
	// StartLag is how late the generator began its window after its start
	// (StartAt + Window.From; negative never: it waits).
	StartLag time.Duration `json:"start_lag_ns"`
	Started  time.Time     `json:"started"`
	Ended    time.Time     `json:"ended"`
	// Partial is set when the generator stopped before its profile's end
	// (its deadline or a cancellation): its share is then incomplete.
	Partial bool     `json:"partial,omitempty"`
	Metrics *Metrics `json:"metrics"`
	Seconds []Second `json:"per_second"`
	Note    string   `json:"note,omitempty"`

	samples []byte // samples.csv of every request (GenPlan.Samples)
}

// Samples is the generator's samples.csv (header and one line per
// request), nil when none were asked for or they did not fit the answer.
func (r *GenResult) Samples() []byte { return r.samples }

// deadlineMargin is kept before a generator's deadline to encode and
// return what it measured.
const deadlineMargin = 5 * time.Second

// earlyWake is how long before its start a generator stops sleeping on a
// timer: the engine waits out the rest to the due time itself, more
// precisely than a timer wakes.
const earlyWake = 2 * time.Millisecond

// Generate runs plan's share of the load in the plan's window (after
// waiting for the window's start) and returns what it measured, with every
// offset, stage number and per-second row in the whole run's terms (each
// scenario's offsets count from its ScenarioStart), so that the windows of
// a run merge into one unbroken run. When ctx has a deadline the generator
// stops deadlineMargin before it and returns a partial result.
func Generate(ctx context.Context, plan GenPlan) (*GenResult, error) {
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	res := &GenResult{Version: GenPlanVersion, Generator: plan.Generator, Generators: plan.Generators,
		Window: plan.Window, WindowIndex: plan.WindowIndex, Metrics: NewMetrics()}
	stages := ShareStages(plan.Stages, plan.Model, plan.Generator, plan.Generators)
	if stages.Total() <= 0 {
		return nil, errors.New("plan: empty share")
	}
	opts := AttackOptions{Model: plan.Model, Stages: stages, Timeout: plan.Timeout,
		MaxInFlight: ShareMaxInFlight(plan.MaxInFlight, plan.Generators)}
	seconds := map[[2]string]map[int]*Second{}
	var (
		csvBuf bytes.Buffer
		csvEnc *CSVEncoder
	)
	if plan.Samples {
		csvEnc = NewCSVEncoder(&csvBuf)
	}
	started := false
	for k, sc := range plan.Scenarios {
		// The part of the window in this scenario's profile, in the
		// scenario's own offsets.
		s0 := time.Duration(k) * plan.span()
		from, to := max(plan.Window.From-s0, 0), min(plan.Window.To-s0, plan.Stages.Total())
		if from >= to {
			continue
		}
		origin := plan.ScenarioStart(k)
		if !sleepUntil(ctx, origin.Add(from-earlyWake)) {
			res.Partial = true
			break
		}
		if !started {
			started = true
			now := time.Now()
			res.Started = now.UTC()
			res.StartLag = max(0, now.Sub(plan.StartAt.Add(plan.Window.From)))
		}
		if allZero(stages) {
			continue // a closed-model share with no virtual user
		}
		o := opts
		o.Scenario, o.Query = sc.Name, sc.Query
		o.From, o.To, o.Origin = from, to, origin
		ch, err := Attack(ctx, plan.Endpoints, o)
		if err != nil {
			return nil, err
		}
		for r := range ch {
			r.Stages = plan.Stages // the whole run's profile, as every generator's share is part of it
			res.Metrics.Add(r)
			if csvEnc != nil {
				if err := csvEnc.Encode(r); err != nil {
					return nil, fmt.Errorf("samples: %w", err)
				}
			}
			key := [2]string{r.Scenario, r.Endpoint}
			if seconds[key] == nil {
				seconds[key] = map[int]*Second{}
			}
			s := int(r.Elapsed / time.Second)
			a := seconds[key][s]
			if a == nil {
				a = &Second{Scenario: r.Scenario, Endpoint: r.Endpoint, Second: s}
				seconds[key][s] = a
			}
			switch cl := r.class(); {
			case cl == classDropped:
				a.Dropped++
			case cl == class2xx:
				a.Sent++
				a.OK++
			default:
				a.Sent++
				a.Errors++
			}
			if !r.Dropped() {
				a.MaxLat = max(a.MaxLat, r.Latency)
				a.MaxLag = max(a.MaxLag, r.Lag)
			}
			r.release()
		}
		if ctx.Err() != nil {
			res.Partial = true
			break
		}
	}
	res.Metrics.Close()
	for _, sc := range plan.Scenarios {
		for _, ep := range plan.Endpoints {
			m := seconds[[2]string{sc.Name, ep.Name}]
			for s := 0; len(m) > 0; s++ {
				if a, ok := m[s]; ok {
					res.Seconds = append(res.Seconds, *a)
					delete(m, s)
				}
			}
		}
	}
	if csvEnc != nil {
		if err := csvEnc.Flush(); err != nil {
			return nil, fmt.Errorf("samples: %w", err)
		}
		res.samples = csvBuf.Bytes()
	}
	res.Ended = time.Now().UTC()
	if res.Started.IsZero() {
		res.Started = res.Ended
	}
	return res, nil
}

func allZero(st Stages) bool {
	for _, s := range st {
		if s.Target > 0 {
			return false
		}
	}
	return true
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// GenResponse is a generator's answer as Lambda returns it: the GenResult
// JSON, gzip-compressed (histograms and per-second rows compress well),
// base64 in JSON.
type GenResponse struct {
	Version int    `json:"version"`
	Gzip    []byte `json:"result_gzip"`
	// SamplesGzip is the generator's samples.csv, gzip-compressed, when
	// asked for and within the response limit.
	SamplesGzip []byte `json:"samples_csv_gzip,omitempty"`
}

// EncodeResponse compresses a result into the generator's answer, and fails
// when it would not fit in Lambda's response limit.
func EncodeResponse(res *GenResult) (*GenResponse, error) {
	var zs []byte
	if res.samples != nil {
		var err error
		if zs, err = gzipBytes(res.samples); err != nil {
			return nil, fmt.Errorf("encode samples: %w", err)
		}
		if b64(len(zs)) > MaxResponseBytes/2 {
			// The histograms are the result; the samples only what is
			// left of the limit.
			zs = nil
			res.Note = "samples left out: over Lambda's response limit"
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	z, err := gzipBytes(b)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	if size := b64(len(z)) + b64(len(zs)) + 128; size > MaxResponseBytes {
		return nil, fmt.Errorf("encoded result is %d bytes, over Lambda's %d-byte response limit", size, MaxResponseBytes)
	}
	return &GenResponse{Version: GenPlanVersion, Gzip: z, SamplesGzip: zs}, nil
}

// b64 is the length of n bytes in base64.
func b64(n int) int { return (n + 2) / 3 * 4 }

// gunzip decompresses at most maxResultBytes.
func gunzip(z []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxResultBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResultBytes {
		return nil, errors.New("too large")
	}
	return b, nil
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxResultBytes bounds a decompressed result (a damaged or hostile answer
// must not exhaust memory).
const maxResultBytes = 256 << 20

// DecodeResponse reads a generator's answer (the Invoke payload).
func DecodeResponse(payload []byte) (*GenResult, error) {
	var r GenResponse
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, fmt.Errorf("decode generator answer: %w", err)
	}
	if r.Version != GenPlanVersion {
		return nil, fmt.Errorf("decode generator answer: version %d, want %d (redeploy the generator)", r.Version, GenPlanVersion)
	}
	b, err := gunzip(r.Gzip)
	if err != nil {
		return nil, fmt.Errorf("decode generator answer: %w", err)
	}
	var res GenResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("decode generator answer: %w", err)
	}
	if res.Metrics == nil {
		return nil, errors.New("decode generator answer: no metrics")
	}
	if len(r.SamplesGzip) > 0 {
		if res.samples, err = gunzip(r.SamplesGzip); err != nil {
			return nil, fmt.Errorf("decode generator samples: %w", err)
		}
	}
	return &res, nil
}
