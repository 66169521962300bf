package matrix

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestParseReportLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    Report
		wantErr bool
	}{
		{
			name: "cold",
			line: "REPORT RequestId: abc\tDuration: 263.34 ms\tBilled Duration: 467 ms\tMemory Size: 128 MB\tMax Memory Used: 38 MB\tInit Duration: 203.47 ms\t",
			want: Report{Found: true, RequestID: "abc", DurationMs: 263.34, BilledMs: 467, MemorySizeMB: 128, MaxMemoryMB: 38, InitMs: 203.47, HasInit: true},
		},
		{
			name: "warm",
			line: "REPORT RequestId: x\tDuration: 1.5 ms\tBilled Duration: 2 ms\tMemory Size: 1536 MB\tMax Memory Used: 20 MB",
			want: Report{Found: true, RequestID: "x", DurationMs: 1.5, BilledMs: 2, MemorySizeMB: 1536, MaxMemoryMB: 20},
		},
		{name: "truncated", line: "REPORT RequestId: x\tDuration: 1.5 ms", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReportLine(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	enc := base64.StdEncoding.EncodeToString([]byte("START RequestId: x\nhello\nEND RequestId: x\nREPORT RequestId: x\tDuration: 3 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\n"))
	if r, err := ParseLogResult(enc); err != nil || !r.Found || r.DurationMs != 3 {
		t.Fatalf("ParseLogResult = %+v, %v", r, err)
	}
	if r, err := ParseLogResult(base64.StdEncoding.EncodeToString([]byte("no report\n"))); err != nil || r.Found {
		t.Fatalf("no REPORT line: %+v, %v", r, err)
	}
	if _, err := ParseLogResult("!!"); err == nil {
		t.Fatal("bad base64 should fail")
	}
}

// fakeLambda answers like a bcrypt function whose warm duration is
// base ÷ workers ms, and whose first invocation after an update is cold.
type fakeLambda struct {
	mu       sync.Mutex
	env      map[string]map[string]string
	cold     map[string]bool
	fail     map[string]string // function -> error message
	updates  int
	invokes  int
	inFlight int
	maxIn    int
}

func newFake() *fakeLambda {
	return &fakeLambda{env: map[string]map[string]string{}, cold: map[string]bool{}, fail: map[string]string{}}
}

var memOf = map[string]int32{"f1": 1536, "f2": 4096, "f3": 10240}
var workersOf = map[string]int{"f1": 1, "f2": 3, "f3": 6}

func (f *fakeLambda) GetFunctionConfiguration(_ context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.FunctionName)
	m, ok := memOf[name]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Function not found: " + name)}
	}
	vars := map[string]string{"WORKER_COUNT": fmt.Sprint(workersOf[name])}
	for k, v := range f.env[name] {
		vars[k] = v
	}
	return &lambda.GetFunctionConfigurationOutput{
		FunctionName: aws.String(name), MemorySize: aws.Int32(m), Architectures: []types.Architecture{types.ArchitectureX8664},
		Environment: &types.EnvironmentResponse{Variables: vars}, LastUpdateStatus: types.LastUpdateStatusSuccessful,
	}, nil
}

func (f *fakeLambda) UpdateFunctionConfiguration(_ context.Context, in *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.FunctionName)
	f.env[name] = in.Environment.Variables
	f.cold[name] = true
	f.updates++
	return &lambda.UpdateFunctionConfigurationOutput{}, nil
}

func (f *fakeLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	name := aws.ToString(in.FunctionName)
	f.mu.Lock()
	f.invokes++
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	cold := f.cold[name]
	f.cold[name] = false
	msg := f.fail[name]
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	time.Sleep(2 * time.Millisecond)
	if msg != "" {
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: []byte(`{"errorMessage":"` + msg + `","errorType":"errorString"}`)}, nil
	}
	d := 1200.0 / float64(workersOf[name])
	report := fmt.Sprintf("REPORT RequestId: r\tDuration: %.2f ms\tBilled Duration: %.0f ms\tMemory Size: %d MB\tMax Memory Used: 20 MB", d, math.Ceil(d), memOf[name])
	if cold {
		report += "\tInit Duration: 40.00 ms"
	}
	body, _ := json.Marshal(map[string]any{"processed": 20, "duration_ms": d - 1, "mode": "parallel", "workers": workersOf[name],
		"detected_cpus": 2, "gomaxprocs": 2, "threads_used": workersOf[name], "cpu_ms": d * 0.9, "parallelism": 0.9, "memory_used_kb": 3000})
	return &lambda.InvokeOutput{StatusCode: 200, Payload: body, LogResult: aws.String(base64.StdEncoding.EncodeToString([]byte(report + "\n")))}, nil
}

func TestRunDiscoverSummarize(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.fail["f3"] = "boom"
	outputs := map[string]string{"X8664Mem1536FunctionName": "f1", "X8664Mem4096FunctionName": "f2", "X8664Mem10240FunctionName": "f3", "ApiUrl": "ignored"}
	cfgs, err := Discover(ctx, f, outputs, []string{"x86_64", "arm64"}, "not this machine's architecture", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 6 {
		t.Fatalf("got %d configs, want 3 measured + 3 skipped: %+v", len(cfgs), cfgs)
	}
	if cfgs[0].Arch != "arm64" || cfgs[0].Skip == "" || cfgs[3].Function != "f1" || cfgs[3].Workers != 1 || cfgs[5].MemoryMB != 10240 {
		t.Fatalf("unexpected configs: %+v", cfgs)
	}
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var live []Sample
	err = Run(ctx, f, cfgs, Options{Cold: 2, Runs: 10, Parallel: 3, LogTail: true, PollEvery: time.Millisecond,
		OnSample: func(s Sample) error { live = append(live, s); return w.Write(s) }})
	if err != nil {
		t.Fatal(err)
	}
	if f.updates != 6 || f.invokes != 36 {
		t.Errorf("updates = %d, invokes = %d; want 6 and 36", f.updates, f.invokes)
	}
	if f.maxIn != 3 {
		t.Errorf("max in flight = %d, want 3", f.maxIn)
	}
	read, err := ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(read) != len(live) {
		t.Fatalf("read %d samples, wrote %d", len(read), len(live))
	}
	price := func(arch string, mem int, billed []float64) float64 {
		var sum float64
		for _, b := range billed {
			sum += b
		}
		return sum / float64(len(billed)) * float64(mem)
	}
	res := Summarize(read, 0.2, price)
	if len(res) != 6 {
		t.Fatalf("%d results", len(res))
	}
	byMem := map[string]Result{}
	for _, r := range res {
		byMem[fmt.Sprint(r.Arch, r.MemoryMB)] = r
	}
	r1, r2, r3 := byMem["x86_641536"], byMem["x86_644096"], byMem["x86_6410240"]
	if r1.Warm.N != 10 || r1.Warm.Mean != 1200 || r1.ColdSeen != 2 || r1.ColdInit.P50 != 40 {
		t.Errorf("1536: %+v", r1)
	}
	if math.Abs(r2.Speedup-3) > 1e-9 {
		t.Errorf("speedup of 3 workers = %v, want 3", r2.Speedup)
	}
	wantIdeal := (4096.0 / 1769) / (1536.0 / 1769)
	if math.Abs(r2.IdealSpeedup-wantIdeal) > 1e-9 || math.Abs(r2.Efficiency-3/wantIdeal) > 1e-9 {
		t.Errorf("ideal %v efficiency %v", r2.IdealSpeedup, r2.Efficiency)
	}
	if r2.CostPerMillion != 400*4096 {
		t.Errorf("cost = %v, want billed mean × memory", r2.CostPerMillion)
	}
	if r3.Measured() || r3.Failures != 12 || !strings.Contains(r3.FirstError, "boom") {
		t.Errorf("failing config: %+v", r3)
	}
	if byMem["arm641536"].Skip == "" || byMem["arm641536"].Measured() {
		t.Errorf("arm64 should be skipped: %+v", byMem["arm641536"])
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("results must encode as JSON: %v", err)
	}
}

func TestRunStopsOnCancelAndWriterError(t *testing.T) {
	f := newFake()
	cfgs := []Config{{Function: "f1", Arch: "x86_64", MemoryMB: 1536, Workers: 1}}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Run(ctx, f, cfgs, Options{Runs: 1000, OnSample: func(Sample) error {
		n++
		if n == 5 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) || n > 6 {
		t.Fatalf("err = %v after %d samples; want a prompt context.Canceled", err, n)
	}
	wantErr := errors.New("disk full")
	err = Run(context.Background(), f, cfgs, Options{Runs: 10, OnSample: func(Sample) error { return wantErr }})
	if !errors.Is(err, wantErr) {
		t.Fatalf("err = %v, want the writer's error", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"negative", Options{Runs: -1}, "must not be negative"},
		{"nothing", Options{}, "nothing to measure"},
		{"bad payload", Options{Runs: 1, Payload: []byte("{")}, "not valid JSON"},
	}
	for _, tt := range tests {
		if err := Run(context.Background(), newFake(), nil, tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCSVReadsOnlyWholeLines(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewCSVWriter(&buf)
	s := blank(Sample{Function: "f", Arch: "arm64", MemoryMB: 128, Workers: 1, VCPUs: 0.07})
	s.Time, s.Kind, s.OK, s.HandlerMs = time.Unix(0, 0), KindWarm, true, 5
	_ = w.Write(s)
	got, err := ReadCSV(bytes.NewReader(buf.Bytes()))
	if err != nil || len(got) != 1 || got[0].HandlerMs != 5 || !math.IsNaN(got[0].DurationMs) {
		t.Fatalf("got %+v, %v", got, err)
	}
	// A torn line is ReadFile's to cut off: ReadCSV names it as damage.
	buf.WriteString("2026-01-01T00:00:00Z,f,\"arm")
	if _, err := ReadCSV(&buf); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want damage on line 3", err)
	}
	if _, err := ReadCSV(strings.NewReader("a,b\n")); err == nil {
		t.Fatal("a foreign CSV should be refused")
	}
}
