package locallambda

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// publishLatest publishes lmi to $LATEST.PUBLISHED, waits until it is Active and returns it.
func publishLatest(t *testing.T, s *Server, c *lambda.Client) *function {
	t.Helper()
	ctx := context.Background()
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi"),
		PublishTo: types.FunctionVersionLatestPublishedLatestPublished}); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "lmi", latestPublished, types.StateActive)
	f, _, _ := s.lookup("lmi", latestPublished)
	return f
}

// A former $LATEST.PUBLISHED version is dropped once its environments are gone; an invocation
// that resolved it just before runs on the version that serves now.
func TestFormerLatestPublishedDropped(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi")},
		Scaling: Scaling{Interval: 20 * time.Millisecond, StartDelay: -1}})
	c := client(s)
	first := publishLatest(t, s, c)
	second := publishLatest(t, s, c)
	if first == second || !first.isDraining() {
		t.Fatalf("the first version is not draining")
	}
	waitFor(t, 10*time.Second, "the former version to be dropped", func() bool {
		s.registry.mu.Lock()
		defer s.registry.mu.Unlock()
		return len(s.registry.of("lmi").draining) == 0
	})
	first.mu.Lock()
	pruned := first.pruned
	first.mu.Unlock()
	if !pruned {
		t.Fatal("dropped but not pruned")
	}
	if got := s.servingOf("lmi"); got != second {
		t.Fatalf("serving %p, want the second version %p", got, second)
	}
	inv := newInvocation(FunctionARN("lmi"), []byte(`{}`), false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := first.invoke(ctx, inv); err != nil {
		t.Fatalf("invoking the dropped version: %v", err)
	}
	if inv.env == nil || inv.env.f != second {
		t.Errorf("the invocation of the dropped version did not run on the serving one")
	}
}

// A published version's scaling events are not kept for a timeline nobody samples; $LATEST's
// still reach its Timeline.
func TestVersionScalingEventsNotAccumulated(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi")},
		Scaling: Scaling{Interval: time.Hour, StartDelay: time.Hour}})
	c := client(s)
	ctx := context.Background()
	v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi")})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "lmi", aws.ToString(v.Version), types.StateActive)
	vf, _, _ := s.lookup("lmi", aws.ToString(v.Version))
	base := s.functions["lmi"]
	for _, f := range []*function{vf, base} {
		f.mu.Lock()
		f.sc.throttles = 1 // saturated: the next decision scales out
		f.mu.Unlock()
		f.scaleStep(time.Now())
	}
	vf.mu.Lock()
	events, win := len(vf.sc.events), len(vf.win.events)
	vf.mu.Unlock()
	if events != 1 || win != 0 {
		t.Errorf("version: %d scaling events, %d in its unsampled window; want 1 and 0", events, win)
	}
	if got := s.ScalingEvents("lmi"); len(got) != 1 {
		t.Errorf("$LATEST: %d scaling events, want 1", len(got))
	}
	waitFor(t, 5*time.Second, "$LATEST's event in its timeline", func() bool {
		for _, smp := range s.Timeline("lmi") {
			if len(smp.Events) > 0 {
				return true
			}
		}
		return false
	})
}

// ReadyEnvironments counts the ready environments without reading their CPU time; VersionUsage
// reads the used time only.
func TestVersionUsageAndReady(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi")}})
	waitFor(t, 10*time.Second, "the minimum environment to be ready", func() bool { return s.ReadyEnvironments("lmi", "") == 1 })
	if n, cpu := s.VersionUsage("lmi", "$LATEST"); n != 1 || cpu < 0 {
		t.Errorf("VersionUsage: %d environments, %v", n, cpu)
	}
	if n := s.ReadyEnvironments("lmi", "7"); n != 0 {
		t.Errorf("ReadyEnvironments of an unknown version: %d", n)
	}
	if n, cpu := s.VersionUsage("nope", ""); n != 0 || cpu != 0 {
		t.Errorf("VersionUsage of an unknown function: %d, %v", n, cpu)
	}
}

// Concurrent PutFunctionScalingConfig calls that each set one bound both take effect: the merge
// with the other bound happens under the version's lock. A minimum above the maximum changes
// nothing.
func TestSetScalingMergesAtomically(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi")}})
	c := client(s)
	v, err := c.PublishVersion(context.Background(), &lambda.PublishVersionInput{FunctionName: aws.String("lmi")})
	if err != nil {
		t.Fatal(err)
	}
	vf, _, _ := s.lookup("lmi", aws.ToString(v.Version))
	for i := range 20 {
		lo, hi := 1+i%2, 4+i
		done := make(chan error, 2)
		go func() { _, _, _, _, err := vf.setScaling(&lo, nil); done <- err }()
		go func() { _, _, _, _, err := vf.setScaling(nil, &hi); done <- err }()
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		vf.mu.Lock()
		gotMin, gotMax := vf.requestedMin, vf.requestedMax
		vf.mu.Unlock()
		if gotMin != lo || gotMax != hi {
			t.Fatalf("round %d: requested %d to %d, want %d to %d", i, gotMin, gotMax, lo, hi)
		}
	}
	high := 100
	if _, _, _, _, err := vf.setScaling(&high, nil); err == nil {
		t.Error("a minimum above the maximum was accepted")
	}
	vf.mu.Lock()
	gotMin := vf.requestedMin
	vf.mu.Unlock()
	if gotMin == high {
		t.Error("a refused minimum was applied")
	}
}

// A Failed version refuses invocations (synchronous, Event and DryRun) as a Pending one does.
func TestFailedVersionRefusesInvocations(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi")}})
	c := client(s)
	ctx := context.Background()
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("lmi"),
		Environment: &types.Environment{Variables: map[string]string{"FAKE_INIT": "fail"}}}); err != nil {
		t.Fatal(err)
	}
	v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi")})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "lmi", aws.ToString(v.Version), types.StateFailed)
	for _, typ := range []types.InvocationType{types.InvocationTypeRequestResponse, types.InvocationTypeEvent, types.InvocationTypeDryRun} {
		var conflict *types.ResourceConflictException
		_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("lmi"), Qualifier: v.Version, InvocationType: typ, Payload: []byte(`{}`)})
		if !errors.As(err, &conflict) {
			t.Errorf("%s invocation of a Failed version: %v, want ResourceConflictException", typ, err)
		}
	}
}

// A Pending version deleted before its environments are ready is not made Active afterwards.
func TestDeletedPendingVersionNotActivated(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi")}})
	c := client(s)
	ctx := context.Background()
	gate := filepath.Join(t.TempDir(), "never")
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("lmi"),
		Environment: &types.Environment{Variables: map[string]string{"FAKE_INIT_WAIT_FILE": gate}}}); err != nil {
		t.Fatal(err)
	}
	v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi")})
	if err != nil {
		t.Fatal(err)
	}
	vf, _, _ := s.lookup("lmi", aws.ToString(v.Version))
	waitFor(t, 10*time.Second, "the version's environment to start", func() bool {
		live, _ := liveOf(t, s, "lmi", aws.ToString(v.Version))
		return len(live) == 1
	})
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("lmi"), Qualifier: v.Version}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // activate has seen its environment exit
	if st := vf.currentState(); st != statePending {
		t.Errorf("the deleted version is %s, want it left Pending", st)
	}
}

// A version published from a $LATEST allowing more than MaxVersionEnvironments applies the cap
// (and keeps the requested bounds); a scaling config of a missing version is not found.
func TestPublishCapsScaling(t *testing.T) {
	spec := lmiFakeSpec("lmi")
	spec.MaxEnvironments = MaxVersionEnvironments + 36
	s := start(t, Config{Functions: []FunctionSpec{spec}})
	c := client(s)
	ctx := context.Background()
	for _, in := range []*lambda.PublishVersionInput{
		{FunctionName: aws.String("lmi")},
		{FunctionName: aws.String("lmi"), PublishTo: types.FunctionVersionLatestPublishedLatestPublished},
	} {
		v, err := c.PublishVersion(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("lmi"), Qualifier: v.Version})
		if err != nil {
			t.Fatal(err)
		}
		if a, r := got.AppliedFunctionScalingConfig, got.RequestedFunctionScalingConfig; aws.ToInt32(a.MaxExecutionEnvironments) != MaxVersionEnvironments ||
			aws.ToInt32(r.MaxExecutionEnvironments) != int32(spec.MaxEnvironments) || aws.ToInt32(a.MinExecutionEnvironments) != 1 {
			t.Errorf("version %s: applied %d to %d, requested %d to %d", aws.ToString(v.Version),
				aws.ToInt32(a.MinExecutionEnvironments), aws.ToInt32(a.MaxExecutionEnvironments),
				aws.ToInt32(r.MinExecutionEnvironments), aws.ToInt32(r.MaxExecutionEnvironments))
		}
		vf, _, _ := s.lookup("lmi", aws.ToString(v.Version))
		if m := vf.currentSpec().MaxEnvironments; m != MaxVersionEnvironments {
			t.Errorf("version %s scales up to %d environments", aws.ToString(v.Version), m)
		}
	}
	_, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("lmi"), Qualifier: aws.String("9")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.Message) != "Function not found: "+FunctionARN("lmi")+":9" {
		t.Errorf("scaling config of a missing version: %v", err)
	}
}
