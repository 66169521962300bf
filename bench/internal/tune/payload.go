package tune

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"lambdabench/bench/internal/matrix"
)

// PayloadError is a payload flag that cannot be used.
type PayloadError struct{ Msg string }

func (e *PayloadError) Error() string { return e.Msg }

// Payloads reads the request payloads from --payload (inline JSON),
// --payload-file (a JSON file) or --payloads (Power Tuning's weighted list
// [{"payload": …, "weight": N}]); at most one may be set, and none means {}.
func Payloads(inline, file, weighted string) ([]matrix.Payload, error) {
	set := 0
	for _, s := range []string{inline, file, weighted} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return nil, &PayloadError{"--payload, --payload-file and --payloads exclude each other"}
	}
	switch {
	case inline != "":
		if !json.Valid([]byte(inline)) {
			return nil, &PayloadError{fmt.Sprintf("--payload is not valid JSON: %.200s", inline)}
		}
		return []matrix.Payload{{Body: []byte(inline), Weight: 1}}, nil
	case file != "":
		b, err := readFile("--payload-file", file)
		if err != nil {
			return nil, err
		}
		if !json.Valid(b) {
			return nil, &PayloadError{fmt.Sprintf("--payload-file %s is not valid JSON", file)}
		}
		return []matrix.Payload{{Body: bytes.TrimSpace(b), Weight: 1}}, nil
	case weighted != "":
		b, err := readFile("--payloads", weighted)
		if err != nil {
			return nil, err
		}
		var list []struct {
			Payload json.RawMessage `json:"payload"`
			Weight  *int            `json:"weight"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&list); err != nil {
			return nil, &PayloadError{fmt.Sprintf("--payloads %s: want [{\"payload\": …, \"weight\": N}, …]: %v", weighted, err)}
		}
		if len(list) == 0 {
			return nil, &PayloadError{fmt.Sprintf("--payloads %s: the list is empty", weighted)}
		}
		out := make([]matrix.Payload, len(list))
		for i, p := range list {
			if len(p.Payload) == 0 {
				return nil, &PayloadError{fmt.Sprintf("--payloads %s: entry %d has no payload", weighted, i+1)}
			}
			if p.Weight == nil || *p.Weight < 1 {
				return nil, &PayloadError{fmt.Sprintf("--payloads %s: entry %d needs a weight ≥ 1", weighted, i+1)}
			}
			out[i] = matrix.Payload{Name: fmt.Sprintf("p%d", i+1), Body: p.Payload, Weight: *p.Weight}
		}
		return out, nil
	}
	return []matrix.Payload{{Body: []byte("{}"), Weight: 1}}, nil
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
