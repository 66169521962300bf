package compare

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"lambdabench/bench/internal/lmitune"
	"lambdabench/bench/internal/load"
)

// KindTuneLMI is an LMI tune's folder (bench tune --lmi): its rows are
// configuration × offered level, its samples the latencies of each step's
// successful requests, and it adds each configuration's knee.
const KindTuneLMI = lmitune.Kind

// lmiRun is what an LMI tune's summary.json adds to its Run.
type lmiRun struct {
	model        string
	slo          string
	environments int
	breakEven    string
	knees        []lmiKnee
}

// lmiKnee is one configuration's knee as the summary states it.
type lmiKnee struct {
	config    string
	rpsPerEnv float64 // NaN: no step held
	offered   float64 // the knee step's offered load (NaN: none)
	status    string
}

// offeredUnit names what an LMI tune's steps offer.
func offeredUnit(model string) string {
	if model == "open" {
		return "req/s"
	}
	return "VUs"
}

// lmiRowKey names a configuration × offered level row:
// "2048MB-2GiB/vCPU-c16/offered=8".
func lmiRowKey(config string, offered float64) string {
	return config + "/offered=" + strconv.FormatFloat(offered, 'g', -1, 64)
}

// readLMI reads an LMI tune's folder: its summary.json through
// lmitune.Read (the knees, the break-even, what the run offered) and its
// samples.csv, one row per configuration × offered level. A torn last
// line (a run killed mid-write) is left out with a note; any other damage
// is bad input.
func readLMI(dir string) (*Run, error) {
	sum, err := lmitune.Read(dir)
	if err != nil {
		return nil, inputErr("%v", err)
	}
	r := &Run{Dir: dir, Kind: KindTuneLMI}
	info := &lmiRun{model: string(sum.Meta.Model), slo: strings.Join(sum.Meta.SLO, ", "), environments: sum.Meta.Environments, breakEven: sum.BreakEven}
	order := map[string]int{}
	for _, res := range sum.Results {
		label := res.Label
		if label == "" {
			label = res.Config.Label()
		}
		order[label] = len(order)
		k := lmiKnee{config: label, rpsPerEnv: math.NaN(), offered: math.NaN(), status: res.Status}
		if res.Held() {
			k.rpsPerEnv = res.KneeRPSPerEnv
			for _, st := range res.Steps {
				if st.Step == res.KneeStep {
					k.offered = st.Offered
				}
			}
		}
		info.knees = append(info.knees, k)
	}
	r.lmi = info
	if sum.Meta.Interrupted {
		r.Notes = append(r.Notes, dir+": the LMI tune was interrupted: its last configurations may be missing or cut short")
	}

	path := filepath.Join(dir, "samples.csv")
	f, err := os.Open(path)
	if err != nil {
		return nil, inputErr("%s: %v", path, err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	head, err := cr.Read()
	if err != nil {
		return nil, inputErr("%s: header: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	for _, want := range lmitune.SampleHeader {
		if _, ok := col[want]; !ok {
			return nil, inputErr("%s: header has no column %q: not an LMI tune's samples", path, want)
		}
	}
	type rowOrder struct {
		config  int
		offered float64
	}
	rowAt := map[string]rowOrder{}
	rows := map[string]*Row{} // r.row scans them all: once per row, not per sample
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			if errors.Is(err, csv.ErrFieldCount) {
				if _, next := cr.Read(); errors.Is(next, io.EOF) {
					r.Notes = append(r.Notes, fmt.Sprintf("%s: line %d was cut off (the run was stopped while writing it): left out", path, line))
					break
				}
			}
			return nil, inputErr("%s: %v", path, err)
		}
		line, _ := cr.FieldPos(0)
		field := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
		num := func(name string) (float64, error) {
			v, err := strconv.ParseFloat(field(name), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, inputErr("%s: line %d: column %s: %q is not a number", path, line, name, field(name))
			}
			return v, nil
		}
		config := field("config")
		if config == "" {
			return nil, inputErr("%s: line %d: no configuration", path, line)
		}
		offered, err := num("offered")
		if err != nil {
			return nil, err
		}
		status, err := strconv.Atoi(field("status"))
		if err != nil {
			return nil, inputErr("%s: line %d: column status: %q is not a status code", path, line, field("status"))
		}
		key := lmiRowKey(config, offered)
		row := rows[key]
		if row == nil {
			row = r.row(key)
			rows[key] = row
		}
		if row.Labels == nil {
			if _, ok := order[config]; !ok {
				order[config] = len(order) // not in summary.json: after the others
			}
			row.Labels = []Label{{"config", config}, {"offered", strconv.FormatFloat(offered, 'g', -1, 64)}}
			rowAt[key] = rowOrder{order[config], offered}
		}
		outcome := load.Outcome(status, field("error"))
		if outcome == load.OutcomeDropped {
			row.Dropped++
			continue
		}
		row.Attempts++
		// As load counts it: only the latencies of successful
		// requests are latencies of the work.
		if outcome != load.OutcomeOK {
			row.Failures++
			row.Samples[MetricErrors] = append(row.Samples[MetricErrors], 1)
			continue
		}
		lat, err := num("latency_ms")
		if err != nil {
			return nil, err
		}
		row.Samples[MetricLatency] = append(row.Samples[MetricLatency], lat)
		row.Samples[MetricErrors] = append(row.Samples[MetricErrors], 0)
	}
	if len(r.Rows) == 0 {
		return nil, inputErr("%s has no samples", path)
	}
	slices.SortStableFunc(r.Rows, func(a, b *Row) int {
		x, y := rowAt[a.Key], rowAt[b.Key]
		return cmp.Or(cmp.Compare(x.config, y.config), cmp.Compare(x.offered, y.offered))
	})
	return r, nil
}

// KneeRow is one configuration's knee in both runs: the highest successful
// requests per second per execution environment of a step that met every
// objective, as each summary states it.
type KneeRow struct {
	Config string
	// Old and New are req/s per environment (NaN: no step held, or the
	// configuration is not in that run); OldOffered and NewOffered the
	// knee step's offered load, in OldUnit and Unit (the runs' models
	// may differ).
	Old, New               float64
	OldOffered, NewOffered float64
	OldUnit, Unit          string
	// OldStatus and NewStatus say why there is no knee.
	OldStatus, NewStatus string
	ChangePct            float64
	// Lower is set when the new knee is lower than the old one, or lost.
	Lower bool
}

// compareLMI adds what LMI tunes have beyond their rows: the knees of both
// sides, the break-even, and notes when the two runs did not offer the
// same load or hold it to the same objectives.
func compareLMI(p *Part, old, new *Run) {
	if old.lmi == nil || new.lmi == nil {
		return
	}
	o, n := old.lmi, new.lmi
	p.OldBreakEven, p.NewBreakEven = o.breakEven, n.breakEven
	if o.model != n.model {
		p.Notes = append(p.Notes, fmt.Sprintf("old offered the %s model, new the %s one: the offered levels are not the same measure", o.model, n.model))
	}
	if o.slo != n.slo {
		p.Notes = append(p.Notes, fmt.Sprintf("the objectives differ (old %s; new %s): so may the knees, for that reason alone", o.slo, n.slo))
	}
	if o.environments != n.environments {
		p.Notes = append(p.Notes, fmt.Sprintf("old pinned %d environment(s) per configuration, new %d", o.environments, n.environments))
	}
	oldUnit, unit := offeredUnit(o.model), offeredUnit(n.model)
	byConfig := map[string]lmiKnee{}
	for _, k := range n.knees {
		byConfig[k.config] = k
	}
	seen := map[string]bool{}
	add := func(ok, nk lmiKnee) {
		row := KneeRow{Config: cmp.Or(ok.config, nk.config), Old: ok.rpsPerEnv, New: nk.rpsPerEnv,
			OldOffered: ok.offered, NewOffered: nk.offered, OldUnit: oldUnit, Unit: unit, OldStatus: ok.status, NewStatus: nk.status}
		row.ChangePct = change(row.Old, row.New)
		row.Lower = !math.IsNaN(row.Old) && (math.IsNaN(row.New) || row.New < row.Old)
		p.Knees = append(p.Knees, row)
	}
	absent := func(config string) lmiKnee {
		return lmiKnee{config: config, rpsPerEnv: math.NaN(), offered: math.NaN(), status: "not in this run"}
	}
	for _, k := range o.knees {
		seen[k.config] = true
		nk, ok := byConfig[k.config]
		if !ok {
			nk = absent(k.config)
		}
		add(k, nk)
	}
	for _, k := range n.knees {
		if !seen[k.config] {
			add(absent(k.config), k)
		}
	}
}

// kneeText is one side of a knee row: "41.2 (at 8 VUs)" or "— (no step
// held)".
func kneeText(rps, offered float64, unit, status string) string {
	if math.IsNaN(rps) {
		if status == "" || status == "ok" {
			status = "no knee"
		}
		return "— (" + status + ")"
	}
	s := num(rps, "req/s")
	if !math.IsNaN(offered) {
		s += " (at " + strconv.FormatFloat(offered, 'g', -1, 64) + " " + unit + ")"
	}
	return s
}

func kneeChange(k KneeRow) string {
	s := signedPct(k.ChangePct)
	if math.IsNaN(k.ChangePct) && k.Lower {
		s = "lost"
	}
	if k.Lower {
		s += " LOWER"
	}
	return s
}

// kneeNote explains the knee table.
const kneeNote = "knee: successful requests per second per execution environment at the best step that met every objective (in brackets: the load offered there), as each summary states it"

// writeKneesText writes the knee table of an LMI comparison; a knee that
// dropped is marked LOWER (red with colour).
func writeKneesText(ew *errWriter, p Part, colour bool) {
	if len(p.Knees) == 0 {
		return
	}
	ew.printf("\n")
	rows := [][]string{{"knee (req/s per env)", "old", "new", "vs old"}}
	colours := []string{""}
	for _, k := range p.Knees {
		rows = append(rows, []string{k.Config, kneeText(k.Old, k.OldOffered, k.OldUnit, k.OldStatus), kneeText(k.New, k.NewOffered, k.Unit, k.NewStatus), kneeChange(k)})
		c := ""
		if k.Lower {
			c = ansiRed
		}
		colours = append(colours, c)
	}
	writeAligned(ew, rows, colours, colour)
	ew.printf("%s\n", kneeNote)
}

// writeKneesMarkdown writes the knee table as Markdown; a knee that
// dropped is in bold with a warning sign.
func writeKneesMarkdown(ew *errWriter, p Part) {
	if len(p.Knees) == 0 {
		return
	}
	ew.printf("\n### Knees (req/s per environment)\n\n| configuration | old | new | vs old |\n|---|---:|---:|---|\n")
	for _, k := range p.Knees {
		ch := signedPct(k.ChangePct)
		if k.Lower {
			if math.IsNaN(k.ChangePct) {
				ch = "lost"
			}
			ch = "**" + ch + "** ⚠ lower"
		}
		ew.printf("| %s | %s | %s | %s |\n", k.Config, kneeText(k.Old, k.OldOffered, k.OldUnit, k.OldStatus), kneeText(k.New, k.NewOffered, k.Unit, k.NewStatus), ch)
	}
	ew.printf("\n%s\n", kneeNote)
}

// lmiVerdictLine stands for the verdict line of an LMI comparison: LMI
// tunes pick no configuration, they state a break-even.
func lmiVerdictLine(p Part) string {
	return fmt.Sprintf("break-even: old %s; new %s", orNone(p.OldBreakEven), orNone(p.NewBreakEven))
}

// MarshalJSON writes the knees (null when there is none).
func (k KneeRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Config     string `json:"config"`
		Old        jnum   `json:"old_rps_per_env"`
		New        jnum   `json:"new_rps_per_env"`
		OldOffered jnum   `json:"old_offered"`
		NewOffered jnum   `json:"new_offered"`
		Unit       string `json:"offered_unit"`
		OldStatus  string `json:"old_status,omitempty"`
		NewStatus  string `json:"new_status,omitempty"`
		ChangePct  jnum   `json:"change_pct"`
		Lower      bool   `json:"lower"`
	}{k.Config, jnum(k.Old), jnum(k.New), jnum(k.OldOffered), jnum(k.NewOffered), k.Unit, k.OldStatus, k.NewStatus, jnum(k.ChangePct), k.Lower})
}
