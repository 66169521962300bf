package contract

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// original is function/testdata, from which testdata/ is copied.
func original(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../../function/testdata")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the contract fixtures are copies of %s, which is missing: %v", dir, err)
	}
	return dir
}

func TestFixturesMatchTheFunction(t *testing.T) {
	orig := original(t)
	for _, sub := range []string{"bcrypt", "hello"} {
		want, err := os.ReadDir(filepath.Join(orig, sub))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadDir(filepath.Join("testdata", sub))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d fixtures here, %d in function/testdata: copy them again (cp -r function/testdata/%s bench/internal/contract/testdata/)", sub, len(got), len(want), sub)
		}
		for _, e := range want {
			a, err := os.ReadFile(filepath.Join(orig, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join("testdata", sub, e.Name()))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s/%s differs from function/testdata (or is missing: %v): copy it again", sub, e.Name(), err)
			}
		}
	}
}

func fixtures(t *testing.T, sub string) map[string][2][]byte {
	t.Helper()
	reqs, err := filepath.Glob(filepath.Join("testdata", sub, "*.request.json"))
	if err != nil || len(reqs) == 0 {
		t.Fatalf("no fixtures in testdata/%s: %v", sub, err)
	}
	out := map[string][2][]byte{}
	for _, r := range reqs {
		name := strings.TrimSuffix(filepath.Base(r), ".request.json")
		req, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := os.ReadFile(strings.TrimSuffix(r, ".request.json") + ".expected.json")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = [2][]byte{req, exp}
	}
	return out
}

func TestBcryptRequestsAsTheFunctionJudgesThem(t *testing.T) {
	for name, f := range fixtures(t, "bcrypt") {
		t.Run(name, func(t *testing.T) {
			var want struct {
				FunctionError
				Processed *int   `json:"processed"`
				Mode      string `json:"mode"`
				Cost      *int   `json:"cost"`
			}
			if err := json.Unmarshal(f[1], &want); err != nil {
				t.Fatal(err)
			}
			req, err := ParseBcryptRequest(f[0])
			if want.ErrorType != "" {
				if err == nil || err.Error() != want.ErrorMessage {
					t.Fatalf("ParseBcryptRequest(%s) = %v, want the function's error %q", f[0], err, want.ErrorMessage)
				}
				return
			}
			if err != nil || want.Processed == nil || req.Count != *want.Processed || (want.Cost != nil && req.Cost != *want.Cost) {
				t.Fatalf("ParseBcryptRequest(%s) = %+v, %v; the function answered %s", f[0], req, err, f[1])
			}
			resp, _, err := DecodeBcrypt(f[1], false)
			if err != nil || resp.Processed == nil || int(*resp.Processed) != req.Count || resp.Mode != want.Mode {
				t.Fatalf("DecodeBcrypt(%s) = %+v, %v", f[1], resp, err)
			}
		})
	}
}

func TestHelloAnswers(t *testing.T) {
	for name, f := range fixtures(t, "hello") {
		t.Run(name, func(t *testing.T) {
			var want struct {
				StatusCode int             `json:"statusCode"`
				Body       json.RawMessage `json:"body"`
			}
			if err := json.Unmarshal(f[1], &want); err != nil {
				t.Fatal(err)
			}
			r, e, err := DecodeHello(want.StatusCode, want.Body)
			if err != nil {
				t.Fatal(err)
			}
			if want.StatusCode == 200 && (r.Message != "Hello World!" || r.HashLoops == nil || r.Cold == nil || len(r.Hash) != 64) {
				t.Fatalf("200 answer decoded as %+v", r)
			}
			if want.StatusCode != 200 && e.Error == "" {
				t.Fatalf("%d answer without an error", want.StatusCode)
			}
		})
	}
	if _, _, err := DecodeHello(400, []byte(`{"message":"x"}`)); err == nil {
		t.Fatal("an error answer without an error field must not decode")
	}
}
