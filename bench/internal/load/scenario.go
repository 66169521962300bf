package load

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Scenario is a workload: a name and the query string every endpoint gets.
type Scenario struct {
	Name  string
	Query string
}

// Workload values of the built-in scenarios (the seed's).
type Workload struct {
	FastIODelayMs    int // fast-io: delay_ms
	SlowIODelayMs    int // slow-io: delay_ms
	LowCPUHashLoops  int // low-cpu: hash_loops
	HighCPUHashLoops int // high-cpu: hash_loops
}

// DefaultWorkload is the seed's: 100 ms and 500 ms of I/O, 50,000 and
// 200,000 chained SHA-256 rounds.
var DefaultWorkload = Workload{FastIODelayMs: 100, SlowIODelayMs: 500, LowCPUHashLoops: 50000, HighCPUHashLoops: 200000}

// ScenarioNames are the built-in scenarios, in the order "all" runs them.
var ScenarioNames = []string{"fast-io", "slow-io", "low-cpu", "high-cpu"}

// Scenarios resolves a --scenario value: one of ScenarioNames, "all", or a
// comma-separated list of them; "custom" (or any list when query is set)
// runs the custom query string as a scenario named "custom".
func Scenarios(spec string, w Workload, query string) ([]Scenario, error) {
	if err := w.validate(); err != nil {
		return nil, err
	}
	builtin := map[string]Scenario{
		"fast-io":  {"fast-io", fmt.Sprintf("delay_ms=%d", w.FastIODelayMs)},
		"slow-io":  {"slow-io", fmt.Sprintf("delay_ms=%d", w.SlowIODelayMs)},
		"low-cpu":  {"low-cpu", fmt.Sprintf("hash_loops=%d", w.LowCPUHashLoops)},
		"high-cpu": {"high-cpu", fmt.Sprintf("hash_loops=%d", w.HighCPUHashLoops)},
	}
	var out []Scenario
	add := func(s Scenario) {
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
			add(Scenario{Name: "custom", Query: q})
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

func (w Workload) validate() error {
	for _, c := range []struct {
		name     string
		v, limit int
	}{
		{"--fast-io-delay-ms", w.FastIODelayMs, 15000},
		{"--slow-io-delay-ms", w.SlowIODelayMs, 15000},
		{"--low-cpu-hash-loops", w.LowCPUHashLoops, 1000000},
		{"--high-cpu-hash-loops", w.HighCPUHashLoops, 1000000},
	} {
		if c.v < 0 || c.v > c.limit {
			return fmt.Errorf("%s %d: the hello function accepts 0 to %d", c.name, c.v, c.limit)
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
func ResolveEndpoints(spec string, outputs map[string]string) ([]Endpoint, map[string]string, error) {
	names, err := EndpointNames(spec)
	if err != nil {
		return nil, nil, err
	}
	var eps []Endpoint
	fns := map[string]string{}
	for _, n := range names {
		i := slices.IndexFunc(HelloEndpoints, func(h struct{ Name, URLKey, FunctionKey string }) bool { return h.Name == n })
		h := HelloEndpoints[i]
		u := outputs[h.URLKey]
		if u == "" {
			return nil, nil, fmt.Errorf("endpoint %s: the stack has no output %s: is it the LMI stack (GoLambdaBenchLmi)?", n, h.URLKey)
		}
		eps = append(eps, Endpoint{Name: n, URL: u, Hello: true})
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
