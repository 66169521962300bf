package load

import (
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
