package bcryptbatch

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestDecodeDefaultsAndTrimming(t *testing.T) {
	req, err := Decode([]byte(" \n{\"mode\":\"auto\",\"count\":1000}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if req != (Request{Count: 1000, Mode: Auto, Cost: DefaultCost}) {
		t.Fatalf("got %+v", req)
	}
}

func TestPassword(t *testing.T) {
	for i, want := range map[int]string{0: "password_000000", 42: "password_000042", 999: "password_000999"} {
		if got := string(Password(i)); got != want {
			t.Errorf("Password(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestClampWorkers(t *testing.T) {
	for in, want := range map[int]int{-5: 1, 0: 1, 1: 1, 4: 4, 6: 6, 7: 6, 64: 6} {
		if got := ClampWorkers(in); got != want {
			t.Errorf("ClampWorkers(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestRunModes(t *testing.T) {
	tests := []struct {
		name        string
		cfgWorkers  int
		req         Request
		wantMode    Mode
		wantWorkers int
	}{
		{"parallel uses the pool", 2, Request{Count: 8, Mode: Parallel, Cost: 4}, Parallel, 2},
		{"pool no larger than the batch", 6, Request{Count: 3, Mode: Parallel, Cost: 4}, Parallel, 3},
		{"sequential uses one worker", 4, Request{Count: 3, Mode: Sequential, Cost: 4}, Sequential, 1},
		{"auto with a pool is parallel", 2, Request{Count: 2, Mode: Auto, Cost: 4}, Parallel, 2},
		{"auto with one worker is sequential", 1, Request{Count: 2, Mode: Auto, Cost: 4}, Sequential, 1},
		{"parallel with one worker", 1, Request{Count: 2, Mode: Parallel, Cost: 4}, Parallel, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Config{Workers: tt.cfgWorkers, DetectedCPUs: 3}, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Mode != tt.wantMode || res.Workers != tt.wantWorkers || res.Processed != tt.req.Count {
				t.Fatalf("got mode %s workers %d processed %d, want %s %d %d",
					res.Mode, res.Workers, res.Processed, tt.wantMode, tt.wantWorkers, tt.req.Count)
			}
			if res.ThreadsUsed < 1 || (res.Workers <= runtime.GOMAXPROCS(0) && res.ThreadsUsed > res.Workers) {
				t.Errorf("threads_used %d outside 1..%d", res.ThreadsUsed, res.Workers)
			}
			if res.DetectedCPUs != 3 || res.Cost != 4 || res.GoVersion != runtime.Version() || res.Arch != runtime.GOARCH ||
				res.GOMAXPROCS != runtime.GOMAXPROCS(0) || res.MemoryUsedKB <= 0 || res.DurationMS <= 0 {
				t.Errorf("unexpected fields: %+v", res)
			}
		})
	}
}

// TestRunThreads checks that a parallel batch whose pool fits in GOMAXPROCS
// hashes on exactly as many OS threads as it has workers (each locked to its
// own), and that a larger pool runs unlocked and reports the threads it used.
func TestRunThreads(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	tests := []struct {
		name       string
		workers    int
		exact      bool
		minThreads int
	}{
		{name: "pool fits GOMAXPROCS: locked", workers: min(procs, MaxWorkers), exact: true},
		{name: "pool larger than GOMAXPROCS: unlocked", workers: min(procs+1, MaxWorkers), exact: procs+1 > MaxWorkers, minThreads: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Config{Workers: tt.workers}, Request{Count: 30, Mode: Parallel, Cost: 4})
			if err != nil {
				t.Fatal(err)
			}
			if res.Processed != 30 || res.Workers != tt.workers {
				t.Fatalf("processed %d with %d workers", res.Processed, res.Workers)
			}
			if tt.exact && res.ThreadsUsed != tt.workers {
				t.Fatalf("threads_used = %d, want %d (one locked thread per worker)", res.ThreadsUsed, tt.workers)
			}
			if !tt.exact && res.ThreadsUsed < tt.minThreads {
				t.Fatalf("threads_used = %d, want at least %d", res.ThreadsUsed, tt.minThreads)
			}
			if res.CPUMS <= 0 || res.Parallelism <= 0 {
				t.Fatalf("cpu_ms %v parallelism %v, want > 0", res.CPUMS, res.Parallelism)
			}
		})
	}
}

func TestRunConcurrentBatches(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			res, err := Run(context.Background(), Config{Workers: 2}, Request{Count: 4, Mode: Parallel, Cost: 4})
			if err == nil && res.Processed != 4 {
				err = errors.New("processed != 4")
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Workers: 2}, Request{Count: 10, Mode: Parallel, Cost: 4})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "batch stopped after 0 of 10 items") {
		t.Fatalf("got %v", err)
	}
}

// TestHashesVerify makes sure the items hashed are the ones the contract names.
func TestHashesVerify(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword(Password(7), 4)
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword(h, []byte("password_000007")) != nil {
		t.Fatal("hash does not verify")
	}
}
