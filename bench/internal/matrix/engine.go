package matrix

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Payload is one request body of a weighted payload list (Power Tuning's
// [{"payload": …, "weight": N}]).
type Payload struct {
	Name   string // recorded in every sample ("" for a single payload)
	Body   []byte
	Weight int
}

// What kind of failure a sample is (ErrorKind).
const (
	ErrorTimeout  = "timeout"  // the function ran out of time (Sandbox.Timedout)
	ErrorOOM      = "oom"      // the function ran out of memory (Runtime.OutOfMemory)
	ErrorFunction = "error"    // any other function error
	ErrorThrottle = "throttle" // the invocation was throttled (429)
	ErrorInvoke   = "invoke"   // the Invoke call itself failed
)

// schedule assigns n invocations to payloads in proportion to their weights,
// interleaved (smooth weighted round robin), and returns each invocation's
// payload index. Every payload gets floor or ceil of its share.
func schedule(ps []Payload, n int) []int {
	out := make([]int, n)
	if len(ps) <= 1 {
		return out
	}
	total := 0
	for _, p := range ps {
		total += p.Weight
	}
	cur := make([]int, len(ps))
	for i := range n {
		best := 0
		for j, p := range ps {
			cur[j] += p.Weight
			if cur[j] > cur[best] {
				best = j
			}
		}
		cur[best] -= total
		out[i] = best
	}
	return out
}

// errorKind classifies a function error by its errorType and the REPORT
// line's status.
func errorKind(errorType string, timedOut bool) string {
	switch {
	case timedOut || errorType == "Sandbox.Timedout":
		return ErrorTimeout
	case errorType == "Runtime.OutOfMemory":
		return ErrorOOM
	}
	return ErrorFunction
}

// anyResponse completes a sample of a function whose response is not the
// bcrypt handler's: success is a response without a function error, and
// the duration must come from the REPORT line.
func anyResponse(s Sample, out *lambda.InvokeOutput, timedOut bool, notes []string) Sample {
	if out.FunctionError != nil {
		var e struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		_ = json.Unmarshal(out.Payload, &e)
		msg := e.ErrorMessage
		if msg == "" {
			msg = strings.TrimSpace(string(out.Payload))
		}
		if e.ErrorType != "" {
			msg = e.ErrorType + ": " + msg
		}
		s.Error = fmt.Sprintf("function error (%s): %.300s", aws.ToString(out.FunctionError), msg)
		s.ErrorKind = errorKind(e.ErrorType, timedOut)
		return s
	}
	s.OK = true
	if math.IsNaN(s.DurationMs) {
		s.OK = false
		s.ErrorKind = ErrorInvoke
		notes = append(notes, "the log tail has no REPORT line: no duration")
	}
	if len(notes) > 0 {
		s.Error = fmt.Sprint(notes)
	}
	return s
}
