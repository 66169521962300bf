// Command envreport is a test-only Lambda function (aws-lambda-go) that reports what it is
// given: its environment variables, its lambdacontext, and what the Lambda metadata endpoint
// answers. The tests run it under the local Lambda and under AWS's Runtime Interface Emulator
// and compare.
//
// The event {"action": "error"} returns a function error, {"action": "sleep", "ms": N} sleeps N ms
// (past the timeout, it times out), {"action": "expect", "key": K} fails unless AWS_ACCESS_KEY_ID
// is K and the metadata endpoint answers; anything else reports.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action string `json:"action"`
	MS     int    `json:"ms"`
	Key    string `json:"key"`
}

// report is what the function sees.
type report struct {
	Env     map[string]string `json:"env"`
	Context struct {
		RequestID          string `json:"request_id"`
		InvokedFunctionArn string `json:"invoked_function_arn"`
		FunctionName       string `json:"function_name"`
		FunctionVersion    string `json:"function_version"`
		MemoryLimitInMB    int    `json:"memory_limit_in_mb"`
		LogGroupName       string `json:"log_group_name"`
		LogStreamName      string `json:"log_stream_name"`
		DeadlineInMS       int64  `json:"deadline_in_ms"` // from now
	} `json:"context"`
	Metadata metadata `json:"metadata"`
}

// metadata is what the metadata endpoint answered, with the token and without it.
type metadata struct {
	Status         int    `json:"status"`
	Body           string `json:"body"`
	CacheControl   string `json:"cache_control"`
	ContentType    string `json:"content_type"`
	NoTokenStatus  int    `json:"no_token_status"`
	BadTokenStatus int    `json:"bad_token_status"`
	PostStatus     int    `json:"post_status"`
	Error          string `json:"error,omitempty"`
}

func handle(ctx context.Context, e event) (report, error) {
	switch e.Action {
	case "error":
		return report{}, errors.New("envreport: the error asked for")
	case "sleep":
		// Past the deadline too, as a handler stuck in its work does.
		time.Sleep(time.Duration(e.MS) * time.Millisecond)
	}
	var r report
	r.Env = map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		r.Env[k] = v
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.Context.RequestID = lc.AwsRequestID
		r.Context.InvokedFunctionArn = lc.InvokedFunctionArn
	}
	r.Context.FunctionName = lambdacontext.FunctionName
	r.Context.FunctionVersion = lambdacontext.FunctionVersion
	r.Context.MemoryLimitInMB = lambdacontext.MemoryLimitInMB
	r.Context.LogGroupName = lambdacontext.LogGroupName
	r.Context.LogStreamName = lambdacontext.LogStreamName
	if d, ok := ctx.Deadline(); ok {
		r.Context.DeadlineInMS = time.Until(d).Milliseconds()
	}
	r.Metadata = readMetadata(ctx)
	if e.Action == "expect" {
		if got := os.Getenv("AWS_ACCESS_KEY_ID"); got != e.Key {
			return r, fmt.Errorf("envreport: AWS_ACCESS_KEY_ID is %q, want %q", got, e.Key)
		}
		if r.Metadata.Status != http.StatusOK {
			return r, fmt.Errorf("envreport: the metadata endpoint answered %d (%s)", r.Metadata.Status, r.Metadata.Error)
		}
	}
	return r, nil
}

// readMetadata calls the metadata endpoint as AWS documents it, then without the token, with a
// wrong one and with POST.
func readMetadata(ctx context.Context) metadata {
	var m metadata
	api, token := os.Getenv("AWS_LAMBDA_METADATA_API"), os.Getenv("AWS_LAMBDA_METADATA_TOKEN")
	if api == "" {
		m.Error = "no AWS_LAMBDA_METADATA_API"
		return m
	}
	url := "http://" + api + "/2026-01-15/metadata/execution-environment"
	call := func(method, auth string) (*http.Response, string, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		if err != nil {
			return nil, "", err
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	resp, body, err := call(http.MethodGet, "Bearer "+token)
	if err != nil {
		m.Error = err.Error()
		return m
	}
	m.Status, m.Body = resp.StatusCode, body
	m.CacheControl, m.ContentType = resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type")
	if resp, _, err := call(http.MethodGet, ""); err == nil {
		m.NoTokenStatus = resp.StatusCode
	}
	if resp, _, err := call(http.MethodGet, "Bearer wrong-"+token); err == nil {
		m.BadTokenStatus = resp.StatusCode
	}
	if resp, _, err := call(http.MethodPost, "Bearer "+token); err == nil {
		m.PostStatus = resp.StatusCode
	}
	return m
}

func main() {
	lambda.Start(handle)
}
