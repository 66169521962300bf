package load

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/stats"
)

func TestShareStages(t *testing.T) {
	tests := []struct {
		name  string
		model Model
		in    string
		n     int
	}{
		{"open even", Open, "0s:100,10s:100,5s:40", 4},
		{"open uneven", Open, "10s:7", 3},
		{"closed even", Closed, "10s:8,20s:8", 4},
		{"closed remainder", Closed, "10s:7,20s:10,5s:1", 4},
		{"closed fewer VUs than generators", Closed, "0s:1,10s:2", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := mustStages(t, tc.in, tc.model == Closed)
			sum := make([]float64, len(st))
			for i := 1; i <= tc.n; i++ {
				sh := ShareStages(st, tc.model, i, tc.n)
				for k := range st {
					if sh[k].Duration != st[k].Duration {
						t.Fatalf("generator %d stage %d: duration %s, want %s", i, k, sh[k].Duration, st[k].Duration)
					}
					if tc.model == Closed && sh[k].Target != math.Trunc(sh[k].Target) {
						t.Fatalf("generator %d stage %d: %v virtual users", i, k, sh[k].Target)
					}
					sum[k] += sh[k].Target
				}
			}
			for k := range st {
				if math.Abs(sum[k]-st[k].Target) > 1e-9 {
					t.Errorf("stage %d: shares add up to %v, want %v", k, sum[k], st[k].Target)
				}
			}
		})
	}
}

// recorded is a fixed set of results of one scenario and endpoint, with
// every status class, drops and two stages.
func recorded(t *testing.T) []*Result {
	t.Helper()
	st := mustStages(t, "0s:10,1s:10,1s:20", false)
	var out []*Result
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 2000 {
		el := time.Duration(i) * 3 * time.Millisecond
		r := &Result{Scenario: "load", Endpoint: "api", Model: Open, Stages: st, Stage: 2 + i%2, Status: 200,
			Time: start.Add(el), Elapsed: el, Latency: time.Duration(i*i%4099+1) * 23 * time.Microsecond,
			Lag: time.Duration(i%13) * time.Microsecond}
		switch {
		case i%11 == 0:
			r.Status = 503
		case i%17 == 0:
			r.Status = 429
		case i%29 == 0:
			r.Status, r.Error = 0, "timeout"
		case i%31 == 0:
			r.Status, r.Error, r.Latency, r.Lag = 0, ErrDropped, 0, 0
		}
		out = append(out, r)
	}
	return out
}

// TestGeneratorsMergeLikeOneEngine deals recorded results out to four
// generators, sends each generator's metrics through the answer encoding,
// merges them, and checks that the totals equal the sum of the generators'
// and that the merged summaries (every percentile included) equal those of
// one engine that saw every result — and agree with the exact nearest-rank
// percentile of the raw latencies within the histogram's precision.
func TestGeneratorsMergeLikeOneEngine(t *testing.T) {
	rs := recorded(t)
	const n = 4
	whole := NewMetrics()
	gens := make([]*Metrics, n)
	for i := range gens {
		gens[i] = NewMetrics()
	}
	var lat []float64
	for i, r := range rs {
		whole.Add(r)
		gens[(i*7)%n].Add(r) // uneven interleaving
		if !r.Dropped() {
			lat = append(lat, float64(r.Latency)/float64(time.Millisecond))
		}
	}
	merged := NewMetrics()
	var sumReq, sumDrop, sumOK, sum5xx int64
	for i, g := range gens {
		g.Close()
		resp, err := EncodeResponse(&GenResult{Version: GenPlanVersion, Generator: i + 1, Generators: n, Metrics: g})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeResponse(payload)
		if err != nil {
			t.Fatal(err)
		}
		tot := back.Metrics.Summaries(nil)[0].Endpoints[0].Total
		sumReq, sumDrop, sumOK, sum5xx = sumReq+tot.Requests, sumDrop+tot.Dropped, sumOK+tot.OK, sum5xx+tot.Status5xx
		merged.Merge(back.Metrics)
	}
	got, want := merged.Summaries(nil), whole.Summaries(nil)
	if got[0].InTurn || !got[0].Start.Equal(want[0].Start) || got[0].DurationS != want[0].DurationS {
		t.Errorf("merged scenario starts %s, lasts %v s, in turn %v; one engine %s, %v s", got[0].Start, got[0].DurationS, got[0].InTurn, want[0].Start, want[0].DurationS)
	}
	g, w := got[0].Endpoints[0], want[0].Endpoints[0]
	if g.Total.Requests != sumReq || g.Total.Dropped != sumDrop || g.Total.OK != sumOK || g.Total.Status5xx != sum5xx {
		t.Errorf("merged totals %d sent, %d dropped, %d 2xx, %d 5xx; generators' sums %d, %d, %d, %d",
			g.Total.Requests, g.Total.Dropped, g.Total.OK, g.Total.Status5xx, sumReq, sumDrop, sumOK, sum5xx)
	}
	if g.Total.Requests+g.Total.Dropped != int64(len(rs)) {
		t.Errorf("merged %d attempts, recorded %d", g.Total.Requests+g.Total.Dropped, len(rs))
	}
	for i, pair := range [][2]StageSummary{{g.Total, w.Total}, {g.Stages[1], w.Stages[1]}, {g.Stages[2], w.Stages[2]}} {
		m, x := pair[0], pair[1]
		for _, f := range []struct{ a, b *float64 }{{&m.Latency.Mean, &x.Latency.Mean}, {&m.Latency.StdDev, &x.Latency.StdDev},
			{&m.SendLag.Mean, &x.SendLag.Mean}, {&m.SendLag.StdDev, &x.SendLag.StdDev}} {
			if math.Abs(*f.a-*f.b) > 1e-9 {
				t.Errorf("summary %d: moment %v, one engine %v", i, *f.a, *f.b)
			}
			*f.a = *f.b
		}
		if m != x {
			t.Errorf("summary %d merged\n%+v\none engine\n%+v", i, m, x)
		}
	}
	slices.Sort(lat)
	for _, p := range []float64{50, 90, 99, 99.9} {
		exact := stats.NearestRank(lat, p)
		v, _ := g.Total.Latency.Percentile(p)
		if math.Abs(v-exact) > exact*0.001+0.001 {
			t.Errorf("merged p%v = %v ms, nearest rank of the raw latencies %v ms", p, v, exact)
		}
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	good, err := EncodeResponse(&GenResult{Version: GenPlanVersion, Generator: 1, Generators: 2, Metrics: NewMetrics()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"not JSON", `{"version":`, "decode generator answer"},
		{"old version", `{"version":0,"result_gzip":""}`, "version 0"},
		{"not gzip", `{"version":1,"result_gzip":"` + base64.StdEncoding.EncodeToString([]byte("plain")) + `"}`, "decode generator answer"},
		{"no metrics", `{"version":2,"result_gzip":"` + base64.StdEncoding.EncodeToString(gz(t, `{"generator":1}`)) + `"}`, "no metrics"},
		{"histogram count mismatch", `{"version":2,"result_gzip":"` + base64.StdEncoding.EncodeToString(gz(t, badCounts(t))) + `"}`, "latencies"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeResponse([]byte(tc.payload))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	b, _ := json.Marshal(good)
	if _, err := DecodeResponse(b); err != nil {
		t.Fatalf("good answer: %v", err)
	}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	out, err := gzipBytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// badCounts is a result whose counter claims more requests than its
// histogram holds.
func badCounts(t *testing.T) string {
	t.Helper()
	m := NewMetrics()
	st := mustStages(t, "1s:1", false)
	m.Add(&Result{Scenario: "s", Endpoint: "e", Model: Open, Stages: st, Stage: 1, Status: 200, Latency: time.Millisecond})
	b, err := json.Marshal(&GenResult{Version: GenPlanVersion, Generator: 1, Generators: 1, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(b), `"requests":1`, `"requests":2`, 1)
}

// genInvoker answers like the generator function without sending load:
// each generator reports requests results of its own, except the failing
// ones, which answer with a function error.
type genInvoker struct {
	t             *testing.T
	failing       map[int]bool
	failingWindow map[[2]int]bool // generator, window
	requests      int
	calls         atomic.Int64
	mu            sync.Mutex
	plans         []GenPlan
	// cancel is called when window cancelAt is invoked (an interruption).
	cancel   context.CancelFunc
	cancelAt int
}

func (g *genInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	g.calls.Add(1)
	var p GenPlan
	if err := json.Unmarshal(in.Payload, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.plans = append(g.plans, p)
	g.mu.Unlock()
	if g.cancel != nil && p.WindowIndex == g.cancelAt {
		g.cancel()
	}
	if g.failing[p.Generator] || g.failingWindow[[2]int{p.Generator, p.WindowIndex}] {
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: []byte(`{"errorMessage":"boom"}`)}, nil
	}
	m := NewMetrics()
	sh := ShareStages(p.Stages, p.Model, p.Generator, p.Generators)
	for i := range g.requests {
		el := p.Window.From + time.Duration(i)*time.Millisecond
		m.Add(&Result{Scenario: p.Scenarios[0].Name, Endpoint: p.Endpoints[0].Name, Model: p.Model, Stages: sh, Stage: p.Stages.At(el) + 1,
			Status: 200, Elapsed: el, Latency: time.Duration(p.Generator) * time.Millisecond})
	}
	m.Close()
	resp, err := EncodeResponse(&GenResult{Version: GenPlanVersion, Generator: p.Generator, Generators: p.Generators, Metrics: m,
		Window: p.Window, WindowIndex: p.WindowIndex, StartLag: 2 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(resp)
	log := base64.StdEncoding.EncodeToString([]byte("REPORT RequestId: x\tDuration: 1200.00 ms\tBilled Duration: 1201 ms\tMemory Size: 1769 MB\n"))
	return &lambda.InvokeOutput{StatusCode: 200, Payload: b, LogResult: &log}, nil
}

func distributeConfig(t *testing.T, inv Invoker, n int) DistributeConfig {
	prices := cost.Default()
	return DistributeConfig{
		Dir: t.TempDir(), Generators: n, Functions: []string{"loadgen"}, Invoker: inv,
		Plan: GenPlan{Endpoints: []Endpoint{{Name: "api", URL: "http://127.0.0.1:9/"}}, Scenarios: []Scenario{{Name: "load"}},
			Model: Open, Stages: mustStages(t, "1s:40", false), Timeout: time.Second, MaxInFlight: 10},
		Cost: GeneratorCost{MemoryMB: 1769, Arch: cost.ArchARM64},
		Info: RunInfo{Target: "given", Cost: CostInputs{Prices: &prices}},
	}
}

// TestDistributeMissingShare: a generator that fails is a row marked
// missing, a warning naming its share, and an error; the others' results
// are merged and the generators' cost comes from their REPORT lines.
func TestDistributeMissingShare(t *testing.T) {
	inv := &genInvoker{t: t, failing: map[int]bool{3: true}, requests: 50}
	cfg := distributeConfig(t, inv, 4)
	rep, err := Distribute(context.Background(), cfg)
	if !errors.Is(err, ErrGeneratorMissing) {
		t.Fatalf("error %v, want ErrGeneratorMissing", err)
	}
	if inv.calls.Load() != 4 {
		t.Fatalf("%d invocations, want 4", inv.calls.Load())
	}
	if rep == nil || len(rep.Generators) != 4 {
		t.Fatalf("report %+v", rep)
	}
	for _, g := range rep.Generators {
		wantStatus := GenOK
		if g.Generator == 3 {
			wantStatus = GenMissing
		}
		if g.Status != wantStatus || g.Share != 0.25 {
			t.Errorf("generator %d: status %s share %v, want %s 0.25", g.Generator, g.Status, g.Share, wantStatus)
		}
		if g.BilledMs != 1201 && g.Status == GenOK {
			t.Errorf("generator %d: billed %v ms, want the REPORT line's 1201", g.Generator, g.BilledMs)
		}
	}
	if tot := rep.Scenarios[0].Endpoints[0].Total; tot.Requests != 150 {
		t.Errorf("merged %d requests, want 150 from the three generators that answered", tot.Requests)
	}
	if rep.Scenarios[0].Stages != "1s:40" {
		t.Errorf("report stages %q, want the whole run's 1s:40", rep.Scenarios[0].Stages)
	}
	md, err := os.ReadFile(filepath.Join(cfg.Dir, SummaryMDFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Generator 3 failed", "(25.0%) is MISSING", "## Generators", "The generators themselves cost"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	var saved []*GenResult
	b, err := os.ReadFile(filepath.Join(cfg.Dir, GeneratorsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &saved); err != nil || len(saved) != 3 {
		t.Fatalf("generators.json: %d results, %v", len(saved), err)
	}
}

func TestDistributeAllAnswer(t *testing.T) {
	inv := &genInvoker{t: t, requests: 20}
	cfg := distributeConfig(t, inv, 2)
	rep, err := Distribute(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Scenarios[0].Endpoints[0].Total
	if tot.Requests != 40 || tot.Latency.Min != 1 || tot.Latency.Max != 2 {
		t.Errorf("merged %d requests, latency %v..%v ms; want 40, 1..2", tot.Requests, tot.Latency.Min, tot.Latency.Max)
	}
	want, _ := cfg.Info.Cost.Prices.Invocation(cost.ArchARM64, 1769, 1201)
	if c := rep.Generators[0].CostUSD; math.Abs(c-want) > 1e-12 || c == 0 {
		t.Errorf("generator cost %v, want %v", c, want)
	}
}

func TestPlanValidate(t *testing.T) {
	ok := GenPlan{Version: GenPlanVersion, Generator: 1, Generators: 2, StartAt: time.Now(),
		Endpoints: []Endpoint{{Name: "api", URL: "http://127.0.0.1:9/"}}, Scenarios: []Scenario{{Name: "load"}},
		Model: Open, Stages: Stages{{Duration: time.Second, Target: 1}}, Timeout: time.Second, MaxInFlight: 1,
		Window: Window{From: 0, To: time.Second}, WindowIndex: 1, Windows: 1}
	tests := []struct {
		name string
		edit func(p *GenPlan)
	}{
		{"version", func(p *GenPlan) { p.Version = 99 }},
		{"generator out of range", func(p *GenPlan) { p.Generator = 3 }},
		{"no start", func(p *GenPlan) { p.StartAt = time.Time{} }},
		{"no endpoints", func(p *GenPlan) { p.Endpoints = nil }},
		{"bad model", func(p *GenPlan) { p.Model = "x" }},
		{"empty profile", func(p *GenPlan) { p.Stages = nil }},
		{"function endpoint", func(p *GenPlan) { p.Endpoints = []Endpoint{{Name: "f", Function: &Function{Name: "f"}}} }},
		{"bad URL", func(p *GenPlan) { p.Endpoints = []Endpoint{{Name: "u", URL: "ftp://x"}} }},
		{"empty window", func(p *GenPlan) { p.Window = Window{} }},
		{"window beyond the load", func(p *GenPlan) { p.Window.To = 2 * time.Second }},
		{"window index out of range", func(p *GenPlan) { p.WindowIndex = 2 }},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("good plan: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			if err := p.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestGenerateStopsBeforeDeadline: a generator whose invocation ends before
// its profile does stops deadlineMargin early and marks its result partial,
// keeping what it measured.
func TestGenerateStopsBeforeDeadline(t *testing.T) {
	srv := helloServer(t)
	plan := GenPlan{Version: GenPlanVersion, Generator: 2, Generators: 2, StartAt: time.Now(),
		Endpoints: []Endpoint{{Name: "api", URL: srv.URL + "/"}}, Scenarios: []Scenario{{Name: "load"}},
		Model: Open, Stages: mustStages(t, "0s:20,30s:20", false), Timeout: time.Second, MaxInFlight: 10,
		Window: Window{From: 0, To: 30 * time.Second}, WindowIndex: 1, Windows: 1}
	ctx, cancel := context.WithTimeout(context.Background(), deadlineMargin+500*time.Millisecond)
	defer cancel()
	res, err := Generate(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Partial || res.Generator != 2 || res.Metrics == nil {
		t.Fatalf("result: partial %v, generator %d", res.Partial, res.Generator)
	}
	var sent int64
	for _, s := range res.Seconds {
		sent += s.Sent + s.Dropped
	}
	sums := res.Metrics.Summaries(nil)
	if len(sums) == 1 {
		tot := sums[0].Endpoints[0].Total
		if tot.Requests+tot.Dropped != sent {
			t.Errorf("per-second rows count %d attempts, the metrics %d", sent, tot.Requests+tot.Dropped)
		}
	} else if sent != 0 {
		t.Errorf("no metrics but %d attempts per second", sent)
	}
}

// TestResponseSamples: samples travel compressed beside the result, and
// are left out, with a note, when they would not fit the response limit.
func TestResponseSamples(t *testing.T) {
	small := []byte("header\nline 1\nline 2\n")
	for _, tc := range []struct {
		name    string
		samples []byte
		want    []byte
		note    bool
	}{
		{"fits", small, small, false},
		{"over the limit", randomBytes(MaxResponseBytes / 2), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := EncodeResponse(&GenResult{Version: GenPlanVersion, Generator: 1, Generators: 2, Metrics: NewMetrics(), samples: tc.samples})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(resp)
			if len(b) > MaxResponseBytes {
				t.Fatalf("answer of %d bytes", len(b))
			}
			res, err := DecodeResponse(b)
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Samples()) != string(tc.want) || (res.Note != "") != tc.note {
				t.Errorf("samples %d bytes, note %q; want %d bytes, a note %v", len(res.Samples()), res.Note, len(tc.want), tc.note)
			}
		})
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
