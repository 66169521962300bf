package stats

import (
	"encoding/json"
	"testing"
	"time"
)

// TestHistogramEmpty checks that an empty histogram, whose buckets are not
// allocated yet, answers, encodes and merges like one that has them.
func TestHistogramEmpty(t *testing.T) {
	var empty Histogram
	if got := empty.Summary(0.05); got != (Summary{}) {
		t.Errorf("empty summary = %+v", got)
	}
	if got := empty.ValueAt(99); got != 0 {
		t.Errorf("empty p99 = %v", got)
	}
	b, err := json.Marshal(&empty)
	if err != nil {
		t.Fatal(err)
	}
	var back Histogram
	if err := json.Unmarshal(b, &back); err != nil || back.Count() != 0 {
		t.Fatalf("round trip of an empty histogram: %v, %d samples", err, back.Count())
	}
	full := NewHistogram()
	for _, ms := range []int{3, 1, 2} {
		full.Record(time.Duration(ms) * time.Millisecond)
	}
	into := NewHistogram()
	into.Merge(&back)
	into.Merge(full)
	if got, want := into.Summary(0), full.Summary(0); got != want {
		t.Errorf("merged into empty = %+v, want %+v", got, want)
	}
}
