package stacks

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"lambdabench/infra/internal/matrix"
)

// The load-generator stack: one function running bench's load engine
// (bench/cmd/loadgen), which 'go run ./bench load --generators N --target
// aws' invokes N times at once.
const (
	DefaultLoadGenStackName = "GoLambdaBenchLoadGen"
	// LoadGenFunctionNameOutput is the output bench reads the function's name from.
	LoadGenFunctionNameOutput = "LoadGenFunctionName"
	// MinLoadGenMemoryMB buys one full vCPU: a generator that shares a
	// core falls behind its schedule and reports send lag instead of load.
	MinLoadGenMemoryMB = 1769
	// LoadGenTimeoutMinutes is Lambda's longest invocation: one generator
	// invocation runs the whole load profile.
	LoadGenTimeoutMinutes = 15
)

// LoadGenStackProps configures NewLoadGenStack.
type LoadGenStackProps struct {
	awscdk.StackProps
	// Prefix starts the function name; matrix.DefaultPrefix when empty.
	Prefix string
	// MemoryMB is the generator's memory; MinLoadGenMemoryMB when 0, and
	// never less (up to Lambda's 10240).
	MemoryMB int
	// LogRetentionDays applies to the function's log group; DefaultLogRetentionDays when 0.
	LogRetentionDays int
	// Code builds the generator for an architecture (arm64). Required.
	Code CodeSource
}

func (p LoadGenStackProps) withDefaults() (LoadGenStackProps, error) {
	if p.Prefix == "" {
		p.Prefix = matrix.DefaultPrefix
	}
	if p.MemoryMB == 0 {
		p.MemoryMB = MinLoadGenMemoryMB
	}
	if p.LogRetentionDays == 0 {
		p.LogRetentionDays = DefaultLogRetentionDays
	}
	var errs []error
	if err := matrix.ValidatePrefix(p.Prefix); err != nil {
		errs = append(errs, err)
	}
	if p.MemoryMB < MinLoadGenMemoryMB || p.MemoryMB > 10240 {
		errs = append(errs, fmt.Errorf("generator memory %d MB: want %d (one full vCPU) to 10240", p.MemoryMB, MinLoadGenMemoryMB))
	}
	if err := validateRetention(p.LogRetentionDays); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return p, fmt.Errorf("load generator stack: %w", err)
	}
	return p, nil
}

// LoadGenFunctionName is the generator function's name for prefix.
func LoadGenFunctionName(prefix string) string { return prefix + "-loadgen" }

// NewLoadGenStack creates the load-generator function (arm64, its own role
// and log group) and outputs its name.
func NewLoadGenStack(scope constructs.Construct, id string, props *LoadGenStackProps) (awscdk.Stack, error) {
	var p LoadGenStackProps
	if props != nil {
		p = *props
	}
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.Code == nil {
		return nil, errors.New("load generator stack: no code source for the generator")
	}
	stack := awscdk.NewStack(scope, &id, &p.StackProps)
	awscdk.Tags_Of(stack).Add(jsii.String("Purpose"), jsii.String(PurposeTag), nil)
	code, err := newCodeCache(p.Code).code(matrix.Arm64)
	if err != nil {
		return nil, fmt.Errorf("load generator stack: %w", err)
	}
	role := executionRole(stack)
	name := LoadGenFunctionName(p.Prefix)
	fn := awslambda.NewFunction(stack, jsii.String("LoadGen"), &awslambda.FunctionProps{
		FunctionName: jsii.String(name),
		Description:  jsii.String(fmt.Sprintf("bench load generator: sends its share of a load plan, answers with HdrHistograms, %d MB arm64", p.MemoryMB)),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Handler:      jsii.String("loadgen"), // provided.al2023 runs bootstrap; the name marks the generator for the template checks
		Architecture: awslambda.Architecture_ARM_64(),
		Code:         code,
		MemorySize:   jsii.Number(float64(p.MemoryMB)),
		Timeout:      awscdk.Duration_Minutes(jsii.Number(LoadGenTimeoutMinutes)),
		// No retries: a retried generator would send its share twice.
		RetryAttempts: jsii.Number(0),
		Role:          role,
		LogGroup:      functionLogGroup(stack, "LoadGenLogs", name, p.LogRetentionDays, role),
	})
	awscdk.NewCfnOutput(stack, jsii.String(LoadGenFunctionNameOutput), &awscdk.CfnOutputProps{
		Value:       fn.FunctionName(),
		Description: jsii.String("Name of the load-generator function (go run ./bench load --generators N --target aws)"),
	})
	return stack, nil
}
