// Package hello is the standard-vs-LMI hello experiment: the hello
// function's endpoints on our LMI stack — standard Lambda at 128 MB and
// 2048 MB, Lambda Managed Instances at 2048 MB — and the scenarios sent to
// them (I/O waits and CPU work as query strings). It sets the load engine
// up with them; the engine itself knows nothing of our stacks.
package hello

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"lambdabench/bench/internal/load"
)

// Workload values of the built-in scenarios .
type Workload struct {
	FastIODelayMs    int // fast-io: delay_ms
	SlowIODelayMs    int // slow-io: delay_ms
	LowCPUHashLoops  int // low-cpu: hash_loops
	HighCPUHashLoops int // high-cpu: hash_loops
}

// DefaultWorkload is the experiment's: 100 ms and 500 ms of I/O, 50,000 and
// 200,000 chained SHA-256 rounds.
var DefaultWorkload = Workload{FastIODelayMs: 100, SlowIODelayMs: 500, LowCPUHashLoops: 50000, HighCPUHashLoops: 200000}

// ScenarioNames are the built-in scenarios, in the order "all" runs them.
var ScenarioNames = []string{"fast-io", "slow-io", "low-cpu", "high-cpu"}

// Scenarios resolves a --scenario value: one of ScenarioNames, "all", or a
// comma-separated list of them; "custom" (or any list when query is set)
// runs the custom query string as a scenario named "custom".
func Scenarios(spec string, w Workload, query string) ([]load.Scenario, error) {
	if err := w.validate(); err != nil {
		return nil, err
	}
	builtin := map[string]load.Scenario{
		"fast-io":  {Name: "fast-io", Query: fmt.Sprintf("delay_ms=%d", w.FastIODelayMs)},
		"slow-io":  {Name: "slow-io", Query: fmt.Sprintf("delay_ms=%d", w.SlowIODelayMs)},
		"low-cpu":  {Name: "low-cpu", Query: fmt.Sprintf("hash_loops=%d", w.LowCPUHashLoops)},
		"high-cpu": {Name: "high-cpu", Query: fmt.Sprintf("hash_loops=%d", w.HighCPUHashLoops)},
	}
	var out []load.Scenario
	add := func(s load.Scenario) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "all":
			for _, n := range ScenarioNames {
				add(builtin[n])
			}
		case "custom":
			if query == "" {
				return nil, fmt.Errorf("scenario custom needs --query, such as --query 'delay_ms=50&hash_loops=10000'")
			}
			q, err := cleanQuery(query)
			if err != nil {
				return nil, err
			}
			add(load.Scenario{Name: "custom", Query: q})
		default:
			s, ok := builtin[name]
			if !ok {
				return nil, fmt.Errorf("unknown scenario %q: use %s, all or custom", name, strings.Join(ScenarioNames, ", "))
			}
			add(s)
		}
	}
	return out, nil
}

// workloadKeys are --workload's keys, the query parameter each sets and its
// largest value (the hello function's limits).
var workloadKeys = []struct {
	key, param string
	limit      int
	field      func(*Workload) *int
}{
	{"fast-io", "delay_ms", 15000, func(w *Workload) *int { return &w.FastIODelayMs }},
	{"slow-io", "delay_ms", 15000, func(w *Workload) *int { return &w.SlowIODelayMs }},
	{"low-cpu", "hash_loops", 1000000, func(w *Workload) *int { return &w.LowCPUHashLoops }},
	{"high-cpu", "hash_loops", 1000000, func(w *Workload) *int { return &w.HighCPUHashLoops }},
}

// String is the workload as --workload spells it.
func (w *Workload) String() string {
	if w == nil {
		return ""
	}
	parts := make([]string, len(workloadKeys))
	for i, k := range workloadKeys {
		parts[i] = fmt.Sprintf("%s=%d", k.key, *k.field(w))
	}
	return strings.Join(parts, ",")
}

// Set reads a --workload value: comma-separated SCENARIO=N pairs, N the
// delay_ms of fast-io and slow-io or the hash_loops of low-cpu and
// high-cpu; scenarios not named keep their values.
func (w *Workload) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("%q: want SCENARIO=N, such as low-cpu=20000", kv)
		}
		i := slices.IndexFunc(workloadKeys, func(k struct {
			key, param string
			limit      int
			field      func(*Workload) *int
		}) bool {
			return k.key == key
		})
		if i < 0 {
			return fmt.Errorf("%q: unknown scenario %q: use %s", kv, key, strings.Join(ScenarioNames, ", "))
		}
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("%q: %s is not a whole number", kv, val)
		}
		*workloadKeys[i].field(w) = n
	}
	return w.validate()
}

func (w Workload) validate() error {
	for _, k := range workloadKeys {
		if v := *k.field(&w); v < 0 || v > k.limit {
			return fmt.Errorf("%s=%d: the hello function accepts %s from 0 to %d", k.key, v, k.param, k.limit)
		}
	}
	return nil
}

// cleanQuery checks a custom query string and returns it without a leading
// "?".
func cleanQuery(q string) (string, error) {
	q = strings.TrimPrefix(strings.TrimSpace(q), "?")
	if _, err := url.ParseQuery(q); err != nil {
		return "", fmt.Errorf("--query %q: %w", q, err)
	}
	return q, nil
}

// HelloEndpoints maps the endpoint names to the stack output keys of their
// URL and function name.
var HelloEndpoints = []struct{ Name, URLKey, FunctionKey string }{
	{"default-128", "Default128Url", "Default128FunctionName"},
	{"default-2048", "Default2048Url", "Default2048FunctionName"},
	{"lmi-2048", "Lmi2048Url", "Lmi2048FunctionName"},
}

// ResolveEndpoints picks the endpoints named in spec (comma-separated, or
// "all") from a stack's outputs, and returns them with their function
// names (endpoint → function).
func ResolveEndpoints(spec string, outputs map[string]string) ([]load.Endpoint, map[string]string, error) {
	names, err := EndpointNames(spec)
	if err != nil {
		return nil, nil, err
	}
	var eps []load.Endpoint
	fns := map[string]string{}
	for _, n := range names {
		i := slices.IndexFunc(HelloEndpoints, func(h struct{ Name, URLKey, FunctionKey string }) bool { return h.Name == n })
		h := HelloEndpoints[i]
		u := outputs[h.URLKey]
		if u == "" {
			return nil, nil, fmt.Errorf("endpoint %s: the stack has no output %s: is it the LMI stack (GoLambdaBenchLmi)?", n, h.URLKey)
		}
		eps = append(eps, load.Endpoint{Name: n, URL: u, Hello: true})
		fns[n] = outputs[h.FunctionKey]
	}
	return eps, fns, nil
}

// EndpointNames checks an --endpoints value (comma-separated hello
// endpoint names, or "all") and returns the names, without repeats.
func EndpointNames(spec string) ([]string, error) {
	var names []string
	for _, n := range strings.Split(spec, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if n == "all" {
			for _, h := range HelloEndpoints {
				names = append(names, h.Name)
			}
			continue
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no endpoints: use --endpoints default-128,default-2048,lmi-2048 or a subset")
	}
	var out []string
	for _, n := range names {
		if !slices.ContainsFunc(HelloEndpoints, func(h struct{ Name, URLKey, FunctionKey string }) bool { return h.Name == n }) {
			return nil, fmt.Errorf("unknown endpoint %q: use default-128, default-2048 or lmi-2048", n)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
