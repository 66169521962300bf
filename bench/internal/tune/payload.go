package tune

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"lambdabench/bench/internal/matrix"
)

// PayloadError is a payload flag that cannot be used.
type PayloadError struct{ Msg string }

func (e *PayloadError) Error() string { return e.Msg }

// Payloads reads --payload: inline JSON, or @FILE (curl's convention: the
// JSON in FILE); "" means {}. A JSON list of {"payload": …, "weight": N}
// objects is Power Tuning's weighted list: invocations are split by
// weight (to send such a list as it is, wrap it: [{"payload": [...],
// "weight": 1}]).
func Payloads(value string) ([]matrix.Payload, error) {
	switch {
	case value == "":
		return []matrix.Payload{{Body: []byte("{}"), Weight: 1}}, nil
	case strings.HasPrefix(value, "@"):
		source := "--payload " + value
		b, err := readFile(source, value[1:])
		if err != nil {
			return nil, err
		}
		if !json.Valid(b) {
			return nil, &PayloadError{fmt.Sprintf("%s: %s is not valid JSON", source, value[1:])}
		}
		return parsePayload(bytes.TrimSpace(b), source, false)
	}
	if !json.Valid([]byte(value)) {
		return nil, &PayloadError{fmt.Sprintf("--payload is not valid JSON: %.200s (to read a file, write @FILE)", value)}
	}
	return parsePayload([]byte(value), "--payload", false)
}

// PowerTuningPayloads reads the payload of a Power Tuning input: an
// object, a string (sent as it is when it holds JSON, as a JSON string
// otherwise, as Power Tuning does) or the weighted list.
func PowerTuningPayloads(raw json.RawMessage, source string) ([]matrix.Payload, error) {
	return parsePayload(bytes.TrimSpace(raw), source, true)
}

// parsePayload is one payload, or the weighted list when b is a non-empty
// JSON list whose every element is an object with a "payload" or a
// "weight" (checked strictly, so a misspelt key is an error, not a
// payload). ptString applies Power Tuning's rule for a string payload to
// the payload itself; a weighted entry's payload always gets it.
func parsePayload(b []byte, source string, ptString bool) ([]matrix.Payload, error) {
	if !isWeighted(b) {
		if ptString {
			b = convertPayload(b)
		}
		return []matrix.Payload{{Body: b, Weight: 1}}, nil
	}
	var list []struct {
		Payload json.RawMessage `json:"payload"`
		Weight  *int            `json:"weight"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, &PayloadError{fmt.Sprintf("%s: a weighted list is [{\"payload\": …, \"weight\": N}, …]: %v", source, err)}
	}
	out := make([]matrix.Payload, len(list))
	for i, p := range list {
		if len(p.Payload) == 0 {
			return nil, &PayloadError{fmt.Sprintf("%s: weighted entry %d has no payload", source, i+1)}
		}
		if p.Weight == nil || *p.Weight < 1 {
			return nil, &PayloadError{fmt.Sprintf("%s: weighted entry %d needs a weight ≥ 1", source, i+1)}
		}
		out[i] = matrix.Payload{Name: fmt.Sprintf("p%d", i+1), Body: convertPayload(p.Payload), Weight: *p.Weight}
	}
	return out, nil
}

// isWeighted reports whether b is a non-empty JSON list of objects that
// each have a "payload" or a "weight" key.
func isWeighted(b []byte) bool {
	var list []map[string]json.RawMessage
	if json.Unmarshal(b, &list) != nil || len(list) == 0 {
		return false
	}
	for _, e := range list {
		_, p := e["payload"]
		_, w := e["weight"]
		if e == nil || (!p && !w) {
			return false
		}
	}
	return true
}

// convertPayload is Power Tuning's rule for a payload that is a JSON
// string: when the string holds JSON itself ("{\"a\":1}") that JSON is
// sent; any other payload is sent as it is.
func convertPayload(raw []byte) []byte {
	var s string
	if json.Unmarshal(raw, &s) == nil && json.Valid([]byte(s)) {
		return bytes.TrimSpace([]byte(s))
	}
	return raw
}

func readFile(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &PayloadError{fmt.Sprintf("%s %s: no such file", flag, path)}
		}
		return nil, &PayloadError{fmt.Sprintf("%s: %v", flag, err)}
	}
	return b, nil
}
