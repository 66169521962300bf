package tune

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// LMIAPI is the part of the Lambda API an LMI sweep uses besides API;
// *lambda.Client satisfies it, for AWS and the local Lambda alike.
type LMIAPI interface {
	API
	PutFunctionScalingConfig(ctx context.Context, in *lambda.PutFunctionScalingConfigInput, optFns ...func(*lambda.Options)) (*lambda.PutFunctionScalingConfigOutput, error)
	GetFunctionScalingConfig(ctx context.Context, in *lambda.GetFunctionScalingConfigInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionScalingConfigOutput, error)
	GetCapacityProvider(ctx context.Context, in *lambda.GetCapacityProviderInput, optFns ...func(*lambda.Options)) (*lambda.GetCapacityProviderOutput, error)
}

// LMIActions are the IAM actions an LMI sweep calls, for the plan and
// the docs.
var LMIActions = []string{
	"lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration",
	"lambda:PublishVersion", "lambda:PutFunctionScalingConfig", "lambda:GetFunctionScalingConfig",
	"lambda:InvokeFunction", "lambda:ListVersionsByFunction", "lambda:DeleteFunction",
	"lambda:ListAliases", "lambda:ListProvisionedConcurrencyConfigs", "lambda:GetCapacityProvider",
}

// PublishLMI sets memoryMB and c on $LATEST with a fresh
// ColdStartVariable (so that Lambda publishes a new version even when the
// configuration equals one published before), waits until the update is
// done, publishes a numbered version (never to $LATEST.PUBLISHED: what the
// function's unqualified invocations run stays as it was), journaled, waits
// until the version is Active, and pins it to envs execution environments
// (PutFunctionScalingConfig with Min = Max = envs). It returns the version.
func (s *Session) PublishLMI(ctx context.Context, memoryMB int, c LMIConfig, envs int) (string, error) {
	j := s.Journal
	fn := j.Original.FunctionName
	env := maps.Clone(j.Original.Env)
	env[ColdStartVariable] = j.RunID + "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	if _, err := s.API.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(fn), MemorySize: aws.Int32(int32(memoryMB)), Environment: &types.Environment{Variables: env},
		CapacityProviderConfig: c.Input(),
	}); err != nil {
		return "", Explain(fmt.Errorf("set %d MB, %g GiB per vCPU, %d per environment on %s: %w", memoryMB, c.GiBPerVCPU, c.PerEnvConcurrency, fn, err), "lambda:UpdateFunctionConfiguration")
	}
	if err := s.waitUpdated(ctx, fn); err != nil {
		return "", err
	}
	version, err := s.publishJournaled(ctx)
	if err != nil {
		return "", err
	}
	s.logf("  PublishVersion %s: version %s (%d MB, %g GiB per vCPU, %d per environment)", fn, version, memoryMB, c.GiBPerVCPU, c.PerEnvConcurrency)
	if err := s.waitActive(ctx, fn, version); err != nil {
		return version, err
	}
	api, ok := s.API.(LMIAPI)
	if !ok {
		return version, fmt.Errorf("the Lambda client cannot set scaling configs")
	}
	n := int32(envs)
	if _, err := api.PutFunctionScalingConfig(ctx, &lambda.PutFunctionScalingConfigInput{
		FunctionName: aws.String(fn), Qualifier: aws.String(version),
		FunctionScalingConfig: &types.FunctionScalingConfig{MinExecutionEnvironments: aws.Int32(n), MaxExecutionEnvironments: aws.Int32(n)},
	}); err != nil {
		return version, Explain(fmt.Errorf("pin version %s of %s to %d execution environments: %w", version, fn, envs, err), "lambda:PutFunctionScalingConfig")
	}
	s.logf("  PutFunctionScalingConfig %s:%s: %d execution environment(s), min = max", fn, version, envs)
	return version, nil
}

// waitActive polls until a published version is Active: an LMI version
// starts its execution environments first.
func (s *Session) waitActive(ctx context.Context, fn, version string) error {
	wait := cmp.Or(s.Wait, 15*time.Minute)
	var state types.State
	return Poll(ctx, wait, cmp.Or(s.Every, time.Second), func() (bool, error) {
		out, err := s.API.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn), Qualifier: aws.String(version)})
		if err != nil {
			return false, Explain(fmt.Errorf("wait for version %s of %s: %w", version, fn, err), "lambda:GetFunctionConfiguration")
		}
		switch state = out.State; state {
		case types.StateActive, "":
			return true, nil
		case types.StateFailed, types.StateInactive:
			return false, fmt.Errorf("version %s of %s is %s: %s", version, fn, state, aws.ToString(out.StateReason))
		}
		return false, nil
	}, func() error { return fmt.Errorf("version %s of %s still %s after %s", version, fn, state, wait) })
}

// InstanceTypes reads the instance types and architecture of an LMI
// capacity provider: the types it allows (empty: any of its
// architecture).
func InstanceTypes(ctx context.Context, api LMIAPI, arn string) (allowed []string, arch string, err error) {
	name := arn
	if i := strings.LastIndex(arn, ":"); i >= 0 {
		name = arn[i+1:] // arn:aws:lambda:REGION:ACCOUNT:capacity-provider:NAME
	}
	out, err := api.GetCapacityProvider(ctx, &lambda.GetCapacityProviderInput{CapacityProviderName: aws.String(name)})
	if err != nil {
		return nil, "", Explain(fmt.Errorf("read capacity provider %s: %w", arn, err), "lambda:GetCapacityProvider")
	}
	if cp := out.CapacityProvider; cp != nil && cp.InstanceRequirements != nil {
		ir := cp.InstanceRequirements
		if len(ir.Architectures) > 0 {
			arch = string(ir.Architectures[0])
		}
		return ir.AllowedInstanceTypes, arch, nil
	}
	return nil, "", nil
}
