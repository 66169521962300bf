package stacks

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"lambdabench/infra/internal/matrix"
)

// DefaultMatrixStackName is the matrix stack's name unless context overrides it.
const DefaultMatrixStackName = "GoLambdaBenchMatrix"

// Fixed settings of every matrix function (the bcrypt matrix).
const (
	MatrixHandler             = "bcrypt"
	MatrixTimeoutSeconds      = 30
	MatrixReservedConcurrency = 10
	// PurposeTag is the value of the Purpose tag on every benchmark resource.
	PurposeTag = "go-lambda-bench"
	// ProbeHandler runs the probe that 'bench calibrate' invokes to measure
	// how environments are throttled.
	ProbeHandler = "probe"
	// ProbeTimeoutSeconds bounds a probe (bench calibrate spins for seconds).
	ProbeTimeoutSeconds = 90
)

// ProbeMemorySizes are the probe functions' sizes, below one vCPU, where
// environments are throttled: named <prefix>-probe-<MB>, as bench
// calibrate --target aws invokes them by default.
var ProbeMemorySizes = []int{128, 512, 1024}

// MatrixStackProps configures NewMatrixStack.
type MatrixStackProps struct {
	awscdk.StackProps
	// Prefix starts every function name; matrix.DefaultPrefix when empty.
	Prefix string
	// Configs is the matrix; matrix.Default() when nil.
	Configs []matrix.Config
	// LogRetentionDays applies to every function's log group; DefaultLogRetentionDays when 0.
	LogRetentionDays int
	// Code builds the function for an architecture. Required.
	Code CodeSource
}

// withDefaults fills unset fields and validates the result.
func (p MatrixStackProps) withDefaults() (MatrixStackProps, error) {
	if p.Prefix == "" {
		p.Prefix = matrix.DefaultPrefix
	}
	if p.Configs == nil {
		p.Configs = matrix.Default()
	}
	if p.LogRetentionDays == 0 {
		p.LogRetentionDays = DefaultLogRetentionDays
	}
	var errs []error
	if err := matrix.ValidatePrefix(p.Prefix); err != nil {
		errs = append(errs, err)
	}
	if err := matrix.Validate(p.Configs); err != nil {
		errs = append(errs, err)
	}
	if err := validateRetention(p.LogRetentionDays); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return p, fmt.Errorf("matrix stack: %w", err)
	}
	return p, nil
}

// Validate reports every problem with the props (after defaults), except a missing Code.
func (p MatrixStackProps) Validate() error {
	_, err := p.withDefaults()
	return err
}

// NewMatrixStack creates the bcrypt function matrix: one function per
// configuration, each with its own log group, tags, and name/ARN outputs.
func NewMatrixStack(scope constructs.Construct, id string, props *MatrixStackProps) (awscdk.Stack, error) {
	var p MatrixStackProps
	if props != nil {
		p = *props
	}
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.Code == nil {
		return nil, errors.New("matrix stack: no code source for the function")
	}
	stack := awscdk.NewStack(scope, &id, &p.StackProps)
	awscdk.Tags_Of(stack).Add(jsii.String("Purpose"), jsii.String(PurposeTag), nil)

	role := executionRole(stack)
	codes := newCodeCache(p.Code)
	for _, c := range p.Configs {
		name := c.FunctionName(p.Prefix)
		code, err := codes.code(c.Arch)
		if err != nil {
			return nil, fmt.Errorf("matrix stack: %w", err)
		}
		fn := awslambda.NewFunction(stack, jsii.String(c.Key()), &awslambda.FunctionProps{
			FunctionName:                 jsii.String(name),
			Description:                  jsii.String(fmt.Sprintf("bcrypt batch, %s, %d MB, %d workers", c.Arch, c.MemoryMB, c.Workers)),
			Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
			Handler:                      jsii.String(MatrixHandler),
			Architecture:                 lambdaArch(c.Arch),
			Code:                         code,
			MemorySize:                   jsii.Number(float64(c.MemoryMB)),
			Timeout:                      awscdk.Duration_Seconds(jsii.Number(MatrixTimeoutSeconds)),
			ReservedConcurrentExecutions: jsii.Number(MatrixReservedConcurrency),
			Environment:                  &map[string]*string{"WORKER_COUNT": jsii.String(strconv.Itoa(c.Workers))},
			Role:                         role,
			LogGroup:                     functionLogGroup(stack, c.Key()+"Logs", name, p.LogRetentionDays, role),
		})
		tags := awscdk.Tags_Of(fn)
		tags.Add(jsii.String("Config"), jsii.String(fmt.Sprintf("%dvcpu-%dmb-%dworkers", matrix.VCPUs(c.MemoryMB), c.MemoryMB, c.Workers)), nil)
		tags.Add(jsii.String("Architecture"), jsii.String(string(c.Arch)), nil)

		awscdk.NewCfnOutput(stack, jsii.String(c.FunctionNameOutput()), &awscdk.CfnOutputProps{
			Value:       fn.FunctionName(),
			Description: jsii.String(fmt.Sprintf("Name of the %s %d MB bcrypt function", c.Arch, c.MemoryMB)),
		})
		awscdk.NewCfnOutput(stack, jsii.String(c.FunctionArnOutput()), &awscdk.CfnOutputProps{
			Value:       fn.FunctionArn(),
			Description: jsii.String(fmt.Sprintf("ARN of the %s %d MB bcrypt function", c.Arch, c.MemoryMB)),
		})
	}
	// The probe functions, on the first architecture of the matrix: bench
	// calibrate measures the CPU throttling of real environments with them.
	if len(p.Configs) > 0 {
		arch := p.Configs[0].Arch
		code, err := codes.code(arch)
		if err != nil {
			return nil, fmt.Errorf("matrix stack: %w", err)
		}
		for _, mb := range ProbeMemorySizes {
			name := fmt.Sprintf("%s-probe-%d", p.Prefix, mb)
			id := fmt.Sprintf("Probe%d", mb)
			fn := awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
				FunctionName: jsii.String(name),
				Description:  jsii.String(fmt.Sprintf("CPU throttling probe (bench calibrate), %s, %d MB", arch, mb)),
				Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
				Handler:      jsii.String(ProbeHandler),
				Architecture: lambdaArch(arch),
				Code:         code,
				MemorySize:   jsii.Number(float64(mb)),
				Timeout:      awscdk.Duration_Seconds(jsii.Number(ProbeTimeoutSeconds)),
				// One probe at a time per size: a calibration never runs two.
				ReservedConcurrentExecutions: jsii.Number(1),
				Role:                         role,
				LogGroup:                     functionLogGroup(stack, id+"Logs", name, p.LogRetentionDays, role),
			})
			awscdk.NewCfnOutput(stack, jsii.String(id+"FunctionName"), &awscdk.CfnOutputProps{
				Value:       fn.FunctionName(),
				Description: jsii.String(fmt.Sprintf("Name of the %d MB probe function (bench calibrate --target aws)", mb)),
			})
		}
	}
	return stack, nil
}
