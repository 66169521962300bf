package locallambda

import (
	"context"
	"errors"
	"time"
)

// Asynchronous (Event) invocations as Lambda runs them: a throttled event goes back to the
// queue and is tried again, the interval growing exponentially from 1 s up to 5 min, until it
// runs or is older than the maximum event age (6 hours by default); only then is it dropped.
const (
	eventRetryFirst  = time.Second
	eventRetryMax    = 5 * time.Minute
	eventMaxEventAge = 6 * time.Hour
)

// eventRetry is the schedule of retries of throttled events (a variable so that tests can
// shorten it).
var eventRetry = struct{ first, max, maxAge time.Duration }{eventRetryFirst, eventRetryMax, eventMaxEventAge}

// runEvent runs inv in the background until it ran, the server closed, or it grew older than
// the maximum event age; every outcome but success is logged.
func (s *Server) runEvent(ctx context.Context, f *function, inv *invocation) {
	queued := time.Now()
	wait, throttles := eventRetry.first, 0
	for {
		_, err := f.invoke(ctx, inv)
		switch {
		case err == nil:
			if throttles > 0 {
				s.logf("%s: asynchronous invocation %s ran after %d throttled attempts", f.spec0.Name, inv.id, throttles)
			}
			return
		case !errors.Is(err, errThrottled):
			s.logf("%s: asynchronous invocation %s: %v", f.spec0.Name, inv.id, err)
			return
		}
		throttles++
		if time.Since(queued)+wait > eventRetry.maxAge {
			s.logf("%s: asynchronous invocation %s dropped: throttled %d times, older than the maximum event age %v",
				f.spec0.Name, inv.id, throttles, eventRetry.maxAge)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.logf("%s: asynchronous invocation %s not run: the local Lambda stopped while it waited after %d throttles",
				f.spec0.Name, inv.id, throttles)
			return
		case <-t.C:
		}
		wait = min(2*wait, eventRetry.max)
	}
}
