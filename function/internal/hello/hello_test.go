package hello

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func ptr(s string) *string { return &s }

func TestChainHash(t *testing.T) {
	// Vectors computed independently (Python hashlib) from the contract's definition.
	vectors := map[int]string{
		0:     "0000000000000000000000000000000000000000000000000000000000000000",
		1:     "2c34ce1df23b838c5abf2a7f6437cca3d3067ed509ff25f11df6b11b582b51eb",
		2:     "69f51877729a7a5efa1024179760e87f6cc6f5cdfbf3d90ef0e6a97078000976",
		1000:  "1dd23b473a2498b287288a8ed80892dee2f4e53316ea5943618f985b9afb20ba",
		50000: "ac7ae76edac186bf64af6d07dfc7e0cf3df742bba5470882b2c695a23924a887",
	}
	for loops, want := range vectors {
		got, err := ChainHash(context.Background(), loops)
		if err != nil || got != want {
			t.Errorf("ChainHash(%d) = %s, %v; want %s", loops, got, err, want)
		}
	}
}

func TestChainHashCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ChainHash(ctx, MaxHashLoops); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		delay, loops *string
		want         Params
		wantErr      string
	}{
		{nil, nil, Params{}, ""},
		{ptr("15000"), ptr("1000000"), Params{15000, 1000000}, ""},
		{ptr("+5"), ptr("0"), Params{5, 0}, ""},
		{ptr("15001"), nil, Params{}, "delay_ms must be between 0 and 15000"},
		{ptr("-1"), nil, Params{}, "delay_ms must be between 0 and 15000"},
		{ptr(" 5"), nil, Params{}, "delay_ms must be an integer"},
		{ptr("0x10"), nil, Params{}, "delay_ms must be an integer"},
		{nil, ptr("1000001"), Params{}, "hash_loops must be between 0 and 1000000"},
		{nil, ptr("-99999999999999999999"), Params{}, "hash_loops must be between 0 and 1000000"},
		{nil, ptr("ten"), Params{}, "hash_loops must be an integer"},
	}
	for _, tt := range tests {
		got, err := ParseParams(tt.delay, tt.loops)
		var invalid *InvalidParamError
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("ParseParams(%v, %v) = %+v, %v; want %+v", deref(tt.delay), deref(tt.loops), got, err, tt.want)
		case tt.wantErr != "" && (!errors.As(err, &invalid) || err.Error() != tt.wantErr):
			t.Errorf("ParseParams(%v, %v) error = %v; want %q", deref(tt.delay), deref(tt.loops), err, tt.wantErr)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<absent>"
	}
	return *s
}

func TestColdAndConcurrent(t *testing.T) {
	var env Environment
	const n = 4
	var wg sync.WaitGroup
	results := make([]Result, n)
	for i := range n {
		wg.Go(func() {
			r, err := env.Run(context.Background(), Params{DelayMS: 200})
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	cold, maxConcurrent := 0, int64(0)
	for _, r := range results {
		if r.Cold {
			cold++
		}
		maxConcurrent = max(maxConcurrent, r.Concurrent)
	}
	if cold != 1 || maxConcurrent != n {
		t.Fatalf("cold invocations %d (want 1), max concurrent %d (want %d): %+v", cold, maxConcurrent, n, results)
	}
	r, err := env.Run(context.Background(), Params{})
	if err != nil || r.Cold || r.Concurrent != 1 {
		t.Fatalf("warm lone invocation: %+v %v", r, err)
	}
}

func TestRunFailsFastBeforeDeadline(t *testing.T) {
	var env Environment
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := env.Run(ctx, Params{DelayMS: 5000})
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("got %v, want ErrDeadline", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("took %v, want an immediate answer", d)
	}
}

func TestRunCancelledDuringDelay(t *testing.T) {
	var env Environment
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := env.Run(ctx, Params{DelayMS: 5000})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v, want a prompt context.Canceled", err, time.Since(start))
	}
}
