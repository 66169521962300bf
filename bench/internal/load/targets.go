package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ParseURLFlag reads a --url value, "[NAME=]URL". Without a name, the
// URL's host (and port) names the endpoint.
func ParseURLFlag(s string) (name, rawURL string, err error) {
	s = strings.TrimSpace(s)
	if n, u, ok := strings.Cut(s, "="); ok && !strings.Contains(n, "://") && !strings.ContainsAny(n, "/?") {
		name, rawURL = strings.TrimSpace(n), strings.TrimSpace(u)
		if err := checkName(name); err != nil {
			return "", "", fmt.Errorf("--url %q: %w", s, err)
		}
	} else {
		rawURL = s
	}
	if _, err := targetURL(rawURL, ""); err != nil {
		return "", "", fmt.Errorf("--url %q: %w", s, err)
	}
	if name == "" {
		u, _ := url.Parse(rawURL)
		name = u.Host
	}
	return name, rawURL, nil
}

// checkName rejects endpoint names reports cannot use.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if strings.ContainsAny(name, "/,\"\r\n") {
		return fmt.Errorf("name %q: no '/', ',', quotes or line breaks", name)
	}
	return nil
}

// ParseHeader reads a --header value, "Key: Value".
func ParseHeader(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
		return "", "", fmt.Errorf("--header %q: want 'Key: Value'", s)
	}
	return k, strings.TrimSpace(v), nil
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
	for i, r := range reqs {
		if r.Weight < 0 {
			return nil, fmt.Errorf("--targets %s: request %d: negative weight", path, i+1)
		}
		if _, err := prepare(r, ""); err != nil {
			return nil, fmt.Errorf("--targets %s: request %d: %w", path, i+1, err)
		}
	}
	return reqs, nil
}

// TargetsName is the endpoint name of a --targets value "[NAME=]FILE": the
// name given, or the file's base name without extension.
func TargetsName(s string) (name, path string, err error) {
	if n, p, ok := strings.Cut(s, "="); ok {
		if err := checkName(n); err != nil {
			return "", "", fmt.Errorf("--targets %q: %w", s, err)
		}
		return n, p, nil
	}
	base := filepath.Base(s)
	return strings.TrimSuffix(base, filepath.Ext(base)), s, nil
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
