package locallambda

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// The local Lambda refuses what the Lambda API refuses, with the same error codes, and a
// refused update leaves the configuration as it was.
func TestUpdateRefusedAsLambdaRefusesIt(t *testing.T) {
	bin := needFunction(t)
	spec := bcryptSpec(bin)
	spec.Env = map[string]string{"WORKER_COUNT": "1"}
	s := start(t, Config{Functions: []FunctionSpec{spec}})
	c := client(s)
	ctx := context.Background()
	big := map[string]string{"BIG": strings.Repeat("x", 100<<10)}
	tests := []struct {
		name string
		in   lambda.UpdateFunctionConfigurationInput
		code string
		want string
	}{
		{"memory 0", lambda.UpdateFunctionConfigurationInput{MemorySize: aws.Int32(0)}, "ValidationException", "greater than or equal to 128"},
		{"memory 10241", lambda.UpdateFunctionConfigurationInput{MemorySize: aws.Int32(10241)}, "ValidationException", "less than or equal to 10240"},
		{"reserved variable", lambda.UpdateFunctionConfigurationInput{Environment: &types.Environment{
			Variables: map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:1", "X": "1"}}}, "InvalidParameterValueException", "AWS_LAMBDA_RUNTIME_API"},
		{"100 KB of variables", lambda.UpdateFunctionConfigurationInput{Environment: &types.Environment{Variables: big}},
			"InvalidParameterValueException", "4 KB"},
		{"bad variable name", lambda.UpdateFunctionConfigurationInput{Environment: &types.Environment{
			Variables: map[string]string{"1X": "1"}}}, "InvalidParameterValueException", "1X"},
		{"timeout 0", lambda.UpdateFunctionConfigurationInput{Timeout: aws.Int32(0)}, "ValidationException", "greater than or equal to 1"},
		{"timeout 901", lambda.UpdateFunctionConfigurationInput{Timeout: aws.Int32(901)}, "InvalidParameterValueException", "timeout"},
	}
	for _, tt := range tests {
		in := tt.in
		in.FunctionName = aws.String(spec.Name)
		_, err := c.UpdateFunctionConfiguration(ctx, &in)
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code || !strings.Contains(apiErr.ErrorMessage(), tt.want) {
			t.Errorf("%s: %v, want %s mentioning %q", tt.name, err, tt.code, tt.want)
		}
	}
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(spec.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if *cfg.MemorySize != int32(spec.MemoryMB) || len(cfg.Environment.Variables) != 1 || cfg.Environment.Variables["WORKER_COUNT"] != "1" {
		t.Errorf("configuration changed by refused updates: memory %d, variables %v", *cfg.MemorySize, cfg.Environment.Variables)
	}
}

// An Invoke request must be smaller than 6 MB (6,291,456 bytes), as on AWS:
// one byte less is taken, exactly 6 MB is refused with the message that
// says so.
func TestInvokePayloadLimit(t *testing.T) {
	bin := needFunction(t)
	spec := bcryptSpec(bin)
	s := start(t, Config{Functions: []FunctionSpec{spec}})
	c := client(s)
	jsonString := func(n int) []byte { return []byte(`"` + strings.Repeat("x", n-2) + `"`) }
	tests := []struct {
		name    string
		size    int
		refused bool
	}{
		{"6 MB less one byte", 6<<20 - 1, false},
		{"exactly 6 MB", 6 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(spec.Name), Payload: jsonString(tt.size)})
			var tooLarge *types.RequestTooLargeException
			if got := errors.As(err, &tooLarge); got != tt.refused {
				t.Fatalf("%d bytes: %v, want refused %v", tt.size, err, tt.refused)
			}
			if tt.refused && !strings.Contains(tooLarge.ErrorMessage(), "smaller than 6291456 bytes") {
				t.Errorf("message %q", tooLarge.ErrorMessage())
			}
		})
	}
}

// A function is found by name, by partial ARN and by full ARN of this Lambda's region and
// account only; an ARN of another region or account names another function.
func TestLookupByARNChecksRegionAndAccount(t *testing.T) {
	s := &Server{functions: map[string]*function{"f": {}}}
	tests := []struct {
		in       string
		found    bool
		notFound string
	}{
		{"f", true, ""},
		{"f:$LATEST", true, ""},
		{"function:f", true, ""},
		{Account + ":function:f", true, ""},
		{FunctionARN("f"), true, ""},
		{FunctionARN("f") + ":$LATEST", true, ""},
		{"arn:aws:lambda:eu-west-1:" + Account + ":function:f", false, "arn:aws:lambda:eu-west-1:" + Account + ":function:f"},
		{"arn:aws:lambda:" + Region + ":123456789012:function:f", false, "arn:aws:lambda:" + Region + ":123456789012:function:f"},
		{"123456789012:function:f", false, "arn:aws:lambda:" + Region + ":123456789012:function:f"},
		{"arn:aws-cn:lambda:" + Region + ":" + Account + ":function:f", false, "arn:aws-cn:lambda:" + Region + ":" + Account + ":function:f"},
		{"g", false, "g"},
	}
	for _, tt := range tests {
		f, name, ok := s.lookup(tt.in, "")
		if ok != tt.found || (f != nil) != tt.found {
			t.Errorf("lookup(%q): found %v, want %v", tt.in, ok, tt.found)
		}
		if !tt.found && name != tt.notFound {
			t.Errorf("lookup(%q): not-found name %q, want %q", tt.in, name, tt.notFound)
		}
	}
}

func TestSpecRefusesWhatLambdaRefuses(t *testing.T) {
	base := FunctionSpec{Name: "f", Binary: "/bin/true", MemoryMB: 128}
	tests := []struct {
		name string
		edit func(*FunctionSpec)
		want string
	}{
		{"reserved _HANDLER", func(f *FunctionSpec) { f.Env = map[string]string{"_HANDLER": "x"} }, "_HANDLER"},
		{"reserved AWS_REGION", func(f *FunctionSpec) { f.Env = map[string]string{"AWS_REGION": "x"} }, "AWS_REGION"},
		{"over 4 KB", func(f *FunctionSpec) { f.Env = map[string]string{"VV": strings.Repeat("v", 4100)} }, "4 KB"},
		{"memory 64", func(f *FunctionSpec) { f.MemoryMB = 64 }, "128..10240"},
		{"memory 10241", func(f *FunctionSpec) { f.MemoryMB = 10241 }, "128..10240"},
	}
	for _, tt := range tests {
		f := base
		tt.edit(&f)
		if _, err := f.withDefaults(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
	ok := base
	ok.Env = map[string]string{"TZ": "Europe/Paris", "WORKER_COUNT": "2", "VV": strings.Repeat("v", 3900)}
	if _, err := ok.withDefaults(); err != nil {
		t.Errorf("a valid spec (TZ may be overridden, 4 KB fits): %v", err)
	}
}
