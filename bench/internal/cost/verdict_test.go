package cost

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Three configurations on a curve: a cheap and slow, b in between, c fast
// and dear. maxCost 40, maxDuration 100; balanced score =
// w×cost/40 + (1−w)×duration/100:
//
//	w    a (10, 100)  b (20, 50)  c (40, 40)
//	0.5  0.625        0.5         0.7     -> b
//	0.8  0.4          0.5         0.88    -> a
//	0.2  0.85         0.5         0.52    -> b
//	0.1  0.925        0.5         0.46    -> c
var (
	candA = Candidate{Name: "a", Arch: "arm64", MemoryMB: 1536, DurationMs: 100, CostPerMillion: 10}
	candB = Candidate{Name: "b", Arch: "arm64", MemoryMB: 4096, DurationMs: 50, CostPerMillion: 20}
	candC = Candidate{Name: "c", Arch: "x86_64", MemoryMB: 10240, DurationMs: 40, CostPerMillion: 40}
)

func TestChoose(t *testing.T) {
	abc := []Candidate{candA, candB, candC}
	failed := Candidate{Name: "failed", DurationMs: 0, CostPerMillion: 0}
	nan := Candidate{Name: "nan", DurationMs: math.NaN(), CostPerMillion: 1}
	tests := []struct {
		name     string
		cands    []Candidate
		strategy Strategy
		weight   float64
		want     string
	}{
		{"cost", abc, StrategyCost, 0, "a"},
		{"speed", abc, StrategySpeed, 0, "c"},
		{"balanced 0.5", abc, StrategyBalanced, 0.5, "b"},
		{"balanced 0.8", abc, StrategyBalanced, 0.8, "a"},
		{"balanced 0.2", abc, StrategyBalanced, 0.2, "b"},
		{"balanced 0.1", abc, StrategyBalanced, 0.1, "c"},
		{"balanced 1 is cost", abc, StrategyBalanced, 1, "a"},
		{"balanced 0 is speed", abc, StrategyBalanced, 0, "c"},
		{"failed configurations are skipped", []Candidate{failed, nan, candB}, StrategyCost, 0, "b"},
		{"cost tie goes to the faster", []Candidate{{Name: "slow", DurationMs: 9, CostPerMillion: 5}, {Name: "fast", DurationMs: 3, CostPerMillion: 5}}, StrategyCost, 0, "fast"},
		{"speed tie goes to the cheaper", []Candidate{{Name: "dear", DurationMs: 3, CostPerMillion: 9}, {Name: "cheap", DurationMs: 3, CostPerMillion: 5}}, StrategySpeed, 0, "cheap"},
		{"full tie goes to the first", []Candidate{{Name: "first", DurationMs: 3, CostPerMillion: 5}, {Name: "second", DurationMs: 3, CostPerMillion: 5}}, StrategyBalanced, 0.5, "first"},
		{"one candidate", []Candidate{candC}, StrategyBalanced, 0.5, "c"},
		{"free candidates", []Candidate{{Name: "x", DurationMs: 5}, {Name: "y", DurationMs: 4}}, StrategyBalanced, 0.5, "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Choose(tt.cands, tt.strategy, tt.weight)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.want {
				t.Errorf("Choose(%s, %v) = %s, want %s", tt.strategy, tt.weight, got.Name, tt.want)
			}
		})
	}
}

func TestChooseErrors(t *testing.T) {
	abc := []Candidate{candA, candB, candC}
	for _, w := range []float64{-0.1, 1.5, math.NaN()} {
		if _, err := Choose(abc, StrategyBalanced, w); err == nil || !strings.Contains(err.Error(), "between 0 and 1") {
			t.Errorf("weight %v: error %v", w, err)
		}
	}
	// The weight only matters to balanced.
	if _, err := Choose(abc, StrategyCost, 7); err != nil {
		t.Errorf("cost with an unused weight: %v", err)
	}
	if _, err := Choose(nil, StrategyCost, 0); !errors.Is(err, ErrNoCandidates) {
		t.Errorf("no candidates: %v", err)
	}
	if _, err := Choose([]Candidate{{Name: "failed"}}, StrategySpeed, 0); !errors.Is(err, ErrNoCandidates) {
		t.Errorf("only failed candidates: %v", err)
	}
	if _, err := Choose(abc, Strategy("cheapest"), 0); err == nil {
		t.Error("unknown strategy accepted")
	}
}

func TestParseStrategy(t *testing.T) {
	for in, want := range map[string]Strategy{"cost": StrategyCost, "Speed": StrategySpeed, " balanced ": StrategyBalanced} {
		if got, err := ParseStrategy(in); err != nil || got != want {
			t.Errorf("ParseStrategy(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseStrategy("fastest"); err == nil || !strings.Contains(err.Error(), "cost, speed or balanced") {
		t.Errorf("ParseStrategy(fastest) error = %v", err)
	}
}

func TestParetoFront(t *testing.T) {
	d := Candidate{Name: "d", DurationMs: 60, CostPerMillion: 25}  // beaten by b on both
	e := Candidate{Name: "e", DurationMs: 120, CostPerMillion: 10} // as cheap as a, slower
	b2 := candB
	b2.Name = "b2" // identical to b: neither beats the other
	got := ParetoFront([]Candidate{d, candA, e, candC, candB, b2, {Name: "failed"}})
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	if want := []string{"c", "b", "b2", "a"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ParetoFront = %v, want %v", names, want)
	}
	if len(ParetoFront(nil)) != 0 {
		t.Error("front of nothing should be empty")
	}
	if got := ParetoFront([]Candidate{candA}); len(got) != 1 {
		t.Errorf("a single candidate is its own front: %v", got)
	}
}

// TestVerdictPublishedMatrix runs the verdict over the bcrypt matrix's published warm durations priced
// by this package: the cheapest is arm64 2048 MB, as that matrix found
// (its "2 workers cheapest overall"), and the fastest arm64 10240 MB.
func TestVerdictPublishedMatrix(t *testing.T) {
	p := Default()
	var cands []Candidate
	for _, r := range []struct {
		arch string
		mb   int
		ms   float64
	}{
		{"arm64", 1536, 1885}, {"arm64", 2048, 1334}, {"arm64", 4096, 685}, {"arm64", 6144, 463}, {"arm64", 8192, 338}, {"arm64", 10240, 280},
		{"x86_64", 1536, 1671}, {"x86_64", 2048, 1253}, {"x86_64", 4096, 892}, {"x86_64", 6144, 429}, {"x86_64", 8192, 330}, {"x86_64", 10240, 292},
	} {
		c, err := p.PerMillion(r.arch, r.mb, r.ms)
		if err != nil {
			t.Fatal(err)
		}
		cands = append(cands, Candidate{Name: fmt.Sprintf("%s-%dmb", r.arch, r.mb), Arch: r.arch, MemoryMB: r.mb, DurationMs: r.ms, CostPerMillion: c})
	}
	check := func(s Strategy, w float64, arch string, mb int) {
		t.Helper()
		got, err := Choose(cands, s, w)
		if err != nil {
			t.Fatal(err)
		}
		if got.Arch != arch || got.MemoryMB != mb {
			t.Errorf("%s(%v) chose %s %d MB, want %s %d MB", s, w, got.Arch, got.MemoryMB, arch, mb)
		}
	}
	check(StrategyCost, 0, "arm64", 2048)
	check(StrategySpeed, 0, "arm64", 10240)
	// Balanced 0.5: max cost 59.67 (x86_64 4096), max duration 1885;
	// arm64 10240: 0.5×37.53/59.67 + 0.5×280/1885 = 0.3145 + 0.0743 = 0.3888 is the lowest.
	check(StrategyBalanced, 0.5, "arm64", 10240)
	front := ParetoFront(cands)
	if len(front) == 0 || front[0].MemoryMB != 10240 || front[len(front)-1].MemoryMB != 2048 {
		t.Errorf("front should run from arm64 10240 to arm64 2048: %+v", front)
	}
}

func TestParseStrategySpec(t *testing.T) {
	tests := []struct {
		in      string
		want    Strategy
		weight  float64
		wantErr string
	}{
		{in: "cost", want: StrategyCost, weight: DefaultBalancedWeight},
		{in: "Speed", want: StrategySpeed, weight: DefaultBalancedWeight},
		{in: "balanced", want: StrategyBalanced, weight: DefaultBalancedWeight},
		{in: "balanced:0.3", want: StrategyBalanced, weight: 0.3},
		{in: "balanced:1", want: StrategyBalanced, weight: 1},
		{in: "balanced:1.5", wantErr: "between 0 and 1"},
		{in: "balanced:x", wantErr: "between 0 and 1"},
		{in: "cost:0.5", wantErr: "only balanced takes a weight"},
		{in: "fastest", wantErr: "unknown strategy"},
	}
	for _, tt := range tests {
		st, w, err := ParseStrategySpec(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || st != tt.want || w != tt.weight {
			t.Errorf("%q: %s %v %v; want %s %v", tt.in, st, w, err, tt.want, tt.weight)
		}
	}
}
