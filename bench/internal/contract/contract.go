// Package contract is the one place bench decodes the benchmark function's
// JSON: the bcrypt batch request it sends (validated as the function
// validates it, so a bad --payload is refused before anything starts), the
// bcrypt response and error, and the hello endpoint's answers. Its tests run
// against fixtures copied from function/testdata and fail when the copies
// drift from the originals.
package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Limits of the bcrypt request, as the function enforces them.
const (
	MaxCount    = 1000
	MinCost     = 4
	MaxCost     = 14
	DefaultCost = 10
)

// BcryptRequest is a valid bcrypt batch request.
type BcryptRequest struct {
	Count int
	Mode  string // parallel | sequential | auto
	Cost  int
}

// ParseBcryptRequest validates a request body with the function's rules and
// messages: count 1..1000 and mode parallel|sequential|auto required, cost
// 4..14 optional (10).
func ParseBcryptRequest(body []byte) (BcryptRequest, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return BcryptRequest{}, errors.New("request is empty: want a JSON object with count and mode")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return BcryptRequest{}, fmt.Errorf("request must be a JSON object, got %s", typeErr.Value)
		}
		return BcryptRequest{}, fmt.Errorf("invalid request JSON: %v", err)
	}
	if fields == nil {
		return BcryptRequest{}, errors.New("request must be a JSON object, got null")
	}
	req := BcryptRequest{Cost: DefaultCost}
	count, err := intField(fields, "count", true)
	if err != nil {
		return req, err
	}
	switch {
	case count <= 0:
		return req, errors.New("count must be greater than 0")
	case count > MaxCount:
		return req, fmt.Errorf("count exceeds maximum of %d items", MaxCount)
	}
	req.Count = int(count)
	raw, ok := fields["mode"]
	if !ok || isNull(raw) {
		return req, errors.New("mode is required (parallel, sequential or auto)")
	}
	if err := json.Unmarshal(raw, &req.Mode); err != nil {
		return req, fmt.Errorf("mode must be a string, got %s", describe(raw))
	}
	switch req.Mode {
	case "parallel", "sequential", "auto":
	default:
		return req, fmt.Errorf("unknown mode %q (want parallel, sequential or auto)", req.Mode)
	}
	if raw, ok := fields["cost"]; ok && !isNull(raw) {
		cost, err := intField(fields, "cost", false)
		if err != nil {
			return req, err
		}
		if cost < MinCost || cost > MaxCost {
			return req, fmt.Errorf("cost must be between %d and %d", MinCost, MaxCost)
		}
		req.Cost = int(cost)
	}
	return req, nil
}

func intField(fields map[string]json.RawMessage, name string, required bool) (int64, error) {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		if required {
			return 0, fmt.Errorf("%s is required", name)
		}
		return 0, nil
	}
	var num json.Number
	if err := json.Unmarshal(raw, &num); err != nil || len(raw) == 0 || raw[0] == '"' {
		return 0, fmt.Errorf("%s must be an integer, got %s", name, describe(raw))
	}
	n, err := strconv.ParseInt(num.String(), 10, 64)
	if err != nil {
		var numErr *strconv.NumError
		if errors.As(err, &numErr) && numErr.Err == strconv.ErrRange {
			if num.String()[0] == '-' {
				return -1 << 63, nil
			}
			return 1<<63 - 1, nil
		}
		return 0, fmt.Errorf("%s must be an integer, got %s", name, num.String())
	}
	return n, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func describe(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return string(raw)
}

// BcryptResponse is the bcrypt handler's answer; a field it did not send is
// nil.
type BcryptResponse struct {
	Processed    *float64 `json:"processed"`
	DurationMs   *float64 `json:"duration_ms"`
	Mode         string   `json:"mode"`
	Workers      *float64 `json:"workers"`
	DetectedCPUs *float64 `json:"detected_cpus"`
	AvgMsPerItem *float64 `json:"avg_ms_per_item"`
	MemoryUsedKB *float64 `json:"memory_used_kb"`
	ThreadsUsed  *float64 `json:"threads_used"`
	Gomaxprocs   *float64 `json:"gomaxprocs"`
	CPUMs        *float64 `json:"cpu_ms"`
	Parallelism  *float64 `json:"parallelism"`
	GoVersion    string   `json:"go_version"`
	Arch         string   `json:"arch"`
	Cost         *float64 `json:"cost"`
}

// FunctionError is the body of a Lambda function error.
type FunctionError struct {
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
}

// DecodeBcrypt decodes an invocation's payload: the response, or with
// functionError set the error.
func DecodeBcrypt(payload []byte, functionError bool) (BcryptResponse, FunctionError, error) {
	var (
		r BcryptResponse
		e FunctionError
	)
	if functionError {
		if err := json.Unmarshal(payload, &e); err != nil {
			return r, FunctionError{ErrorMessage: string(payload)}, nil
		}
		return r, e, nil
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return r, e, fmt.Errorf("response is not JSON: %.200s", payload)
	}
	return r, e, nil
}

// HelloResponse is the body of a 200 answer of the hello endpoint.
type HelloResponse struct {
	Message    string `json:"message"`
	DelayMs    *int   `json:"delay_ms"`
	HashLoops  *int   `json:"hash_loops"`
	Hash       string `json:"hash"`
	Cold       *bool  `json:"cold"`
	Concurrent *int   `json:"concurrent"`
}

// HelloError is the body of a 4xx/5xx answer of the hello endpoint.
type HelloError struct {
	Error string `json:"error"`
}

// DecodeHello decodes a hello answer's body by its status.
func DecodeHello(status int, body []byte) (HelloResponse, HelloError, error) {
	var (
		r HelloResponse
		e HelloError
	)
	if status != 200 {
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
			return r, e, fmt.Errorf("status %d with a body that is not {\"error\": …}: %.200s", status, body)
		}
		return r, e, nil
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, e, fmt.Errorf("body is not JSON: %.200s", body)
	}
	return r, e, nil
}
