package load

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestAttackCancelExactlyOnce checks that every answered request of the
// closed model reaches samples.csv and the metrics exactly once when the run
// is cancelled while several virtual users wait: the server answers exactly
// `answered` requests and holds every later one until the run is cancelled,
// so those are abandoned and not reported.
func TestAttackCancelExactlyOnce(t *testing.T) {
	const answered = 100
	var n atomic.Int64
	hung := make(chan struct{}, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= answered {
			_, _ = w.Write([]byte("ok"))
			return
		}
		hung <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	const vus = 4
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := AttackOptions{Scenario: "batch", Model: Closed, Stages: mustStages(t, "0s:4,1m:4", true), Timeout: time.Minute}
	ch, err := Attack(ctx, []Endpoint{{Name: "b", URL: srv.URL}}, o)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range vus { // every virtual user waits on an unanswered request
			<-hung
		}
		cancel()
	}()
	var buf bytes.Buffer
	enc := NewCSVEncoder(&buf)
	m := NewMetrics()
	seen := map[*Result]bool{}
	timeout := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case r, ok := <-ch:
			if !ok {
				done = true
				continue
			}
			if seen[r] {
				t.Fatalf("result at %v delivered twice", r.Elapsed)
			}
			seen[r] = true
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
			m.Add(r)
		case <-timeout:
			t.Fatal("Attack did not end after cancellation")
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != answered {
		t.Errorf("%d results delivered, want the %d answered", len(seen), answered)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rows) - 1; got != answered {
		t.Errorf("%d samples.csv rows, want %d", got, answered)
	}
	m.Close()
	if tot := m.Summaries(nil)[0].Endpoints[0].Total; tot.Requests != answered || tot.OK != answered {
		t.Errorf("metrics: %d requests, %d 2xx; want %d of each", tot.Requests, tot.OK, answered)
	}
}
