// Package stacks defines the app's CloudFormation stacks: the bcrypt function
// matrix and the LMI comparison behind API Gateway. Stacks take typed,
// validated props; reading CDK context is main's job.
package stacks

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"lambdabench/infra/internal/matrix"
)

// CodeSource gives Lambda code for a Go architecture (GOARCH). bundle.Builder is one.
type CodeSource interface {
	Code(goarch string) (awslambda.Code, error)
}

// DefaultLogRetentionDays is how long function and access logs are kept unless props say otherwise.
const DefaultLogRetentionDays = 7

// retentionDays maps the day counts CloudWatch Logs accepts to CDK's names for them.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

func validateRetention(days int) error {
	if _, ok := retentionDays[days]; !ok {
		allowed := slices.Sorted(maps.Keys(retentionDays))
		return fmt.Errorf("log retention %d days: CloudWatch Logs accepts one of %v", days, allowed)
	}
	return nil
}

// codeCache hands out one Code per architecture within one stack, so each
// architecture's binary is bundled once per stack and shared by its functions.
type codeCache struct {
	src   CodeSource
	codes map[matrix.Arch]awslambda.Code
}

func newCodeCache(src CodeSource) *codeCache {
	return &codeCache{src: src, codes: map[matrix.Arch]awslambda.Code{}}
}

func (c *codeCache) code(a matrix.Arch) (awslambda.Code, error) {
	if code, ok := c.codes[a]; ok {
		return code, nil
	}
	code, err := c.src.Code(a.GOARCH())
	if err != nil {
		return nil, fmt.Errorf("function code for %s: %w", a, err)
	}
	c.codes[a] = code
	return code, nil
}

func lambdaArch(a matrix.Arch) awslambda.Architecture {
	if a == matrix.X8664 {
		return awslambda.Architecture_X86_64()
	}
	return awslambda.Architecture_ARM_64()
}

// executionRole is the one role the functions of a stack share: Lambda may
// assume it, and it may write only to the log groups granted to it.
func executionRole(scope constructs.Construct) awsiam.Role {
	return awsiam.NewRole(scope, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Runs the benchmark functions; writes to their log groups only"),
	})
}

// functionLogGroup creates the explicit log group of a function: named as Lambda
// would name it, kept for days and deleted with the stack.
func functionLogGroup(scope constructs.Construct, id, functionName string, days int, role awsiam.Role) awslogs.LogGroup {
	lg := awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + functionName),
		Retention:     retentionDays[days],
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	lg.GrantWrite(role)
	return lg
}
