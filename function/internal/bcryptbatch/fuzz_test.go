package bcryptbatch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeRequest checks that any body either decodes to a request within
// the contract or is rejected with an *InvalidRequestError, never a panic.
// Seeds: testdata/fuzz/FuzzDecodeRequest plus the contract fixtures.
func FuzzDecodeRequest(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/bcrypt/*.request.json")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Decode(body)
		if err != nil {
			var invalid *InvalidRequestError
			if !errors.As(err, &invalid) || invalid.Msg == "" {
				t.Fatalf("error %v is not a clear *InvalidRequestError", err)
			}
			return
		}
		if req.Count < 1 || req.Count > MaxCount || req.Cost < MinCost || req.Cost > MaxCost {
			t.Fatalf("accepted out-of-range request %+v", req)
		}
		switch req.Mode {
		case Parallel, Sequential, Auto:
		default:
			t.Fatalf("accepted unknown mode %q", req.Mode)
		}
	})
}
