// Package target resolves where bench sends its invocations: the local Lambda
// on this machine, or a deployed stack on AWS. Both end up as the same things
// — a Lambda API client and a map of CloudFormation stack outputs — so every
// verb has a single code path for both.
package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Default stack names, as the CDK app deploys them.
const (
	MatrixStack = "GoLambdaBenchMatrix"
	LmiStack    = "GoLambdaBenchLmi"
)

// LocalRegion is the region the local Lambda claims to be in.
const LocalRegion = "us-east-1"

// Kind is a benchmark target: "local" or "aws".
type Kind string

// The targets bench supports.
const (
	Local Kind = "local"
	AWS   Kind = "aws"
)

// ParseKind validates a --target value.
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case Local, AWS:
		return Kind(s), nil
	}
	return "", fmt.Errorf("unknown target %q: use local or aws", s)
}

// StackDescriber is the one CloudFormation call bench makes.
type StackDescriber interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// StackOutputs returns the outputs of a deployed stack, keyed by output key.
func StackOutputs(ctx context.Context, d StackDescriber, stack string) (map[string]string, error) {
	out, err := d.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil, fmt.Errorf("stack %s does not exist in this account and region: deploy it first (make deploy), or pass --stack/--region: %w", stack, err)
		}
		return nil, fmt.Errorf("describe stack %s: %w", stack, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s not found", stack)
	}
	s := out.Stacks[0]
	if st := string(s.StackStatus); strings.HasSuffix(st, "_FAILED") || strings.HasPrefix(st, "DELETE_") || st == "ROLLBACK_COMPLETE" {
		return nil, fmt.Errorf("stack %s is in state %s: redeploy it", stack, st)
	}
	m := make(map[string]string, len(s.Outputs))
	for _, o := range s.Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("stack %s has no outputs: is it a stack of this project?", stack)
	}
	return m, nil
}

// OutputsFile reads the outputs of stack from a file written by
// `cdk deploy --outputs-file`, which maps stack names to their outputs.
func OutputsFile(path, stack string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read outputs file: %w", err)
	}
	var all map[string]map[string]string
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("outputs file %s: not a cdk --outputs-file (stack name → outputs): %w", path, err)
	}
	m, ok := all[stack]
	if !ok {
		names := make([]string, 0, len(all))
		for n := range all {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("outputs file %s has no stack %s (it has: %s)", path, stack, strings.Join(names, ", "))
	}
	return m, nil
}

// AWSOptions selects the account, region and stack of the aws target.
type AWSOptions struct {
	Region      string // empty: the default chain (AWS_REGION, profile)
	Profile     string // empty: the default profile
	Stack       string // stack whose outputs name the functions
	OutputsFile string // read outputs from this file instead of DescribeStacks
	// Endpoint, when set, sends Lambda API calls there instead of AWS (for
	// example the local Lambda: http://127.0.0.1:3001). When empty, every
	// client honours the SDK's standard AWS_ENDPOINT_URL and
	// AWS_ENDPOINT_URL_<SERVICE> variables (e.g. AWS_ENDPOINT_URL_CLOUDFORMATION),
	// which the configuration loader reads: nothing here overrides them.
	Endpoint string
}

// AWSTarget is a deployed stack.
type AWSTarget struct {
	Config  aws.Config
	Lambda  *lambda.Client
	Outputs map[string]string
}

// LoadAWSConfig loads credentials and region from the default chain.
func LoadAWSConfig(ctx context.Context, region, profile string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: pass --region or set AWS_REGION")
	}
	return cfg, nil
}

// OpenAWS resolves a deployed stack: its outputs and a Lambda client.
func OpenAWS(ctx context.Context, o AWSOptions) (*AWSTarget, error) {
	cfg, err := LoadAWSConfig(ctx, o.Region, o.Profile)
	if err != nil {
		return nil, err
	}
	var outputs map[string]string
	if o.OutputsFile != "" {
		outputs, err = OutputsFile(o.OutputsFile, o.Stack)
	} else {
		outputs, err = StackOutputs(ctx, cloudformation.NewFromConfig(cfg), o.Stack)
	}
	if err != nil {
		return nil, err
	}
	client := lambda.NewFromConfig(cfg, func(lo *lambda.Options) {
		if o.Endpoint != "" {
			lo.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	return &AWSTarget{Config: cfg, Lambda: client, Outputs: outputs}, nil
}

// LocalLambdaClient returns a Lambda client for the local Lambda at endpoint
// ("http://127.0.0.1:PORT"). The SDK signs every request, so it is given
// placeholder credentials; the local Lambda does not check signatures.
func LocalLambdaClient(endpoint string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       LocalRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// NoRetry is an Invoke option that turns off the SDK's retries, so a throttle
// or a failure is measured and recorded instead of being hidden by a retry.
func NoRetry(o *lambda.Options) { o.Retryer = aws.NopRetryer{} }
