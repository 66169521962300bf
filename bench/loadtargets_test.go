package main

import (
	"strings"
	"testing"
)

func TestParseURLFlag(t *testing.T) {
	tests := []struct {
		in, name, url, err string
	}{
		{"api=http://127.0.0.1:8080/x?a=1", "api", "http://127.0.0.1:8080/x?a=1", ""},
		{"http://127.0.0.1:8080/x?a=b=c", "127.0.0.1:8080", "http://127.0.0.1:8080/x?a=b=c", ""},
		{"ftp://127.0.0.1/", "", "", "want http"},
		{"api=", "", "", "want http"},
		{"a/b=http://127.0.0.1/", "", "", "want http"}, // a '/' makes it a URL, and not a valid one
		{"a,b=http://127.0.0.1/", "", "", "no '/', ','"},
	}
	for _, tt := range tests {
		name, u, err := parseURLFlag(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseURLFlag(%q) = %q, %q, %v; want error %q", tt.in, name, u, err, tt.err)
			}
			continue
		}
		if err != nil || name != tt.name || u != tt.url {
			t.Errorf("parseURLFlag(%q) = %q, %q, %v; want %q, %q", tt.in, name, u, err, tt.name, tt.url)
		}
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in, key, value string
		ok             bool
	}{
		{"X-Token: abc", "X-Token", "abc", true},
		{"Content-Type:application/json", "Content-Type", "application/json", true},
		{"no colon", "", "", false},
		{": empty key", "", "", false},
		{"Bad Key: v", "", "", false},
	}
	for _, tt := range tests {
		k, v, err := parseHeader(tt.in)
		if (err == nil) != tt.ok || k != tt.key || v != tt.value {
			t.Errorf("parseHeader(%q) = %q, %q, %v", tt.in, k, v, err)
		}
	}
}

func TestTargetsName(t *testing.T) {
	tests := []struct{ in, name, path string }{
		{"mix=/tmp/a.json", "mix", "/tmp/a.json"},
		{"/tmp/requests.json", "requests", "/tmp/requests.json"},
	}
	for _, tt := range tests {
		if n, p, err := targetsName(tt.in); err != nil || n != tt.name || p != tt.path {
			t.Errorf("targetsName(%q) = %q, %q, %v", tt.in, n, p, err)
		}
	}
}
