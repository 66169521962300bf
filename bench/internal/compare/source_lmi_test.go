package compare

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/lmitune"
	"lambdabench/bench/internal/stats"
)

var (
	lmiA = lmitune.Config{MemoryMB: 2048, GiBPerVCPU: 2, PerEnvConcurrency: 16}
	lmiB = lmitune.Config{MemoryMB: 4096, GiBPerVCPU: 4, PerEnvConcurrency: 8}
)

// lmiStep is one step of a synthetic LMI tune: its requests' latencies,
// how many of them failed (a 429) and how many were dropped.
type lmiStep struct {
	offered         float64
	lat             []float64
	failed, dropped int
	held            bool
}

// writeLMI writes an LMI tune's folder: summary.json from lmitune's types
// (the knee of each configuration at knees[label], a step number) and
// samples.csv with one line per request.
func writeLMI(t *testing.T, dir string, steps map[lmitune.Config][]lmiStep, knees map[lmitune.Config]int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(lmitune.SampleHeader); err != nil {
		t.Fatal(err)
	}
	sum := lmitune.Summary{Kind: lmitune.Kind, Meta: lmitune.Meta{Function: "f", Target: "local", Model: "closed", StepS: 10,
		SLO: []string{"p99<200ms"}, MaxErrorRate: 0.01, Environments: 1, InstanceType: "m7g.large"}}
	for _, c := range []lmitune.Config{lmiA, lmiB} {
		res := lmitune.Result{Config: c, Label: c.Label(), Environments: 1, VCPUsPerEnv: c.VCPUs(), Status: "no step held"}
		for i, st := range steps[c] {
			n := i + 1
			res.Steps = append(res.Steps, lmitune.Step{Step: n, Offered: st.offered, DurationS: 10, Held: st.held,
				OK: int64(len(st.lat)), Goodput: float64(len(st.lat)) / 10, Latency: stats.Summarize(st.lat, 0)})
			row := func(el int, status int, lat float64, e string) {
				if err := w.Write([]string{c.Label(), strconv.Itoa(c.MemoryMB), strconv.FormatFloat(c.GiBPerVCPU, 'g', -1, 64),
					strconv.Itoa(c.PerEnvConcurrency), strconv.Itoa(n), strconv.FormatFloat(st.offered, 'g', -1, 64),
					t0.Add(time.Duration(el) * time.Millisecond).Format(time.RFC3339Nano), strconv.Itoa(el), strconv.Itoa(status),
					strconv.FormatFloat(lat, 'f', 3, 64), "0.000", e}); err != nil {
					t.Fatal(err)
				}
			}
			for j, l := range st.lat {
				row(j*10, 200, l, "")
			}
			for j := range st.failed {
				row(j*10+5, 429, 1, "")
			}
			for j := range st.dropped {
				row(j*10+7, 0, 0, "dropped")
			}
		}
		if k := knees[c]; k > 0 {
			res.Status, res.KneeStep = "ok", k
			res.KneeRPSPerEnv = res.Steps[k-1].Goodput
			res.KneeP99 = res.Steps[k-1].Latency.P99
		}
		sum.Results = append(sum.Results, res)
	}
	be := 120.0
	sum.BreakEvenRPS, sum.BreakEvenConfig, sum.BreakEven = &be, lmiA.Label(), "LMI ("+lmiA.Label()+") from 120 req/s"
	w.Flush()
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lmiFolders writes two LMI tunes: in new, configuration A is clearly
// slower at 4 VUs (500 requests: enough for the p99 test to tell) and its
// knee dropped from step 3 to step 2; B is the
// same on both sides.
func lmiFolders(t *testing.T) (old, cur string) {
	root := t.TempDir()
	old, cur = filepath.Join(root, "old"), filepath.Join(root, "new")
	base := func(a, b float64) map[lmitune.Config][]lmiStep {
		return map[lmitune.Config][]lmiStep{
			lmiA: {{offered: 1, lat: seq(10, 0.1, 30), held: true}, {offered: 2, lat: seq(12, 0.1, 40), held: true},
				{offered: 4, lat: seq(a, 0.01, 500), failed: 2, held: a < 100}},
			lmiB: {{offered: 1, lat: seq(20, 0.1, 30), held: true}, {offered: 2, lat: seq(b, 0.1, 40), failed: 5, dropped: 3}},
		}
	}
	writeLMI(t, old, base(15, 40), map[lmitune.Config]int{lmiA: 3, lmiB: 1})
	writeLMI(t, cur, base(150, 40.05), map[lmitune.Config]int{lmiA: 2, lmiB: 1})
	return old, cur
}

func TestReadLMI(t *testing.T) {
	old, _ := lmiFolders(t)
	if k, err := Kind(old); err != nil || k != KindTuneLMI {
		t.Fatalf("Kind = %q, %v; want %q", k, err, KindTuneLMI)
	}
	runs, err := Read(old, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := runs[0]
	var keys []string
	for _, row := range r.Rows {
		keys = append(keys, row.Key)
	}
	want := "2048MB-2GiB/vCPU-c16/offered=1|2048MB-2GiB/vCPU-c16/offered=2|2048MB-2GiB/vCPU-c16/offered=4|4096MB-4GiB/vCPU-c8/offered=1|4096MB-4GiB/vCPU-c8/offered=2"
	if r.Kind != KindTuneLMI || strings.Join(keys, "|") != want {
		t.Fatalf("kind %s rows %q, want %q", r.Kind, keys, want)
	}
	b2 := r.Rows[4]
	if len(b2.Samples[MetricLatency]) != 40 || b2.Attempts != 45 || b2.Failures != 5 || b2.Dropped != 3 || len(b2.Samples[MetricErrors]) != 45 {
		t.Errorf("row %s: %d latencies, %d attempts, %d failures, %d dropped", b2.Key, len(b2.Samples[MetricLatency]), b2.Attempts, b2.Failures, b2.Dropped)
	}
	if l := b2.Labels; len(l) != 2 || l[0] != (Label{"config", lmiB.Label()}) || l[1] != (Label{"offered", "2"}) {
		t.Errorf("labels %v", l)
	}
	if r.lmi == nil || len(r.lmi.knees) != 2 || r.lmi.knees[0].rpsPerEnv != 50 || r.lmi.knees[0].offered != 4 {
		t.Errorf("knees %+v", r.lmi)
	}
}

func TestCompareLMI(t *testing.T) {
	old, cur := lmiFolders(t)
	o, err := Read(old, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := Read(cur, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compare(o, n, Options{FailPct: 10})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Parts[0]
	lat := table(t, p, "latency-p99")
	if !lat.Gate || len(lat.Cells) != 5 {
		t.Fatalf("latency-p99: gate %v, %d rows", lat.Gate, len(lat.Cells))
	}
	for _, c := range lat.Cells {
		slower := c.Key == lmiA.Label()+"/offered=4"
		if c.Worse != slower || c.Regression != slower {
			t.Errorf("%s: worse %v regression %v, want %v", c.Key, c.Worse, c.Regression, slower)
		}
	}
	if !table(t, p, "errors").Gate {
		t.Error("errors is not a gate metric")
	}
	if len(res.Regressions) != 1 || res.Err() == nil {
		t.Errorf("regressions %q", res.Regressions)
	}
	if len(p.Knees) != 2 || !p.Knees[0].Lower || p.Knees[1].Lower || p.Knees[0].Old != 50 || p.Knees[0].New != 4 {
		t.Errorf("knees %+v, want A lower (50 → 4), B the same", p.Knees)
	}
	var text, md, js bytes.Buffer
	if err := res.WriteText(&text, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
	for _, want := range []string{
		"LMI tune: " + old + " → " + cur,
		lmiA.Label() + "  50.00 (at 4 VUs)  4.00 (at 2 VUs)  -92.00% LOWER",
		lmiB.Label() + "/offered=2: non-2xx or unanswered requests old 5 of 45, new 5 of 45; dropped, never sent: old 3, new 3",
		"break-even: old LMI (" + lmiA.Label() + ") from 120 req/s; new LMI",
		"REGRESSION",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if err := res.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| "+lmiA.Label()+" | 50.00 (at 4 VUs) | 4.00 (at 2 VUs) | **-92.00%** ⚠ lower |") {
		t.Errorf("markdown knee row missing:\n%s", md.String())
	}
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"old_rps_per_env": 50`) || !strings.Contains(js.String(), `"lower": true`) {
		t.Errorf("JSON lacks the knees:\n%s", js.String())
	}
	paths, err := res.WriteFiles(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(paths, " "), "compare-tune-lmi-latency.png") {
		t.Errorf("written %v, want the latency chart", paths)
	}
}

// TestCompareLMIKneeLost: a configuration that held a step in old and none
// in new, or is missing from new, has its knee marked lost.
func TestCompareLMIKneeLost(t *testing.T) {
	o := &Run{Kind: KindTuneLMI, lmi: &lmiRun{model: "open", knees: []lmiKnee{
		{config: "a", rpsPerEnv: 10, offered: 20, status: "ok"}, {config: "b", rpsPerEnv: 5, offered: 10, status: "ok"}}}}
	n := &Run{Kind: KindTuneLMI, lmi: &lmiRun{model: "open", knees: []lmiKnee{
		{config: "a", rpsPerEnv: nan(), offered: nan(), status: "no step held"}, {config: "c", rpsPerEnv: 3, offered: 5, status: "ok"}}}}
	var p Part
	compareLMI(&p, o, n)
	if len(p.Knees) != 3 || !p.Knees[0].Lower || !p.Knees[1].Lower || p.Knees[2].Lower {
		t.Fatalf("knees %+v: want a and b lower, c new", p.Knees)
	}
	var b bytes.Buffer
	writeKneesText(&errWriter{w: &b}, p, false)
	for _, want := range []string{"a                     10.00 (at 20 req/s)     — (no step held)  lost LOWER", "b                      5.00 (at 10 req/s)  — (not in this run)  lost LOWER", "c                     — (not in this run)    3.00 (at 5 req/s)  —"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("knee table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestLMIBadInput(t *testing.T) {
	old, cur := lmiFolders(t)
	root := t.TempDir()
	l := filepath.Join(root, "load")
	writeLoad(t, l, map[string][]float64{"default-128": seq(100, 0.1, 20)})
	lo, err := Read(l, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := Read(cur, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compare(lo, n, Options{FailPct: -1}); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "cannot compare a load folder") {
		t.Errorf("load vs tune-lmi: %v, want ErrInput", err)
	}

	samples, err := os.ReadFile(filepath.Join(old, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	summary, err := os.ReadFile(filepath.Join(old, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(samples), "\n")
	write := func(name, samples string) string {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "summary.json"), summary, 0o644); err != nil {
			t.Fatal(err)
		}
		if samples != "" {
			if err := os.WriteFile(filepath.Join(d, "samples.csv"), []byte(samples), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	tests := []struct{ name, dir, want string }{
		{"no samples.csv", write("nosamples", ""), "has no samples.csv"},
		{"header only", write("header", lines[0]), "has no samples"},
		{"not LMI samples", write("other", "a,b,c\n1,2,3\n"), `no column "config"`},
		{"bad latency", write("badlat", lines[0]+lines[1]+setField(lines[2], 9, "fast")+strings.Join(lines[3:], "")), "line 3: column latency_ms"},
		{"bad status", write("badstatus", lines[0]+setField(lines[1], 8, "OK")), "line 2: column status"},
		{"bad offered", write("badoffered", lines[0]+setField(lines[1], 5, "NaN")), "line 2: column offered"},
		{"short line in the middle", write("short", lines[0]+"a,b\n"+strings.Join(lines[1:], "")), "wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.dir, ReadOptions{})
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want ErrInput with %q", err, tt.want)
			}
		})
	}
	// A torn last line is left out, with a note.
	runs, err := Read(write("torn", string(samples)+lmiA.Label()+",2048,2"), ReadOptions{})
	if err != nil {
		t.Fatalf("torn last line: %v", err)
	}
	if !strings.Contains(strings.Join(runs[0].Notes, "\n"), "was cut off") {
		t.Errorf("torn last line: notes %q", runs[0].Notes)
	}
}

// TestLMIBenchfmt: an LMI tune written in the benchmark format reads back
// with the folder's row keys.
func TestLMIBenchfmt(t *testing.T) {
	old, _ := lmiFolders(t)
	runs, err := Read(old, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteBenchfmt(&b, runs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "BenchmarkTuneLMI/config=2048MB-2GiB_vCPU-c16/offered=4 ") {
		t.Errorf("benchfmt:\n%.400s", b.String())
	}
	p := filepath.Join(t.TempDir(), "old.txt")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := Read(p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0].Kind != KindTuneLMI || len(back[0].Rows) != len(runs[0].Rows) {
		t.Fatalf("read back %+v", back)
	}
	for i, row := range back[0].Rows {
		want := runs[0].Rows[i]
		if row.Key != want.Key || len(row.Samples[MetricLatency]) != len(want.Samples[MetricLatency]) {
			t.Errorf("row %d: %s with %d latencies, want %s with %d", i, row.Key, len(row.Samples[MetricLatency]), want.Key, len(want.Samples[MetricLatency]))
		}
	}
	if _, err := Compare(back, runs, Options{FailPct: -1}); err != nil {
		t.Errorf("benchfmt vs folder: %v", err)
	}
}

func nan() float64 { return math.NaN() }

// setField replaces field i of a CSV line without quotes.
func setField(line string, i int, v string) string {
	f := strings.Split(strings.TrimSuffix(line, "\n"), ",")
	f[i] = v
	return strings.Join(f, ",") + "\n"
}
