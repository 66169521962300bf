// Package load is bench's load generator: staged closed-model (virtual
// users) and open-model (arrival rate) load against HTTP endpoints, each
// endpoint driven independently, with latencies kept in HdrHistograms, every
// request streamed to samples.csv, and summaries, charts and threshold checks
// built from those samples.
//
// Data flows one way, as in vegeta: Attack → <-chan *Result → CSVEncoder
// and Metrics → summaries, reports and charts.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Endpoint is one URL under load, with the name reports use for it.
type Endpoint struct {
	Name string
	URL  string
}

// AttackOptions describe how to load the endpoints in one scenario.
type AttackOptions struct {
	Scenario string // name recorded in every Result
	Query    string // query string added to every endpoint URL ("" for none)
	Model    Model
	// Stages is the profile every endpoint gets: virtual users (closed
	// model) or requests per second (open model).
	Stages Stages
	// Timeout bounds each request, from the moment it is sent.
	Timeout time.Duration
	// MaxInFlight bounds the requests in flight per endpoint in the open
	// model; a request due while all are taken is dropped.
	MaxInFlight int
	// Transport, when set, replaces the HTTP transport (tests). By default
	// every endpoint gets its own keep-alive HTTP/1.1 connection pool.
	Transport func() http.RoundTripper
}

// Defaults used when AttackOptions leave them zero.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxInFlight = 1000
)

// maxBody is how much of an answer is read and kept for parsing; the rest is
// read and discarded so the connection can be reused.
const maxBody = 64 << 10

// Attack loads every endpoint at once, each as an independent scenario with
// its own goroutines and connection pool, so a slow endpoint never slows
// another. Results arrive on the returned channel as requests complete; it
// is closed when the profile is over and every request has been answered or
// has timed out. When ctx is done, Attack stops promptly: requests still in
// flight are abandoned and not reported, every result already measured is
// delivered. The caller must drain the channel.
func Attack(ctx context.Context, endpoints []Endpoint, o AttackOptions) (<-chan *Result, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("attack: no endpoints")
	}
	if len(o.Stages) == 0 || o.Stages.Total() <= 0 {
		return nil, errors.New("attack: empty load profile")
	}
	if o.Model != Open && o.Model != Closed {
		return nil, fmt.Errorf("attack: unknown model %q", o.Model)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	attackers := make([]*attacker, 0, len(endpoints))
	for _, ep := range endpoints {
		u, err := targetURL(ep.URL, o.Query)
		if err != nil {
			return nil, fmt.Errorf("attack %s: %w", ep.Name, err)
		}
		attackers = append(attackers, &attacker{ep: ep, url: u, o: o})
	}
	out := make(chan *Result, 4096)
	wall := time.Now()
	start := wall // keeps the monotonic clock for measuring
	var wg sync.WaitGroup
	for _, a := range attackers {
		a.start = start
		a.wallStart = wall.Round(0).Truncate(time.Microsecond)
		a.out = out
		a.client = a.newClient()
		wg.Go(func() {
			defer a.client.CloseIdleConnections()
			if o.Model == Open {
				a.open(ctx)
			} else {
				a.closed(ctx)
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out, nil
}

// targetURL adds query to raw, which must be an absolute http(s) URL.
func targetURL(raw, query string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("bad URL %q: want http:// or https:// and a host", raw)
	}
	query = strings.TrimPrefix(query, "?")
	switch {
	case query == "":
	case u.RawQuery == "":
		u.RawQuery = query
	default:
		u.RawQuery += "&" + query
	}
	return u.String(), nil
}

// attacker drives one endpoint.
type attacker struct {
	ep        Endpoint
	url       string
	o         AttackOptions
	client    *http.Client
	start     time.Time // monotonic origin of Elapsed
	wallStart time.Time // the same instant on the wall clock, to the µs
	out       chan<- *Result
}

func (a *attacker) newClient() *http.Client {
	var rt http.RoundTripper
	if a.o.Transport != nil {
		rt = a.o.Transport()
	} else {
		conns := a.o.MaxInFlight
		if a.o.Model == Closed {
			conns = max(1, int(a.o.Stages.MaxTarget()))
		}
		rt = &http.Transport{
			Proxy:               nil, // only ever the URLs given: no proxy from the environment
			DialContext:         (&net.Dialer{Timeout: a.o.Timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			DisableCompression:  true,
		}
	}
	return &http.Client{
		Transport: rt,
		// Never follow a redirect: only the URLs given are loaded.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// now is the offset from the start, to the microsecond samples are kept at.
func (a *attacker) now() time.Duration {
	return time.Since(a.start).Truncate(time.Microsecond)
}

// sleepUntil waits until offset t; false when ctx ended first.
func (a *attacker) sleepUntil(ctx context.Context, t time.Duration) bool {
	d := t - time.Since(a.start)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// closed runs the virtual users: each sends a request, waits for the
// answer, and sends the next, while the profile says it is active.
func (a *attacker) closed(ctx context.Context) {
	var wg sync.WaitGroup
	for n := 1; n <= int(a.o.Stages.MaxTarget()); n++ {
		wg.Go(func() { a.vu(ctx, n) })
	}
	wg.Wait()
}

func (a *attacker) vu(ctx context.Context, n int) {
	for ctx.Err() == nil {
		now := a.now()
		if a.o.Stages.VUsAt(now) < n {
			next, ok := a.o.Stages.NextActive(n, now)
			if !ok || !a.sleepUntil(ctx, next) {
				return
			}
			continue
		}
		r := a.result(now)
		r.VUs = a.o.Stages.VUsAt(now)
		if !a.do(ctx, r) {
			return
		}
		a.out <- r
	}
}

// open sends requests at their due times, each from its own goroutine, at
// most MaxInFlight at once.
func (a *attacker) open(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, a.o.MaxInFlight)
	for k := 1; ; k++ {
		due, ok := a.o.Stages.DueTime(float64(k))
		if !ok || !a.sleepUntil(ctx, due) {
			return
		}
		due = due.Truncate(time.Microsecond)
		r := a.result(due)
		r.Rate = math.Round(a.o.Stages.RateAt(due)*1000) / 1000
		if a.now()-due > a.o.Timeout {
			// The generator fell so far behind that the request would have
			// timed out before being sent.
			r.Error = ErrDropped
			a.out <- r
			continue
		}
		select {
		case slots <- struct{}{}:
			wg.Go(func() {
				defer func() { <-slots }()
				if a.do(ctx, r) {
					a.out <- r
				}
			})
		default:
			r.Error = ErrDropped
			a.out <- r
		}
	}
}

// result starts the Result of a request due at offset at.
func (a *attacker) result(at time.Duration) *Result {
	return &Result{
		Scenario: a.o.Scenario, Query: a.o.Query, Endpoint: a.ep.Name,
		Model: a.o.Model, Stages: a.o.Stages,
		Stage:   max(a.o.Stages.At(at), 0) + 1,
		Time:    a.wallStart.Add(at),
		Elapsed: at,
	}
}

// do sends the request of r and fills in its outcome, latency measured from
// r.Elapsed. It returns false when ctx ended before the answer: the request
// was abandoned and must not be reported.
func (a *attacker) do(ctx context.Context, r *Result) bool {
	rctx, cancel := context.WithTimeout(ctx, a.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, a.url, nil)
	if err != nil {
		r.Error = err.Error()
		r.Latency = a.now() - r.Elapsed
		return true
	}
	req.Header.Set("User-Agent", "lambdabench-load")
	resp, err := a.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		r.Status = resp.StatusCode
	}
	r.Latency = a.now() - r.Elapsed
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		// A response whose body failed still counts as answered.
		r.Error = shortError(err)
		if r.Status != 0 {
			r.Error = "body: " + r.Error
		}
		return true
	}
	r.parseHello(body)
	return true
}

// shortError strips the method and URL net/http puts around an error.
func shortError(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		err = ue.Err
	}
	return err.Error()
}
