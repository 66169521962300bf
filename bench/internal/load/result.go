package load

import (
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// Model is a load model: closed (virtual users that wait for each answer) or
// open (requests sent at a rate whatever the answers do).
type Model string

// The load models.
const (
	Closed Model = "closed"
	Open   Model = "open"
)

// ErrDropped is the Error of a Result for a request the open model could not
// send: every in-flight slot was taken when it was due, or the generator
// could not send it within the request timeout of its due time.
const ErrDropped = "dropped"

// Result is one request of a load run. It carries everything the summaries
// and charts need, so that a run can be rebuilt from its samples alone.
type Result struct {
	Scenario string // scenario name, such as "low-cpu"
	Query    string // the query string sent, such as "hash_loops=50000"
	Endpoint string // endpoint name, such as "lmi-2048"
	Request  string // name of the request within a weighted endpoint ("" for none)
	Model    Model
	Stages   Stages // the profile of the run
	Stage    int    // 1-based stage the request was due in
	VUs      int    // closed model: virtual users active when it was sent
	Rate     float64

	// Time is when the request was due (open model) or sent (closed model);
	// Elapsed is the same instant as an offset from the scenario's start.
	Time    time.Time
	Elapsed time.Duration

	// Lag is how late the generator sent the request: from its due time
	// to the moment it was handed to the connection (open model). It is
	// part of Latency; a large lag is the generator's, not the endpoint's.
	Lag time.Duration

	Status  int           // HTTP status (Invoke API status for functions), 0 when no response arrived
	Latency time.Duration // from Time to the end of the response body
	// Error is a network error, timeout, ErrDropped, or a function error
	// (FunctionErrorPrefix); empty on any other answer.
	Error string

	// DurationMs and BilledMs are the REPORT line's Duration and Billed
	// Duration of a function invocation (--log-tail); 0 when unknown.
	DurationMs float64
	BilledMs   float64

	// Hello is set when the body is the hello function's JSON; Cold and
	// Concurrent are its fields.
	Hello      bool
	Cold       bool
	Concurrent int
}

// resultPool recycles the Results of a run: the engine takes one per
// request and the run's consumer (runScenario) hands it back once it is
// written and counted, so the generator allocates next to nothing per
// request and its heap, and so its RSS, stays small. Other consumers of
// Attack simply keep theirs.
var resultPool = sync.Pool{New: func() any { return new(Result) }}

// release hands r back for reuse; r must not be used afterwards.
func (r *Result) release() {
	*r = Result{}
	resultPool.Put(r)
}

// Dropped reports whether the request was never sent.
func (r *Result) Dropped() bool { return r.Error == ErrDropped }

// OK reports whether the request succeeded: sent, answered with a 2xx
// status, and no function error. Only such requests' latencies are
// latencies of the work; the others are counted as failures.
func (r *Result) OK() bool { return r.class() == class2xx }

// class is how a result counts in the summaries.
type class int

const (
	class2xx class = iota
	class4xx       // 4xx other than 429
	class429
	class5xx
	classOther  // 1xx or 3xx: counted as errors
	classNetErr // no complete response: connection error, timeout, broken body
	classDropped
	classFnErr // the function answered with an error (Invoke API)
)

// Outcomes of a request, as Outcome names them.
const (
	OutcomeOK       = "ok"       // a 2xx answer without an error
	Outcome429      = "429"      // throttled
	Outcome4xx      = "4xx"      // another 4xx
	Outcome5xx      = "5xx"      //
	OutcomeNetwork  = "network"  // no complete response: connection error, timeout
	OutcomeFunction = "function" // the function answered with an error (Invoke API)
	OutcomeDropped  = "dropped"  // never sent (open model)
	OutcomeOther    = "other"    // 1xx or 3xx
)

// Outcome classifies a request from its status and error as samples.csv
// records them, the way every summary counts requests: for readers of
// samples written by other engines (tune --lmi), so that one rule counts
// them all.
func Outcome(status int, errText string) string {
	r := Result{Status: status, Error: errText}
	switch r.class() {
	case class2xx:
		return OutcomeOK
	case class429:
		return Outcome429
	case class4xx:
		return Outcome4xx
	case class5xx:
		return Outcome5xx
	case classNetErr:
		return OutcomeNetwork
	case classFnErr:
		return OutcomeFunction
	case classDropped:
		return OutcomeDropped
	}
	return OutcomeOther
}

func (r *Result) class() class {
	switch {
	case r.Dropped():
		return classDropped
	case r.Status != 0 && strings.HasPrefix(r.Error, FunctionErrorPrefix):
		return classFnErr
	case r.Status == 0 || r.Error != "":
		return classNetErr
	case r.Status == 429:
		return class429
	case r.Status >= 200 && r.Status < 300:
		return class2xx
	case r.Status >= 400 && r.Status < 500:
		return class4xx
	case r.Status >= 500:
		return class5xx
	}
	return classOther
}

// helloBody holds the fields of the hello function's answer the load test
// keeps. Other fields are ignored.
type helloBody struct {
	Message    string `json:"message"`
	Cold       *bool  `json:"cold"`
	Concurrent *int   `json:"concurrent"`
}

// parseHello fills the hello fields of r from a response body, when it is
// the hello function's JSON.
func (r *Result) parseHello(body []byte) {
	if len(body) == 0 || body[0] != '{' {
		return
	}
	var h helloBody
	if json.Unmarshal(body, &h) != nil || h.Message == "" {
		return
	}
	r.Hello = true
	if h.Cold != nil {
		r.Cold = *h.Cold
	}
	if h.Concurrent != nil {
		r.Concurrent = *h.Concurrent
	}
}
