package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"lambdabench/infra/internal/bundle"
	"lambdabench/infra/internal/jsiitest"
	"lambdabench/infra/internal/matrix"
	"lambdabench/infra/internal/templatecheck"
)

// The real function source and the real bundler: synth builds the bootstrap
// binaries (once per architecture for the whole test binary).
var builder *bundle.Builder

func TestMain(m *testing.M) { os.Exit(jsiitest.Main(setup{m})) }

// setup builds the shared fixtures around the tests.
type setup struct{ m *testing.M }

func (s setup) Run() int {
	var err error
	builder, err = bundle.New(filepath.Join("..", "..", "..", "function"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer builder.Close()
	return s.m.Run()
}

// newApp returns an app that synthesizes into a temporary directory, with
// cdk-nag's AwsSolutions checks applied as the CDK app applies them.
func newApp(t *testing.T) awscdk.App {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	AddNagChecks(app)
	return app
}

// synthesized returns the assertions template and the decoded JSON of a stack.
// It fails the test on every unsuppressed cdk-nag finding (error or warning)
// and on every finding of the project's own assembly checks (code assets,
// the matrix table, the outputs bench reads).
func synthesized(t *testing.T, stack awscdk.Stack) (assertions.Template, map[string]any) {
	t.Helper()
	tpl := assertions.Template_FromStack(stack, nil)
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range nagFindings(stack) {
		t.Errorf("cdk-nag: %s", f)
	}
	a, err := templatecheck.LoadAssembly(*awscdk.Stage_Of(stack).Outdir())
	if err != nil {
		t.Fatal(err)
	}
	checked := false
	for _, s := range a.Stacks {
		if s.Name == *stack.ArtifactId() {
			checked = true
			for _, f := range templatecheck.CheckStack(s) {
				t.Errorf("template check: %s", f)
			}
		}
	}
	if !checked {
		t.Errorf("stack %s is not in the assembly", *stack.ArtifactId())
	}
	return tpl, doc
}

// nagFindings returns the unsuppressed findings of the AwsSolutions pack on a
// synthesized stack: cdk-nag reports each as an error or warning annotation.
func nagFindings(stack awscdk.Stack) []string {
	ann := assertions.Annotations_FromStack(stack)
	rule := assertions.Match_StringLikeRegexp(jsii.String(NagPack + "-.*"))
	// Each message as JSON (level, construct path, text): the Go struct's
	// fields are marked deprecated in favour of a type jsii does not export.
	var out []string
	for _, m := range append(*ann.FindError(jsii.String("*"), rule), *ann.FindWarning(jsii.String("*"), rule)...) {
		b, err := json.Marshal(m)
		if err != nil {
			b = []byte(err.Error())
		}
		out = append(out, string(b))
	}
	return out
}

// resourcesOfType returns the properties of every resource of a type, by logical id.
func resourcesOfType(doc map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range doc["Resources"].(map[string]any) {
		rm := r.(map[string]any)
		if rm["Type"] == typ {
			props, _ := rm["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

func functionsByName(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, p := range resourcesOfType(doc, "AWS::Lambda::Function") {
		out[p["FunctionName"].(string)] = p
	}
	return out
}

func TestMatrixStackDefault(t *testing.T) {
	stack, err := NewMatrixStack(newApp(t), DefaultMatrixStackName, &MatrixStackProps{Code: builder})
	if err != nil {
		t.Fatal(err)
	}
	tpl, doc := synthesized(t, stack)
	cfgs := matrix.Default()
	if len(cfgs) != 12 {
		t.Fatalf("default matrix has %d configurations, want 12", len(cfgs))
	}
	// 12 bcrypt functions and the 3 calibration probes.
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(15))
	tpl.ResourceCountIs(jsii.String("AWS::Logs::LogGroup"), jsii.Number(15))
	tpl.ResourceCountIs(jsii.String("AWS::IAM::Role"), jsii.Number(1))
	if outputs := doc["Outputs"].(map[string]any); len(outputs) != 27 {
		t.Errorf("%d outputs, want 27 (name and ARN of 12 functions, name of 3 probes)", len(outputs))
	}
	for _, mb := range ProbeMemorySizes {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
			"FunctionName": fmt.Sprintf("go-bench-probe-%d", mb), "MemorySize": mb, "Handler": ProbeHandler,
			"Runtime": "provided.al2023", "ReservedConcurrentExecutions": 1,
		})
	}

	fns := functionsByName(doc)
	codeKeys := map[matrix.Arch]map[string]bool{}
	for _, c := range cfgs {
		t.Run(c.Key(), func(t *testing.T) {
			name := c.FunctionName(matrix.DefaultPrefix)
			wantName := fmt.Sprintf("go-bench-%s-%dvcpu-%dmb", map[matrix.Arch]string{matrix.Arm64: "arm64", matrix.X8664: "x86"}[c.Arch], c.Workers, c.MemoryMB)
			if name != wantName {
				t.Errorf("name %s, want %s", name, wantName)
			}
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
				"FunctionName":                 name,
				"MemorySize":                   c.MemoryMB,
				"Architectures":                []string{string(c.Arch)},
				"Runtime":                      "provided.al2023",
				"Handler":                      "bcrypt",
				"Timeout":                      30,
				"ReservedConcurrentExecutions": 10,
				"Environment":                  map[string]any{"Variables": map[string]any{"WORKER_COUNT": strconv.Itoa(c.Workers)}},
				"Tags": assertions.Match_ArrayWith(&[]any{
					map[string]any{"Key": "Architecture", "Value": string(c.Arch)},
					map[string]any{"Key": "Purpose", "Value": PurposeTag},
				}),
			})
			tpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), &map[string]any{
				"LogGroupName":    "/aws/lambda/" + name,
				"RetentionInDays": DefaultLogRetentionDays,
			})
			tpl.HasOutput(jsii.String(c.FunctionNameOutput()), &map[string]any{"Value": map[string]any{"Ref": assertions.Match_AnyValue()}})
			tpl.HasOutput(jsii.String(c.FunctionArnOutput()), &map[string]any{"Value": map[string]any{"Fn::GetAtt": assertions.Match_AnyValue()}})

			fn := fns[name]
			if fn == nil {
				t.Fatalf("no function %s", name)
			}
			if lg := fn["LoggingConfig"].(map[string]any)["LogGroup"]; lg == nil {
				t.Error("function does not log to its explicit log group")
			}
			key := fn["Code"].(map[string]any)["S3Key"].(string)
			if codeKeys[c.Arch] == nil {
				codeKeys[c.Arch] = map[string]bool{}
			}
			codeKeys[c.Arch][key] = true
		})
	}
	// One asset per architecture, shared by its functions, and never the same for both.
	if len(codeKeys[matrix.Arm64]) != 1 || len(codeKeys[matrix.X8664]) != 1 {
		t.Fatalf("code assets per architecture: %v, want exactly one each", codeKeys)
	}
	for k := range codeKeys[matrix.Arm64] {
		if codeKeys[matrix.X8664][k] {
			t.Errorf("arm64 and x86_64 functions share the asset %s", k)
		}
	}
	tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), &map[string]any{"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"})
}

func TestMatrixStackOverrides(t *testing.T) {
	cfgs, err := matrix.Build([]matrix.Arch{matrix.Arm64}, []int{1536, 3008}, []int{3})
	if err != nil {
		t.Fatal(err)
	}
	stack, err := NewMatrixStack(newApp(t), "Custom", &MatrixStackProps{Prefix: "mybench", Configs: cfgs, LogRetentionDays: 30, Code: builder})
	if err != nil {
		t.Fatal(err)
	}
	tpl, doc := synthesized(t, stack)
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(2+len(ProbeMemorySizes)))
	fns := functionsByName(doc)
	if fns["mybench-probe-128"] == nil {
		t.Errorf("no probe function under the prefix: %v", fns)
	}
	for name, mb := range map[string]float64{"mybench-arm64-1vcpu-1536mb": 1536, "mybench-arm64-2vcpu-3008mb": 3008} {
		fn := fns[name]
		if fn == nil {
			t.Fatalf("no function %s in %v", name, fns)
		}
		if fn["MemorySize"] != mb || fn["Environment"].(map[string]any)["Variables"].(map[string]any)["WORKER_COUNT"] != "3" {
			t.Errorf("%s: memory %v, environment %v", name, fn["MemorySize"], fn["Environment"])
		}
	}
	tpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), &map[string]any{"RetentionInDays": 30})
	tpl.HasOutput(jsii.String("Arm64Mem3008FunctionName"), &map[string]any{})
}

func TestLmiStackDefault(t *testing.T) {
	stack, err := NewLmiStack(newApp(t), DefaultLmiStackName, &LmiStackProps{Code: builder})
	if err != nil {
		t.Fatal(err)
	}
	tpl, doc := synthesized(t, stack)

	tpl.HasResourceProperties(jsii.String("AWS::Lambda::CapacityProvider"), &map[string]any{
		"CapacityProviderName": "go-bench-capacity-provider",
		"InstanceRequirements": map[string]any{"Architectures": []string{"arm64"}, "AllowedInstanceTypes": []string{"c8g.xlarge"}},
		"CapacityProviderScalingConfig": map[string]any{
			"MaxVCpuCount": 12,
			"ScalingMode":  "Auto",
			"ScalingPolicies": []any{map[string]any{
				"PredefinedMetricType": "LambdaCapacityProviderAverageCPUUtilization", "TargetValue": 70,
			}},
		},
		"VpcConfig": map[string]any{
			"SubnetIds":        assertions.Match_AnyValue(),
			"SecurityGroupIds": []any{map[string]any{"Fn::GetAtt": assertions.Match_AnyValue()}},
		},
		"PermissionsConfig": map[string]any{"CapacityProviderOperatorRoleArn": map[string]any{"Fn::GetAtt": assertions.Match_AnyValue()}},
		// The typed L1 is taggable: the stack's Purpose tag reaches the capacity provider.
		"Tags": []any{map[string]any{"Key": "Purpose", "Value": PurposeTag}},
	})
	tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), &map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"},
		}}},
		"ManagedPolicyArns": []any{map[string]any{"Fn::Join": []any{"", []any{
			"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/AWSLambdaManagedEC2ResourceOperator",
		}}}},
	})

	fns := functionsByName(doc)
	for _, r := range HelloRoutes(matrix.DefaultPrefix, DefaultLmiMemoryMB) {
		fn := fns[r.FunctionName]
		if fn == nil {
			t.Fatalf("no function %s", r.FunctionName)
		}
		if fn["Handler"] != "hello" || fn["MemorySize"] != float64(r.MemoryMB) || fn["Runtime"] != "provided.al2023" {
			t.Errorf("%s: handler %v, memory %v, runtime %v", r.FunctionName, fn["Handler"], fn["MemorySize"], fn["Runtime"])
		}
		_, onLMI := fn["CapacityProviderConfig"]
		if onLMI != r.LMI {
			t.Errorf("%s: on the capacity provider = %v, want %v", r.FunctionName, onLMI, r.LMI)
		}
	}
	if names := []string{"go-bench-hello-128", "go-bench-hello-2048", "go-bench-hello-lmi-2048"}; len(fns) != len(names) {
		t.Errorf("functions %v, want %v", fns, names)
	}
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
		"FunctionName": "go-bench-hello-lmi-2048",
		"MemorySize":   2048,
		"CapacityProviderConfig": map[string]any{"LambdaManagedInstancesCapacityProviderConfig": map[string]any{
			"CapacityProviderArn":                   map[string]any{"Fn::GetAtt": []any{"CapacityProvider", "Arn"}},
			"ExecutionEnvironmentMemoryGiBPerVCpu":  2,
			"PerExecutionEnvironmentMaxConcurrency": 64,
		}},
		"FunctionScalingConfig":    map[string]any{"MinExecutionEnvironments": 1, "MaxExecutionEnvironments": 4},
		"PublishToLatestPublished": true,
	})
	// The LMI function has no reserved concurrency; the standard ones neither (the stage throttles).
	tpl.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::Function"),
		&map[string]any{"ReservedConcurrentExecutions": assertions.Match_AnyValue()}, jsii.Number(0))

	// Routes: GET on the three paths, each a Lambda proxy integration with an unqualified function ARN.
	tpl.ResourceCountIs(jsii.String("AWS::ApiGateway::Method"), jsii.Number(3))
	for id, m := range resourcesOfType(doc, "AWS::ApiGateway::Method") {
		integ := m["Integration"].(map[string]any)
		if m["HttpMethod"] != "GET" || integ["Type"] != "AWS_PROXY" {
			t.Errorf("method %s: %v %v", id, m["HttpMethod"], integ["Type"])
		}
		uri, _ := json.Marshal(integ["Uri"])
		if strings.Contains(string(uri), "LATEST") || strings.Contains(string(uri), ":function:") {
			t.Errorf("method %s integrates a qualified function: %s", id, uri)
		}
	}
	var paths []string
	for _, r := range resourcesOfType(doc, "AWS::ApiGateway::Resource") {
		paths = append(paths, r["PathPart"].(string))
	}
	for _, want := range []string{"default", "lmi", "128", "2048", "hello"} {
		if !strings.Contains(strings.Join(paths, " "), want) {
			t.Errorf("no API resource %q in %v", want, paths)
		}
	}
	tpl.ResourceCountIs(jsii.String("AWS::ApiGateway::Resource"), jsii.Number(8))
	tpl.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), &map[string]any{
		"EndpointConfiguration": map[string]any{"Types": []string{"REGIONAL"}},
	})
	tpl.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), &map[string]any{
		"StageName":        "prod",
		"AccessLogSetting": map[string]any{"DestinationArn": map[string]any{"Fn::GetAtt": assertions.Match_AnyValue()}, "Format": assertions.Match_AnyValue()},
		"MethodSettings": []any{assertions.Match_ObjectLike(&map[string]any{
			"HttpMethod": "*", "ResourcePath": "/*",
			"ThrottlingRateLimit": DefaultApiThrottleRate, "ThrottlingBurstLimit": DefaultApiThrottleBurst,
		})},
	})
	tpl.ResourceCountIs(jsii.String("AWS::ApiGateway::Account"), jsii.Number(1))
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Permission"), jsii.Number(3))

	// The dedicated VPC: public subnets, no NAT gateway, a security group without ingress.
	tpl.ResourceCountIs(jsii.String("AWS::EC2::VPC"), jsii.Number(1))
	tpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), jsii.Number(0))
	tpl.ResourceCountIs(jsii.String("AWS::EC2::Subnet"), jsii.Number(2))
	tpl.ResourcePropertiesCountIs(jsii.String("AWS::EC2::SecurityGroup"),
		&map[string]any{"SecurityGroupIngress": assertions.Match_AnyValue()}, jsii.Number(0))

	outputs := doc["Outputs"].(map[string]any)
	want := []string{"ApiUrl", "Default128Url", "Default2048Url", "Lmi2048Url",
		"Default128FunctionName", "Default2048FunctionName", "Lmi2048FunctionName", "CapacityProviderArn", "CapacityProviderName"}
	if len(outputs) != len(want) {
		t.Errorf("outputs %v, want exactly %v", keys(outputs), want)
	}
	for _, k := range want {
		if _, ok := outputs[k]; !ok {
			t.Errorf("no output %s", k)
		}
	}
	// URLs are https://<api>.execute-api.<region>.<suffix>/<stage>/<path>, the stage being prod.
	for key, suffix := range map[string]string{"ApiUrl": `"/"`, "Default128Url": `"/default/128/hello"`,
		"Default2048Url": `"/default/2048/hello"`, "Lmi2048Url": `"/lmi/2048/hello"`} {
		url, _ := json.Marshal(outputs[key].(map[string]any)["Value"])
		if !strings.Contains(string(url), `{"Ref":"ApiDeploymentStageprod`) || !strings.HasSuffix(string(url), suffix+"]]}") {
			t.Errorf("%s = %s, want the prod stage URL ending in %s", key, url, suffix)
		}
	}
	tpl.HasOutput(jsii.String("CapacityProviderArn"), &map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"CapacityProvider", "Arn"}}})
	tpl.HasOutput(jsii.String("CapacityProviderName"), &map[string]any{"Value": map[string]any{"Ref": "CapacityProvider"}})
}

func TestLmiStackOverrides(t *testing.T) {
	subnets := []string{"subnet-0123456789abcdef0", "subnet-89abcdef"}
	stack, err := NewLmiStack(newApp(t), "LmiX86", &LmiStackProps{
		Prefix: "xb", Arch: matrix.X8664, InstanceType: "c7i.2xlarge", MaxVCpuCount: 24, TargetCPUPercent: 50,
		LmiMemoryMB: 4096, MemoryGiBPerVCpu: 4, MaxConcurrency: 8, MinEnvironments: 0, MinEnvironmentsSet: true, MaxEnvironments: 2,
		SubnetIDs: subnets, SecurityGroupID: "sg-0123456789abcdef0",
		ThrottleRate: 10, ThrottleBurst: 20, SkipAPIGatewayLogRole: true, LogRetentionDays: 1,
		Code: builder,
	})
	if err != nil {
		t.Fatal(err)
	}
	tpl, doc := synthesized(t, stack)
	tpl.ResourceCountIs(jsii.String("AWS::EC2::VPC"), jsii.Number(0))
	tpl.ResourceCountIs(jsii.String("AWS::ApiGateway::Account"), jsii.Number(0))
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::CapacityProvider"), &map[string]any{
		"CapacityProviderName":          "xb-capacity-provider",
		"VpcConfig":                     map[string]any{"SubnetIds": subnets, "SecurityGroupIds": []string{"sg-0123456789abcdef0"}},
		"InstanceRequirements":          map[string]any{"Architectures": []string{"x86_64"}, "AllowedInstanceTypes": []string{"c7i.2xlarge"}},
		"CapacityProviderScalingConfig": assertions.Match_ObjectLike(&map[string]any{"MaxVCpuCount": 24}),
	})
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
		"FunctionName":  "xb-hello-lmi-4096",
		"MemorySize":    4096,
		"Architectures": []string{"x86_64"},
		"CapacityProviderConfig": map[string]any{"LambdaManagedInstancesCapacityProviderConfig": assertions.Match_ObjectLike(&map[string]any{
			"ExecutionEnvironmentMemoryGiBPerVCpu": 4, "PerExecutionEnvironmentMaxConcurrency": 8,
		})},
		"FunctionScalingConfig": map[string]any{"MinExecutionEnvironments": 0, "MaxExecutionEnvironments": 2},
	})
	tpl.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), &map[string]any{
		"MethodSettings": []any{assertions.Match_ObjectLike(&map[string]any{"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20})},
	})
	if _, ok := doc["Outputs"].(map[string]any)["Lmi4096Url"]; !ok {
		t.Errorf("no Lmi4096Url output in %v", keys(doc["Outputs"].(map[string]any)))
	}
}

func TestLmiStackNatGateway(t *testing.T) {
	stack, err := NewLmiStack(newApp(t), "LmiNat", &LmiStackProps{NatGateway: true, Code: builder})
	if err != nil {
		t.Fatal(err)
	}
	tpl, doc := synthesized(t, stack)
	tpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), jsii.Number(1))
	// The capacity provider uses the private subnets only.
	cp := resourcesOfType(doc, "AWS::Lambda::CapacityProvider")["CapacityProvider"]
	subnets, _ := json.Marshal(cp["VpcConfig"].(map[string]any)["SubnetIds"])
	if strings.Contains(string(subnets), "Public") || !strings.Contains(string(subnets), "Instances") {
		t.Errorf("capacity provider subnets %s, want the private ones", subnets)
	}
}

func TestInvalidProps(t *testing.T) {
	valid := func() LmiStackProps { return LmiStackProps{Code: builder} }
	lmi := []struct {
		name   string
		change func(*LmiStackProps)
		want   string
	}{
		{"LMI memory below 2048", func(p *LmiStackProps) { p.LmiMemoryMB = 1024 }, "LMI memory size 1024 MB outside 2048-10240 MB"},
		{"unknown architecture", func(p *LmiStackProps) { p.Arch = "sparc" }, `unknown architecture "sparc"`},
		{"instance type of the other architecture", func(p *LmiStackProps) { p.InstanceType = "c7i.xlarge" }, "instance type c7i.xlarge is x86_64 but the capacity provider is arm64"},
		{"malformed instance type", func(p *LmiStackProps) { p.InstanceType = "xlarge" }, `instance type "xlarge"`},
		{"malformed subnet", func(p *LmiStackProps) { p.SubnetIDs = []string{"subnet-123"}; p.SecurityGroupID = "sg-01234567" }, `subnet id "subnet-123"`},
		{"subnets without security group", func(p *LmiStackProps) { p.SubnetIDs = []string{"subnet-01234567"} }, "give both subnet ids and a security group id"},
		{"malformed security group", func(p *LmiStackProps) { p.SubnetIDs = []string{"subnet-01234567"}; p.SecurityGroupID = "group-1" }, `security group id "group-1"`},
		{"memory per vCPU", func(p *LmiStackProps) { p.MemoryGiBPerVCpu = 1 }, "LMI memory per vCPU 1 GiB outside 2-8 GiB"},
		{"concurrency", func(p *LmiStackProps) { p.MaxConcurrency = 2000 }, "outside 1-1600"},
		{"environments", func(p *LmiStackProps) { p.MinEnvironments, p.MinEnvironmentsSet, p.MaxEnvironments = 5, true, 2 }, "min 5 / max 2"},
		{"target CPU", func(p *LmiStackProps) { p.TargetCPUPercent = 120 }, "target CPU utilisation 120%"},
		{"throttling", func(p *LmiStackProps) { p.ThrottleRate = -1 }, "API throttling rate -1"},
		{"retention", func(p *LmiStackProps) { p.LogRetentionDays = 10 }, "log retention 10 days"},
		{"no code", func(p *LmiStackProps) { p.Code = nil }, "lmi stack: no code source"},
	}
	for _, tt := range lmi {
		t.Run("lmi/"+tt.name, func(t *testing.T) {
			p := valid()
			tt.change(&p)
			_, err := NewLmiStack(newApp(t), "Lmi", &p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	mx := []struct {
		name  string
		props MatrixStackProps
		want  string
	}{
		{"memory above 10240", MatrixStackProps{Configs: []matrix.Config{{Arch: matrix.Arm64, MemoryMB: 10241, Workers: 6}}, Code: builder}, "memory size 10241 MB outside 128-10240 MB"},
		{"unknown architecture", MatrixStackProps{Configs: []matrix.Config{{Arch: "sparc", MemoryMB: 2048, Workers: 2}}, Code: builder}, `unknown architecture "sparc"`},
		{"duplicate", MatrixStackProps{Configs: []matrix.Config{{Arch: matrix.Arm64, MemoryMB: 2048, Workers: 2}, {Arch: matrix.Arm64, MemoryMB: 2048, Workers: 1}}, Code: builder}, "Arm64Mem2048 appears twice"},
		{"prefix", MatrixStackProps{Prefix: "my bench", Code: builder}, `prefix "my bench"`},
		{"empty matrix", MatrixStackProps{Configs: []matrix.Config{}, Code: builder}, "the matrix is empty"},
	}
	for _, tt := range mx {
		t.Run("matrix/"+tt.name, func(t *testing.T) {
			_, err := NewMatrixStack(newApp(t), "Matrix", &tt.props)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestInstanceArch(t *testing.T) {
	for typ, want := range map[string]matrix.Arch{
		"c8g.xlarge": matrix.Arm64, "m7gd.large": matrix.Arm64, "c7gn.2xlarge": matrix.Arm64, "im4gn.large": matrix.Arm64,
		"a1.large": matrix.Arm64, "c7i.xlarge": matrix.X8664, "m5.large": matrix.X8664, "c6in.xlarge": matrix.X8664,
		"g5.xlarge": matrix.X8664, "m7i-flex.large": matrix.X8664,
	} {
		m := instanceTypePattern.FindStringSubmatch(typ)
		if m == nil {
			t.Errorf("%s does not parse", typ)
			continue
		}
		if got := instanceArch(m[1], m[3]); got != want {
			t.Errorf("instanceArch(%s) = %s, want %s", typ, got, want)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestNagChecksReport shows that the checks the stack tests rely on do report:
// a role with an AWS managed policy and no suppression is an AwsSolutions-IAM4
// finding, and a suppression with its reason silences exactly that one.
func TestNagChecksReport(t *testing.T) {
	for _, suppressed := range []bool{false, true} {
		app := newApp(t)
		stack := awscdk.NewStack(app, jsii.String(fmt.Sprintf("Nag%t", suppressed)), nil)
		role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{
			AssumedBy:       awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("ReadOnlyAccess"))},
		})
		if suppressed {
			suppress(role, suppression{"AwsSolutions-IAM4", "a test of the suppression", nil})
		}
		assertions.Template_FromStack(stack, nil)
		got := nagFindings(stack)
		if suppressed && len(got) != 0 {
			t.Errorf("suppressed: findings %v, want none", got)
		}
		if !suppressed && (len(got) != 1 || !strings.Contains(got[0], "AwsSolutions-IAM4")) {
			t.Errorf("findings %v, want one AwsSolutions-IAM4", got)
		}
	}
}
