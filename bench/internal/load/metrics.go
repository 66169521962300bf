package load

import (
	"math/rand/v2"
	"sync"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/stats"
)

// maxPoints is how many (time, latency) points per endpoint and scenario the
// metrics keep for the scatter chart: a uniform reservoir sample, so memory
// stays constant however long the run. samples.csv keeps every request.
const maxPoints = 5000

// Metrics aggregates Results: per scenario, per endpoint and per stage
// counts and HdrHistograms of latency, 1 s buckets and a bounded sample of
// points for the charts. Call Add for every result, then Close, then read
// Summaries. It is safe for concurrent use, so a progress display can read
// it while a run adds to it.
type Metrics struct {
	mu        sync.Mutex
	scenarios []*scenarioAgg
	byName    map[string]*scenarioAgg
	closed    bool
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
	name    string
	total   *counter
	stages  []*counter
	buckets []Bucket
	points  []Point
	seen    int64 // results offered to the reservoir
	rng     *rand.Rand
	level   float64   // VUs or rate of the latest result
	start   time.Time // wall clock at this endpoint's elapsed 0
}

// counter is the tally of one endpoint over one stage (or the whole run).
type counter struct {
	hist          *stats.Histogram
	requests      int64 // sent: every result but dropped ones
	dropped       int64
	ok, c4xx      int64
	c429, c5xx    int64
	other, netErr int64
	cold          int64
	maxConcurrent int
	billable      int64   // answered by the function: 2xx, 4xx but 429, 5xx
	billedMs      float64 // their latencies, each rounded up to 1 ms
	firstSent     time.Duration
	lastEnd       time.Duration
}

func newCounter() *counter { return &counter{hist: stats.NewHistogram(), firstSent: -1} }

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
	default:
		c.other++
	}
	c.hist.Record(r.Latency)
	if cl == class2xx || cl == class4xx || cl == class5xx {
		c.billable++
		c.billedMs += cost.BilledMs(float64(r.Latency) / float64(time.Millisecond))
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

// Bucket is one second of an endpoint's run: the requests due in it and
// their mean latency.
type Bucket struct {
	Second   int     `json:"second"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	MeanMs   float64 `json:"mean_ms"`
	sum      time.Duration
}

// Point is one request kept for the scatter chart.
type Point struct {
	Elapsed time.Duration
	Latency time.Duration
	OK      bool
}

// Add accounts for one result.
func (m *Metrics) Add(r *Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
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
		e = &endpointAgg{
			name:  r.Endpoint,
			start: r.Time.Add(-r.Elapsed),
			total: newCounter(),
			// A fixed seed: rebuilding from samples.csv picks the same points.
			rng: rand.New(rand.NewPCG(uint64(len(s.endpoints))+1, 0x10ad)),
		}
		for range s.stages {
			e.stages = append(e.stages, newCounter())
		}
		s.byName[r.Endpoint] = e
		s.endpoints = append(s.endpoints, e)
	}
	e.total.add(r)
	e.level = float64(r.VUs)
	if r.Model == Open {
		e.level = r.Rate
	}
	if r.Stage >= 1 && r.Stage <= len(e.stages) {
		e.stages[r.Stage-1].add(r)
	}
	if r.Dropped() {
		return
	}
	sec := int(r.Elapsed / time.Second)
	if sec >= 0 {
		for len(e.buckets) <= sec {
			e.buckets = append(e.buckets, Bucket{Second: len(e.buckets)})
		}
		b := &e.buckets[sec]
		b.Requests++
		b.sum += r.Latency
		if r.class() != class2xx {
			b.Errors++
		}
	}
	p := Point{Elapsed: r.Elapsed, Latency: r.Latency, OK: r.class() == class2xx}
	e.seen++
	if len(e.points) < maxPoints {
		e.points = append(e.points, p)
	} else if j := e.rng.Int64N(e.seen); j < maxPoints {
		e.points[j] = p
	}
}

// Close marks the metrics complete; Add must not be called afterwards.
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
	Errors    int64 // 4xx, 429, 5xx and network errors
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
