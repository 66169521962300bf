package capacity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

const arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp"

// fakeEC2 answers DescribeInstances with counts[i] instances on call i (the
// last count repeats), split over two pages.
type fakeEC2 struct {
	counts []int
	calls  int
	inputs []*ec2.DescribeInstancesInput
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.inputs = append(f.inputs, in)
	n := f.counts[min(f.calls, len(f.counts)-1)]
	if in.NextToken == nil {
		// First page: half the instances, and a token for the rest.
		return &ec2.DescribeInstancesOutput{
			Reservations: []ec2types.Reservation{{Instances: make([]ec2types.Instance, n/2)}},
			NextToken:    aws.String("more"),
		}, nil
	}
	f.calls++
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: make([]ec2types.Instance, n-n/2)}}}, nil
}

func TestCountInstances(t *testing.T) {
	f := &fakeEC2{counts: []int{5}}
	n, err := CountInstances(context.Background(), f, arn)
	if err != nil || n != 5 {
		t.Fatalf("CountInstances = %d, %v; want 5", n, err)
	}
	in := f.inputs[0]
	if len(in.Filters) != 2 || aws.ToString(in.Filters[0].Name) != "tag:aws:lambda:capacity-provider" || in.Filters[0].Values[0] != arn {
		t.Errorf("filters = %+v, want the capacity-provider tag", in.Filters)
	}
	if got := in.Filters[1].Values; len(got) != 2 || got[0] != "pending" || got[1] != "running" {
		t.Errorf("state filter = %v, want pending and running", got)
	}
}

func TestWaitForBaseline(t *testing.T) {
	tests := []struct {
		name    string
		counts  []int
		maxWait time.Duration
		want    int
		calls   int
	}{
		{"already there", []int{3}, time.Second, 3, 1},
		{"scales in", []int{6, 5, 4, 3}, time.Second, 3, 4},
		{"below baseline", []int{2}, time.Second, 2, 1},
		{"gives up", []int{6}, 30 * time.Millisecond, 6, 0},
	}
	for _, tt := range tests {
		f := &fakeEC2{counts: tt.counts}
		n, err := WaitForBaseline(context.Background(), f, arn, WaitOptions{Baseline: 3, Interval: 5 * time.Millisecond, MaxWait: tt.maxWait})
		if err != nil || n != tt.want {
			t.Errorf("%s: WaitForBaseline = %d, %v; want %d", tt.name, n, err, tt.want)
		}
		if tt.calls > 0 && f.calls != tt.calls {
			t.Errorf("%s: %d checks, want %d", tt.name, f.calls, tt.calls)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WaitForBaseline(ctx, &fakeEC2{counts: []int{9}}, arn, WaitOptions{Baseline: 3, Interval: time.Hour, MaxWait: time.Hour}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled wait: %v, want context.Canceled", err)
	}
}

type fakeCW struct {
	in *cloudwatch.GetMetricStatisticsInput
}

func (f *fakeCW) GetMetricStatistics(_ context.Context, in *cloudwatch.GetMetricStatisticsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricStatisticsOutput, error) {
	f.in = in
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	return &cloudwatch.GetMetricStatisticsOutput{Datapoints: []cwtypes.Datapoint{
		{Timestamp: aws.Time(t0.Add(time.Minute)), Average: aws.Float64(12), SampleCount: aws.Float64(3)},
		{Timestamp: aws.Time(t0), Average: aws.Float64(4), SampleCount: aws.Float64(2)},
	}}, nil
}

func TestEnvironmentConcurrency(t *testing.T) {
	f := &fakeCW{}
	start := time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC)
	pts, err := EnvironmentConcurrency(context.Background(), f, ConcurrencyQuery{
		FunctionName: "go-bench-hello-lmi-2048", CapacityProviderName: "cp",
		Start: start, End: start.Add(90 * time.Second), Period: 40 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 || pts[0].Average != 4 || pts[1].SampleCount != 3 {
		t.Errorf("points = %+v, want two, oldest first", pts)
	}
	in := f.in
	if aws.ToString(in.Namespace) != "AWS/Lambda" || aws.ToString(in.MetricName) != "ExecutionEnvironmentConcurrency" || aws.ToInt32(in.Period) != 60 {
		t.Errorf("query = %s %s period %d", aws.ToString(in.Namespace), aws.ToString(in.MetricName), aws.ToInt32(in.Period))
	}
	dims := map[string]string{}
	for _, d := range in.Dimensions {
		dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	if dims["Resource"] != "go-bench-hello-lmi-2048:$LATEST.PUBLISHED" || dims["CapacityProviderName"] != "cp" || dims["FunctionName"] != "go-bench-hello-lmi-2048" {
		t.Errorf("dimensions = %v", dims)
	}
	if !in.StartTime.Equal(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)) || !in.EndTime.Equal(time.Date(2026, 1, 1, 12, 3, 0, 0, time.UTC)) {
		t.Errorf("window = %v – %v, want whole minutes around the run", in.StartTime, in.EndTime)
	}
}
