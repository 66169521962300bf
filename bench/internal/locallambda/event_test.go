package locallambda

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// A throttled Event invocation is not dropped: it is tried again, as Lambda retries it, and
// runs once the function has room.
func TestThrottledEventIsRetried(t *testing.T) {
	saved := eventRetry
	eventRetry.first, eventRetry.max = 5*time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() { eventRetry = saved })

	var mu sync.Mutex
	var logs []string
	spec := fakeSpec("one")
	spec.ReservedConcurrency = 1
	s := start(t, Config{Functions: []FunctionSpec{spec}, Logf: func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, a...))
	}})
	c := client(s)
	ctx := context.Background()

	// Hold the only environment with a slow synchronous invocation.
	busy := make(chan error, 1)
	go func() {
		_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("one"), Payload: []byte(`{"action":"sleep","ms":1500}`)})
		busy <- err
	}()
	waitFor(t, 10*time.Second, "the slow invocation to hold the environment", func() bool {
		s.functions["one"].mu.Lock()
		defer s.functions["one"].mu.Unlock()
		return s.functions["one"].inFlight == 1
	})
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("one"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"action":"echo"}`)})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("Event: %v %v", out, err)
	}
	if err := <-busy; err != nil {
		t.Fatalf("slow invocation: %v", err)
	}
	waitFor(t, 10*time.Second, "the throttled event to run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range logs {
			if strings.Contains(l, "ran after") && strings.Contains(l, "throttled attempts") {
				return true
			}
		}
		return false
	})
	mu.Lock()
	defer mu.Unlock()
	for _, l := range logs {
		if strings.Contains(l, "dropped") {
			t.Errorf("an event was dropped: %s", l)
		}
	}
}
