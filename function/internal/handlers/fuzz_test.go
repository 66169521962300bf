package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"lambdabench/function/internal/hello"
)

// FuzzDecodeHelloEvent checks that any payload either decodes to parameters
// within the contract's bounds or is rejected with a 400, never a panic.
// Seeds: testdata/fuzz/FuzzDecodeHelloEvent plus the contract fixtures.
func FuzzDecodeHelloEvent(f *testing.F) {
	for _, fx := range loadFixtures(f, "hello") {
		f.Add(fx.request)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		p, err := DecodeHelloEvent(payload)
		if err == nil {
			if p.DelayMS < 0 || p.DelayMS > hello.MaxDelayMS || p.HashLoops < 0 || p.HashLoops > hello.MaxHashLoops {
				t.Fatalf("accepted out-of-range params %+v", p)
			}
			return
		}
		var invalid *hello.InvalidParamError
		if !errors.As(err, &invalid) && err.Error() == "" {
			t.Fatal("empty error message")
		}
		// The handler must turn every rejection into a 400 with a JSON error body.
		resp := Hello{Env: &hello.Environment{}}.Handle(context.Background(), payload)
		if resp.StatusCode != 400 {
			t.Fatalf("rejected payload answered %d, want 400 (%v)", resp.StatusCode, err)
		}
		var body map[string]string
		if json.Unmarshal([]byte(resp.Body), &body) != nil || body["error"] != err.Error() {
			t.Fatalf("400 body %q does not carry the error %q", resp.Body, err)
		}
	})
}
