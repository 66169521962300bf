package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	// stallFrom and stallTo are when the stall began and ended (set once
	// it has ended).
	stallFrom, stallTo time.Time
}

func (s *stallServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	s.firstOnce.Do(func() { s.first = time.Now() })
	if s.stall > 0 && time.Since(s.first) > time.Second {
		s.stallOnce.Do(func() {
			s.mu.Lock()
			from := time.Now()
			time.Sleep(s.stall)
			s.stallFrom, s.stallTo = from, time.Now()
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
// stalls for 1 s once. Its assertions are structural, not wall-clock
// bounds: the open model keeps to its schedule and measures from each
// request's due time, so every request due during the stall carries the
// rest of it, and the ~50 due in its first half put p99 above half the
// stall. A closed-model virtual user waits for the stalled answer and sends
// nothing meanwhile: exactly one sample carries the stall.
func TestOpenModelShowsStall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 3 s load tests")
	}
	ctx := context.Background()

	open := &stallServer{stall: time.Second}
	srv := httptest.NewServer(open)
	defer srv.Close()
	st := mustStages(t, "0s:100,3s:100", false)
	o := AttackOptions{Scenario: "stall", Model: Open, Stages: st, Timeout: 5 * time.Second}
	got, all := runAttack(t, ctx, srv.URL, o)
	lat := got.Total.Latency
	t.Logf("open model:   %d requests, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms, dropped %d",
		got.Total.Requests, lat.P50, lat.P90, lat.P99, lat.Max, got.Total.Dropped)
	if due := int64(st.Arrivals(st.Total())); got.Total.Requests+got.Total.Dropped != due || due != 300 {
		t.Errorf("open model: %d sent + %d dropped, want the %d due", got.Total.Requests, got.Total.Dropped, due)
	}
	if open.stallTo.IsZero() {
		t.Fatal("the server never stalled")
	}
	firstHalf := 0
	for _, r := range all {
		if r.Dropped() || r.Time.Before(open.stallFrom) || !r.Time.Before(open.stallTo) {
			continue
		}
		// Due during the stall: it cannot have been answered before the stall ended.
		if end := r.Time.Add(r.Latency); end.Before(open.stallTo.Add(-time.Millisecond)) {
			t.Errorf("request due %v into the stall ended %v before the stall did", r.Time.Sub(open.stallFrom), open.stallTo.Sub(end))
		}
		if r.Time.Before(open.stallFrom.Add(open.stall / 2)) {
			firstHalf++
		}
	}
	if int64(firstHalf) < (got.Total.Requests+99)/100 {
		t.Fatalf("only %d requests due in the stall's first half", firstHalf)
	}
	if lat.P99 < 500 {
		t.Errorf("open model p99 = %.1f ms: %d requests carry more than half the 1 s stall", lat.P99, firstHalf)
	}
	if got.Total.OK != got.Total.Requests || got.Total.ColdStarts != 1 {
		t.Errorf("open model: %d OK of %d, %d cold; want all OK and 1 cold", got.Total.OK, got.Total.Requests, got.Total.ColdStarts)
	}

	closed := &stallServer{stall: time.Second}
	srv2 := httptest.NewServer(closed)
	defer srv2.Close()
	o = AttackOptions{Scenario: "stall", Model: Closed, Stages: mustStages(t, "0s:1,3s:1", true), Timeout: 5 * time.Second}
	got, all = runAttack(t, ctx, srv2.URL, o)
	lat = got.Total.Latency
	t.Logf("closed model: %d requests, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
		got.Total.Requests, lat.P50, lat.P90, lat.P99, lat.Max)
	if closed.stallTo.IsZero() {
		t.Fatal("the server never stalled")
	}
	carrying := 0
	for i, r := range all {
		if i > 0 && r.Elapsed < all[i-1].Elapsed+all[i-1].Latency {
			t.Fatalf("closed model with one VU sent request %d before the previous answer", i)
		}
		if r.Time.Before(closed.stallTo) && r.Time.Add(r.Latency).After(closed.stallFrom.Add(closed.stall/2)) {
			carrying++
		}
	}
	if carrying != 1 {
		t.Errorf("%d closed-model samples span the stall, want exactly 1: the others were never sent", carrying)
	}
	if lat.Max < 1000 {
		t.Errorf("closed model max = %.1f ms: the stalled request must be there", lat.Max)
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

// TestAttackCancel stops promptly on cancellation, even with every request
// stuck in a server that never answers: the in-flight requests are
// abandoned (their connections closed), not reported, and the channel
// closes. Results completed before the cancellation are kept.
func TestAttackCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var n atomic.Int64
	arrived := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 3 {
			return // the first three are answered at once
		}
		arrived <- struct{}{}
		select { // the rest hang until the test ends
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	o := AttackOptions{Scenario: "cancel", Model: Closed, Stages: mustStages(t, "0s:1,1m:1", true), Timeout: time.Minute}
	ch, err := Attack(ctx, []Endpoint{{Name: "hang", URL: srv.URL}}, o)
	if err != nil {
		t.Fatal(err)
	}
	<-arrived // the fourth request is in flight and will never be answered
	cancel()
	var got []*Result
	done := make(chan struct{})
	go func() {
		for r := range ch {
			got = append(got, r)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Attack did not stop after cancellation with a request in flight")
	}
	if len(got) != 3 {
		t.Errorf("%d results reported, want the 3 answered before the cancellation", len(got))
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

// TestRequestFailuresAreTheEndpoints checks that a request longer than the
// timeout is a timeout whether the connection's deadline ended it or its
// answer came after the timeout but before the deadline, and that a broken
// answer is reported as it happened, never hidden by a retry: the server
// sees exactly one request per result.
func TestRequestFailuresAreTheEndpoints(t *testing.T) {
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		wantErr string
	}{
		{"no answer", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(4 * timeout):
			}
		}, "timeout"},
		{"answer after the timeout", func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(timeout + deadlineSlack(timeout)/2)
			_, _ = io.WriteString(w, "late")
		}, "timeout"},
		{"body cut short", func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
			_ = buf.Flush()
			_ = conn.Close()
		}, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				tt.handler(w, r)
			}))
			defer srv.Close()
			o := AttackOptions{Scenario: "fail", Model: Closed, Stages: mustStages(t, "0s:2,500ms:2", true), Timeout: timeout}
			ch, err := Attack(context.Background(), []Endpoint{{Name: "ep", URL: srv.URL}}, o)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for r := range ch {
				n++
				if r.Status != 0 || !strings.Contains(r.Error, tt.wantErr) {
					t.Errorf("result: status %d, error %q; want no status and an error with %q", r.Status, r.Error, tt.wantErr)
				}
				if tt.wantErr == "timeout" && r.Latency < timeout {
					t.Errorf("timed out after %v, before the %v timeout", r.Latency, timeout)
				}
			}
			if n == 0 || hits.Load() != n {
				t.Errorf("%d results for %d requests the server received; want as many, at least one", n, hits.Load())
			}
		})
	}
}
