// Package initerror reports a failed initialisation to the Lambda Runtime API
// (POST /2018-06-01/runtime/init/error), which aws-lambda-go does not expose.
// Lambda then fails the pending invocation with this error instead of a bare
// Runtime.ExitError.
package initerror

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Report posts {"errorMessage": msg, "errorType": errType} to the init error
// endpoint of the Runtime API at api (host:port, the value of
// AWS_LAMBDA_RUNTIME_API). The caller should exit afterwards.
func Report(ctx context.Context, api, errType, msg string) error {
	body, err := json.Marshal(map[string]any{
		"errorMessage": msg,
		"errorType":    errType,
		"stackTrace":   []string{},
	})
	if err != nil {
		return fmt.Errorf("encode init error: %w", err)
	}
	url := "http://" + api + "/2018-06-01/runtime/init/error"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build init error request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post init error: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("post init error: runtime API answered %s", resp.Status)
	}
	return nil
}
