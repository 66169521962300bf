package load

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"lambdabench/bench/internal/results"
)

func TestWeightedOrder(t *testing.T) {
	tests := []struct {
		w    []int
		want []int
	}{
		{[]int{1}, []int{0}},
		{[]int{3, 1}, []int{0, 0, 1, 0}},
		{[]int{1, 1, 1}, []int{0, 1, 2}},
		{[]int{5, 1, 1}, []int{0, 0, 1, 0, 2, 0, 0}},
	}
	for _, tt := range tests {
		got := weightedOrder(tt.w)
		if !equalInts(got, tt.want) {
			t.Errorf("weightedOrder(%v) = %v, want %v", tt.w, got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTargetsAndFunctionNames(t *testing.T) {
	if got := FunctionShortName("arn:aws:lambda:us-east-1:123456789012:function:my-fn:live"); got != "my-fn" {
		t.Errorf("FunctionShortName = %q", got)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "mix.json")
	os.WriteFile(good, []byte(`[{"name":"get","url":"http://127.0.0.1:1/a","weight":3},{"name":"post","method":"POST","url":"http://127.0.0.1:1/b","headers":{"Content-Type":"application/json"},"body":"{}"}]`), 0o644)
	reqs, err := ReadTargetsFile(good)
	if err != nil || len(reqs) != 2 || reqs[0].weight() != 3 || reqs[1].Headers["Content-Type"] != "application/json" {
		t.Fatalf("ReadTargetsFile: %+v, %v", reqs, err)
	}
	for name, body := range map[string]string{
		"empty.json":   `[]`,
		"notlist.json": `{"url":"http://127.0.0.1/"}`,
		"ftp.json":     `[{"url":"ftp://127.0.0.1/"}]`,
		"field.json":   `[{"url":"http://127.0.0.1/","wieght":2}]`,
		"neg.json":     `[{"url":"http://127.0.0.1/","weight":-1}]`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := ReadTargetsFile(p); err == nil {
			t.Errorf("ReadTargetsFile(%s) accepted %s", name, body)
		}
	}
}

// TestWeightedRequests sends a mix of requests from one generator: each
// gets its method, headers and body, in proportion to its weight, and
// nothing else reaches the server.
func TestWeightedRequests(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Token")+" "+string(b)]++
		mu.Unlock()
	}))
	defer srv.Close()
	ep := Endpoint{Name: "mix", Requests: []Request{
		{Name: "get", URL: srv.URL + "/a", Weight: weightOf(3)},
		{Name: "post", Method: "post", URL: srv.URL + "/b", Headers: map[string]string{"X-Token": "t"}, Body: "hi"},
	}}
	o := AttackOptions{Scenario: "mix", Model: Open, Stages: mustStages(t, "0s:40,1s:40", false), Timeout: 5 * time.Second}
	ch, err := Attack(context.Background(), []Endpoint{ep}, o)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for r := range ch {
		names[r.Request]++
	}
	if names["get"] != 30 || names["post"] != 10 {
		t.Errorf("requests by name %v, want 30 get and 10 post", names)
	}
	want := map[string]int{"GET /a  ": 30, "POST /b t hi": 10}
	if len(seen) != len(want) || seen["GET /a  "] != 30 || seen["POST /b t hi"] != 10 {
		t.Errorf("server saw %v, want %v", seen, want)
	}
}

// fakeInvoker answers invocations from a script: a function error, a
// throttle, or success with a log tail.
type fakeInvoker struct {
	mu sync.Mutex
	n  int
}

func (f *fakeInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	switch n % 4 {
	case 0:
		return nil, &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 429}}, Err: errors.New("TooManyRequestsException")}
	case 1:
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: []byte(`{"errorMessage":"boom"}`)}, nil
	}
	log := "START RequestId: x Version: $LATEST\nREPORT RequestId: x\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 1024 MB\tMax Memory Used: 20 MB\t\n"
	if in.LogType == "" {
		return &lambda.InvokeOutput{StatusCode: 200, Payload: in.Payload}, nil
	}
	return &lambda.InvokeOutput{StatusCode: 200, Payload: in.Payload, LogResult: aws.String(base64.StdEncoding.EncodeToString([]byte(log)))}, nil
}

func TestFunctionEndpoint(t *testing.T) {
	ep := Endpoint{Name: "fn", Function: &Function{Name: "fn", Payload: []byte(`{"a":1}`), LogTail: true}}
	o := AttackOptions{Scenario: "fn", Model: Closed, Stages: mustStages(t, "0s:1,200ms:1", true), Timeout: time.Second, Invoker: &fakeInvoker{}}
	ch, err := Attack(context.Background(), []Endpoint{ep}, o)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	for r := range ch {
		m.Add(r)
	}
	m.Close()
	s := m.Summaries(nil)[0].Endpoints[0].Total
	n := s.Requests
	if n < 4 || s.Status429 != (n)/4 || s.FunctionErrors != (n+3)/4 || s.OK != n-s.Status429-s.FunctionErrors {
		t.Errorf("function summary: %d requests, %d throttled, %d function errors, %d ok", n, s.Status429, s.FunctionErrors, s.OK)
	}
	if s.Reported != s.OK || s.BilledMs != 13*float64(s.OK) {
		t.Errorf("reported %d billed %v ms for %d ok invocations", s.Reported, s.BilledMs, s.OK)
	}
	if _, err := Attack(context.Background(), []Endpoint{ep}, AttackOptions{Model: Open, Stages: o.Stages}); err == nil {
		t.Error("a function endpoint without an invoker was accepted")
	}
}

// TestDropsAreFailures: dropped requests count in the error rate and the
// dropped threshold metric, and a run where everything failed says so.
func TestDropsAreFailures(t *testing.T) {
	m := NewMetrics()
	st := mustStages(t, "0s:10,1s:10", false)
	for i := range 10 {
		r := &Result{Scenario: "s", Endpoint: "e", Model: Open, Stages: st, Stage: 2, Elapsed: time.Duration(i) * 100 * time.Millisecond}
		switch {
		case i < 6:
			r.Status, r.Latency = 200, time.Millisecond
		case i < 8:
			r.Status, r.Latency = 500, time.Millisecond
		default:
			r.Error = ErrDropped
		}
		m.Add(r)
	}
	m.Close()
	rep := &Report{Scenarios: m.Summaries(nil), Run: RunInfo{Thresholds: []string{"dropped<1", "error_rate<50%"}}}
	tot := rep.Scenarios[0].Endpoints[0].Total
	if tot.Requests != 8 || tot.Dropped != 2 || tot.ErrorRate != 40 {
		t.Fatalf("requests %d dropped %d error rate %v, want 8, 2, 40", tot.Requests, tot.Dropped, tot.ErrorRate)
	}
	err := rep.finish()
	if err == nil || !strings.Contains(err.Error(), "dropped is 2 requests") {
		t.Errorf("dropped threshold: %v", err)
	}
	var md strings.Builder
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(md.String(), "## s")
	if !strings.Contains(head, "2 of 10 requests dropped") {
		t.Errorf("summary.md does not say the drops at the top:\n%s", head)
	}
	if att, failed := rep.Failures(); att != 10 || failed != 4 {
		t.Errorf("Failures = %d, %d; want 10, 4", att, failed)
	}
}

// TestAllFailedRun: a run whose every request fails returns ErrAllFailed
// (exit 1), after writing its summaries.
func TestAllFailedRun(t *testing.T) {
	cfg := RunConfig{
		Dir:       t.TempDir(),
		Endpoints: []Endpoint{{Name: "refused", URL: "http://127.0.0.1:1/"}},
		Scenarios: []Scenario{{Name: "load"}},
		Model:     Open, Stages: mustStages(t, "0s:20,500ms:20", false),
		Timeout: time.Second, Progress: io.Discard, NoCharts: true,
	}
	rep, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrAllFailed) || rep == nil {
		t.Fatalf("Run against a refused port: %v", err)
	}
	md, _ := os.ReadFile(filepath.Join(cfg.Dir, SummaryMDFile))
	if !strings.Contains(string(md), "Every one of the 10 requests failed") || strings.Contains(string(md), ".png") {
		t.Errorf("summary.md:\n%s", md)
	}
}

// TestMergeIsExact: two halves of the results merged give the summaries of
// all of them.
func TestMergeIsExact(t *testing.T) {
	st := mustStages(t, "0s:10,1s:10,1s:20", false)
	whole, a, b := NewMetrics(), NewMetrics(), NewMetrics()
	for i := range 300 {
		r := &Result{Scenario: "s", Endpoint: "e", Model: Open, Stages: st, Stage: 2 + i%2, Status: 200,
			Elapsed: time.Duration(i) * 7 * time.Millisecond, Latency: time.Duration(i*i%1013+1) * time.Microsecond * 17, Lag: time.Duration(i%7) * time.Microsecond}
		if i%9 == 0 {
			r.Status = 503
		}
		whole.Add(r)
		if i%2 == 0 {
			a.Add(r)
		} else {
			b.Add(r)
		}
	}
	a.Merge(b)
	got, want := a.Summaries(nil), whole.Summaries(nil)
	g, w := got[0].Endpoints[0], want[0].Endpoints[0]
	if len(g.Stages) != len(w.Stages) {
		t.Fatalf("merged %d stages, whole %d", len(g.Stages), len(w.Stages))
	}
	for i, pair := range [][2]StageSummary{{g.Total, w.Total}, {g.Stages[1], w.Stages[1]}, {g.Stages[2], w.Stages[2]}} {
		m, x := pair[0], pair[1]
		// Moments merge to within float rounding; everything else exactly.
		for _, f := range []struct{ a, b *float64 }{{&m.Latency.Mean, &x.Latency.Mean}, {&m.Latency.StdDev, &x.Latency.StdDev},
			{&m.SendLag.Mean, &x.SendLag.Mean}, {&m.SendLag.StdDev, &x.SendLag.StdDev}} {
			if math.Abs(*f.a-*f.b) > 1e-12 {
				t.Errorf("summary %d: moment %v, whole %v", i, *f.a, *f.b)
			}
			*f.a = *f.b
		}
		if m != x {
			t.Errorf("summary %d merged\n%+v\nwhole\n%+v", i, m, x)
		}
	}
}

// TestRebuildTornLastLine: a samples.csv whose last line was cut short by a
// kill is rebuilt without that line, with a warning; damage anywhere else
// names the file and line and leaves the folder alone.
func TestRebuildTornLastLine(t *testing.T) {
	srv := helloServer(t)
	dir := t.TempDir()
	cfg := RunConfig{Dir: dir, Endpoints: []Endpoint{{Name: "api", URL: srv.URL, Hello: true}}, Scenarios: []Scenario{{Name: "s", Query: "delay_ms=1"}},
		Model: Open, Stages: mustStages(t, "0s:20,500ms:20", false), Timeout: time.Second, Progress: io.Discard, NoCharts: true}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	samples := filepath.Join(dir, SamplesFile)
	full, _ := os.ReadFile(samples)
	// Torn: the last row cut in the middle.
	os.WriteFile(samples, full[:len(full)-20], 0o644)
	var warn strings.Builder
	if err := rebuild(dir, false, &warn); err != nil {
		t.Fatalf("rebuild with a torn last line: %v", err)
	}
	rep, _ := ReadReport(filepath.Join(dir, SummaryJSONFile))
	if got := rep.Scenarios[0].Endpoints[0].Total.Requests; got != 9 || !strings.Contains(warn.String(), "torn line") {
		t.Errorf("rebuilt %d requests (want 9 of 10), warning %q", got, warn.String())
	}
	// Damage in the middle: an error naming file and line, nothing written.
	lines := strings.SplitAfter(string(full), "\n")
	lines[3] = strings.Replace(lines[3], ",open,", ",half-open,", 1)
	os.WriteFile(samples, []byte(strings.Join(lines, "")), 0o644)
	before, _ := os.ReadFile(filepath.Join(dir, SummaryJSONFile))
	err := rebuild(dir, false, io.Discard)
	if err == nil || !strings.Contains(err.Error(), samples+": line 4") {
		t.Errorf("rebuild of a damaged samples.csv: %v", err)
	}
	var damaged *results.DamagedError
	if !errors.As(err, &damaged) || damaged.Path != samples {
		t.Errorf("damage is not a results.DamagedError on %s (the report verb's exit 2): %#v", samples, err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, SummaryJSONFile))
	if string(before) != string(after) {
		t.Error("a failed rebuild changed summary.json")
	}
}

// TestRebuildWithoutItsSummary: a summary.json that is missing or damaged
// does not stop a rebuild from the samples, but the warning says which
// settings could not be recovered, and a damaged one is kept beside.
func TestRebuildWithoutItsSummary(t *testing.T) {
	srv := helloServer(t)
	dir := t.TempDir()
	cfg := RunConfig{Dir: dir, Endpoints: []Endpoint{{Name: "api", URL: srv.URL, Hello: true}}, Scenarios: []Scenario{{Name: "s", Query: "delay_ms=1"}},
		Model: Open, Stages: mustStages(t, "0s:20,500ms:20", false), Timeout: time.Second, Progress: io.Discard, NoCharts: true,
		Info: RunInfo{Target: "local"}}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	sum := filepath.Join(dir, SummaryJSONFile)
	orig, err := ReadReport(sum)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, content string // content "" = no summary.json
		why           string
	}{
		{"missing", "", "is missing"},
		{"damaged", `{"partial": fal`, "is damaged"},
	} {
		os.Remove(sum + ".damaged")
		if tt.content == "" {
			os.Remove(sum)
		} else {
			os.WriteFile(sum, []byte(tt.content), 0o644)
		}
		var warn strings.Builder
		if err := rebuild(dir, false, &warn); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if w := warn.String(); !strings.Contains(w, tt.why) || !strings.Contains(w, "could not be recovered: target") {
			t.Errorf("%s: warning %q", tt.name, w)
		}
		rep, err := ReadReport(sum)
		if err != nil {
			t.Fatalf("%s: summary.json not rebuilt: %v", tt.name, err)
		}
		if rep.Run.Target != "unknown" || !rep.Run.Started.Equal(orig.Run.Started) ||
			rep.Scenarios[0].Endpoints[0].Total.Requests != orig.Scenarios[0].Endpoints[0].Total.Requests {
			t.Errorf("%s: rebuilt run %+v, %d requests; want target unknown, started %v, %d requests", tt.name, rep.Run,
				rep.Scenarios[0].Endpoints[0].Total.Requests, orig.Run.Started, orig.Scenarios[0].Endpoints[0].Total.Requests)
		}
		kept, err := os.ReadFile(sum + ".damaged")
		if (tt.content != "") != (err == nil) || (err == nil && string(kept) != tt.content) {
			t.Errorf("%s: damaged summary kept = %v (%q)", tt.name, err == nil, kept)
		}
	}
}

// TestPlanRoundTrip: a plan survives JSON unchanged.
func TestPlanRoundTrip(t *testing.T) {
	p := Plan{
		Endpoints: []Endpoint{
			{Name: "api", Requests: []Request{{Name: "a", Method: "POST", URL: "http://127.0.0.1:1/x", Headers: map[string]string{"K": "v"}, Body: "{}", Weight: weightOf(2)}}},
			{Name: "fn", Function: &Function{Name: "fn", Payload: []byte(`{"a":1}`), LogTail: true}},
		},
		Options: AttackOptions{Scenario: "s", Model: Open, Stages: mustStages(t, "10s:5,1m:5", false), Timeout: time.Second, MaxInFlight: 7},
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Plan
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("plan changed through JSON:\n%+v\n%+v", p, q)
	}
}

// TestNoRedirects: a redirect is recorded as the 3xx it is; its target
// never receives a request.
func TestNoRedirects(t *testing.T) {
	var other atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			other.Add(1)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	o := AttackOptions{Scenario: "r", Model: Open, Stages: mustStages(t, "0s:20,500ms:20", false), Timeout: time.Second}
	ch, err := Attack(context.Background(), []Endpoint{{Name: "r", URL: srv.URL + "/start"}}, o)
	if err != nil {
		t.Fatal(err)
	}
	for r := range ch {
		if r.Status != http.StatusFound {
			t.Errorf("status %d, want 302", r.Status)
		}
	}
	if n := other.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
}

// TestChartsFailKeepSummaries: a chart that cannot be drawn is a warning,
// on the progress writer and in the summaries, never the run's error: the
// run keeps its samples and summary.md links no image that was not drawn.
func TestChartsFailKeepSummaries(t *testing.T) {
	srv := helloServer(t)
	dir := t.TempDir()
	// A folder where the panel's PNG goes: the chart cannot be written.
	if err := os.Mkdir(filepath.Join(dir, panelFile("s")), 0o755); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	cfg := RunConfig{Dir: dir, Endpoints: []Endpoint{{Name: "api", URL: srv.URL, Hello: true}}, Scenarios: []Scenario{{Name: "s", Query: "delay_ms=1"}},
		Model: Open, Stages: mustStages(t, "0s:20,500ms:20", false), Timeout: time.Second, Progress: &progress}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run with a chart that cannot be drawn: %v, want no error", err)
	}
	if !strings.Contains(progress.String(), "warning: charts not drawn") {
		t.Errorf("progress has no chart warning:\n%s", progress.String())
	}
	md, rerr := os.ReadFile(filepath.Join(dir, SummaryMDFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if strings.Contains(string(md), "![") || !strings.Contains(string(md), "Warning: charts not drawn") {
		t.Errorf("summary.md after a chart failure:\n%s", md)
	}
	rep, rerr := ReadReport(filepath.Join(dir, SummaryJSONFile))
	if rerr != nil || !rep.NoCharts || rep.ChartError == "" || rep.Scenarios[0].Endpoints[0].Total.Requests != 10 {
		t.Errorf("summary.json after a chart failure: %v, %+v", rerr, rep)
	}
}

func weightOf(n int) *int { return &n }

// TestWeightZeroSendsNothing: a request of weight 0 is never sent, and
// requests whose weights are all 0 are refused before anything is sent.
func TestWeightZeroSendsNothing(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
	}))
	defer srv.Close()
	o := AttackOptions{Scenario: "w", Model: Open, Stages: mustStages(t, "0s:4,1s:4", false), Timeout: 5 * time.Second}
	tests := []struct {
		name    string
		reqs    []Request
		want    map[string]int
		wantErr string
	}{
		{name: "one of weight 0", reqs: []Request{{Name: "a", URL: srv.URL + "/a", Weight: weightOf(1)}, {Name: "b", URL: srv.URL + "/b", Weight: weightOf(0)}},
			want: map[string]int{"/a": 4}},
		{name: "absent weight is 1", reqs: []Request{{Name: "a", URL: srv.URL + "/a"}, {Name: "b", URL: srv.URL + "/b"}},
			want: map[string]int{"/a": 2, "/b": 2}},
		{name: "only weight 0", reqs: []Request{{Name: "b", URL: srv.URL + "/b", Weight: weightOf(0)}}, wantErr: "weight 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			clear(seen)
			mu.Unlock()
			ch, err := Attack(context.Background(), []Endpoint{{Name: "mix", Requests: tt.reqs}}, o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Attack: %v, want an error about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for range ch {
			}
			mu.Lock()
			defer mu.Unlock()
			if !maps.Equal(seen, tt.want) {
				t.Errorf("server saw %v, want %v", seen, tt.want)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "zero.json")
	if err := os.WriteFile(path, []byte(`[{"name":"b","url":"http://127.0.0.1:1/b","weight":0}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTargetsFile(path); err == nil || !strings.Contains(err.Error(), "weight 0") {
		t.Errorf("ReadTargetsFile of weights all 0: %v", err)
	}
}

// TestBodiesReadToTheEnd: a response body is read to its end through a
// fixed buffer, whatever its size, and the latency ends with it; a hello
// answer is still parsed.
func TestBodiesReadToTheEnd(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = io.WriteString(w, big)
		case "/slow-body":
			w.Header().Set("Content-Length", "4")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			time.Sleep(150 * time.Millisecond)
			_, _ = io.WriteString(w, "done")
		case "/hello":
			_, _ = io.WriteString(w, `{"message":"Hello World!","cold":true,"concurrent":1}`)
		}
	}))
	defer srv.Close()
	o := AttackOptions{Scenario: "b", Model: Open, Stages: mustStages(t, "0s:3,1s:3", false), Timeout: 5 * time.Second}
	ch, err := Attack(context.Background(), []Endpoint{
		{Name: "big", URL: srv.URL + "/big"},
		{Name: "slow-body", URL: srv.URL + "/slow-body"},
		{Name: "hello", URL: srv.URL + "/hello", Hello: true},
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for r := range ch {
		n[r.Endpoint]++
		if !r.OK() {
			t.Errorf("%s: status %d, error %q", r.Endpoint, r.Status, r.Error)
		}
		if r.Endpoint == "slow-body" && r.Latency < 150*time.Millisecond {
			t.Errorf("slow-body: latency %s ends before the body does", r.Latency)
		}
		if r.Endpoint == "hello" && (!r.Hello || !r.Cold) {
			t.Errorf("hello: answer not parsed")
		}
	}
	if n["big"] != 3 || n["slow-body"] != 3 || n["hello"] != 3 {
		t.Errorf("answers per endpoint %v, want 3 each", n)
	}
}

// TestBigBodiesAreNotKept: reading ten 4 MB bodies allocates far less than
// one of them: each body goes through a pooled buffer and is not kept.
func TestBigBodiesAreNotKept(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 4<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(big)
	}))
	defer srv.Close()
	o := AttackOptions{Scenario: "b", Model: Open, Stages: mustStages(t, "0s:10,1s:10", false), Timeout: 5 * time.Second}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ch, err := Attack(context.Background(), []Endpoint{{Name: "big", URL: srv.URL}}, o)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		if r.OK() {
			n++
		}
	}
	runtime.ReadMemStats(&after)
	if n == 0 {
		t.Fatal("no successful request")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("%d answers of 4 MB allocated %d bytes: the bodies were held in memory", n, alloc)
	}
}
