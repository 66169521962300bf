// Package handlers turns the workloads into Lambda handlers: it decodes the
// invocation payload, calls bcryptbatch or hello, and encodes the response or
// the error in the shape Lambda and API Gateway expect. Both handlers
// implement lambda.Handler (Invoke(ctx, payload) ([]byte, error)), so they see
// the raw payload and can answer malformed input with a clear message. Probe
// measures the environment's CPU throttling for bench calibrate.
package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"lambdabench/function/internal/bcryptbatch"
	"lambdabench/function/internal/hello"
	"lambdabench/function/internal/probe"
	"lambdabench/function/internal/procstat"
)

// Function error types (the errorType of a Lambda function error) returned by Bcrypt.
const (
	ErrorTypeInvalidRequest = "InvalidRequest"   // the request breaks the contract
	ErrorTypeTimeout        = "DeadlineExceeded" // the invocation deadline came first
	ErrorTypeCanceled       = "Canceled"         // the invocation was cancelled
	ErrorTypeBatch          = "BatchFailed"      // anything else (e.g. no randomness for salts)
)

// Bcrypt handles direct invocations of the bcrypt batch.
type Bcrypt struct {
	Config bcryptbatch.Config
}

// Invoke decodes a batch request, runs it and returns the JSON result. Every
// error is a messages.InvokeResponse_Error, which aws-lambda-go reports as is:
// the errorMessage of a bad request is exactly bcryptbatch's message.
func (h Bcrypt) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := bcryptbatch.Decode(payload)
	if err != nil {
		return nil, functionError(err)
	}
	res, err := bcryptbatch.Run(ctx, h.Config, req)
	if err != nil {
		return nil, functionError(err)
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, functionError(fmt.Errorf("encode result: %w", err))
	}
	return out, nil
}

func functionError(err error) messages.InvokeResponse_Error {
	var invalid *bcryptbatch.InvalidRequestError
	typ := ErrorTypeBatch
	switch {
	case errors.As(err, &invalid):
		typ = ErrorTypeInvalidRequest
	case errors.Is(err, context.DeadlineExceeded):
		typ = ErrorTypeTimeout
	case errors.Is(err, context.Canceled):
		typ = ErrorTypeCanceled
	}
	return messages.InvokeResponse_Error{Message: err.Error(), Type: typ}
}

// MaxEventBytes bounds the API Gateway event hello accepts; hello reads only
// the query string, so a larger event can only be a mistake.
const MaxEventBytes = 1 << 20

// Hello handles API Gateway REST proxy events for the hello workload.
type Hello struct {
	// Env tracks cold starts and in-flight invocations of this process.
	Env *hello.Environment
}

// Invoke decodes the proxy event and returns the JSON proxy response. It
// never returns an error: bad input is a 400, a deadline or cancellation
// that stops the work is a 504, anything else a 500, each with body
// {"error": "..."}.
func (h Hello) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := json.Marshal(h.Handle(ctx, payload))
	if err != nil {
		return nil, fmt.Errorf("encode proxy response: %w", err)
	}
	return out, nil
}

// Handle is Invoke before the response is encoded.
func (h Hello) Handle(ctx context.Context, payload []byte) events.APIGatewayProxyResponse {
	p, err := DecodeHelloEvent(payload)
	if err != nil {
		return jsonResponse(http.StatusBadRequest, errorBody{err.Error()})
	}
	res, err := h.Env.Run(ctx, p)
	switch {
	case err == nil:
		return jsonResponse(http.StatusOK, res)
	case errors.Is(err, hello.ErrDeadline), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return jsonResponse(http.StatusGatewayTimeout, errorBody{err.Error()})
	default:
		return jsonResponse(http.StatusInternalServerError, errorBody{err.Error()})
	}
}

// DecodeHelloEvent decodes an API Gateway REST proxy event and validates its
// delay_ms and hash_loops query parameters. Absent parameters (or an absent
// query string) mean 0; a repeated parameter counts with its first value.
// Errors are *hello.InvalidParamError with the contract's messages, or a
// description of why the payload is not a proxy event.
func DecodeHelloEvent(payload []byte) (hello.Params, error) {
	if len(payload) > MaxEventBytes {
		return hello.Params{}, fmt.Errorf("request too large: %d bytes (max %d)", len(payload), MaxEventBytes)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return hello.Params{}, fmt.Errorf("invalid API Gateway proxy event: %w", err)
	}
	return hello.ParseParams(queryParam(ev, "delay_ms"), queryParam(ev, "hash_loops"))
}

func queryParam(ev events.APIGatewayProxyRequest, name string) *string {
	if vs := ev.MultiValueQueryStringParameters[name]; len(vs) > 0 {
		return &vs[0]
	}
	if v, ok := ev.QueryStringParameters[name]; ok {
		return &v
	}
	return nil
}

type errorBody struct {
	Error string `json:"error"`
}

func jsonResponse(status int, body any) events.APIGatewayProxyResponse {
	b, err := json.Marshal(body)
	if err != nil { // cannot happen for the types above
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

// Probe is the probe handler: it spins for the requested wall time and
// answers how much CPU time it got and when it was paused (package probe).
type Probe struct{}

// Invoke runs one probe.
func (Probe) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	req, err := probe.Decode(payload)
	if err != nil {
		return nil, err
	}
	out, err := probe.Run(req, procstat.CPUTime)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}
