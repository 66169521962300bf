package load

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stallServer answers the hello JSON after 10 ms, except that once, 1 s
// after its first request, it stalls everything for stall: like a GC pause
// or a frozen host, every request arriving meanwhile waits too.
type stallServer struct {
	stall     time.Duration
	mu        sync.RWMutex
	firstOnce sync.Once
	stallOnce sync.Once
	first     time.Time
	requests  atomic.Int64
}

func (s *stallServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	s.firstOnce.Do(func() { s.first = time.Now() })
	if s.stall > 0 && time.Since(s.first) > time.Second {
		s.stallOnce.Do(func() {
			s.mu.Lock()
			time.Sleep(s.stall)
			s.mu.Unlock()
		})
	}
	s.mu.RLock() // waits while the stall holds the lock
	stalled := s.stall
	s.mu.RUnlock()
	_ = stalled
	time.Sleep(10 * time.Millisecond)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"message":"Hello World!","delay_ms":0,"hash_loops":0,"hash":"00","cold":%t,"concurrent":1}`, n == 1)
}

// runAttack runs one scenario and returns its summary for the one endpoint.
func runAttack(t *testing.T, ctx context.Context, url string, o AttackOptions) (EndpointSummary, []*Result) {
	t.Helper()
	ch, err := Attack(ctx, []Endpoint{{Name: "stall", URL: url, Hello: true}}, o)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	var all []*Result
	for r := range ch {
		m.Add(r)
		all = append(all, r)
	}
	m.Close()
	sums := m.Summaries(nil)
	if len(sums) != 1 || len(sums[0].Endpoints) != 1 {
		t.Fatalf("want one scenario with one endpoint, got %+v", sums)
	}
	return sums[0].Endpoints[0], all
}

// TestOpenModelShowsStall is the coordinated-omission test: a server that
// stalls for 1 s once. The open model keeps sending at its rate and measures
// from each request's due time, so the ~100 requests due during the stall
// carry it and p99 shows it. A closed-model virtual user waits for the
// stalled answer and sends nothing meanwhile: one slow sample out of
// hundreds, and p99 hides it.
func TestOpenModelShowsStall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 3 s load tests")
	}
	ctx := context.Background()

	open := &stallServer{stall: time.Second}
	srv := httptest.NewServer(open)
	defer srv.Close()
	o := AttackOptions{Scenario: "stall", Model: Open, Stages: mustStages(t, "0s:100,3s:100", false), Timeout: 5 * time.Second}
	got, _ := runAttack(t, ctx, srv.URL, o)
	lat := got.Total.Latency
	t.Logf("open model:   %d requests, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms, dropped %d",
		got.Total.Requests, lat.P50, lat.P90, lat.P99, lat.Max, got.Total.Dropped)
	if got.Total.Requests < 280 || got.Total.Requests > 300 || got.Total.Dropped != 0 {
		t.Errorf("open model sent %d requests (dropped %d), want ~300 and none dropped", got.Total.Requests, got.Total.Dropped)
	}
	if lat.P99 < 700 {
		t.Errorf("open model p99 = %.1f ms: the 1 s stall must show in p99", lat.P99)
	}
	if lat.P90 < 300 {
		t.Errorf("open model p90 = %.1f ms: a third of the requests were due during the stall", lat.P90)
	}
	if got.Total.OK != got.Total.Requests || got.Total.ColdStarts != 1 {
		t.Errorf("open model: %d OK of %d, %d cold; want all OK and 1 cold", got.Total.OK, got.Total.Requests, got.Total.ColdStarts)
	}

	closed := &stallServer{stall: time.Second}
	srv2 := httptest.NewServer(closed)
	defer srv2.Close()
	o = AttackOptions{Scenario: "stall", Model: Closed, Stages: mustStages(t, "0s:1,3s:1", true), Timeout: 5 * time.Second}
	got, _ = runAttack(t, ctx, srv2.URL, o)
	lat = got.Total.Latency
	t.Logf("closed model: %d requests, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
		got.Total.Requests, lat.P50, lat.P90, lat.P99, lat.Max)
	if lat.Max < 900 {
		t.Errorf("closed model max = %.1f ms: the stalled request must be there", lat.Max)
	}
	if lat.P99 > 200 {
		t.Errorf("closed model p99 = %.1f ms: one stalled sample out of %d should not reach p99", lat.P99, got.Total.Requests)
	}
}

// TestOpenModelDrops bounds the requests in flight: during the stall the 5
// slots fill and the requests due meanwhile are dropped, and reported.
func TestOpenModelDrops(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 2 s load test")
	}
	s := &stallServer{stall: time.Second}
	srv := httptest.NewServer(s)
	defer srv.Close()
	o := AttackOptions{Scenario: "drops", Model: Open, Stages: mustStages(t, "0s:50,2s:50", false), Timeout: 5 * time.Second, MaxInFlight: 5}
	got, all := runAttack(t, context.Background(), srv.URL, o)
	t.Logf("%d sent, %d dropped, p99 %.1f ms", got.Total.Requests, got.Total.Dropped, got.Total.Latency.P99)
	if got.Total.Dropped < 20 {
		t.Errorf("dropped %d, want most of the ~50 requests due during the stall", got.Total.Dropped)
	}
	if got.Total.Requests+got.Total.Dropped != 100 {
		t.Errorf("sent %d + dropped %d, want the 100 due", got.Total.Requests, got.Total.Dropped)
	}
	if n := s.requests.Load(); n != got.Total.Requests {
		t.Errorf("server saw %d requests, summary says %d sent", n, got.Total.Requests)
	}
	for _, r := range all {
		if r.Dropped() && (r.Status != 0 || r.Latency != 0) {
			t.Fatalf("dropped result with a status or latency: %+v", r)
		}
	}
}

// TestAttackCancel stops promptly on cancellation and keeps what was
// measured.
func TestAttackCancel(t *testing.T) {
	s := &stallServer{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	begin := time.Now()
	o := AttackOptions{Scenario: "cancel", Model: Closed, Stages: mustStages(t, "0s:4,1m:4", true), Timeout: 5 * time.Second}
	got, _ := runAttack(t, ctx, srv.URL, o)
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("attack took %v after cancellation at 500ms", d)
	}
	if got.Total.Requests < 10 {
		t.Errorf("only %d requests kept from 0.5 s at 4 VUs", got.Total.Requests)
	}
}

// TestAttackErrors classifies answers: 4xx, 429, 5xx and network errors.
func TestAttackErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("delay_ms") != "1" {
			http.Error(w, "missing query", http.StatusTeapot)
			return
		}
		switch n.Add(1) % 4 {
		case 0:
			w.WriteHeader(http.StatusOK)
		case 1:
			w.WriteHeader(http.StatusBadRequest)
		case 2:
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	eps := []Endpoint{{Name: "ok", URL: srv.URL + "/hello"}, {Name: "refused", URL: "http://127.0.0.1:1/hello"}}
	o := AttackOptions{Scenario: "errors", Query: "delay_ms=1", Model: Open, Stages: mustStages(t, "0s:40,1s:40", false), Timeout: time.Second}
	ch, err := Attack(context.Background(), eps, o)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	for r := range ch {
		m.Add(r)
	}
	m.Close()
	sum := m.Summaries([]string{"ok", "refused"})[0]
	ok, refused := sum.Endpoints[0].Total, sum.Endpoints[1].Total
	if ok.Requests != 40 || ok.OK != 10 || ok.Status4xx != 10 || ok.Status429 != 10 || ok.Status5xx != 10 {
		t.Errorf("ok endpoint: %+v", ok)
	}
	if ok.ErrorRate != 75 {
		t.Errorf("error rate = %v, want 75", ok.ErrorRate)
	}
	if refused.Requests != 40 || refused.NetworkErrors != 40 || refused.ErrorRate != 100 {
		t.Errorf("refused endpoint: %+v", refused)
	}
}

func TestTargetURL(t *testing.T) {
	tests := []struct{ url, query, want, wantErr string }{
		{"http://127.0.0.1:3000/prod/lmi/2048/hello", "hash_loops=5", "http://127.0.0.1:3000/prod/lmi/2048/hello?hash_loops=5", ""},
		{"https://x.example/hello?a=1", "?b=2", "https://x.example/hello?a=1&b=2", ""},
		{"https://x.example/hello", "", "https://x.example/hello", ""},
		{"ftp://x/", "", "", "want http"},
		{"/relative", "", "", "want http"},
	}
	for _, tt := range tests {
		got, err := targetURL(tt.url, tt.query)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("targetURL(%q) = %q, want an error", tt.url, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("targetURL(%q, %q) = %q, %v; want %q", tt.url, tt.query, got, err, tt.want)
		}
	}
}
