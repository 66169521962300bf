// Package hello is the I/O- and CPU-bound "hello world" workload: wait a
// while, then hash a chain of SHA-256 digests. It knows nothing about Lambda
// or API Gateway.
package hello

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// Limits of the query parameters.
const (
	MaxDelayMS   = 15000
	MaxHashLoops = 1_000_000
)

// Params are the validated query parameters of a request.
type Params struct {
	DelayMS   int
	HashLoops int
}

// InvalidParamError is returned by ParseParams; its message is meant for the
// caller as is.
type InvalidParamError struct{ Msg string }

func (e *InvalidParamError) Error() string { return e.Msg }

// ErrDeadline is returned by Run when the delay cannot finish before the
// invocation's deadline.
var ErrDeadline = errors.New("not enough time left before the invocation deadline")

// ParseParams validates the raw delay_ms and hash_loops values. A missing
// value (nil) means 0. Values must be decimal integers (an optional sign is
// accepted, as by strconv.ParseInt) within 0..MaxDelayMS and 0..MaxHashLoops.
func ParseParams(delayMS, hashLoops *string) (Params, error) {
	d, err := parseBounded("delay_ms", delayMS, MaxDelayMS)
	if err != nil {
		return Params{}, err
	}
	h, err := parseBounded("hash_loops", hashLoops, MaxHashLoops)
	if err != nil {
		return Params{}, err
	}
	return Params{DelayMS: d, HashLoops: h}, nil
}

func parseBounded(name string, raw *string, maxValue int) (int, error) {
	if raw == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(*raw, 10, 64)
	if err != nil {
		var numErr *strconv.NumError
		if !errors.As(err, &numErr) || numErr.Err != strconv.ErrRange {
			return 0, &InvalidParamError{Msg: name + " must be an integer"}
		}
		n = -1 // an integer, but far out of range
	}
	if n < 0 || n > int64(maxValue) {
		return 0, &InvalidParamError{Msg: fmt.Sprintf("%s must be between 0 and %d", name, maxValue)}
	}
	return int(n), nil
}

// ChainHash returns the hex SHA-256 chain: d = 32 zero bytes; for i in
// 0..loops-1: d = sha256(d || uint64 little-endian i).
func ChainHash(ctx context.Context, loops int) (string, error) {
	var buf [sha256.Size + 8]byte
	var d [sha256.Size]byte
	for i := range loops {
		if i&0xffff == 0xffff {
			if err := ctx.Err(); err != nil {
				return "", fmt.Errorf("hash loop %d of %d: %w", i, loops, err)
			}
		}
		copy(buf[:sha256.Size], d[:])
		binary.LittleEndian.PutUint64(buf[sha256.Size:], uint64(i))
		d = sha256.Sum256(buf[:])
	}
	return hex.EncodeToString(d[:]), nil
}

// Result is the 200 response body. Field names are the JSON contract.
type Result struct {
	Message    string `json:"message"`
	DelayMS    int    `json:"delay_ms"`
	HashLoops  int    `json:"hash_loops"`
	Hash       string `json:"hash"`
	Cold       bool   `json:"cold"`
	Concurrent int64  `json:"concurrent"`
}

// Environment tracks the invocations of one process (one Lambda execution
// environment). Its counters are atomic, so one Environment serves any number
// of concurrent invocations. The zero value is ready to use.
type Environment struct {
	started  atomic.Bool
	inFlight atomic.Int64
}

// Run performs one invocation: it sleeps p.DelayMS, then computes ChainHash.
// When ctx's deadline would pass before the delay ends, Run does not sleep at
// all and returns an error wrapping ErrDeadline at once; when ctx is cancelled
// or its deadline passes during the work, Run returns promptly with an error
// wrapping ctx.Err(). Cold is true for the first invocation of the
// Environment; Concurrent counts the invocations in flight in it when this one
// started, this one included.
func (e *Environment) Run(ctx context.Context, p Params) (Result, error) {
	cold := e.started.CompareAndSwap(false, true)
	concurrent := e.inFlight.Add(1)
	defer e.inFlight.Add(-1)

	if err := sleep(ctx, time.Duration(p.DelayMS)*time.Millisecond); err != nil {
		return Result{}, fmt.Errorf("delay of %d ms: %w", p.DelayMS, err)
	}
	hash, err := ChainHash(ctx, p.HashLoops)
	if err != nil {
		return Result{}, err
	}
	return Result{
		Message:    "Hello World!",
		DelayMS:    p.DelayMS,
		HashLoops:  p.HashLoops,
		Hash:       hash,
		Cold:       cold,
		Concurrent: concurrent,
	}, nil
}

// sleep waits for d, or returns an error wrapping ErrDeadline at once when
// ctx's deadline is less than d away, or ctx.Err() as soon as ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return fmt.Errorf("%w (%v left)", ErrDeadline, time.Until(deadline).Round(time.Millisecond))
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
