// Package load is bench's load generator: staged closed-model (virtual
// users) and open-model (arrival rate) load against HTTP endpoints or Lambda
// functions (through the Invoke API), each endpoint driven by its own
// independent generator, with latencies kept in HdrHistograms, every request
// streamed to samples.csv, and summaries, charts and threshold checks built
// from those samples.
//
// A run is described by a serialisable Plan (endpoints, model, stages);
// Attack executes one scenario of it. Data flows one way, as in vegeta:
// Attack → <-chan *Result → CSVEncoder and Metrics → summaries, reports and
// charts. Metrics keep per-stage histograms that merge exactly, so the
// results of several generators running the same plan can be combined.
package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/valyala/fasthttp"
)

// Endpoint is one generator's target: the name reports use for it, and
// either one URL (a GET), weighted Requests, or a Lambda Function.
type Endpoint struct {
	Name     string    `json:"name"`
	URL      string    `json:"url,omitempty"`      // shorthand for one GET request
	Requests []Request `json:"requests,omitempty"` // picked by weight, in a fixed interleaved order
	Function *Function `json:"function,omitempty"` // invoke this function instead of sending HTTP
	// Hello parses answers as the hello function's JSON (cold start,
	// concurrency): the built-in scenarios set it.
	Hello bool `json:"hello,omitempty"`
}

// Request is one HTTP request a generator sends, as a --targets file lists
// them.
type Request struct {
	Name    string            `json:"name,omitempty"`
	Method  string            `json:"method,omitempty"` // default GET
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// Weight is the request's share of its endpoint's requests: absent
	// means 1, 0 means never sent.
	Weight *int `json:"weight,omitempty"`
}

// weight is the request's weight: 1 when none is given.
func (r Request) weight() int {
	if r.Weight == nil {
		return 1
	}
	return *r.Weight
}

// Function is a Lambda function loaded through the Invoke API.
type Function struct {
	Name    string          `json:"name"` // name, ARN or partial ARN
	Payload json.RawMessage `json:"payload,omitempty"`
	// LogTail asks for the last 4 KB of each invocation's log (LogType
	// Tail) and records its REPORT line's Duration and Billed Duration.
	LogTail bool `json:"log_tail,omitempty"`
}

// Invoker is the part of the Lambda client the generator calls.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// AttackOptions describe how to load the endpoints in one scenario.
type AttackOptions struct {
	Scenario string `json:"scenario"`        // name recorded in every Result
	Query    string `json:"query,omitempty"` // query string added to every URL ("" for none)
	Model    Model  `json:"model"`
	// Stages is the profile every endpoint gets: virtual users (closed
	// model) or requests per second (open model).
	Stages Stages `json:"stages"`
	// Timeout bounds each request, from the moment it is sent.
	Timeout time.Duration `json:"timeout"`
	// MaxInFlight bounds the requests in flight per endpoint in the open
	// model; a request due while all are taken is dropped.
	MaxInFlight int `json:"max_in_flight"`
	// Invoker sends the invocations of Function endpoints.
	Invoker Invoker `json:"-"`
	// From and To confine the load to the offsets [From, To) of the
	// profile (To 0: to its end): the open model sends only the requests
	// due in it, the closed model runs its virtual users only in it, and
	// requests still in flight at To are answered (within Timeout) before
	// Attack's channel closes. A generator sending one window of a run
	// longer than one invocation sets them and Origin, so that what the
	// windows measure adds up to one unbroken run.
	From time.Duration `json:"from,omitempty"`
	To   time.Duration `json:"to,omitempty"`
	// Origin is the instant of offset 0 (zero: when Attack is called); it
	// may lie in the past or the future.
	Origin time.Time `json:"-"`
}

// Defaults used when AttackOptions leave them zero.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxInFlight = 1000
)

// maxBody is how much of a hello answer is read and kept for parsing; the
// rest is read and discarded so the connection can be reused.
const maxBody = 64 << 10

// spinWindow is how long before a due time the open model stops sleeping on
// a timer and yields in a loop instead: the runtime's timers fire up to about
// a millisecond late, which would otherwise be added to every latency. It is
// used only when requests are spaced at least spinMinGap apart, so that
// yielding costs at most a fifth of a core.
const (
	spinWindow = time.Millisecond
	spinMinGap = 5 * spinWindow
)

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
	if o.From < 0 || (o.To != 0 && o.To <= o.From) {
		return nil, fmt.Errorf("attack: bad window [%s, %s)", o.From, o.To)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	attackers := make([]*attacker, 0, len(endpoints))
	for _, ep := range endpoints {
		a, err := newAttacker(ep, o)
		if err != nil {
			return nil, fmt.Errorf("attack %s: %w", ep.Name, err)
		}
		attackers = append(attackers, a)
	}
	out := make(chan *Result, 4096)
	wall := time.Now()
	start := wall // keeps the monotonic clock for measuring
	if !o.Origin.IsZero() {
		start = wall.Add(o.Origin.Sub(wall)) // the origin, on the monotonic clock
		wall = o.Origin
	}
	var wg sync.WaitGroup
	for _, a := range attackers {
		a.start = start
		a.wallStart = wall.Round(0).Truncate(time.Microsecond)
		a.out = out
		wg.Go(func() {
			if a.http {
				stop := context.AfterFunc(ctx, a.conns.closeAll)
				defer func() {
					stop()
					a.conns.closeAll()
				}()
			}
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

// CheckEndpoint reports what is wrong with an endpoint before anything is
// sent: a URL that is not http(s), a bad method or header, no target.
func CheckEndpoint(ep Endpoint) error {
	_, err := newAttacker(ep, AttackOptions{Model: Open, MaxInFlight: 1, Invoker: nopInvoker{}})
	return err
}

type nopInvoker struct{}

func (nopInvoker) Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return nil, errors.New("no invoker")
}

// targetURL adds query to raw, which must be an absolute http(s) URL.
func targetURL(raw, query string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", fmt.Errorf("bad URL %q: want http:// or https:// and a host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("bad URL %q: port %s is not one of 1 to 65535", raw, p)
		}
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
	o         AttackOptions
	reqs      []preparedRequest // HTTP: the requests, picked by weight
	order     []int             // indexes into reqs, one weighted cycle
	next      int               // position in order (guarded by mu in the closed model)
	mu        sync.Mutex
	http      bool // HTTP requests (not function invocations)
	conns     connSet
	start     time.Time // monotonic origin of Elapsed
	wallStart time.Time // the same instant on the wall clock, to the µs
	out       chan<- *Result
}

// preparedRequest is a Request parsed once, and the client of its host.
type preparedRequest struct {
	name string
	tmpl *fasthttp.Request
	hc   *fasthttp.HostClient
}

func newAttacker(ep Endpoint, o AttackOptions) (*attacker, error) {
	a := &attacker{ep: ep, o: o}
	if ep.Function != nil {
		if ep.Function.Name == "" {
			return nil, errors.New("function: no name")
		}
		if len(ep.Function.Payload) > 0 && !json.Valid(ep.Function.Payload) {
			return nil, errors.New("function payload is not valid JSON")
		}
		if o.Invoker == nil {
			return nil, errors.New("function endpoint without a Lambda client")
		}
		return a, nil
	}
	reqs := ep.Requests
	if len(reqs) == 0 {
		if ep.URL == "" {
			return nil, errors.New("no URL, requests or function")
		}
		reqs = []Request{{URL: ep.URL}}
	}
	weights := make([]int, len(reqs))
	hosts := map[string]*fasthttp.HostClient{}
	for i, r := range reqs {
		p, err := prepare(r, o.Query)
		if err != nil {
			if r.Name != "" {
				return nil, fmt.Errorf("request %s: %w", r.Name, err)
			}
			return nil, err
		}
		if r.weight() < 0 {
			return nil, fmt.Errorf("request %s: negative weight %d", r.Name, r.weight())
		}
		weights[i] = r.weight()
		u := p.tmpl.URI()
		key := string(u.Scheme()) + "://" + string(u.Host())
		if hosts[key] == nil {
			hosts[key] = a.newHostClient(string(u.Host()), string(u.Scheme()) == "https")
		}
		p.hc = hosts[key]
		a.reqs = append(a.reqs, p)
	}
	if !slices.ContainsFunc(weights, func(w int) bool { return w > 0 }) {
		return nil, errors.New("every request has weight 0: nothing to send")
	}
	a.order = weightedOrder(weights)
	a.http = true
	return a, nil
}

// prepare checks a Request and parses it for sending.
func prepare(r Request, query string) (preparedRequest, error) {
	raw, err := targetURL(r.URL, query)
	if err != nil {
		return preparedRequest{}, err
	}
	method := strings.ToUpper(strings.TrimSpace(r.Method))
	if method == "" {
		method = http.MethodGet
	}
	if strings.ContainsAny(method, " \t\r\n:/") {
		return preparedRequest{}, fmt.Errorf("bad method %q", r.Method)
	}
	req := &fasthttp.Request{}
	// Send the URL exactly as given: no path normalisation.
	req.URI().DisablePathNormalizing = true
	req.SetRequestURI(raw)
	req.Header.SetMethod(method)
	req.Header.SetUserAgent("lambdabench-load")
	for k, v := range r.Headers {
		k = strings.TrimSpace(k)
		if k == "" || strings.ContainsAny(k, " \t\r\n:") || strings.ContainsAny(v, "\r\n") {
			return preparedRequest{}, fmt.Errorf("bad header %q: %q", k, v)
		}
		if strings.EqualFold(k, "Host") {
			req.UseHostHeader = true
			req.Header.SetHost(v)
			continue
		}
		req.Header.Set(k, v)
	}
	if r.Body != "" {
		req.SetBodyString(r.Body)
	}
	return preparedRequest{name: r.Name, tmpl: req}, nil
}

// weightedOrder spreads weighted choices evenly over one cycle (smooth
// weighted round-robin, as nginx balances upstreams): weights 3 and 1 give
// 0 0 1 0, so every window of the run holds its share of each request
// without a random number per request.
func weightedOrder(w []int) []int {
	total := 0
	for _, x := range w {
		total += x
	}
	cur := make([]int, len(w))
	out := make([]int, 0, total)
	for range total {
		best := 0
		for i := range w {
			cur[i] += w[i]
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		out = append(out, best)
	}
	return out
}

// newHostClient is the endpoint's own HTTP/1.1 keep-alive client of one
// host: fasthttp, whose reused requests, responses and buffers leave the
// generator about one allocation per request instead of net/http's dozens
// (see BenchmarkGeneratorClosed). A HostClient per host, made up front,
// spares every request fasthttp.Client's host lookup under a lock. It
// never follows a redirect, never uses a proxy and never rewrites the URL,
// so only the URLs given are loaded.
func (a *attacker) newHostClient(host string, tls bool) *fasthttp.HostClient {
	conns := a.o.MaxInFlight
	if a.o.Model == Closed {
		conns = max(1, int(a.o.Stages.MaxTarget()))
	}
	d := &net.Dialer{Timeout: a.o.Timeout, KeepAlive: 30 * time.Second}
	return &fasthttp.HostClient{
		Addr:                          fasthttp.AddMissingPort(host, tls),
		IsTLS:                         tls,
		Name:                          "lambdabench-load",
		NoDefaultUserAgentHeader:      false,
		MaxConns:                      conns,
		MaxConnWaitTimeout:            a.o.Timeout,
		MaxIdleConnDuration:           10 * time.Second, // connections opened for a burst do not stay
		DisablePathNormalizing:        true,
		DisableHeaderNamesNormalizing: true,
		MaxResponseBodySize:           0,       // no limit: every body is read to its end…
		StreamResponseBody:            true,    // …through the sender's fixed buffer, and none is kept
		ReadBufferSize:                8 << 10, // also the largest response header accepted
		// A failed request is the endpoint's answer, not something to hide:
		// only a keep-alive connection the server closed before answering
		// is retried, once, as net/http does. A timeout is never retried.
		RetryIfErr: func(_ *fasthttp.Request, attempts int, err error) (resetTimeout, retry bool) {
			return false, attempts <= 1 && (errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed))
		},
		Dial: func(addr string) (net.Conn, error) {
			c, err := d.Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			return a.conns.add(c, a.o.Timeout), nil
		},
		DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
			c, err := (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			return a.conns.add(c, a.o.Timeout), nil
		},
	}
}

// connSet tracks an endpoint's connections, so that when the run is
// cancelled the requests in flight end at once instead of at their timeout.
type connSet struct {
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

// trackedConn is a connection of a connSet. It also enforces the request
// timeout: a request starts with the first Write after a Read (HTTP/1.1
// answers each request before the next is written), and the connection's
// deadline is moved only when it would fall less than timeout after that
// Write, then to timeout plus deadlineSlack. fasthttp's own per-request deadlines
// (DoDeadline) cost two SetDeadline calls, each a runtime timer update,
// per request — a twentieth of the generator's time in the closed model;
// this costs one per connection every deadlineSlack. A request the
// deadline ends is a timeout; one answered later than timeout but within
// the slack is turned into a timeout by do, so the rule stays exact.
type trackedConn struct {
	net.Conn
	set      *connSet
	once     sync.Once
	timeout  time.Duration
	deadline time.Time
	read     bool // a Read since the last Write: the next Write starts a request
}

// deadlineSlack is how far beyond a request's timeout its connection's
// deadline may lie.
func deadlineSlack(timeout time.Duration) time.Duration { return timeout / 8 }

func (c *trackedConn) Write(b []byte) (int, error) {
	if c.read || c.deadline.IsZero() {
		c.read = false
		if now := time.Now(); now.Add(c.timeout).After(c.deadline) {
			c.deadline = now.Add(c.timeout + deadlineSlack(c.timeout))
			if err := c.Conn.SetDeadline(c.deadline); err != nil {
				return 0, err
			}
		}
	}
	return c.Conn.Write(b)
}

func (c *trackedConn) Read(b []byte) (int, error) {
	c.read = true
	return c.Conn.Read(b)
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.conns, c)
		c.set.mu.Unlock()
	})
	return c.Conn.Close()
}

func (s *connSet) add(c net.Conn, timeout time.Duration) net.Conn {
	tc := &trackedConn{Conn: c, set: s, timeout: timeout}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return tc
	}
	if s.conns == nil {
		s.conns = map[*trackedConn]struct{}{}
	}
	s.conns[tc] = struct{}{}
	return tc
}

// closeAll closes every connection, and any opened afterwards.
func (s *connSet) closeAll() {
	s.mu.Lock()
	list := make([]*trackedConn, 0, len(s.conns))
	for c := range s.conns {
		list = append(list, c)
	}
	s.closed = true
	s.mu.Unlock()
	for _, c := range list {
		c.Close()
	}
}

// now is the offset from the start, to the microsecond samples are kept at.
func (a *attacker) now() time.Duration {
	return time.Since(a.start).Truncate(time.Microsecond)
}

// sleepUntil waits until offset t; false when ctx ended first. With spin
// set, it wakes spinWindow early and yields until t, so the timer's own
// lateness does not delay the request.
func (a *attacker) sleepUntil(ctx context.Context, tm *time.Timer, t time.Duration, spin bool) bool {
	slack := time.Duration(0)
	if spin {
		slack = spinWindow
	}
	if d := t - time.Since(a.start) - slack; d > 0 {
		tm.Reset(d)
		select {
		case <-ctx.Done():
			tm.Stop()
			return false
		case <-tm.C:
		}
	}
	for spin && time.Since(a.start) < t {
		runtime.Gosched()
	}
	return ctx.Err() == nil
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
	s := newSender()
	tm := time.NewTimer(time.Hour)
	tm.Stop()
	for ctx.Err() == nil {
		now := a.now()
		if a.o.To > 0 && now >= a.o.To {
			return // the window is over: the next one's user goes on
		}
		vus := a.o.Stages.VUsAt(now)
		if vus < n || now < a.o.From {
			next, ok := a.o.Stages.NextActive(n, max(now, a.o.From))
			if !ok || (a.o.To > 0 && next >= a.o.To) || !a.sleepUntil(ctx, tm, next, false) {
				return
			}
			continue
		}
		r := a.result(now)
		r.VUs = vus
		i := 0
		if len(a.order) > 1 {
			a.mu.Lock()
			i = a.pick()
			a.mu.Unlock()
		}
		if !a.do(ctx, s, r, i) {
			return
		}
		a.out <- r
	}
}

// pick returns the next request of the weighted cycle.
func (a *attacker) pick() int {
	if len(a.order) <= 1 {
		return 0
	}
	i := a.order[a.next]
	a.next = (a.next + 1) % len(a.order)
	return i
}

// ticket is a request due in the open model, handed to a worker.
type ticket struct {
	r *Result
	i int // request index
}

// open sends requests at their due times. Idle workers take them; when none
// is idle a new worker starts, up to MaxInFlight; beyond that the request is
// dropped. Workers are kept for the whole scenario, so their stacks and
// connections are reused (as vegeta's are).
func (a *attacker) open(ctx context.Context) {
	var wg sync.WaitGroup
	work := make(chan ticket)
	defer func() {
		close(work)
		wg.Wait()
	}()
	workers := 0
	tm := time.NewTimer(time.Hour)
	tm.Stop()
	for k := a.o.Stages.FirstDue(a.o.From); ; k++ {
		due, ok := a.o.Stages.DueTime(float64(k))
		if !ok || (a.o.To > 0 && due >= a.o.To) {
			return
		}
		spin := a.o.Stages.RateAt(due) <= float64(time.Second/spinMinGap)
		if !a.sleepUntil(ctx, tm, due, spin) {
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
		t := ticket{r: r, i: a.pick()}
		select {
		case work <- t:
			continue
		default:
		}
		if workers < a.o.MaxInFlight {
			workers++
			wg.Go(func() {
				s := newSender()
				for t := t; ; {
					if a.do(ctx, s, t.r, t.i) {
						a.out <- t.r
					}
					var ok bool
					if t, ok = <-work; !ok {
						return
					}
				}
			})
			continue
		}
		r.Error = ErrDropped
		a.out <- r
	}
}

// result starts the Result of a request due at offset at.
func (a *attacker) result(at time.Duration) *Result {
	r := resultPool.Get().(*Result)
	*r = Result{
		Scenario: a.o.Scenario, Query: a.o.Query, Endpoint: a.ep.Name,
		Model: a.o.Model, Stages: a.o.Stages,
		Stage:   max(a.o.Stages.At(at), 0) + 1,
		Time:    a.wallStart.Add(at),
		Elapsed: at,
	}
	return r
}

// sender is what one virtual user or open-model worker sends with, reused
// from request to request: a copy of the request it sent last (copied
// again only when the weighted cycle picks another) and a response.
type sender struct {
	req  fasthttp.Request
	resp fasthttp.Response
	cur  int // index of the request req holds; -1 for none
	// head keeps the first maxBody bytes of a hello answer for parsing.
	head []byte
}

// bodyBufs are the buffers response bodies are read through: a body of any
// size costs one of them while it is read, and none is kept.
var bodyBufs = sync.Pool{New: func() any { return new([16 << 10]byte) }}

func newSender() *sender { return &sender{cur: -1} }

// do sends request i (or the invocation) of r and fills in its outcome,
// latency measured from r.Elapsed and send lag from r.Elapsed to the send.
// It returns false when ctx ended before the answer: the request was
// abandoned and must not be reported.
func (a *attacker) do(ctx context.Context, s *sender, r *Result, i int) bool {
	if a.ep.Function != nil {
		rctx, cancel := context.WithTimeout(ctx, a.o.Timeout)
		defer cancel()
		return a.invoke(ctx, rctx, r)
	}
	p := &a.reqs[i]
	r.Request = p.name
	if s.cur != i {
		p.tmpl.CopyTo(&s.req)
		s.cur = i
	}
	req, resp := &s.req, &s.resp
	// The connection's deadline (trackedConn) instead of a context per
	// request: cancellation of the run closes the connections (connSet),
	// which ends a request in flight.
	sent := time.Since(a.start)
	r.Lag = max(0, sent.Truncate(time.Microsecond)-r.Elapsed)
	err := p.hc.Do(req, resp)
	if err == nil {
		// The answer ends with its body: read it to its end.
		err = s.readBody(resp, a.ep.Hello)
	}
	end := time.Since(a.start)
	r.Latency = end.Truncate(time.Microsecond) - r.Elapsed
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		r.Error = fastError(err)
		return true
	}
	if end-sent > a.o.Timeout {
		// Answered after its timeout, before the connection's deadline.
		r.Error = "timeout"
		return true
	}
	r.Status = resp.StatusCode()
	if a.ep.Hello {
		r.parseHello(s.head)
	}
	return true
}

// readBody reads resp's body to its end through s.buf, keeping its first
// maxBody bytes in s.head when keep is set, and releases the connection.
func (s *sender) readBody(resp *fasthttp.Response, keep bool) error {
	s.head = s.head[:0]
	stream := resp.BodyStream()
	if stream == nil {
		// Already read with the headers.
		if keep {
			b := resp.Body()
			s.head = append(s.head, b[:min(len(b), maxBody)]...)
		}
		return nil
	}
	defer resp.CloseBodyStream()
	buf := bodyBufs.Get().(*[16 << 10]byte)
	defer bodyBufs.Put(buf)
	for {
		n, err := stream.Read(buf[:])
		if keep && len(s.head) < maxBody {
			s.head = append(s.head, buf[:min(n, maxBody-len(s.head))]...)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fastError names a failed request's error briefly.
func fastError(err error) string {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
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

// Plan is one scenario of a load run as data: what to load and how. It
// round-trips through JSON, so that the same plan can be handed to several
// generators (each then runs Attack with it and its own Invoker) whose
// Metrics merge exactly.
type Plan struct {
	Endpoints []Endpoint    `json:"endpoints"`
	Options   AttackOptions `json:"options"`
}

// Attack runs the plan; see Attack.
func (p Plan) Attack(ctx context.Context, inv Invoker) (<-chan *Result, error) {
	o := p.Options
	o.Invoker = inv
	return Attack(ctx, p.Endpoints, o)
}
