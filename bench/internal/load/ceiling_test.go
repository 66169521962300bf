package load

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// TestGeneratorCeiling measures the generator's ceiling on this machine:
// requests per second against a trivial net/http handler on 127.0.0.1
// (which shares the machine's cores with the generator), closed model at
// several VU counts, then the open model at several rates. It only runs
// when asked:
//
//	LOAD_CEILING=1 go test -run GeneratorCeiling -v ./internal/load
func TestGeneratorCeiling(t *testing.T) {
	if os.Getenv("LOAD_CEILING") == "" {
		t.Skip("set LOAD_CEILING=1 to measure the generator's ceiling (about 40 s)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"message":"Hello World!"}`)
	}))
	defer srv.Close()
	run := func(model Model, stages string) {
		o := AttackOptions{Scenario: "ceiling", Model: model, Stages: mustStages(t, stages, model == Closed), Timeout: 5 * time.Second}
		got, _ := runAttack(t, context.Background(), srv.URL, o)
		s := got.Total
		t.Logf("%-6s %-12s %7d requests %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %6.1f ms  errors %d  dropped %d",
			model, stages, s.Requests, s.Throughput, s.Latency.P50, s.Latency.P99, s.Latency.Max, s.Requests-s.OK, s.Dropped)
	}
	for _, vus := range []string{"0s:1,5s:1", "0s:8,5s:8", "0s:32,5s:32", "0s:128,5s:128"} {
		run(Closed, vus)
	}
	for _, rate := range []string{"0s:1000,5s:1000", "0s:2000,5s:2000", "0s:3000,5s:3000", "0s:5000,5s:5000"} {
		run(Open, rate)
	}
}
