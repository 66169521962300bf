package stacks

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"lambdabench/infra/internal/matrix"
)

// DefaultLmiStackName is the LMI stack's name unless context overrides it.
const DefaultLmiStackName = "GoLambdaBenchLmi"

// Defaults of the LMI stack (the standard-vs-LMI hello experiment).
const (
	DefaultLmiInstanceType     = "c8g.xlarge"
	DefaultLmiMaxVCpuCount     = 12
	DefaultLmiTargetCPUPercent = 70.0
	DefaultLmiMemoryMB         = 2048
	DefaultLmiMemoryGiBPerVCpu = 2.0
	DefaultLmiMaxConcurrency   = 64
	DefaultLmiMinEnvironments  = 1
	DefaultLmiMaxEnvironments  = 4
	DefaultApiThrottleRate     = 1500.0
	DefaultApiThrottleBurst    = 3000
	DefaultVpcMaxAzs           = 2
	HelloHandler               = "hello"
	HelloTimeoutSeconds        = 30
	StageName                  = "prod"
	operatorManagedPolicy      = "AWSLambdaManagedEC2ResourceOperator"
	scalingModeAuto            = "Auto"
	cpuUtilizationMetric       = "LambdaCapacityProviderAverageCPUUtilization"
)

// Limits LMI puts on its settings.
const (
	LmiMinMemoryMB        = 2048
	LmiMinGiBPerVCpu      = 2.0
	LmiMaxGiBPerVCpu      = 8.0
	LmiMaxConcurrencyCap  = 1600
	maxCapacitySubnets    = 16
	standardHelloSmallMB  = 128
	standardHelloLargeMB  = 2048
	capacityProviderMaxLn = 140
)

// LmiStackProps configures NewLmiStack. Zero values take the defaults above.
type LmiStackProps struct {
	awscdk.StackProps
	// Prefix starts every function name; matrix.DefaultPrefix when empty.
	Prefix string
	// Arch is the capacity provider's architecture, and that of all three hello functions; arm64 when empty.
	Arch matrix.Arch
	// InstanceType is the one EC2 instance type the capacity provider may launch.
	InstanceType string
	// MaxVCpuCount caps the vCPUs the capacity provider runs across all instances.
	MaxVCpuCount int
	// TargetCPUPercent is the average CPU utilisation the capacity provider scales to.
	TargetCPUPercent float64
	// LmiMemoryMB is the memory of the function on the capacity provider (at least 2048).
	LmiMemoryMB int
	// MemoryGiBPerVCpu is the LMI execution environment's memory per vCPU (2-8).
	MemoryGiBPerVCpu float64
	// MaxConcurrency is PerExecutionEnvironmentMaxConcurrency (1-1600).
	MaxConcurrency int
	// MinEnvironments and MaxEnvironments bound the LMI function's execution environments.
	// MinEnvironments is used as given (0 is valid); set MinEnvironmentsSet to use it.
	MinEnvironments    int
	MinEnvironmentsSet bool
	MaxEnvironments    int
	// SubnetIDs and SecurityGroupID place the capacity provider in an existing
	// network. Both empty: the stack creates a dedicated VPC.
	SubnetIDs       []string
	SecurityGroupID string
	// NatGateway puts a dedicated VPC's instances in private subnets behind one
	// NAT gateway instead of in public subnets with no inbound access.
	NatGateway bool
	// ThrottleRate (requests per second) and ThrottleBurst limit every API method.
	ThrottleRate  float64
	ThrottleBurst int
	// CreateAPIGatewayLogRole creates the account-level role API Gateway needs to
	// write access logs (retained on delete: it is an account setting). Set
	// SkipAPIGatewayLogRole when the account already has one.
	SkipAPIGatewayLogRole bool
	// LogRetentionDays applies to function and access log groups.
	LogRetentionDays int
	// Code builds the function for an architecture. Required.
	Code CodeSource
}

var (
	subnetIDPattern      = regexp.MustCompile(`^subnet-[0-9a-f]{8}([0-9a-f]{9})?$`)
	securityGroupPattern = regexp.MustCompile(`^sg-[0-9a-f]{8}([0-9a-f]{9})?$`)
	instanceTypePattern  = regexp.MustCompile(`^([a-z]+)([0-9]+)([a-z-]*)\.([0-9]*[a-z]+)$`)
)

func (p LmiStackProps) withDefaults() (LmiStackProps, error) {
	if p.Prefix == "" {
		p.Prefix = matrix.DefaultPrefix
	}
	if p.Arch == "" {
		p.Arch = matrix.Arm64
	}
	if p.InstanceType == "" {
		p.InstanceType = DefaultLmiInstanceType
	}
	if p.MaxVCpuCount == 0 {
		p.MaxVCpuCount = DefaultLmiMaxVCpuCount
	}
	if p.TargetCPUPercent == 0 {
		p.TargetCPUPercent = DefaultLmiTargetCPUPercent
	}
	if p.LmiMemoryMB == 0 {
		p.LmiMemoryMB = DefaultLmiMemoryMB
	}
	if p.MemoryGiBPerVCpu == 0 {
		p.MemoryGiBPerVCpu = DefaultLmiMemoryGiBPerVCpu
	}
	if p.MaxConcurrency == 0 {
		p.MaxConcurrency = DefaultLmiMaxConcurrency
	}
	if !p.MinEnvironmentsSet {
		p.MinEnvironments = DefaultLmiMinEnvironments
	}
	if p.MaxEnvironments == 0 {
		p.MaxEnvironments = DefaultLmiMaxEnvironments
	}
	if p.ThrottleRate == 0 {
		p.ThrottleRate = DefaultApiThrottleRate
	}
	if p.ThrottleBurst == 0 {
		p.ThrottleBurst = DefaultApiThrottleBurst
	}
	if p.LogRetentionDays == 0 {
		p.LogRetentionDays = DefaultLogRetentionDays
	}
	if err := p.validate(); err != nil {
		return p, fmt.Errorf("lmi stack: %w", err)
	}
	return p, nil
}

func (p LmiStackProps) validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := matrix.ValidatePrefix(p.Prefix); err != nil {
		errs = append(errs, err)
	}
	if p.Arch != matrix.Arm64 && p.Arch != matrix.X8664 {
		add("unknown architecture %q (want arm64 or x86_64)", p.Arch)
	}
	if m := instanceTypePattern.FindStringSubmatch(p.InstanceType); m == nil {
		add("instance type %q: want an EC2 instance type such as c8g.xlarge", p.InstanceType)
	} else if arch := instanceArch(m[1], m[3]); arch != p.Arch {
		add("instance type %s is %s but the capacity provider is %s", p.InstanceType, arch, p.Arch)
	}
	if p.MaxVCpuCount < 1 {
		add("max vCPU count %d: want at least 1", p.MaxVCpuCount)
	}
	if p.TargetCPUPercent <= 0 || p.TargetCPUPercent > 100 {
		add("target CPU utilisation %g%%: want more than 0 and at most 100", p.TargetCPUPercent)
	}
	if p.LmiMemoryMB < LmiMinMemoryMB || p.LmiMemoryMB > matrix.MaxMemoryMB {
		add("LMI memory size %d MB outside %d-%d MB (LMI functions need at least 2 GB)", p.LmiMemoryMB, LmiMinMemoryMB, matrix.MaxMemoryMB)
	}
	if p.MemoryGiBPerVCpu < LmiMinGiBPerVCpu || p.MemoryGiBPerVCpu > LmiMaxGiBPerVCpu {
		add("LMI memory per vCPU %g GiB outside %g-%g GiB", p.MemoryGiBPerVCpu, LmiMinGiBPerVCpu, LmiMaxGiBPerVCpu)
	}
	if p.MaxConcurrency < 1 || p.MaxConcurrency > LmiMaxConcurrencyCap {
		add("LMI max concurrency per environment %d outside 1-%d", p.MaxConcurrency, LmiMaxConcurrencyCap)
	}
	if p.MinEnvironments < 0 || p.MaxEnvironments < 1 || p.MinEnvironments > p.MaxEnvironments {
		add("LMI execution environments min %d / max %d: want 0 <= min <= max and max >= 1", p.MinEnvironments, p.MaxEnvironments)
	}
	if (len(p.SubnetIDs) == 0) != (p.SecurityGroupID == "") {
		add("existing network: give both subnet ids and a security group id, or neither (for a dedicated VPC)")
	}
	if len(p.SubnetIDs) > maxCapacitySubnets {
		add("%d subnet ids: a capacity provider takes at most %d", len(p.SubnetIDs), maxCapacitySubnets)
	}
	for _, s := range p.SubnetIDs {
		if !subnetIDPattern.MatchString(s) {
			add("subnet id %q: want subnet- followed by 8 or 17 hex digits", s)
		}
	}
	if p.SecurityGroupID != "" && !securityGroupPattern.MatchString(p.SecurityGroupID) {
		add("security group id %q: want sg- followed by 8 or 17 hex digits", p.SecurityGroupID)
	}
	if p.NatGateway && len(p.SubnetIDs) > 0 {
		add("a NAT gateway is only created with the dedicated VPC, not with existing subnets")
	}
	if p.ThrottleRate <= 0 || math.IsInf(p.ThrottleRate, 0) || math.IsNaN(p.ThrottleRate) {
		add("API throttling rate %g: want a positive number of requests per second", p.ThrottleRate)
	}
	if p.ThrottleBurst < 1 {
		add("API throttling burst %d: want at least 1", p.ThrottleBurst)
	}
	if err := validateRetention(p.LogRetentionDays); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Validate reports every problem with the props (after defaults), except a missing Code.
func (p LmiStackProps) Validate() error {
	_, err := p.withDefaults()
	return err
}

// instanceArch infers an instance family's architecture: Graviton families carry
// a "g" right after the generation number (c8g, m7gd, c7gn, im4gn), and a1 is the
// first Graviton; everything else is x86_64.
func instanceArch(family, attrs string) matrix.Arch {
	if strings.HasPrefix(attrs, "g") || family == "a" {
		return matrix.Arm64
	}
	return matrix.X8664
}

// CapacityProviderName is the capacity provider's physical name for a prefix.
func CapacityProviderName(prefix string) string {
	return prefix + "-capacity-provider"
}

// HelloRoute describes one API route and the function behind it.
type HelloRoute struct {
	// Path is the API path below the stage, e.g. /default/128/hello.
	Path string
	// OutputPrefix starts the route's output keys, e.g. Default128 (Default128Url, Default128FunctionName).
	OutputPrefix string
	// FunctionName is the physical function name.
	FunctionName string
	MemoryMB     int
	LMI          bool
}

// HelloRoutes lists the three hello routes for a prefix and LMI memory size.
func HelloRoutes(prefix string, lmiMemoryMB int) []HelloRoute {
	return []HelloRoute{
		{Path: fmt.Sprintf("/default/%d/hello", standardHelloSmallMB), OutputPrefix: fmt.Sprintf("Default%d", standardHelloSmallMB),
			FunctionName: fmt.Sprintf("%s-hello-%d", prefix, standardHelloSmallMB), MemoryMB: standardHelloSmallMB},
		{Path: fmt.Sprintf("/default/%d/hello", standardHelloLargeMB), OutputPrefix: fmt.Sprintf("Default%d", standardHelloLargeMB),
			FunctionName: fmt.Sprintf("%s-hello-%d", prefix, standardHelloLargeMB), MemoryMB: standardHelloLargeMB},
		{Path: fmt.Sprintf("/lmi/%d/hello", lmiMemoryMB), OutputPrefix: fmt.Sprintf("Lmi%d", lmiMemoryMB),
			FunctionName: fmt.Sprintf("%s-hello-lmi-%d", prefix, lmiMemoryMB), MemoryMB: lmiMemoryMB, LMI: true},
	}
}

// NewLmiStack creates the standard-versus-LMI comparison: a capacity provider
// with its operator role and network, the hello function at 128 MB and 2048 MB
// on standard Lambda and on the capacity provider, and a throttled, logged REST
// API in front of all three.
func NewLmiStack(scope constructs.Construct, id string, props *LmiStackProps) (awscdk.Stack, error) {
	var p LmiStackProps
	if props != nil {
		p = *props
	}
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.Code == nil {
		return nil, errors.New("lmi stack: no code source for the function")
	}
	stack := awscdk.NewStack(scope, &id, &p.StackProps)
	awscdk.Tags_Of(stack).Add(jsii.String("Purpose"), jsii.String(PurposeTag), nil)

	// Stack-wide rather than on the RestApi and its methods: metadata there
	// would change the API deployment's logical id. The stack has one API.
	cdknag.NagSuppressions_AddStackSuppressions(stack, nagSuppressions(
		suppression{"AwsSolutions-APIG4", "The hello endpoints are public by design: the load generator calls them as an anonymous client would. " +
			"They return no data and the stage throttles them.", nil},
		suppression{"AwsSolutions-COG4", "Public benchmark endpoints (see AwsSolutions-APIG4): no user pool is involved.", nil},
		suppression{"AwsSolutions-APIG2", "The function validates delay_ms and hash_loops itself and answers 400 with the contracted JSON error; " +
			"API Gateway's validator would answer a different body.", nil},
	), nil)
	subnetIDs, securityGroupIDs := lmiNetwork(stack, p)
	cp := capacityProvider(stack, p, subnetIDs, securityGroupIDs)
	cpArn := cp.AttrArn()

	role := executionRole(stack)
	codes := newCodeCache(p.Code)
	api := restAPI(stack, p)
	code, err := codes.code(p.Arch)
	if err != nil {
		return nil, fmt.Errorf("lmi stack: %w", err)
	}
	for _, r := range HelloRoutes(p.Prefix, p.LmiMemoryMB) {
		fn := awslambda.NewFunction(stack, jsii.String(r.OutputPrefix+"Hello"), &awslambda.FunctionProps{
			FunctionName: jsii.String(r.FunctionName),
			Description:  jsii.String(fmt.Sprintf("hello behind API Gateway, %d MB, %s", r.MemoryMB, map[bool]string{false: "standard Lambda", true: "Lambda Managed Instances"}[r.LMI])),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Handler:      jsii.String(HelloHandler),
			Architecture: lambdaArch(p.Arch),
			Code:         code,
			MemorySize:   jsii.Number(float64(r.MemoryMB)),
			Timeout:      awscdk.Duration_Seconds(jsii.Number(HelloTimeoutSeconds)),
			Role:         role,
			LogGroup:     functionLogGroup(stack, r.OutputPrefix+"HelloLogs", r.FunctionName, p.LogRetentionDays, role),
		})
		awscdk.Tags_Of(fn).Add(jsii.String("Config"), jsii.String(fmt.Sprintf("hello-%s", strings.ToLower(r.OutputPrefix))), nil)
		awscdk.Tags_Of(fn).Add(jsii.String("Architecture"), jsii.String(string(p.Arch)), nil)
		if r.LMI {
			onCapacityProvider(fn, cpArn, p)
		}
		// An unqualified integration ARN is right for LMI too: invoking an LMI
		// function without a qualifier runs its $LATEST.PUBLISHED version.
		resource := api.Root().ResourceForPath(jsii.String(r.Path))
		resource.AddMethod(jsii.String("GET"), awsapigateway.NewLambdaIntegration(fn, &awsapigateway.LambdaIntegrationOptions{
			Proxy:           jsii.Bool(true),
			AllowTestInvoke: jsii.Bool(false),
		}), nil)

		awscdk.NewCfnOutput(stack, jsii.String(r.OutputPrefix+"Url"), &awscdk.CfnOutputProps{
			Value:       api.UrlForPath(jsii.String(r.Path)),
			Description: jsii.String("GET endpoint of " + r.FunctionName),
		})
		awscdk.NewCfnOutput(stack, jsii.String(r.OutputPrefix+"FunctionName"), &awscdk.CfnOutputProps{
			Value:       fn.FunctionName(),
			Description: jsii.String(fmt.Sprintf("Name of the %d MB hello function", r.MemoryMB)),
		})
	}
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Value:       api.Url(),
		Description: jsii.String("Base URL of the API's prod stage"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("CapacityProviderArn"), &awscdk.CfnOutputProps{Value: cpArn})
	awscdk.NewCfnOutput(stack, jsii.String("CapacityProviderName"), &awscdk.CfnOutputProps{Value: cp.Ref()})
	return stack, nil
}

// lmiNetwork returns the subnets and security groups the capacity provider
// launches instances into: the ones given, or a dedicated VPC's.
func lmiNetwork(stack awscdk.Stack, p LmiStackProps) (subnets, securityGroups []*string) {
	if len(p.SubnetIDs) > 0 {
		return *jsii.Strings(p.SubnetIDs...), *jsii.Strings(p.SecurityGroupID)
	}
	subnetConfig := []*awsec2.SubnetConfiguration{{
		Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24),
	}}
	nat := 0
	selection := awsec2.SubnetType_PUBLIC
	if p.NatGateway {
		subnetConfig = append(subnetConfig, &awsec2.SubnetConfiguration{
			Name: jsii.String("Instances"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(22),
		})
		nat = 1
		selection = awsec2.SubnetType_PRIVATE_WITH_EGRESS
	}
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:                       jsii.Number(DefaultVpcMaxAzs),
		NatGateways:                  jsii.Number(float64(nat)),
		SubnetConfiguration:          &subnetConfig,
		RestrictDefaultSecurityGroup: jsii.Bool(false),
	})
	suppress(vpc, suppression{"AwsSolutions-VPC7", "The VPC holds only the capacity provider's instances, whose security group admits no inbound traffic; " +
		"flow logs would bill every benchmark run for records no measurement uses.", nil})
	sg := awsec2.NewSecurityGroup(stack, jsii.String("InstanceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("LMI instances: no inbound traffic; outbound for logs and AWS APIs"),
		AllowAllOutbound: jsii.Bool(true),
	})
	return *vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetType: selection}).SubnetIds, []*string{sg.SecurityGroupId()}
}

// capacityProvider creates the capacity provider and the operator role Lambda
// uses to run its instances.
//
// It is the typed L1 CfnCapacityProvider rather than the L2 CapacityProvider,
// because the L2 cannot express these settings: its ScalingOptions are either
// Auto without policies or Manual with policies, while this stack keeps the
// Auto mode with the CPU target policy it has always deployed; the L2 also
// rejects a MaxVCpuCount below 12 (CloudFormation accepts 2) and would move the
// resource to a new logical id (CapacityProvider/Resource), which replaces a
// named capacity provider on the next deploy.
func capacityProvider(stack awscdk.Stack, p LmiStackProps, subnetIDs, securityGroupIDs []*string) awslambda.CfnCapacityProvider {
	operator := awsiam.NewRole(stack, jsii.String("CapacityProviderOperatorRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Lets Lambda launch and manage the capacity provider's EC2 instances"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String(operatorManagedPolicy)),
		},
	})
	suppress(operator, suppression{"AwsSolutions-IAM4",
		"AWSLambdaManagedEC2ResourceOperator is the policy AWS documents for a capacity provider's operator role; AWS keeps it in step with what Lambda needs to run the instances.",
		[]string{"Policy::arn:<AWS::Partition>:iam::aws:policy/" + operatorManagedPolicy}})
	return awslambda.NewCfnCapacityProvider(stack, jsii.String("CapacityProvider"), &awslambda.CfnCapacityProviderProps{
		CapacityProviderName: jsii.String(CapacityProviderName(p.Prefix)),
		VpcConfig: &awslambda.CfnCapacityProvider_CapacityProviderVpcConfigProperty{
			SubnetIds:        &subnetIDs,
			SecurityGroupIds: &securityGroupIDs,
		},
		PermissionsConfig: &awslambda.CfnCapacityProvider_CapacityProviderPermissionsConfigProperty{
			CapacityProviderOperatorRoleArn: operator.RoleArn(),
		},
		InstanceRequirements: &awslambda.CfnCapacityProvider_InstanceRequirementsProperty{
			Architectures:        jsii.Strings(string(p.Arch)),
			AllowedInstanceTypes: jsii.Strings(p.InstanceType),
		},
		CapacityProviderScalingConfig: &awslambda.CfnCapacityProvider_CapacityProviderScalingConfigProperty{
			MaxVCpuCount: jsii.Number(float64(p.MaxVCpuCount)),
			ScalingMode:  jsii.String(scalingModeAuto),
			ScalingPolicies: &[]*awslambda.CfnCapacityProvider_TargetTrackingScalingPolicyProperty{{
				PredefinedMetricType: jsii.String(cpuUtilizationMetric),
				TargetValue:          jsii.Number(p.TargetCPUPercent),
			}},
		},
	})
}

// onCapacityProvider moves fn onto the capacity provider through the typed L1
// properties of its CfnFunction (the L2 CapacityProvider.AddFunction sets the
// same three, but only exists on a CapacityProvider the L2 created). Lambda
// publishes $LATEST.PUBLISHED on every deploy.
func onCapacityProvider(fn awslambda.Function, capacityProviderArn *string, p LmiStackProps) {
	cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
	cfn.SetCapacityProviderConfig(&awslambda.CfnFunction_CapacityProviderConfigProperty{
		LambdaManagedInstancesCapacityProviderConfig: &awslambda.CfnFunction_LambdaManagedInstancesCapacityProviderConfigProperty{
			CapacityProviderArn:                   capacityProviderArn,
			ExecutionEnvironmentMemoryGiBPerVCpu:  jsii.Number(p.MemoryGiBPerVCpu),
			PerExecutionEnvironmentMaxConcurrency: jsii.Number(float64(p.MaxConcurrency)),
		},
	})
	cfn.SetFunctionScalingConfig(&awslambda.CfnFunction_FunctionScalingConfigProperty{
		MinExecutionEnvironments: jsii.Number(float64(p.MinEnvironments)),
		MaxExecutionEnvironments: jsii.Number(float64(p.MaxEnvironments)),
	})
	cfn.SetPublishToLatestPublished(jsii.Bool(true))
}

// restAPI creates the regional REST API with its prod stage, access logs and throttling.
func restAPI(stack awscdk.Stack, p LmiStackProps) awsapigateway.RestApi {
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays[p.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	props := &awsapigateway.RestApiProps{
		RestApiName:    jsii.String(p.Prefix + "-hello"),
		Description:    jsii.String("hello on standard Lambda and on Lambda Managed Instances"),
		EndpointTypes:  &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		CloudWatchRole: jsii.Bool(!p.SkipAPIGatewayLogRole),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(StageName),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller: jsii.Bool(false), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true), Protocol: jsii.Bool(true),
				RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true), ResponseLength: jsii.Bool(true),
				Status: jsii.Bool(true), User: jsii.Bool(false),
			}),
			ThrottlingRateLimit:  jsii.Number(p.ThrottleRate),
			ThrottlingBurstLimit: jsii.Number(float64(p.ThrottleBurst)),
			MetricsEnabled:       jsii.Bool(true),
		},
	}
	if !p.SkipAPIGatewayLogRole {
		// The role becomes the account's API Gateway logging setting, which other
		// APIs may rely on: keep it when the stack goes.
		props.CloudWatchRoleRemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	api := awsapigateway.NewRestApi(stack, jsii.String("Api"), props)
	// RestApi adds an unnamed "Endpoint" output; the stack's outputs are the contracted ones only.
	api.Node().TryRemoveChild(jsii.String("Endpoint"))
	// Suppressions go on the stage and the role, and stack-wide for the API
	// itself (in NewLmiStack): metadata on the RestApi or its methods would
	// change the deployment's logical id.
	if role := api.Node().TryFindChild(jsii.String("CloudWatchRole")); role != nil {
		suppress(role,
			suppression{"AwsSolutions-IAM4", "The account-level role API Gateway writes access logs with uses AmazonAPIGatewayPushToCloudWatchLogs, the policy AWS documents for it.",
				[]string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}})
	}
	suppress(api.DeploymentStage(),
		suppression{"AwsSolutions-APIG3", "The endpoints are a benchmark target: a WAF would add its own latency and cost to every measured request. " +
			"The stage throttles every method instead.", nil},
		suppression{"AwsSolutions-APIG6", "Access logs record every request; execution logging would write several more lines per request " +
			"during load runs, adding cost and latency to what is measured.", nil},
	)
	return api
}
