package bcryptbatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Limits of the request contract.
const (
	MaxCount     = 1000
	MinCost      = 4
	MaxCost      = 14
	DefaultCost  = 10
	MaxBodyBytes = 64 << 10 // a valid request is a few dozen bytes
)

// Mode says how the items of a batch are spread over workers.
type Mode string

// The modes a request may ask for.
const (
	Parallel   Mode = "parallel"   // all workers share the items
	Sequential Mode = "sequential" // one worker hashes every item
	Auto       Mode = "auto"       // parallel when more than one worker is configured
)

// Request is a decoded and validated batch request.
type Request struct {
	Count int
	Mode  Mode
	Cost  int
}

// InvalidRequestError is returned by Decode for a request that breaks the
// contract. Its message is meant for the caller as is.
type InvalidRequestError struct{ Msg string }

func (e *InvalidRequestError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &InvalidRequestError{Msg: fmt.Sprintf(format, args...)}
}

// Decode parses and validates a request body such as
// {"count":20,"mode":"parallel","cost":10}. count and mode are required, cost
// is optional (DefaultCost); unknown fields are ignored. Every failure is an
// *InvalidRequestError whose message names the field and the problem.
func Decode(body []byte) (Request, error) {
	if len(body) > MaxBodyBytes {
		return Request{}, invalid("request too large: %d bytes (max %d)", len(body), MaxBodyBytes)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return Request{}, invalid("request is empty: want a JSON object with count and mode")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Request{}, invalid("request must be a JSON object, got %s", typeErr.Value)
		}
		return Request{}, invalid("invalid request JSON: %v", err)
	}
	if fields == nil { // the body was null
		return Request{}, invalid("request must be a JSON object, got null")
	}

	req := Request{Cost: DefaultCost}
	count, err := intField(fields, "count", true)
	if err != nil {
		return Request{}, err
	}
	switch {
	case count <= 0:
		return Request{}, invalid("count must be greater than 0")
	case count > MaxCount:
		return Request{}, invalid("count exceeds maximum of %d items", MaxCount)
	}
	req.Count = int(count)

	raw, ok := fields["mode"]
	if !ok || isNull(raw) {
		return Request{}, invalid("mode is required (parallel, sequential or auto)")
	}
	var mode string
	if err := json.Unmarshal(raw, &mode); err != nil {
		return Request{}, invalid("mode must be a string, got %s", describe(raw))
	}
	switch Mode(mode) {
	case Parallel, Sequential, Auto:
		req.Mode = Mode(mode)
	default:
		return Request{}, invalid("unknown mode %q (want parallel, sequential or auto)", mode)
	}

	if _, ok := fields["cost"]; ok && !isNull(fields["cost"]) {
		cost, err := intField(fields, "cost", false)
		if err != nil {
			return Request{}, err
		}
		if cost < MinCost || cost > MaxCost {
			return Request{}, invalid("cost must be between %d and %d", MinCost, MaxCost)
		}
		req.Cost = int(cost)
	}
	return req, nil
}

// intField reads fields[name] as an integer literal. Integers too large for
// int64 come back as math.MaxInt64 or math.MinInt64 so range checks still
// give the right message.
func intField(fields map[string]json.RawMessage, name string, required bool) (int64, error) {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		if required {
			return 0, invalid("%s is required", name)
		}
		return 0, nil
	}
	var num json.Number
	if err := json.Unmarshal(raw, &num); err != nil || len(raw) == 0 || raw[0] == '"' {
		return 0, invalid("%s must be an integer, got %s", name, describe(raw))
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
		return 0, invalid("%s must be an integer, got %s", name, num.String())
	}
	return n, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// describe names the JSON type of raw for error messages, quoting numbers as written.
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
