package templatecheck

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// specPath is the pinned specification installed by `make node_modules` (npm ci).
var specPath = filepath.Join("..", "..", "..", "node_modules", "@aws-cdk", "aws-service-spec", "db.json.gz")

var (
	specOnce   sync.Once
	sharedSpec *Spec
	specErr    error
)

func loadSpec(t *testing.T) *Spec {
	t.Helper()
	specOnce.Do(func() { sharedSpec, specErr = LoadSpec(specPath) })
	if specErr != nil {
		t.Fatalf("%v (run `make node_modules` at the repository root to install the pinned specification)", specErr)
	}
	return sharedSpec
}

func readFixture(t *testing.T, name string) Template {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := ParseTemplate(data)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestGoodTemplateHasNoFindings(t *testing.T) {
	spec := loadSpec(t)
	if findings := Check(spec, readFixture(t, "good.json")); len(findings) != 0 {
		for _, f := range findings {
			t.Error(f)
		}
	}
}

// Every fixture is good.json with one defect; the check must report that
// defect, under the expected rule and path, and nothing else.
func TestEachRuleCatchesItsFixture(t *testing.T) {
	spec := loadSpec(t)
	tests := []struct {
		fixture string
		rule    string
		path    string // the reported path contains this
		message string // the message contains this
	}{
		{"spec-unknown-resource-type.json", "spec/unknown-resource-type", "Resources.CapacityProvider.Type", "AWS::Lambda::CapacityProviders"},
		{"spec-unknown-property.json", "spec/unknown-property",
			"CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurency", "did you mean PerExecutionEnvironmentMaxConcurrency?"},
		{"spec-missing-required.json", "spec/missing-required", "VpcConfig.SecurityGroupIds", "CapacityProviderVpcConfig requires"},
		{"spec-disallowed-value.json", "spec/disallowed-value", "CapacityProviderScalingConfig.ScalingMode", "auto is not one of [Auto Manual]"},
		{"spec-wrong-type.json", "spec/type", "Resources.Fn.Properties.Architectures", "want an array"},
		{"spec-unknown-attribute.json", "spec/unknown-attribute", "Outputs.CpArn.Value", "has no attribute Name"},
		{"spec-unknown-reference.json", "spec/unknown-reference", "LoggingConfig.LogGroup", "Ref to FnLogs"},
		{"security-iam-action-star.json", RuleIAMWildcard, "Statement[0].Action", `Action "*"`},
		{"security-iam-write-resource-star.json", RuleIAMWildcard, "Statement[0].Resource", "logs:PutLogEvents"},
		{"security-log-group-no-retention.json", RuleLogRetention, "Resources.AccessLogs", "no RetentionInDays"},
		{"security-function-implicit-log-group.json", RuleLogRetention, "Resources.Fn.Properties.LoggingConfig", "implicit"},
		{"security-execution-logging.json", RuleLogRetention, "MethodSettings[0].LoggingLevel", "no retention"},
		{"security-api-no-access-logs.json", RuleAPIAccessLogs, "Resources.Stage.Properties.AccessLogSetting", "no access logs"},
		{"security-api-no-stage.json", RuleAPIAccessLogs, "Resources.Api", "no AWS::ApiGateway::Stage"},
		{"security-api-no-throttling.json", RuleAPIThrottling, "Resources.Stage.Properties.MethodSettings", "no throttling"},
		{"security-public-permission.json", RulePublicAccess, "Resources.Permission.Properties.Principal", "anyone"},
		{"security-permission-no-source.json", RulePublicAccess, "Resources.Permission.Properties.SourceArn", "any account"},
		{"security-public-function-url.json", RulePublicAccess, "Resources.Url.Properties.AuthType", "anyone"},
		{"security-open-security-group.json", RulePublicAccess, "Resources.Sg.Properties.SecurityGroupIngress[0]", "open to the internet"},
		{"security-public-trust.json", RulePublicAccess, "AssumeRolePolicyDocument.Statement[0].Principal", "every principal"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.fixture, ".json"), func(t *testing.T) {
			findings := Check(spec, readFixture(t, tt.fixture))
			if len(findings) == 0 {
				t.Fatalf("no findings; want %s at %s", tt.rule, tt.path)
			}
			matched := false
			for _, f := range findings {
				if f.Rule != tt.rule {
					t.Errorf("unexpected finding %s", f)
					continue
				}
				if strings.Contains(f.Path, tt.path) && strings.Contains(f.Message, tt.message) {
					matched = true
				}
			}
			if !matched {
				t.Errorf("no %s finding at %q with %q in %v", tt.rule, tt.path, tt.message, findings)
			}
		})
	}
}

func TestIntrinsicsAreValues(t *testing.T) {
	spec := loadSpec(t)
	tpl := readFixture(t, "good.json")
	fn := tpl["Resources"].(map[string]any)["Fn"].(map[string]any)["Properties"].(map[string]any)
	// Intrinsics where an integer, an array, an object and a boolean are expected.
	fn["MemorySize"] = map[string]any{"Fn::If": []any{"IsProd", 2048, 1024}}
	fn["Architectures"] = map[string]any{"Fn::Split": []any{",", map[string]any{"Ref": "Stage"}}}
	fn["FunctionScalingConfig"] = map[string]any{"Fn::If": []any{"IsProd", map[string]any{"MaxExecutionEnvironments": 4}, map[string]any{"Ref": "AWS::NoValue"}}}
	fn["PublishToLatestPublished"] = map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Stage"}, "prod"}}
	if findings := CheckSpec(spec, tpl); len(findings) != 0 {
		t.Errorf("intrinsics rejected: %v", findings)
	}
}

func TestScalarCoercion(t *testing.T) {
	spec := loadSpec(t)
	tests := []struct {
		name  string
		value any
		ok    bool
	}{
		{"integer", 1536.0, true},
		{"integer as string", "1536", true},
		{"fraction", 1536.5, false},
		{"word", "lots", false},
		{"boolean", true, false},
		{"object", map[string]any{"MB": 1536}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := readFixture(t, "good.json")
			tpl["Resources"].(map[string]any)["Fn"].(map[string]any)["Properties"].(map[string]any)["MemorySize"] = tt.value
			findings := CheckSpec(spec, tpl)
			if tt.ok != (len(findings) == 0) {
				t.Errorf("MemorySize %v: findings %v, want ok=%v", tt.value, findings, tt.ok)
			}
		})
	}
}

func TestTemplateStructure(t *testing.T) {
	spec := loadSpec(t)
	tpl := readFixture(t, "good.json")
	tpl["Output"] = map[string]any{}
	tpl["Resources"].(map[string]any)["Logs"].(map[string]any)["DeletionPolicy"] = "Destroy"
	tpl["Resources"].(map[string]any)["Logs"].(map[string]any)["DependOn"] = []any{"Role"}
	got := map[string]bool{}
	for _, f := range CheckSpec(spec, tpl) {
		got[f.Rule+" "+f.Path] = true
	}
	for _, want := range []string{
		"template/section Output",
		"spec/disallowed-value Resources.Logs.DeletionPolicy",
		"template/resource-attribute Resources.Logs.DependOn",
	} {
		if !got[want] {
			t.Errorf("missing finding %q in %v", want, got)
		}
	}
	if findings := CheckSpec(spec, Template{"Resources": map[string]any{}}); len(findings) != 1 {
		t.Errorf("empty Resources: %v", findings)
	}
}

func TestReadOnlyActions(t *testing.T) {
	for action, want := range map[string]bool{
		"ec2:DescribeInstances": true, "logs:GetLogEvents": true, "s3:ListBucket": true,
		"logs:PutLogEvents": false, "ec2:Describe*": false, "s3:*": false, "*": false, "iam:PassRole": false,
	} {
		if got := isReadOnly(action); got != want {
			t.Errorf("isReadOnly(%q) = %v, want %v", action, got, want)
		}
	}
}

func TestParseTemplateRejectsNonObjects(t *testing.T) {
	for _, in := range []string{"[]", "null", "{", `"x"`} {
		if _, err := ParseTemplate([]byte(in)); err == nil {
			t.Errorf("ParseTemplate(%s): no error", in)
		}
	}
}
