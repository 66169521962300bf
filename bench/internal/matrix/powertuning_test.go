package matrix

import (
	"math"
	"testing"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/stats"
)

// Links published by Power Tuning users beside the result object their
// execution returned (power, cost per invocation, duration). Each decodes
// to one configuration per memory size, the result's among them, and
// re-encodes to the same link.
var publishedLinks = []struct {
	link     string
	power    int
	cost     float64 // USD per invocation
	duration float64 // ms
}{
	// An image-resizing function, strategy cost, num 20 (a user's write-up of three runs).
	{"https://lambda-power-tuning.show/#gAAAAQACAAQACMAL;cSwARe92gERmEgdE6IzTQ+VXaUOPEmRD;tYWQNuffkDYZfJg20gPvNsDoAzcSmj03", 128, 0.000004307100000000001, 2050.7774999999997},
	{"https://lambda-power-tuning.show/#gACIAJAAmACgAKgAsAC4AMAAyADQANgA4ADoAPAA+AAAAQ==;w2AJRWOtDEXvJAJFY9ftREgV5kQi3OxESLe/RHvkzkTXZcxEA4OwRM3YoUQDuZZEEbOaRB+Vj0S8lYpE1ACpRAqtgEQ=;dfOaNlOHqDbSH6U2czyfNu8nojYJQq82eaCUNoO9pzZe66w2bZKbNohIlDZXZ482MqmYNg+/kjaPhZI2wLe4Ng8okTY=", 216, 0.0000042737625, 1205.7816666666665},
	// An image-flipping function, strategy cost.
	{"https://lambda-power-tuning.show/#gAAAAQACAAQACMAL;9jbsRMPpakTo1PBDVRWIQ+j02UOTj8BD;cy2FNhB5hDbt2oc24OSZNo7HdTehy583", 256, 0.000003948, 939.6525},
	// An API's function, powerValues [1024, 1536, 2048], num 50 (a blog post).
	{"https://lambda-power-tuning.show/#AAQABgAI;3t2NQUREREFERExB;ilmiNADhrzRWgeo0", 1536, 3.2760000000000005e-7, 12.266666666666667},
	// The facts' example: 128 … 3008 MB (a benchmark write-up; no result object beside it).
	{"https://lambda-power-tuning.show/#gAAAAQACAAQACMAL;RNQiRCxpnENjiRBDp42jQjDWjEIwFolC;VsSUNaLVjjW0VoQ1+62VNcOZATYr/Tg2", 0, 0, 0},
}

func TestPublishedPowerTuningLinks(t *testing.T) {
	for _, tt := range publishedLinks {
		t.Run(tt.link[len(PowerTuningShow):][:16], func(t *testing.T) {
			mem, dur, usd, err := ParsePowerTuningLink(tt.link)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(mem); i++ {
				if mem[i] <= mem[i-1] || mem[i] < 128 || mem[i] > 10240 {
					t.Fatalf("memory sizes %v are not Lambda sizes in memory order", mem)
				}
			}
			again, err := PowerTuningLink(mem, dur, usd)
			if err != nil || again != tt.link {
				t.Fatalf("re-encoded:\n%s (%v)\nwant:\n%s", again, err, tt.link)
			}
			if tt.power == 0 {
				return
			}
			found := false
			for i, m := range mem {
				if m == tt.power {
					found = true
					if float32(dur[i]) != float32(tt.duration) || float32(usd[i]) != float32(tt.cost) {
						t.Fatalf("%d MB: %v ms, $%v; the result object says %v ms, $%v", m, dur[i], usd[i], tt.duration, tt.cost)
					}
				}
			}
			if !found {
				t.Fatalf("the result's %d MB is not among %v", tt.power, mem)
			}
		})
	}
}

func TestPowerTuningLinkRefuses(t *testing.T) {
	if _, err := PowerTuningLink([]int{128, 40000}, []float64{1, 2}, []float64{1, 2}); err == nil {
		t.Error("a size beyond int16 was encoded")
	}
	if _, err := PowerTuningLink([]int{128}, []float64{1, 2}, []float64{1}); err == nil {
		t.Error("lists of different lengths were encoded")
	}
	for _, bad := range []string{"#gAAAAQ", "#gAAAAQ==;AAAA;AAAA", "#!!;AA;AA"} {
		if _, _, _, err := ParsePowerTuningLink(bad); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

// A tune summary carries, per architecture, the result object of the
// strategy among that architecture's configurations; its link holds the
// summary's own numbers.
func TestBuildPowerTuning(t *testing.T) {
	var samples []Sample
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, arch := range []string{"arm64", "x86_64"} {
		for _, mem := range []int{512, 1024, 2048} {
			for i := range 5 {
				d := 1000 * 512 / float64(mem) // halves with each doubling: the cost stays level
				if arch == "x86_64" {
					d *= 1.2
				}
				samples = append(samples, Sample{Time: t0, Function: "f", Arch: arch, MemoryMB: mem, Kind: KindWarm, Seq: i + 1, OK: true,
					RoundTripMs: d + 1, DurationMs: d + float64(i), BilledMs: math.Ceil(d + float64(i)), InitMs: math.NaN(), MaxMemoryMB: 30,
					HandlerMs: math.NaN(), Processed: math.NaN(), HandlerWork: math.NaN(), DetectedCPUs: math.NaN(), Gomaxprocs: math.NaN(),
					ThreadsUsed: math.NaN(), CPUMs: math.NaN(), Parallelism: math.NaN(), MemoryUsedKB: math.NaN()})
			}
		}
	}
	meta := Meta{Kind: "tune", Trim: stats.DefaultTrim, Strategy: "speed", Weight: 0.5, Tune: &TuneMeta{Function: "f", PowerTuningStats: true}}
	s, err := Build(samples, meta, cost.Default(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.PowerTuning) != 2 {
		t.Fatalf("power tuning results for %d architectures, want 2", len(s.PowerTuning))
	}
	for arch, pt := range s.PowerTuning {
		if pt.Power != 2048 || len(pt.Stats) != 3 || pt.StateMachine.LambdaCost <= 0 {
			t.Errorf("%s: %+v", arch, pt)
		}
		mem, dur, usd, err := ParsePowerTuningLink(pt.StateMachine.Visualization)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for _, r := range s.Results {
			if r.Arch != arch {
				continue
			}
			if mem[i] != r.MemoryMB || float32(dur[i]) != float32(r.Duration()) || float32(usd[i]) != float32(r.CostPerMillion/1e6) {
				t.Errorf("%s: link entry %d = %d MB, %v ms, $%v; summary %d MB, %v ms, $%v", arch, i, mem[i], dur[i], usd[i], r.MemoryMB, r.Duration(), r.CostPerMillion/1e6)
			}
			if r.MemoryMB == pt.Power && (pt.Duration != r.Duration() || pt.Cost != r.CostPerMillion/1e6) {
				t.Errorf("%s: result object %v ms, $%v; its configuration %v ms, $%v", arch, pt.Duration, pt.Cost, r.Duration(), r.CostPerMillion/1e6)
			}
			i++
		}
	}
	// A matrix summary has none.
	meta.Kind, meta.Tune = "", nil
	if s, _ := Build(samples, meta, cost.Default(), false); s.PowerTuning != nil {
		t.Error("a matrix summary carries Power Tuning results")
	}
}
