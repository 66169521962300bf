package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSplitWindows: the windows of a run tile every scenario's profile
// exactly — in order, back to back within a scenario, none longer than
// asked, none beginning in the pause between scenarios — and the
// generators' shares of each window add up to the whole run's.
func TestSplitWindows(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name      string
		model     Model
		stages    string
		scenarios int
		timeout   time.Duration
		window    time.Duration
		want      []Window
	}{
		{"one window when none is asked", Open, "0s:10,20m:10", 1, 30 * s, 0, []Window{{0, 20 * time.Minute}}},
		{"fits one window", Open, "0s:10,10s:10", 1, s, 14 * time.Minute, []Window{{0, 10 * s}}},
		{"window edges inside stages", Open, "3s:10,4s:10,3s:20", 1, s, 4 * s, []Window{{0, 4 * s}, {4 * s, 8 * s}, {8 * s, 10 * s}}},
		{"window edges at stage edges", Closed, "2s:4,2s:4,2s:8", 1, s, 2 * s, []Window{{0, 2 * s}, {2 * s, 4 * s}, {4 * s, 6 * s}}},
		{"profile a whole number of windows", Closed, "0s:3,9s:3", 1, s, 3 * s, []Window{{0, 3 * s}, {3 * s, 6 * s}, {6 * s, 9 * s}}},
		// Scenarios start every 5s + 2s; a window crosses the pause into
		// the next scenario, and one that would begin in the pause begins
		// at the next scenario's start.
		{"several scenarios", Open, "1s:10,4s:10", 3, 2 * s, 3 * s,
			[]Window{{0, 3 * s}, {3 * s, 6 * s}, {7 * s, 10 * s}, {10 * s, 13 * s}, {14 * s, 17 * s}, {17 * s, 19 * s}}},
		{"several scenarios, windows longer than one", Closed, "5s:6", 2, s, 8 * s, []Window{{0, 8 * s}, {8 * s, 11 * s}}},
		{"several scenarios, one window", Closed, "5s:6", 2, s, 0, []Window{{0, 11 * s}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := mustStages(t, tc.stages, tc.model == Closed)
			p := GenPlan{Model: tc.model, Stages: st, Timeout: tc.timeout}
			for i := range tc.scenarios {
				p.Scenarios = append(p.Scenarios, Scenario{Name: fmt.Sprint("s", i)})
			}
			got := p.SplitWindows(tc.window)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("windows %v, want %v", got, tc.want)
			}
			total, span := st.Total(), p.span()
			var covered time.Duration
			for i, w := range got {
				if tc.window > 0 && w.To-w.From > tc.window {
					t.Errorf("window %d %s longer than %s", i+1, w, tc.window)
				}
				if i > 0 && w.From < got[i-1].To {
					t.Errorf("window %d %s overlaps the one before", i+1, w)
				}
				if off := w.From % span; off >= total {
					t.Errorf("window %d %s begins in a pause between scenarios", i+1, w)
				}
				for k := range tc.scenarios {
					lo, hi := max(w.From, time.Duration(k)*span), min(w.To, time.Duration(k)*span+total)
					covered += max(0, hi-lo)
				}
			}
			if want := time.Duration(tc.scenarios) * total; covered != want {
				t.Errorf("windows cover %s of load, want every scenario's %s", covered, want)
			}
			// Every generator's share of every window adds up to the whole
			// run's load in that window.
			const n = 3
			for _, w := range got {
				for k := range tc.scenarios {
					lo, hi := max(w.From-time.Duration(k)*span, 0), min(w.To-time.Duration(k)*span, total)
					if lo >= hi {
						continue
					}
					var sum float64
					for g := 1; g <= n; g++ {
						sh := ShareStages(st, tc.model, g, n)
						sum += load(sh, tc.model, lo, hi)
					}
					if whole := load(st, tc.model, lo, hi); math.Abs(sum-whole) > 1e-6*max(1, whole) {
						t.Errorf("window %s, scenario %d: shares add up to %v, the whole run has %v", w, k, sum, whole)
					}
				}
			}
		})
	}
}

// load is the load a profile puts in [lo, hi): requests due (open model)
// or virtual-user seconds at the stages' targets (closed model, whose
// shares are dealt out per stage).
func load(st Stages, m Model, lo, hi time.Duration) float64 {
	if m == Open {
		return st.Arrivals(hi) - st.Arrivals(lo)
	}
	var v float64
	for i, s := range st {
		a, b := max(lo, st.Start(i)), min(hi, st.Start(i)+s.Duration)
		if b > a {
			v += s.Target * (b - a).Seconds()
		}
	}
	return v
}

// TestFirstDue: the requests due in windows that tile a profile are the
// profile's requests, each exactly once, whatever the window edges.
func TestFirstDue(t *testing.T) {
	for _, spec := range []string{"0s:50,1s:50", "3s:100,4s:100,3s:20", "0s:7,2s:13,0s:0,1s:0,2s:31", "10s:997"} {
		st := mustStages(t, spec, false)
		var all []time.Duration
		for k := 1; ; k++ {
			due, ok := st.DueTime(float64(k))
			if !ok {
				break
			}
			all = append(all, due)
		}
		for _, w := range []time.Duration{time.Millisecond * 333, time.Second, 1500 * time.Millisecond} {
			var split []time.Duration
			for from := time.Duration(0); from < st.Total(); from += w {
				to := from + w
				for k := st.FirstDue(from); ; k++ {
					due, ok := st.DueTime(float64(k))
					if !ok || due >= to {
						break
					}
					if due < from {
						t.Fatalf("%s, window %s–%s: request %d due at %s", spec, from, to, k, due)
					}
					split = append(split, due)
				}
			}
			if !slices.Equal(split, all) {
				t.Errorf("%s in windows of %s: %d due times, unsplit %d", spec, w, len(split), len(all))
			}
		}
	}
}

// TestGenerateWindowsSendTheSameDueTimes runs one generator's share of an
// open-model plan of two scenarios once unsplit and once window by window
// (windows edging inside stages and across the pause between the
// scenarios), each window an invocation of its own, and checks that the
// windows sent exactly the requests the unsplit plan sent: the same due
// offsets and stages, each once, and the same per-second rows. Nothing
// depends on how fast this machine is: every request due is recorded,
// sent or dropped.
func TestGenerateWindowsSendTheSameDueTimes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	plan := GenPlan{Version: GenPlanVersion, Generator: 2, Generators: 3,
		Endpoints: []Endpoint{{Name: "api", URL: srv.URL + "/"}}, Scenarios: []Scenario{{Name: "a"}, {Name: "b"}},
		Model: Open, Stages: mustStages(t, "300ms:90,400ms:90,300ms:30", false), Timeout: 200 * time.Millisecond,
		MaxInFlight: 50, Samples: true}
	run := func(w Window, index, windows int) *GenResult {
		p := plan
		// Each window is invoked for a start time that puts its
		// beginning just ahead: offsets count from StartAt all the same.
		p.StartAt = time.Now().Add(50*time.Millisecond - w.From)
		p.Window, p.WindowIndex, p.Windows = w, index, windows
		res, err := Generate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if res.Partial {
			t.Fatalf("window %s: partial", w)
		}
		return res
	}
	whole := run(Window{0, plan.LoadEnd()}, 1, 1)
	windows := plan.SplitWindows(350 * time.Millisecond)
	if len(windows) < 5 {
		t.Fatalf("windows %v: want several per scenario", windows)
	}
	var parts []*GenResult
	for i, w := range windows {
		parts = append(parts, run(w, i+1, len(windows)))
	}
	type due struct {
		scenario string
		elapsed  time.Duration
		stage    int
	}
	dues := func(rs ...*GenResult) (map[due]int, map[string]int64) {
		out := map[due]int{}
		secs := map[string]int64{}
		for _, r := range rs {
			dec := NewCSVDecoder(bytes.NewReader(r.Samples()))
			for {
				var x Result
				err := dec.Decode(&x)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				out[due{x.Scenario, x.Elapsed, x.Stage}]++
			}
			for _, s := range r.Seconds {
				secs[fmt.Sprintf("%s/%s/%d", s.Scenario, s.Endpoint, s.Second)] += s.Sent + s.Dropped
			}
		}
		return out, secs
	}
	want, wantSecs := dues(whole)
	got, gotSecs := dues(parts...)
	if len(want) == 0 {
		t.Fatal("the unsplit plan sent nothing")
	}
	for d, c := range got {
		if c != 1 || want[d] != 1 {
			t.Errorf("%+v: sent %d times in windows, %d times unsplit", d, c, want[d])
		}
	}
	for d := range want {
		if got[d] == 0 {
			t.Errorf("%+v: sent unsplit, in no window", d)
		}
	}
	if !maps.Equal(gotSecs, wantSecs) {
		t.Errorf("per-second attempts in windows %v, unsplit %v", gotSecs, wantSecs)
	}
	// The generator's share of the profile: every request due, by count.
	sh := ShareStages(plan.Stages, Open, plan.Generator, plan.Generators)
	if n := 2 * (sh.FirstDue(sh.Total()) - 1); len(want) != n {
		t.Errorf("unsplit plan sent %d requests, its share has %d due", len(want), n)
	}
}

// TestAttackClosedWindow: in the closed model the virtual users send only
// within the window, and each request's offset and stage are the whole
// profile's, counted from the origin.
func TestAttackClosedWindow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	st := mustStages(t, "200ms:2,300ms:2,200ms:4", true)
	from, to := 300*time.Millisecond, 600*time.Millisecond
	origin := time.Now().Add(20*time.Millisecond - from)
	ch, err := Attack(context.Background(), []Endpoint{{Name: "api", URL: srv.URL + "/"}},
		AttackOptions{Scenario: "s", Model: Closed, Stages: st, Timeout: time.Second, From: from, To: to, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	stages := map[int]bool{}
	n := 0
	for r := range ch {
		n++
		if r.Elapsed < from || r.Elapsed >= to {
			t.Errorf("request sent at %s, outside the window %s–%s", r.Elapsed, from, to)
		}
		if want := st.At(r.Elapsed) + 1; r.Stage != want {
			t.Errorf("request at %s in stage %d, want %d", r.Elapsed, r.Stage, want)
		}
		if got := r.Time.Sub(origin.Round(0).Truncate(time.Microsecond)); got != r.Elapsed {
			t.Errorf("request at %s stamped %s after the origin", r.Elapsed, got)
		}
		stages[r.Stage] = true
	}
	if n == 0 || !stages[2] || !stages[3] {
		t.Errorf("%d requests in stages %v, want some in stages 2 and 3", n, stages)
	}
}

// TestDistributeWindows: a run longer than one window invokes every
// generator once per window, all with the same start time and windows that
// tile the run; a failed window of one generator is a row marked missing,
// a warning naming the generator and window, and an error; everything else
// is merged, and the generators' cost counts every invocation.
func TestDistributeWindows(t *testing.T) {
	inv := &genInvoker{t: t, failingWindow: map[[2]int]bool{{2, 2}: true}, requests: 10}
	const n = 3
	cfg := distributeConfig(t, inv, n)
	cfg.Plan.Stages = mustStages(t, "300ms:40", false)
	cfg.Window = 100 * time.Millisecond
	cfg.Lead = 20 * time.Millisecond
	rep, err := Distribute(context.Background(), cfg)
	if !errors.Is(err, ErrGeneratorMissing) {
		t.Fatalf("error %v, want ErrGeneratorMissing", err)
	}
	if got := inv.calls.Load(); got != 3*n {
		t.Fatalf("%d invocations, want %d (3 windows of %d generators)", got, 3*n, n)
	}
	start := inv.plans[0].StartAt
	seen := map[[2]int]Window{}
	for _, p := range inv.plans {
		if !p.StartAt.Equal(start) || p.Windows != 3 {
			t.Errorf("plan of generator %d window %d: start %s, %d windows; want %s, 3", p.Generator, p.WindowIndex, p.StartAt, p.Windows, start)
		}
		seen[[2]int{p.Generator, p.WindowIndex}] = p.Window
	}
	for g := 1; g <= n; g++ {
		for w := 1; w <= 3; w++ {
			want := Window{time.Duration(w-1) * cfg.Window, time.Duration(w) * cfg.Window}
			if got, ok := seen[[2]int{g, w}]; !ok || got != want {
				t.Errorf("generator %d window %d: %v (sent %v), want %v", g, w, got, ok, want)
			}
		}
	}
	if len(rep.Generators) != 3*n || len(rep.GeneratorWindows) != 3 {
		t.Fatalf("%d rows, windows %v", len(rep.Generators), rep.GeneratorWindows)
	}
	var billed float64
	for i, g := range rep.Generators {
		wantStatus := GenOK
		if g.Generator == 2 && g.Window == 2 {
			wantStatus = GenMissing
		}
		if g.Generator != 1+i/3 || g.Window != 1+i%3 || g.Status != wantStatus || g.BilledMs <= 0 {
			t.Errorf("row %d: %+v", i, g)
		}
		billed += g.BilledMs
	}
	if tot := rep.Scenarios[0].Endpoints[0].Total; tot.Requests != int64(inv.requests*(3*n-1)) {
		t.Errorf("merged %d requests, want %d from the %d invocations that answered", tot.Requests, inv.requests*(3*n-1), 3*n-1)
	}
	md, err := os.ReadFile(filepath.Join(cfg.Dir, SummaryMDFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Generator 2 failed in window 2 (100ms–200ms", "is MISSING", "in 3 windows of up to 100ms",
		"| 2, 2 (100ms–200ms) |", fmt.Sprintf("%.0f ms billed in all", billed), "plus 9 requests"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
}

func TestMaxOverlap(t *testing.T) {
	const s = time.Second
	ws := func(w time.Duration, n int) []Window {
		var out []Window
		for i := range n {
			out = append(out, Window{time.Duration(i) * w, time.Duration(i+1) * w})
		}
		return out
	}
	tests := []struct {
		name          string
		windows       []Window
		lead, timeout time.Duration
		want          int
	}{
		{"one window", ws(14*time.Minute, 1), 10 * s, 30 * s, 1},
		{"long windows: the next while the last answers", ws(14*time.Minute, 5), 10 * s, 30 * s, 2},
		{"windows shorter than lead, timeout and margin", ws(2*s, 10), 3 * s, 30 * s, 10},
		{"windows shorter than lead, timeout and margin: 10s windows, invocations of 34s", ws(10*s, 10), 3 * s, s, 4},
	}
	for _, tc := range tests {
		if got := MaxOverlap(tc.windows, tc.lead, tc.timeout); got != tc.want {
			t.Errorf("%s: %d invocations at once, want %d", tc.name, got, tc.want)
		}
	}
}

// TestDistributeWindowsInterrupted: an interruption stops the chain — no
// later window is invoked — and what the windows measured is kept, the
// report marked partial and saying which windows were never sent.
func TestDistributeWindowsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inv := &genInvoker{t: t, requests: 10, cancel: cancel, cancelAt: 2}
	const n = 2
	cfg := distributeConfig(t, inv, n)
	// Windows far apart next to the lead, so that a busy machine (-race,
	// other tests) does not reach window 3 before window 2's invocation
	// interrupts the run.
	cfg.Plan.Stages = mustStages(t, "2s:40", false)
	cfg.Window = 500 * time.Millisecond
	cfg.Lead = 20 * time.Millisecond
	rep, err := Distribute(ctx, cfg)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want an interruption", err)
	}
	if got := inv.calls.Load(); got != 2*n {
		t.Errorf("%d invocations, want %d: windows 3 and 4 must not be invoked", got, 2*n)
	}
	if rep == nil || !rep.Partial || len(rep.Generators) != 2*n {
		t.Fatalf("report %+v", rep)
	}
	if tot := rep.Scenarios[0].Endpoints[0].Total; tot.Requests != int64(2*n*inv.requests) {
		t.Errorf("kept %d requests, want the %d the invoked windows measured", tot.Requests, 2*n*inv.requests)
	}
	if !slices.ContainsFunc(rep.Run.Notes, func(s string) bool { return strings.Contains(s, "windows 3 to 4 of 4") }) {
		t.Errorf("notes %q do not say which windows were never sent", rep.Run.Notes)
	}
}
