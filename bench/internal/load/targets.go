package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// CheckURL checks a URL the generator can send requests to: http or
// https, with a host.
func CheckURL(raw string) error {
	_, err := targetURL(raw, "")
	return err
}

// ReadTargetsFile reads a --targets file: a JSON list of requests
// ({name, method, url, headers, body, weight}) that one generator sends,
// each picked in proportion to its weight. Every request is checked.
func ReadTargetsFile(path string) ([]Request, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--targets: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var reqs []Request
	if err := dec.Decode(&reqs); err != nil {
		return nil, fmt.Errorf("--targets %s: not a JSON list of {name, method, url, headers, body, weight}: %w", path, err)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("--targets %s: no requests", path)
	}
	sendable := false
	for i, r := range reqs {
		if r.weight() < 0 {
			return nil, fmt.Errorf("--targets %s: request %d: negative weight", path, i+1)
		}
		sendable = sendable || r.weight() > 0
		if _, err := prepare(r, ""); err != nil {
			return nil, fmt.Errorf("--targets %s: request %d: %w", path, i+1, err)
		}
	}
	if !sendable {
		return nil, fmt.Errorf("--targets %s: every request has weight 0: nothing would be sent", path)
	}
	return reqs, nil
}

// FunctionShortName is the endpoint name of a function given by name or
// ARN: the name, without account, region or qualifier.
func FunctionShortName(s string) string {
	if i := strings.Index(s, ":function:"); i >= 0 {
		s = s[i+len(":function:"):]
	} else {
		s = strings.TrimPrefix(s, "function:")
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

// UniqueNames suffixes repeated endpoint names with #2, #3, …
func UniqueNames(eps []Endpoint) {
	seen := map[string]int{}
	for i := range eps {
		n := eps[i].Name
		seen[n]++
		if k := seen[n]; k > 1 {
			eps[i].Name = fmt.Sprintf("%s#%d", n, k)
		}
	}
}
