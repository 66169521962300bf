package main

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"lambdabench/bench/internal/load"
)

// parseURLFlag reads a --url value, "[NAME=]URL". Without a name, the
// URL's host (and port) names the endpoint.
func parseURLFlag(s string) (name, rawURL string, err error) {
	s = strings.TrimSpace(s)
	if n, u, ok := strings.Cut(s, "="); ok && !strings.Contains(n, "://") && !strings.ContainsAny(n, "/?") {
		name, rawURL = strings.TrimSpace(n), strings.TrimSpace(u)
		if err := checkEndpointName(name); err != nil {
			return "", "", fmt.Errorf("--url %q: %w", s, err)
		}
	} else {
		rawURL = s
	}
	if err := load.CheckURL(rawURL); err != nil {
		return "", "", fmt.Errorf("--url %q: %w", s, err)
	}
	if name == "" {
		u, _ := url.Parse(rawURL)
		name = u.Host
	}
	return name, rawURL, nil
}

// checkEndpointName rejects endpoint names reports cannot use.
func checkEndpointName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if strings.ContainsAny(name, "/,\"\r\n") {
		return fmt.Errorf("name %q: no '/', ',', quotes or line breaks", name)
	}
	return nil
}

// parseHeader reads a --header value, "Key: Value".
func parseHeader(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
		return "", "", fmt.Errorf("--header %q: want 'Key: Value'", s)
	}
	return k, strings.TrimSpace(v), nil
}

// targetsName is the endpoint name of a --targets value "[NAME=]FILE": the
// name given, or the file's base name without extension.
func targetsName(s string) (name, path string, err error) {
	if n, p, ok := strings.Cut(s, "="); ok {
		if err := checkEndpointName(n); err != nil {
			return "", "", fmt.Errorf("--targets %q: %w", s, err)
		}
		return n, p, nil
	}
	base := filepath.Base(s)
	return strings.TrimSuffix(base, filepath.Ext(base)), s, nil
}
