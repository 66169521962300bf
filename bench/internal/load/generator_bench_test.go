package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The generator benchmarks measure the whole path every result takes —
// Attack, the result channel, the CSV encoder and the metrics — against a
// trivial net/http handler on 127.0.0.1 (which shares the machine's cores
// with the generator). Each iteration is a 2 s run; the custom metrics are
// what matters:
//
//	cd bench && GOWORK=off go test -run '^$' -bench Generator -benchtime 3x ./internal/load
//
// req/s is the throughput, drop% the open model's dropped share, lag-p99-ms
// its send lag. Add -cpuprofile/-memprofile to profile the hot path. The
// side-by-side comparison with vegeta and wrk is bench/perf/compare.sh.
func BenchmarkGeneratorClosed(b *testing.B) {
	for _, vus := range []int{8, 64} {
		b.Run(fmt.Sprintf("vus=%d", vus), func(b *testing.B) {
			benchGenerator(b, Closed, fmt.Sprintf("0s:%d,2s:%d", vus, vus))
		})
	}
}

func BenchmarkGeneratorOpen(b *testing.B) {
	for _, rate := range []int{2000, 5000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			benchGenerator(b, Open, fmt.Sprintf("0s:%d,2s:%d", rate, rate))
		})
	}
}

func benchGenerator(b *testing.B, model Model, stages string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}))
	defer srv.Close()
	st, err := ParseStages(stages, model == Closed)
	if err != nil {
		b.Fatal(err)
	}
	var sent, dropped int64
	var lagP99 float64
	var wall time.Duration
	b.ResetTimer()
	for range b.N {
		enc := NewCSVEncoder(io.Discard)
		m := NewMetrics()
		begin := time.Now()
		ch, err := Attack(context.Background(), []Endpoint{{Name: "bench", URL: srv.URL}},
			AttackOptions{Scenario: "bench", Model: model, Stages: st, Timeout: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		for r := range ch {
			if err := enc.Encode(r); err != nil {
				b.Fatal(err)
			}
			m.Add(r)
		}
		wall += time.Since(begin)
		m.Close()
		t := m.Summaries(nil)[0].Endpoints[0].Total
		sent += t.Requests
		dropped += t.Dropped
		lagP99 = max(lagP99, t.SendLag.P99)
	}
	b.StopTimer()
	b.ReportMetric(float64(sent)/wall.Seconds(), "req/s")
	if model == Open {
		b.ReportMetric(100*float64(dropped)/float64(sent+dropped), "drop%")
		b.ReportMetric(lagP99, "lag-p99-ms")
	}
}
