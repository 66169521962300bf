package locallambda

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	lambdago "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Figures for the documentation:
//
//	GOWORK=off go test -run '^$' -bench . -benchtime 3000x ./internal/locallambda/
//
// BenchmarkInvokeOverhead: hello with no work, invoked over HTTP (Invoke API; back to back, and
// paced 1 ms apart) and through the SDK, against the same handler called in-process; p50/p99 in µs.
// BenchmarkColdStart: environment start to first /next (Init Duration), p50/p99 in ms.
// BenchmarkCPUShare: a bcrypt batch's cpu_ms / duration_ms in a 1536 MB and a 4096 MB environment
// (LOCALLAMBDA_BENCH_CPU_WEIGHT: see below).

// recorder collects per-operation latencies and reports percentiles.
type recorder []time.Duration

func (r recorder) report(b *testing.B, unit string, scale time.Duration) {
	if len(r) == 0 {
		return
	}
	s := slices.Clone(r)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(p*float64(len(s))+0.5) - 1
		return float64(s[max(0, min(i, len(s)-1))]) / float64(scale)
	}
	b.ReportMetric(at(0.50), "p50-"+unit)
	b.ReportMetric(at(0.99), "p99-"+unit)
}

const helloNoWork = `{"httpMethod":"GET","path":"/hello","queryStringParameters":{"delay_ms":"0","hash_loops":"0"}}`

func BenchmarkInvokeOverhead(b *testing.B) {
	if functionBinary == "" {
		b.Skip("the function's source does not exist")
	}
	spec := FunctionSpec{Name: "hello-2048", Binary: functionBinary, Handler: "hello", MemoryMB: 2048, Timeout: 10 * time.Second}
	if os.Getenv("LOCALLAMBDA_BENCH_MINIMAL_RUNTIME") != "" {
		// The test runtime (plain net/http, echoes the event) instead of aws-lambda-go: what the
		// Runtime API exchange itself costs.
		spec.Binary = fakeBinary
	}
	s, err := Start(context.Background(), Config{Functions: []FunctionSpec{spec}, InvokeAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0",
		CPUControl: os.Getenv("LOCALLAMBDA_BENCH_NO_CGROUPS") == ""})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	url := s.InvokeEndpoint() + "/2015-03-31/functions/hello-2048/invocations"
	hc := &http.Client{}
	post := func() error {
		resp, err := hc.Post(url, "application/json", bytes.NewBufferString(helloNoWork))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	for range 200 { // start the environment, warm the connections
		if err := post(); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("http", func(b *testing.B) {
		var r recorder
		for b.Loop() {
			t0 := time.Now()
			if err := post(); err != nil {
				b.Fatal(err)
			}
			r = append(r, time.Since(t0))
		}
		r.report(b, "µs", time.Microsecond)
	})
	b.Run("http-paced", func(b *testing.B) {
		// 1 ms between invocations (not timed): the runtime is back in /next when the next one
		// comes, as with any load that is not back-to-back from one caller.
		var r recorder
		for b.Loop() {
			time.Sleep(time.Millisecond)
			t0 := time.Now()
			if err := post(); err != nil {
				b.Fatal(err)
			}
			r = append(r, time.Since(t0))
		}
		r.report(b, "µs", time.Microsecond)
	})
	b.Run("sdk", func(b *testing.B) {
		c := client(s)
		in := &lambda.InvokeInput{FunctionName: aws.String("hello-2048"), Payload: []byte(helloNoWork)}
		var r recorder
		for b.Loop() {
			t0 := time.Now()
			if _, err := c.Invoke(context.Background(), in); err != nil {
				b.Fatal(err)
			}
			r = append(r, time.Since(t0))
		}
		r.report(b, "µs", time.Microsecond)
	})
	b.Run("in-process", func(b *testing.B) {
		// The same work in this process: decode the proxy event, build the hello response, encode
		// it, through aws-lambda-go's handler adapter as the function does.
		h := lambdago.NewHandler(func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			delay, _ := strconv.Atoi(req.QueryStringParameters["delay_ms"])
			body, _ := json.Marshal(map[string]any{"message": "Hello World!", "delay_ms": delay, "hash_loops": 0,
				"hash": "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925", "cold": false, "concurrent": 1})
			return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
		})
		payload := []byte(helloNoWork)
		var r recorder
		for b.Loop() {
			t0 := time.Now()
			if _, err := h.Invoke(context.Background(), payload); err != nil {
				b.Fatal(err)
			}
			r = append(r, time.Since(t0))
		}
		r.report(b, "µs", time.Microsecond)
	})
}

func BenchmarkColdStart(b *testing.B) {
	if functionBinary == "" {
		b.Skip("the function's source does not exist")
	}
	for _, mb := range []int{128, 2048} {
		b.Run(strconv.Itoa(mb)+"MB", func(b *testing.B) {
			name := "hello-" + strconv.Itoa(mb)
			spec := FunctionSpec{Name: name, Binary: functionBinary, Handler: "hello", MemoryMB: mb, Timeout: 10 * time.Second}
			s, err := Start(context.Background(), Config{Functions: []FunctionSpec{spec}, InvokeAddr: "127.0.0.1:0", APIAddr: "-", CPUControl: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			c := client(s)
			var inits, trips recorder
			i := 0
			for b.Loop() {
				i++
				// A configuration change retires the environment: the next invoke is cold.
				if _, err := c.UpdateFunctionConfiguration(context.Background(), &lambda.UpdateFunctionConfigurationInput{
					FunctionName: aws.String(name),
					Environment:  &types.Environment{Variables: map[string]string{"RUN": strconv.Itoa(i)}},
				}); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(helloNoWork), LogType: types.LogTypeTail})
				if err != nil {
					b.Fatal(err)
				}
				trips = append(trips, time.Since(t0))
				f := s.functions[name]
				f.mu.Lock()
				var env *environment
				if len(f.envs) > 0 {
					env = f.envs[len(f.envs)-1]
				}
				f.mu.Unlock()
				if env == nil || !env.initDone.Load() {
					b.Fatalf("no ready environment after a cold invoke: %s", out.Payload)
				}
				inits = append(inits, env.initDuration)
			}
			inits.report(b, "init-ms", time.Millisecond)
			trips.report(b, "cold-invoke-ms", time.Millisecond)
		})
	}
}

func BenchmarkCPUShare(b *testing.B) {
	if functionBinary == "" {
		b.Skip("the function's source does not exist")
	}
	for _, tc := range []struct{ mb, workers, count int }{{1536, 1, 16}, {4096, 3, 36}} {
		b.Run(strconv.Itoa(tc.mb)+"MB", func(b *testing.B) {
			name := "bcrypt-" + strconv.Itoa(tc.mb)
			spec := FunctionSpec{Name: name, Binary: functionBinary, Handler: "bcrypt", MemoryMB: tc.mb, Timeout: 30 * time.Second,
				Env: map[string]string{"WORKER_COUNT": strconv.Itoa(tc.workers)}}
			// LOCALLAMBDA_BENCH_CPU_WEIGHT=N gives the environments the CPU weight of N busy threads
			// against the rest of the machine (Config.CPUWeight), to measure the quota itself on a
			// machine busy with other work.
			weight, _ := strconv.ParseFloat(os.Getenv("LOCALLAMBDA_BENCH_CPU_WEIGHT"), 64)
			s, err := Start(context.Background(), Config{Functions: []FunctionSpec{spec}, InvokeAddr: "127.0.0.1:0", APIAddr: "-",
				CPUControl: true, CPUWeight: weight})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if s.cg == nil {
				b.Logf("no cgroups: %s", s.Confinement())
			}
			c := client(s)
			payload := []byte(`{"count":` + strconv.Itoa(tc.count) + `,"mode":"parallel","cost":10}`)
			if _, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload}); err != nil {
				b.Fatal(err)
			}
			var shares []float64
			for b.Loop() {
				out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
				if err != nil || out.FunctionError != nil {
					b.Fatalf("%v %s", err, out.Payload)
				}
				var r struct {
					DurationMS  float64 `json:"duration_ms"`
					CPUMS       float64 `json:"cpu_ms"`
					Parallelism float64 `json:"parallelism"`
				}
				if err := json.Unmarshal(out.Payload, &r); err != nil {
					b.Fatal(err)
				}
				shares = append(shares, r.CPUMS/r.DurationMS)
			}
			slices.Sort(shares)
			want := VCPUs(spec, s.HostCores())
			med := shares[len(shares)/2]
			b.ReportMetric(med, "share")
			b.ReportMetric(want, "expected")
			b.ReportMetric(100*(med-want)/want, "error-%")
		})
	}
}
