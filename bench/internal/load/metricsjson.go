package load

import (
	"encoding/json"
	"fmt"
	"time"

	"lambdabench/bench/internal/stats"
)

// The JSON form of Metrics: every counter and both histograms of every
// stage, so that a generator running elsewhere can send what it measured
// and the results merge exactly (Metrics.Merge) as if measured here.

type counterJSON struct {
	Latency       *stats.Histogram `json:"latency"`
	Lag           *stats.Histogram `json:"lag"`
	Requests      int64            `json:"requests"`
	Dropped       int64            `json:"dropped"`
	OK            int64            `json:"status_2xx"`
	C4xx          int64            `json:"status_4xx"`
	C429          int64            `json:"status_429"`
	C5xx          int64            `json:"status_5xx"`
	Other         int64            `json:"other_status"`
	NetErr        int64            `json:"network_errors"`
	FnErr         int64            `json:"function_errors"`
	Cold          int64            `json:"cold"`
	MaxConcurrent int              `json:"max_concurrent"`
	Billable      int64            `json:"billable"`
	BilledMs      float64          `json:"billed_ms"`
	Reported      int64            `json:"reported"`
	ReportBilled  float64          `json:"report_billed_ms"`
	FirstSent     time.Duration    `json:"first_sent_ns"`
	LastEnd       time.Duration    `json:"last_end_ns"`
}

type endpointJSON struct {
	Name   string        `json:"name"`
	Total  counterJSON   `json:"total"`
	Stages []counterJSON `json:"stages"`
	Level  float64       `json:"level"`
	Start  time.Time     `json:"start"` // wall clock at the endpoint's elapsed 0
}

type scenarioJSON struct {
	Name      string         `json:"name"`
	Query     string         `json:"query,omitempty"`
	Model     Model          `json:"model"`
	Stages    Stages         `json:"stages"`
	Start     time.Time      `json:"start"`
	Endpoints []endpointJSON `json:"endpoints"`
}

func (c *counter) toJSON() counterJSON {
	return counterJSON{Latency: c.hist, Lag: c.lag, Requests: c.requests, Dropped: c.dropped,
		OK: c.ok, C4xx: c.c4xx, C429: c.c429, C5xx: c.c5xx, Other: c.other, NetErr: c.netErr, FnErr: c.fnErr,
		Cold: c.cold, MaxConcurrent: c.maxConcurrent, Billable: c.billable, BilledMs: c.billedMs,
		Reported: c.reported, ReportBilled: c.reportBilled, FirstSent: c.firstSent, LastEnd: c.lastEnd}
}

func (j counterJSON) counter() (*counter, error) {
	if j.Latency == nil || j.Lag == nil {
		return nil, fmt.Errorf("counter without histograms")
	}
	if j.Latency.Count() != j.Requests {
		return nil, fmt.Errorf("%d requests but %d latencies", j.Requests, j.Latency.Count())
	}
	return &counter{hist: j.Latency, lag: j.Lag, requests: j.Requests, dropped: j.Dropped,
		ok: j.OK, c4xx: j.C4xx, c429: j.C429, c5xx: j.C5xx, other: j.Other, netErr: j.NetErr, fnErr: j.FnErr,
		cold: j.Cold, maxConcurrent: j.MaxConcurrent, billable: j.Billable, billedMs: j.BilledMs,
		reported: j.Reported, reportBilled: j.ReportBilled, firstSent: j.FirstSent, lastEnd: j.LastEnd}, nil
}

// MarshalJSON encodes everything the metrics hold, histograms included.
func (m *Metrics) MarshalJSON() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]scenarioJSON, 0, len(m.scenarios))
	for _, s := range m.scenarios {
		sj := scenarioJSON{Name: s.name, Query: s.query, Model: s.model, Stages: s.stages, Start: s.start}
		for _, e := range s.endpoints {
			ej := endpointJSON{Name: e.name, Total: e.total.toJSON(), Level: e.level, Start: e.start}
			for _, c := range e.stages {
				ej.Stages = append(ej.Stages, c.toJSON())
			}
			sj.Endpoints = append(sj.Endpoints, ej)
		}
		out = append(out, sj)
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes metrics written by MarshalJSON, checking that every
// histogram holds as many latencies as its counter has requests.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var in []scenarioJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("decode metrics: %w", err)
	}
	out := NewMetrics()
	for _, sj := range in {
		if out.byName[sj.Name] != nil {
			return fmt.Errorf("decode metrics: scenario %q twice", sj.Name)
		}
		s := &scenarioAgg{name: sj.Name, query: sj.Query, model: sj.Model, stages: sj.Stages, start: sj.Start,
			byName: map[string]*endpointAgg{}}
		for _, ej := range sj.Endpoints {
			if s.byName[ej.Name] != nil {
				return fmt.Errorf("decode metrics: %s/%s twice", sj.Name, ej.Name)
			}
			if len(ej.Stages) != len(sj.Stages) {
				return fmt.Errorf("decode metrics: %s/%s has %d stage tallies for %d stages", sj.Name, ej.Name, len(ej.Stages), len(sj.Stages))
			}
			total, err := ej.Total.counter()
			if err != nil {
				return fmt.Errorf("decode metrics: %s/%s: %w", sj.Name, ej.Name, err)
			}
			e := &endpointAgg{name: ej.Name, total: total, level: ej.Level, start: ej.Start}
			for i, cj := range ej.Stages {
				c, err := cj.counter()
				if err != nil {
					return fmt.Errorf("decode metrics: %s/%s stage %d: %w", sj.Name, ej.Name, i+1, err)
				}
				e.stages = append(e.stages, c)
			}
			s.byName[ej.Name] = e
			s.endpoints = append(s.endpoints, e)
		}
		out.byName[sj.Name] = s
		out.scenarios = append(out.scenarios, s)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scenarios, m.byName, m.last = out.scenarios, out.byName, nil
	return nil
}
