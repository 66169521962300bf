package load

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// noRetry turns off the SDK's retries, so a throttle or a failure is
// measured and recorded instead of being hidden by a retry.
func noRetry(o *lambda.Options) { o.Retryer = aws.NopRetryer{} }

// invoke sends r's invocation through the Invoke API (RequestResponse):
// Status is the Invoke API's HTTP status (200, or the status of its error,
// 429 for a throttle); a function error (X-Amz-Function-Error) is recorded
// in Error as "function error: Unhandled". With LogTail the REPORT line of
// the log tail gives Duration and BilledMs.
func (a *attacker) invoke(ctx, rctx context.Context, r *Result) bool {
	f := a.ep.Function
	in := &lambda.InvokeInput{FunctionName: aws.String(f.Name), Payload: f.Payload}
	if len(in.Payload) == 0 {
		in.Payload = []byte("{}")
	}
	if f.LogTail {
		in.LogType = types.LogTypeTail
	}
	r.Lag = max(0, a.now()-r.Elapsed)
	out, err := a.o.Invoker.Invoke(rctx, in, noRetry)
	r.Latency = a.now() - r.Elapsed
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
			// The API answered with an error: a throttle (429) or another
			// 4xx/5xx, classified by its status like an HTTP answer.
			r.Status = re.HTTPStatusCode()
			return true
		}
		r.Error = shortError(err)
		if errors.Is(rctx.Err(), context.DeadlineExceeded) {
			r.Error = "timeout"
		}
		return true
	}
	r.Status = int(out.StatusCode)
	if out.FunctionError != nil {
		r.Error = FunctionErrorPrefix + *out.FunctionError
	}
	if out.LogResult != nil {
		if b, err := base64.StdEncoding.DecodeString(*out.LogResult); err == nil {
			r.DurationMs, r.BilledMs = parseReport(b)
		}
	}
	if a.ep.Hello && out.FunctionError == nil {
		r.parseHelloInvoke(out.Payload)
	}
	return true
}

// FunctionErrorPrefix starts the Error of an invocation the function
// answered with an error (X-Amz-Function-Error).
const FunctionErrorPrefix = "function error: "

var (
	reportDuration = regexp.MustCompile(`(?m)^REPORT .*?\tDuration: ([0-9.]+) ms`)
	reportBilled   = regexp.MustCompile(`(?m)^REPORT .*?\tBilled Duration: ([0-9.]+) ms`)
)

// parseReport reads Duration and Billed Duration (ms) from the REPORT line
// of a log tail; zeros when there is none.
func parseReport(log []byte) (duration, billed float64) {
	if m := reportDuration.FindSubmatch(log); m != nil {
		duration, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := reportBilled.FindSubmatch(log); m != nil {
		billed, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	return duration, billed
}

// parseHelloInvoke reads the hello fields from an invocation's payload: an
// API Gateway proxy response whose body is the hello JSON, or the hello
// JSON itself.
func (r *Result) parseHelloInvoke(payload []byte) {
	var proxy struct {
		Body string `json:"body"`
	}
	if json.Unmarshal(payload, &proxy) == nil && proxy.Body != "" {
		r.parseHello([]byte(proxy.Body))
		return
	}
	r.parseHello(payload)
}
