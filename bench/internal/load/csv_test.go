package load

import (
	"bytes"
	"testing"
	"time"
)

// TestCSVTimeColumn checks the cached time formatting against
// AppendFormat(timeLayout), row after row as the encoder meets them: within
// one second, across seconds, days and years, in other zones, and back in
// time.
func TestCSVTimeColumn(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	base := time.Date(2026, 11, 30, 23, 59, 59, 999_999_999, time.UTC)
	times := []time.Time{
		base,
		base.Add(time.Nanosecond),
		base.Add(1500 * time.Nanosecond),
		base.Add(time.Microsecond),
		time.Date(2026, 11, 30, 1, 2, 3, 4_000, time.UTC),
		time.Date(2026, 11, 30, 1, 2, 3, 999_000, time.UTC),
		time.Date(2026, 11, 30, 1, 2, 3, 0, berlin),
		time.Date(2026, 11, 30, 1, 2, 3, 123_456_789, berlin),
		time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 10_000, time.UTC),
		time.Date(2026, 11, 30, 1, 2, 3, 4_000, time.UTC), // back in time
	}
	var e CSVEncoder
	for _, tm := range times {
		got := string(e.appendTime(nil, tm))
		want := tm.UTC().Format(timeLayout)
		if got != want {
			t.Errorf("%v: got %q, want %q", tm, got, want)
		}
	}
}

// TestCSVRoundTripAcrossEndpoints encodes rows whose scenario, query,
// endpoint, model and profile change from row to row (the columns the
// encoder reuses between rows of one endpoint), some needing quotes, and
// checks that the decoder reads every row back as it was.
func TestCSVRoundTripAcrossEndpoints(t *testing.T) {
	closed := Stages{{Duration: 0, Target: 2}, {Duration: 5 * time.Second, Target: 2}}
	open := Stages{{Duration: 10 * time.Second, Target: 50}}
	base := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	rows := []Result{
		{Scenario: "fast-io", Query: "delay_ms=100", Endpoint: "a", Model: Closed, Stages: closed, Stage: 2, VUs: 2, Status: 200, Latency: 1500 * time.Microsecond},
		{Scenario: "fast-io", Query: "delay_ms=100", Endpoint: "a", Model: Closed, Stages: closed, Stage: 2, VUs: 2, Status: 200, Latency: 2 * time.Millisecond},
		{Scenario: "fast-io", Query: "delay_ms=100", Endpoint: "b,\"quoted\"", Model: Closed, Stages: closed, Stage: 2, VUs: 1, Status: 502, Latency: time.Millisecond},
		{Scenario: "fast-io", Query: "delay_ms=100", Endpoint: "a", Model: Closed, Stages: closed, Stage: 2, VUs: 2, Error: "timeout", Latency: time.Second},
		{Scenario: "custom", Query: "a=1&b=2", Endpoint: "a", Model: Open, Stages: open, Stage: 1, Rate: 50, Status: 200, Latency: 3 * time.Millisecond, Lag: 20 * time.Microsecond},
		{Scenario: "custom", Query: "a=1&b=2", Endpoint: "a", Model: Open, Stages: open, Stage: 1, Rate: 50, Error: ErrDropped},
	}
	var buf bytes.Buffer
	enc := NewCSVEncoder(&buf)
	for i := range rows {
		rows[i].Time = base.Add(time.Duration(i) * time.Millisecond)
		rows[i].Elapsed = time.Duration(i) * time.Millisecond
		if err := enc.Encode(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	dec := NewCSVDecoder(&buf)
	for i, want := range rows {
		var got Result
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if got.Scenario != want.Scenario || got.Query != want.Query || got.Endpoint != want.Endpoint ||
			got.Model != want.Model || got.Stages.String() != want.Stages.String() || got.Stage != want.Stage ||
			got.Status != want.Status || got.Error != want.Error || got.Latency != want.Latency || !got.Time.Equal(want.Time) {
			t.Errorf("row %d: got %+v, want %+v", i, got, want)
		}
	}
}
