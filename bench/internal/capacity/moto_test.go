package capacity

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"lambdabench/bench/internal/mototest"
)

// TestMoto runs the capacity provider watcher against moto_server: EC2
// DescribeInstances filtered by the capacity provider's tag and the instance
// state, and CloudWatch metric data read back the way the load verb reads it.
func TestMoto(t *testing.T) {
	srv := mototest.Start(t)
	cfg := srv.Config()
	t.Run("CountInstances", func(t *testing.T) { testCountInstancesMoto(t, ec2.NewFromConfig(cfg)) })
	t.Run("WaitForBaseline", func(t *testing.T) { testWaitForBaselineMoto(t, ec2.NewFromConfig(cfg)) })
	// This SDK's CloudWatch client speaks the Smithy RPC v2 CBOR protocol by
	// default, which moto 5.2 does not route (404; its awsJson1_0 PutMetricData
	// answers 500). CloudWatch also serves the awsQuery protocol, which moto
	// answers: the test client uses it. Only the wire format differs.
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
	})
	t.Run("EnvironmentConcurrency", func(t *testing.T) { testEnvironmentConcurrencyMoto(t, cw) })
}

// launch starts n instances in moto carrying the capacity provider tag with
// value providerARN (none when empty). On AWS only Lambda can set a tag whose
// key starts with aws:; moto lets the test play Lambda's part.
func launch(t *testing.T, api *ec2.Client, n int, providerARN string) []string {
	t.Helper()
	in := &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceType("c8g.xlarge"),
		MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
	}
	if providerARN != "" {
		in.TagSpecifications = []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeInstance,
			Tags:         []ec2types.Tag{{Key: aws.String(ProviderTag), Value: aws.String(providerARN)}},
		}}
	}
	out, err := api.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("run %d instances in moto: %v", n, err)
	}
	ids := make([]string, 0, len(out.Instances))
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

func testCountInstancesMoto(t *testing.T, api *ec2.Client) {
	ctx := context.Background()
	const provider = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:count"
	ids := launch(t, api, 4, provider)
	launch(t, api, 2, "arn:aws:lambda:us-east-1:123456789012:capacity-provider:other")
	launch(t, api, 1, "")
	// One instance stopped, one terminated: neither counts.
	if _, err := api.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[1:2]}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arn  string
		want int
	}{
		{provider, 2},
		{"arn:aws:lambda:us-east-1:123456789012:capacity-provider:other", 2},
		{"arn:aws:lambda:us-east-1:123456789012:capacity-provider:none", 0},
	}
	for _, tt := range tests {
		n, err := CountInstances(ctx, api, tt.arn)
		if err != nil {
			t.Fatal(err)
		}
		if n != tt.want {
			t.Errorf("CountInstances(%s) = %d, want %d", tt.arn, n, tt.want)
		}
	}
}

func testWaitForBaselineMoto(t *testing.T, api *ec2.Client) {
	ctx := context.Background()
	const provider = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:scale-in"
	ids := launch(t, api, 3, provider)

	// The first time the wait reports that it is waiting, the capacity provider
	// scales in: two instances terminate. The next check must see the baseline.
	var once sync.Once
	var termErr error
	var logs []string
	n, err := WaitForBaseline(ctx, api, provider, WaitOptions{
		Baseline: 1, Interval: 10 * time.Millisecond, MaxWait: time.Minute,
		Logf: func(format string, args ...any) {
			logs = append(logs, format)
			if strings.Contains(format, "waiting for") {
				once.Do(func() {
					_, termErr = api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[:2]})
				})
			}
		},
	})
	if termErr != nil {
		t.Fatal(termErr)
	}
	if err != nil || n != 1 {
		t.Fatalf("WaitForBaseline = %d, %v; want 1", n, err)
	}
	if len(logs) != 2 {
		t.Errorf("%d checks logged (%q), want 2: one at 3 instances, one at the baseline", len(logs), logs)
	}
}

func testEnvironmentConcurrencyMoto(t *testing.T, api *cloudwatch.Client) {
	ctx := context.Background()
	const fn, provider = "go-bench-hello-lmi-2048", "go-bench-capacity-provider"
	// Two whole minutes a few minutes ago (CloudWatch takes recent data only).
	m0 := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	m1 := m0.Add(time.Minute)
	dims := func(withProvider bool) []cwtypes.Dimension {
		d := []cwtypes.Dimension{
			{Name: aws.String("FunctionName"), Value: aws.String(fn)},
			{Name: aws.String("Resource"), Value: aws.String(fn + ":$LATEST.PUBLISHED")},
		}
		if withProvider {
			d = append(d, cwtypes.Dimension{Name: aws.String("CapacityProviderName"), Value: aws.String(provider)})
		}
		return d
	}
	datum := func(at time.Time, v float64, withProvider bool) cwtypes.MetricDatum {
		return cwtypes.MetricDatum{
			MetricName: aws.String("ExecutionEnvironmentConcurrency"), Dimensions: dims(withProvider),
			Timestamp: aws.Time(at), Value: aws.Float64(v), Unit: cwtypes.StandardUnitCount,
		}
	}
	// Minute 1: one environment at 30. Minute 0: two environments, at 10 and 20.
	// A series without the CapacityProviderName dimension is another metric
	// and must not be mixed in.
	if _, err := api.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("AWS/Lambda"),
		MetricData: []cwtypes.MetricDatum{
			datum(m1.Add(10*time.Second), 30, true),
			datum(m0.Add(5*time.Second), 10, true),
			datum(m0.Add(40*time.Second), 20, true),
			datum(m0.Add(20*time.Second), 99, false),
		},
	}); err != nil {
		t.Fatalf("put metric data in moto: %v", err)
	}
	pts, err := EnvironmentConcurrency(ctx, api, ConcurrencyQuery{
		FunctionName: fn, CapacityProviderName: provider,
		Start: m0.Add(3 * time.Second), End: m1.Add(30 * time.Second), Period: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Datapoint{{Time: m0, Average: 15, SampleCount: 2}, {Time: m1, Average: 30, SampleCount: 1}}
	if len(pts) != len(want) {
		t.Fatalf("datapoints %+v, want %+v", pts, want)
	}
	for i := range want {
		// CloudWatch stamps each datapoint with the start of its period; moto
		// stamps it with the first sample's time within the period. bench
		// takes the time as given, so accept any time within the period.
		if pts[i].Time.Before(want[i].Time) || !pts[i].Time.Before(want[i].Time.Add(time.Minute)) || pts[i].Average != want[i].Average || pts[i].SampleCount != want[i].SampleCount {
			t.Errorf("datapoint %d = %+v, want %+v", i, pts[i], want[i])
		}
	}
}
