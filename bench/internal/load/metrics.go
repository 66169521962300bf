package load

import (
	"sync"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/stats"
)

// Metrics aggregates Results: per scenario, per endpoint and per stage
// counts and HdrHistograms of latency and send lag. Call Add for every
// result, then Close, then read Summaries. It is safe for concurrent use, so
// a progress display can read it while a run adds to it. (The charts read
// samples.csv, so nothing here keeps individual requests.)
type Metrics struct {
	mu        sync.Mutex
	scenarios []*scenarioAgg
	byName    map[string]*scenarioAgg
	closed    bool
	// partial is set for a run that was interrupted: the stage in progress
	// then counts only the time it ran.
	partial bool
	// The aggregate Add filled last: results come endpoint after endpoint
	// of one scenario, so most skip both map lookups.
	last                       *endpointAgg
	lastScenario, lastEndpoint string
}

// NewMetrics returns empty Metrics.
func NewMetrics() *Metrics {
	return &Metrics{byName: map[string]*scenarioAgg{}}
}

type scenarioAgg struct {
	name, query string
	model       Model
	stages      Stages
	start       time.Time // wall clock at elapsed 0
	endpoints   []*endpointAgg
	byName      map[string]*endpointAgg
}

type endpointAgg struct {
	name   string
	total  *counter
	stages []*counter
	level  float64   // VUs or rate of the latest result
	start  time.Time // wall clock at this endpoint's elapsed 0
}

// counter is the tally of one endpoint over one stage (or the whole run).
type counter struct {
	hist          *stats.Histogram
	lag           *stats.Histogram // send lag of the sent requests
	requests      int64            // sent: every result but dropped ones
	dropped       int64
	ok, c4xx      int64
	c429, c5xx    int64
	other, netErr int64
	fnErr         int64
	cold          int64
	maxConcurrent int
	billable      int64   // answered by the function: 2xx, 4xx but 429, 5xx, function errors
	billedMs      float64 // their latencies, each rounded up to 1 ms
	reported      int64   // billable requests with a REPORT line (--log-tail)
	reportBilled  float64 // their Billed Duration
	firstSent     time.Duration
	lastEnd       time.Duration
}

func newCounter() *counter {
	return &counter{hist: stats.NewHistogram(), lag: stats.NewHistogram(), firstSent: -1}
}

func (c *counter) add(r *Result) {
	cl := r.class()
	if cl == classDropped {
		c.dropped++
		return
	}
	c.requests++
	switch cl {
	case class2xx:
		c.ok++
	case class4xx:
		c.c4xx++
	case class429:
		c.c429++
	case class5xx:
		c.c5xx++
	case classNetErr:
		c.netErr++
	case classFnErr:
		c.fnErr++
	default:
		c.other++
	}
	c.hist.Record(r.Latency)
	c.lag.Record(r.Lag)
	if cl == class2xx || cl == class4xx || cl == class5xx || cl == classFnErr {
		c.billable++
		c.billedMs += cost.BilledMs(float64(r.Latency) / float64(time.Millisecond))
		if r.BilledMs > 0 {
			c.reported++
			c.reportBilled += r.BilledMs
		}
	}
	if r.Hello {
		if r.Cold {
			c.cold++
		}
		c.maxConcurrent = max(c.maxConcurrent, r.Concurrent)
	}
	if c.firstSent < 0 || r.Elapsed < c.firstSent {
		c.firstSent = r.Elapsed
	}
	c.lastEnd = max(c.lastEnd, r.Elapsed+r.Latency)
}

// Add accounts for one result.
func (m *Metrics) Add(r *Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.last; e != nil && r.Scenario == m.lastScenario && r.Endpoint == m.lastEndpoint {
		e.add(r)
		return
	}
	s := m.byName[r.Scenario]
	if s == nil {
		s = &scenarioAgg{
			name: r.Scenario, query: r.Query, model: r.Model, stages: r.Stages,
			start:  r.Time.Add(-r.Elapsed),
			byName: map[string]*endpointAgg{},
		}
		m.byName[r.Scenario] = s
		m.scenarios = append(m.scenarios, s)
	}
	e := s.byName[r.Endpoint]
	if e == nil {
		e = &endpointAgg{name: r.Endpoint, start: r.Time.Add(-r.Elapsed), total: newCounter()}
		for range s.stages {
			e.stages = append(e.stages, newCounter())
		}
		s.byName[r.Endpoint] = e
		s.endpoints = append(s.endpoints, e)
	}
	m.last, m.lastScenario, m.lastEndpoint = e, r.Scenario, r.Endpoint
	e.add(r)
}

// add counts r in the endpoint's totals and its stage.
func (e *endpointAgg) add(r *Result) {
	e.total.add(r)
	e.level = float64(r.VUs)
	if r.Model == Open {
		e.level = r.Rate
	}
	if r.Stage >= 1 && r.Stage <= len(e.stages) {
		e.stages[r.Stage-1].add(r)
	}
}

// Close marks the metrics complete; Add must not be called afterwards.
// MarkPartial says the run was interrupted: throughput then divides the
// requests of the stage in progress by the time it ran (to the endpoint's
// last answer), not by its planned duration.
func (m *Metrics) MarkPartial() {
	m.mu.Lock()
	m.partial = true
	m.mu.Unlock()
}

func (m *Metrics) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
}

// Live is what a progress display shows for one endpoint of the scenario
// running now.
type Live struct {
	Scenario  string
	Endpoint  string
	Stage     int // 1-based stage of the latest result
	Requests  int64
	Errors    int64 // 4xx, 429, 5xx, network and function errors (not drops)
	Dropped   int64
	P95       float64 // milliseconds, over the current stage
	Stages    Stages
	Model     Model
	LastLevel float64 // VUs or rate of the latest result
}

// Live returns the progress of every endpoint of scenario, in the order
// they first answered.
func (m *Metrics) Live(scenario string) []Live {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byName[scenario]
	if s == nil {
		return nil
	}
	out := make([]Live, 0, len(s.endpoints))
	for _, e := range s.endpoints {
		stage := 1
		for i, c := range e.stages {
			if c.requests+c.dropped > 0 {
				stage = i + 1
			}
		}
		c := e.stages[stage-1]
		out = append(out, Live{
			Scenario: s.name, Endpoint: e.name, Stage: stage,
			Requests: e.total.requests,
			Errors:   e.total.requests - e.total.ok,
			Dropped:  e.total.dropped,
			P95:      c.hist.ValueAt(95),
			Stages:   s.stages, Model: s.model,
			LastLevel: e.level,
		})
	}
	return out
}

// merge adds o's tally to c: counts add up, histograms merge exactly.
func (c *counter) merge(o *counter) {
	c.hist.Merge(o.hist)
	c.lag.Merge(o.lag)
	c.requests += o.requests
	c.dropped += o.dropped
	c.ok += o.ok
	c.c4xx += o.c4xx
	c.c429 += o.c429
	c.c5xx += o.c5xx
	c.other += o.other
	c.netErr += o.netErr
	c.fnErr += o.fnErr
	c.cold += o.cold
	c.maxConcurrent = max(c.maxConcurrent, o.maxConcurrent)
	c.billable += o.billable
	c.billedMs += o.billedMs
	c.reported += o.reported
	c.reportBilled += o.reportBilled
	if o.firstSent >= 0 && (c.firstSent < 0 || o.firstSent < c.firstSent) {
		c.firstSent = o.firstSent
	}
	c.lastEnd = max(c.lastEnd, o.lastEnd)
}

// Merge adds everything o measured to m, as if m had been given o's
// results too: several generators running the same plan merge into one
// run's metrics (scenarios, endpoints and stages matched by name and index).
// Elapsed offsets are taken as sharing one start.
func (m *Metrics) Merge(o *Metrics) {
	if m == o {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, os := range o.scenarios {
		s := m.byName[os.name]
		if s == nil {
			s = &scenarioAgg{name: os.name, query: os.query, model: os.model, stages: os.stages, start: os.start,
				byName: map[string]*endpointAgg{}}
			m.byName[os.name] = s
			m.scenarios = append(m.scenarios, s)
		}
		if os.start.Before(s.start) {
			s.start = os.start
		}
		for _, oe := range os.endpoints {
			e := s.byName[oe.name]
			if e == nil {
				e = &endpointAgg{name: oe.name, start: oe.start, total: newCounter()}
				for range s.stages {
					e.stages = append(e.stages, newCounter())
				}
				s.byName[oe.name] = e
				s.endpoints = append(s.endpoints, e)
			}
			if oe.start.Before(e.start) {
				e.start = oe.start
			}
			e.total.merge(oe.total)
			for i := range min(len(e.stages), len(oe.stages)) {
				e.stages[i].merge(oe.stages[i])
			}
			e.level = oe.level
		}
	}
}
