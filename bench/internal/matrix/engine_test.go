package matrix

import (
	"lambdabench/bench/internal/cost"
	"strings"
	"testing"
)

func TestSchedule(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		n       int
		want    []int // invocations per payload
	}{
		{"one payload", []int{1}, 5, []int{5}},
		{"3 to 1", []int{3, 1}, 8, []int{6, 2}},
		{"uneven", []int{1, 1, 1}, 10, []int{4, 3, 3}},
		{"none", []int{2, 5}, 0, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := make([]Payload, len(tt.weights))
			for i, w := range tt.weights {
				ps[i] = Payload{Weight: w}
			}
			got := make([]int, len(ps))
			for _, i := range schedule(ps, tt.n) {
				got[i]++
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("counts %v, want %v", got, tt.want)
				}
			}
		})
	}
	// Interleaved, not in blocks: a 1:1 list alternates.
	if s := schedule([]Payload{{Weight: 1}, {Weight: 1}}, 4); s[0] == s[1] || s[1] == s[2] {
		t.Fatalf("1:1 schedule %v does not alternate", s)
	}
}

func TestErrorKind(t *testing.T) {
	for _, tt := range []struct {
		typ      string
		timedOut bool
		want     string
	}{
		{"Sandbox.Timedout", false, ErrorTimeout}, {"", true, ErrorTimeout},
		{"Runtime.OutOfMemory", false, ErrorOOM}, {"errorString", false, ErrorFunction},
	} {
		if got := errorKind(tt.typ, tt.timedOut); got != tt.want {
			t.Errorf("errorKind(%q, %v) = %q, want %q", tt.typ, tt.timedOut, got, tt.want)
		}
	}
}

func TestReadCSVWithoutTuneColumns(t *testing.T) {
	csv := strings.Join(header, ",") + "\n" +
		"2026-01-01T00:00:00Z,f,x86_64,1536,1,0.87,warm,1,true,,10,9,9,,20,8,,,,,,,,,\n"
	s, err := ReadCSV(strings.NewReader(csv))
	if err != nil || len(s) != 1 || s[0].Qualifier != "" || s[0].DurationMs != 9 {
		t.Fatalf("ReadCSV of a matrix file without the extra columns: %+v, %v", s, err)
	}
}

func TestOnlyColdSummarizesColdStarts(t *testing.T) {
	var samples []Sample
	for i := range 3 {
		s := blank(Sample{Function: "f", Arch: "x86_64", MemoryMB: 512})
		s.Kind, s.Seq, s.OK = KindCold, i+1, true
		s.DurationMs, s.InitMs, s.BilledMs = 100, 20, 120
		samples = append(samples, s)
	}
	meta := Meta{Kind: "tune", Trim: 0.2, Strategy: "cost", Weight: 0.5, Tune: &TuneMeta{Function: "f", OnlyCold: true}}
	sum, err := Build(samples, meta, cost.Default(), false)
	if err != nil {
		t.Fatal(err)
	}
	r := sum.Results[0]
	if !r.Measured() || r.Warm.N != 3 || r.Warm.Mean != 120 || r.Invocations != 3 || r.ColdSeen != 3 || sum.Verdict == nil {
		t.Fatalf("only-cold result: measured %v, n %d, mean %v, invocations %d, cold %d, verdict %v", r.Measured(), r.Warm.N, r.Warm.Mean, r.Invocations, r.ColdSeen, sum.Verdict)
	}
}
