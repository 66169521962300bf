package target

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/mototest"
)

// outputsTemplate is a stack that holds nothing but the outputs bench reads
// from the LMI stack (the values are what a deployed stack would give).
const outputsTemplate = `{
  "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
  "Outputs": {
    "ApiUrl": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/prod/"},
    "Lmi2048Url": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/prod/lmi/2048/hello"},
    "Lmi2048FunctionName": {"Value": "go-bench-hello-lmi-2048"},
    "CapacityProviderName": {"Value": "go-bench-capacity-provider"},
    "StackName": {"Value": {"Ref": "AWS::StackName"}}
  }
}`

var wantOutputs = map[string]string{
	"ApiUrl":               "https://abc123.execute-api.us-east-1.amazonaws.com/prod/",
	"Lmi2048Url":           "https://abc123.execute-api.us-east-1.amazonaws.com/prod/lmi/2048/hello",
	"Lmi2048FunctionName":  "go-bench-hello-lmi-2048",
	"CapacityProviderName": "go-bench-capacity-provider",
	"StackName":            "GoLambdaBenchLmi",
}

// createStack creates the outputs stack in moto (which creates it at once).
func createStack(t *testing.T, cf *cloudformation.Client, name string) {
	t.Helper()
	if _, err := cf.CreateStack(context.Background(), &cloudformation.CreateStackInput{
		StackName: aws.String(name), TemplateBody: aws.String(outputsTemplate),
	}); err != nil {
		t.Fatalf("create stack %s in moto: %v", name, err)
	}
}

// TestMoto runs the aws target's calls against moto_server: stack outputs
// through CloudFormation DescribeStacks, and the SDK's endpoint variables.
func TestMoto(t *testing.T) {
	srv := mototest.Start(t)
	createStack(t, cloudformation.NewFromConfig(srv.Config()), LmiStack)
	t.Run("StackOutputs", func(t *testing.T) { testStackOutputsMoto(t, srv) })
	t.Run("EndpointVariables", func(t *testing.T) { testOpenAWSEndpointVariables(t, srv) })
}

// testStackOutputsMoto reads stack outputs through CloudFormation
// DescribeStacks as answered by moto.
func testStackOutputsMoto(t *testing.T, srv *mototest.Server) {
	cf := cloudformation.NewFromConfig(srv.Config())

	got, err := StackOutputs(context.Background(), cf, LmiStack)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, wantOutputs) {
		t.Errorf("outputs %v, want %v", got, wantOutputs)
	}

	// A stack that is not there: CloudFormation answers with a ValidationError
	// ("Stack with id ... does not exist"), not with an empty list.
	_, err = StackOutputs(context.Background(), cf, MatrixStack)
	if err == nil || !strings.Contains(err.Error(), "deploy it first") {
		t.Errorf("missing stack: error %v, want one saying to deploy it first", err)
	}
}

// testOpenAWSEndpointVariables checks that the aws target honours the SDK's
// standard endpoint variables: AWS_ENDPOINT_URL for every service, and
// AWS_ENDPOINT_URL_<SERVICE> over it for one service.
func testOpenAWSEndpointVariables(t *testing.T, srv *mototest.Server) {
	// Nothing listens on port 9 of 127.0.0.1: a call sent there fails at once.
	const nowhere = "http://127.0.0.1:9"
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": srv.Endpoint}},
		{"per service", map[string]string{
			"AWS_ENDPOINT_URL":                nowhere,
			"AWS_ENDPOINT_URL_CLOUDFORMATION": srv.Endpoint,
			"AWS_ENDPOINT_URL_LAMBDA":         srv.Endpoint,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWSEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			at, err := OpenAWS(context.Background(), AWSOptions{Stack: LmiStack})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(at.Outputs, wantOutputs) {
				t.Errorf("outputs %v, want %v", at.Outputs, wantOutputs)
			}
			// The Lambda client goes to moto as well (which has no functions).
			out, err := at.Lambda.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
			if err != nil {
				t.Fatalf("ListFunctions through the endpoint variables: %v", err)
			}
			if len(out.Functions) != 0 {
				t.Errorf("moto lists %d functions, want none", len(out.Functions))
			}
		})
	}
}

// isolateAWSEnv gives the SDK's default chain placeholder credentials and a
// region, and nothing from this machine's AWS configuration.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": mototest.Region, "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_CLOUDFORMATION": "", "AWS_ENDPOINT_URL_LAMBDA": "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}
