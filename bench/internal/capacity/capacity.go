// Package capacity watches a Lambda Managed Instances capacity provider on
// AWS: how many EC2 instances it runs (to wait between load scenarios until
// it has scaled back in) and the ExecutionEnvironmentConcurrency CloudWatch
// reports for its function.
package capacity

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// InstanceDescriber is the one EC2 call the watcher makes.
type InstanceDescriber interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// ProviderTag is the tag Lambda puts on the EC2 instances of a capacity
// provider; its value is the provider's ARN.
const ProviderTag = "aws:lambda:capacity-provider"

// CountInstances returns how many EC2 instances of the capacity provider
// providerARN are pending or running.
func CountInstances(ctx context.Context, api InstanceDescriber, providerARN string) (int, error) {
	in := &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + ProviderTag), Values: []string{providerARN}},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
		},
	}
	n := 0
	p := ec2.NewDescribeInstancesPaginator(api, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("count instances of capacity provider %s: %w", providerARN, err)
		}
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
	}
	return n, nil
}

// WaitOptions bound WaitForBaseline.
type WaitOptions struct {
	// Baseline is the instance count to get back to (at or below).
	Baseline int
	// Interval is the time between checks; MaxWait gives up after that long.
	Interval, MaxWait time.Duration
	// Logf, when set, hears about every check.
	Logf func(format string, args ...any)
}

// WaitForBaseline polls the capacity provider's instance count until it is
// back to o.Baseline or fewer, and returns the last count. It gives up
// without an error after o.MaxWait (the count says how far it got); it
// returns ctx's error when ctx ends first.
func WaitForBaseline(ctx context.Context, api InstanceDescriber, providerARN string, o WaitOptions) (int, error) {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	deadline := time.Now().Add(o.MaxWait)
	for {
		n, err := CountInstances(ctx, api, providerARN)
		if err != nil {
			return 0, err
		}
		if n <= o.Baseline {
			logf("capacity provider at %d instances (baseline %d)", n, o.Baseline)
			return n, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			logf("capacity provider still at %d instances after %s (baseline %d): going on", n, o.MaxWait, o.Baseline)
			return n, nil
		}
		logf("capacity provider at %d instances, waiting for %d (next check in %s, giving up in %s)",
			n, o.Baseline, o.Interval, left.Round(time.Second))
		t := time.NewTimer(min(o.Interval, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return n, fmt.Errorf("wait for scale-in: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// MetricStatisticsGetter is the one CloudWatch call the watcher makes.
type MetricStatisticsGetter interface {
	GetMetricStatistics(ctx context.Context, in *cloudwatch.GetMetricStatisticsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricStatisticsOutput, error)
}

// ConcurrencyQuery names the function and window to read.
type ConcurrencyQuery struct {
	FunctionName         string
	Resource             string // "<function>:$LATEST.PUBLISHED" when empty
	CapacityProviderName string
	Start, End           time.Time
	Period               time.Duration // rounded to whole minutes, at least 1
}

// Datapoint is one period of ExecutionEnvironmentConcurrency.
type Datapoint struct {
	Time        time.Time
	Average     float64 // concurrency per execution environment
	SampleCount float64 // a proxy for the number of environments reporting
}

// EnvironmentConcurrency reads the AWS/Lambda ExecutionEnvironmentConcurrency
// metric (Average and SampleCount) of an LMI function over a window, oldest
// first.
func EnvironmentConcurrency(ctx context.Context, api MetricStatisticsGetter, q ConcurrencyQuery) ([]Datapoint, error) {
	period := max(q.Period.Round(time.Minute), time.Minute)
	resource := q.Resource
	if resource == "" {
		resource = q.FunctionName + ":$LATEST.PUBLISHED"
	}
	dims := []cwtypes.Dimension{
		{Name: aws.String("FunctionName"), Value: aws.String(q.FunctionName)},
		{Name: aws.String("Resource"), Value: aws.String(resource)},
	}
	if q.CapacityProviderName != "" {
		dims = append(dims, cwtypes.Dimension{Name: aws.String("CapacityProviderName"), Value: aws.String(q.CapacityProviderName)})
	}
	out, err := api.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace:  aws.String("AWS/Lambda"),
		MetricName: aws.String("ExecutionEnvironmentConcurrency"),
		Dimensions: dims,
		StartTime:  aws.Time(q.Start.Truncate(period)),
		EndTime:    aws.Time(q.End.Add(period).Truncate(period)),
		Period:     aws.Int32(int32(period / time.Second)),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage, cwtypes.StatisticSampleCount},
	})
	if err != nil {
		return nil, fmt.Errorf("get ExecutionEnvironmentConcurrency of %s: %w", q.FunctionName, err)
	}
	pts := make([]Datapoint, 0, len(out.Datapoints))
	for _, d := range out.Datapoints {
		pts = append(pts, Datapoint{
			Time:        aws.ToTime(d.Timestamp),
			Average:     aws.ToFloat64(d.Average),
			SampleCount: aws.ToFloat64(d.SampleCount),
		})
	}
	slices.SortFunc(pts, func(a, b Datapoint) int { return a.Time.Compare(b.Time) })
	return pts, nil
}
