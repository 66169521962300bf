package matrix

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"lambdabench/bench/internal/cost"
)

// AWS Lambda Power Tuning's output, for users who keep its results: per
// architecture the result object its state machine returns, and the link
// to its visualization.

// PowerTuningShow is the address of Power Tuning's visualization page; the
// data follows the #.
const PowerTuningShow = "https://lambda-power-tuning.show/#"

// PowerTuningResult is Power Tuning's result object for one architecture's
// configurations: the one the strategy picks among them, its average cost
// of one invocation (USD) and trimmed mean duration (ms), and the
// visualization of every configuration measured.
type PowerTuningResult struct {
	Power        int                     `json:"power"`
	Cost         float64                 `json:"cost"`
	Duration     float64                 `json:"duration"`
	StateMachine PowerTuningStateMachine `json:"stateMachine"`
	// Stats is every configuration's figures, as Power Tuning's
	// includeOutputResults adds them.
	Stats []PowerTuningStat `json:"stats,omitempty"`
}

// PowerTuningStateMachine is the result object's stateMachine: what the
// run cost (bench deploys no state machine, so executionCost is 0; the
// invocations measured, priced as on Lambda) and the visualization link.
type PowerTuningStateMachine struct {
	ExecutionCost float64 `json:"executionCost"`
	LambdaCost    float64 `json:"lambdaCost"`
	Visualization string  `json:"visualization"`
}

// PowerTuningStat is one configuration as includeOutputResults reports it.
type PowerTuningStat struct {
	Value           int     `json:"value"`
	AveragePrice    float64 `json:"averagePrice"`
	AverageDuration float64 `json:"averageDuration"`
	TotalCost       float64 `json:"totalCost"`
}

// powerTuning is the Power Tuning result of each architecture with a
// configuration in the verdict: the strategy applied to that
// architecture's configurations alone.
func powerTuning(s Summary, strategy cost.Strategy, weight float64, stats bool) map[string]*PowerTuningResult {
	out := map[string]*PowerTuningResult{}
	for _, arch := range archsOf(s.Results) {
		var cands []cost.Candidate
		var mem []int
		var dur, usd []float64
		var stat []PowerTuningStat
		lambdaCost := 0.0
		for _, r := range s.Results {
			if r.Arch != arch || !r.Measured() {
				continue
			}
			total := (r.WarmCostPerMillion*float64(r.Warm.N) + r.ColdCostPerMillion*float64(r.ColdBill.N)) / 1e6
			lambdaCost += total
			mem = append(mem, r.MemoryMB)
			dur = append(dur, r.Duration())
			usd = append(usd, r.CostPerMillion/1e6)
			stat = append(stat, PowerTuningStat{Value: r.MemoryMB, AveragePrice: r.CostPerMillion / 1e6, AverageDuration: r.Duration(), TotalCost: total})
			if r.Excluded == "" {
				cands = append(cands, cost.Candidate{Name: s.NameOf(r), Arch: r.Arch, MemoryMB: r.MemoryMB, DurationMs: r.Duration(), CostPerMillion: r.CostPerMillion})
			}
		}
		if len(cands) == 0 {
			continue
		}
		choice, err := cost.Choose(cands, strategy, weight)
		if err != nil {
			continue
		}
		link, err := PowerTuningLink(mem, dur, usd)
		if err != nil {
			continue
		}
		res := &PowerTuningResult{Power: choice.MemoryMB, Cost: choice.CostPerMillion / 1e6, Duration: choice.DurationMs,
			StateMachine: PowerTuningStateMachine{LambdaCost: lambdaCost, Visualization: link}}
		if stats {
			res.Stats = stat
		}
		out[arch] = res
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// archsOf lists the architectures of results in their order.
func archsOf(results []Result) []string {
	var out []string
	for _, r := range results {
		if len(out) == 0 || out[len(out)-1] != r.Arch {
			out = append(out, r.Arch)
		}
	}
	return out
}

// PowerTuningLink is Power Tuning's visualization link: base64 of the
// memory sizes (int16, little-endian), of the durations in ms (float32 LE)
// and of the costs in USD (float32 LE), joined by ";", after
// PowerTuningShow. The three lists are one configuration each, in
// memory order.
func PowerTuningLink(memoryMB []int, durationMs, costUSD []float64) (string, error) {
	if len(durationMs) != len(memoryMB) || len(costUSD) != len(memoryMB) {
		return "", fmt.Errorf("power tuning link: %d sizes, %d durations, %d costs", len(memoryMB), len(durationMs), len(costUSD))
	}
	sizes := make([]byte, 0, 2*len(memoryMB))
	for _, m := range memoryMB {
		if m < 0 || m > math.MaxInt16 {
			return "", fmt.Errorf("power tuning link: memory size %d does not fit an int16", m)
		}
		sizes = binary.LittleEndian.AppendUint16(sizes, uint16(m))
	}
	floats := func(v []float64) string {
		b := make([]byte, 0, 4*len(v))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x)))
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	return PowerTuningShow + base64.StdEncoding.EncodeToString(sizes) + ";" + floats(durationMs) + ";" + floats(costUSD), nil
}

// ParsePowerTuningLink decodes a visualization link (or the part after its
// #) into its memory sizes, durations (ms) and costs (USD).
func ParsePowerTuningLink(link string) (memoryMB []int, durationMs, costUSD []float64, err error) {
	data := link
	if i := strings.IndexByte(link, '#'); i >= 0 {
		data = link[i+1:]
	}
	parts := strings.Split(data, ";")
	if len(parts) != 3 {
		return nil, nil, nil, fmt.Errorf("power tuning link: want three ;-separated fields, got %d", len(parts))
	}
	raw := make([][]byte, 3)
	for i, p := range parts {
		if raw[i], err = base64.StdEncoding.DecodeString(p); err != nil {
			if raw[i], err = base64.RawStdEncoding.DecodeString(p); err != nil {
				return nil, nil, nil, fmt.Errorf("power tuning link: field %d: %w", i+1, err)
			}
		}
	}
	if len(raw[0])%2 != 0 || len(raw[1]) != 2*len(raw[0]) || len(raw[2]) != 2*len(raw[0]) {
		return nil, nil, nil, errors.New("power tuning link: the fields do not hold one int16 size, float32 duration and float32 cost per configuration")
	}
	for i := 0; i < len(raw[0]); i += 2 {
		memoryMB = append(memoryMB, int(int16(binary.LittleEndian.Uint16(raw[0][i:]))))
		durationMs = append(durationMs, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[1][2*i:]))))
		costUSD = append(costUSD, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[2][2*i:]))))
	}
	return memoryMB, durationMs, costUSD, nil
}
