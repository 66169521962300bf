package templatecheck

import (
	"fmt"
	"slices"
	"strings"
)

// Security rule names.
const (
	RuleIAMWildcard        = "security/iam-wildcard"
	RuleLogRetention       = "security/log-retention"
	RuleAPIAccessLogs      = "security/api-access-logs"
	RuleAPIThrottling      = "security/api-throttling"
	RulePublicAccess       = "security/public-access"
	ruleIdentityPolicyPath = "PolicyDocument"
)

// readOnlyVerbs start the IAM actions that only read. Every other action is
// treated as a write.
var readOnlyVerbs = []string{"Describe", "Get", "List", "BatchGet", "Head", "View"}

// CheckSecurity applies the project's security rules to a template:
//   - no IAM statement allows Action "*", and none allows a write action on
//     Resource "*" (AWS managed policies are attached by ARN, so never seen here);
//   - every log group has a retention, and nothing writes to a log group that
//     CloudFormation does not manage (Lambda's implicit /aws/lambda/<name>, API
//     Gateway execution logs);
//   - every API Gateway stage has access logs and throttling;
//   - nothing is public beyond the API: no wildcard principals on resource
//     policies, no public Lambda permissions or function URLs, no security group
//     open to the internet, no public S3 bucket.
func CheckSecurity(t Template) []Finding {
	s := &securityChecker{}
	resources, _ := t["Resources"].(map[string]any)
	stagedAPIs := map[string]bool{}
	for _, id := range sortedKeys(resources) {
		r, _ := resources[id].(map[string]any)
		typ, _ := r["Type"].(string)
		props, _ := r["Properties"].(map[string]any)
		path := "Resources." + id + ".Properties"
		s.identityPolicies(path, typ, props)
		s.resourcePolicies(path, props)
		switch typ {
		case "AWS::Logs::LogGroup":
			if _, ok := props["RetentionInDays"]; !ok {
				s.add(RuleLogRetention, path, "log group %s has no RetentionInDays: its logs never expire", id)
			}
		case "AWS::Lambda::Function":
			if lc, _ := props["LoggingConfig"].(map[string]any); lc["LogGroup"] == nil {
				s.add(RuleLogRetention, path+".LoggingConfig", "function %s logs to the implicit /aws/lambda/<name> log group, which has no retention and outlives the stack", id)
			}
		case "AWS::ApiGateway::Stage":
			s.restStage(path, id, props)
			if ref, ok := props["RestApiId"].(map[string]any); ok {
				if name, ok := ref["Ref"].(string); ok {
					stagedAPIs[name] = true
				}
			}
		case "AWS::ApiGateway::Deployment":
			if _, ok := props["StageName"]; ok {
				s.add(RuleAPIAccessLogs, path+".StageName", "deployment %s creates a stage without access logs or throttling; declare an AWS::ApiGateway::Stage", id)
			}
		case "AWS::ApiGatewayV2::Stage":
			s.httpStage(path, id, props)
		case "AWS::Lambda::Permission":
			s.lambdaPermission(path, id, props)
		case "AWS::Lambda::Url":
			if props["AuthType"] == "NONE" {
				s.add(RulePublicAccess, path+".AuthType", "function URL %s can be invoked by anyone (AuthType NONE)", id)
			}
		case "AWS::EC2::SecurityGroup":
			ingress, _ := props["SecurityGroupIngress"].([]any)
			for i, rule := range ingress {
				s.ingress(fmt.Sprintf("%s.SecurityGroupIngress[%d]", path, i), id, rule)
			}
		case "AWS::EC2::SecurityGroupIngress":
			s.ingress(path, id, props)
		case "AWS::S3::Bucket":
			s.bucket(path, id, props)
		}
	}
	for _, id := range sortedKeys(resources) {
		r, _ := resources[id].(map[string]any)
		if r["Type"] == "AWS::ApiGateway::RestApi" && !stagedAPIs[id] {
			s.add(RuleAPIAccessLogs, "Resources."+id, "REST API %s has no AWS::ApiGateway::Stage, so nothing gives it access logs and throttling", id)
		}
	}
	return s.findings
}

type securityChecker struct {
	findings []Finding
}

func (s *securityChecker) add(rule, path, format string, a ...any) {
	s.findings = append(s.findings, Finding{Rule: rule, Path: path, Message: fmt.Sprintf(format, a...)})
}

// identityPolicies checks the policies a template writes for its own principals.
func (s *securityChecker) identityPolicies(path, typ string, props map[string]any) {
	switch typ {
	case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy":
		s.policyDocument(path+"."+ruleIdentityPolicyPath, props[ruleIdentityPolicyPath])
	case "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group":
		policies, _ := props["Policies"].([]any)
		for i, p := range policies {
			pm, _ := p.(map[string]any)
			s.policyDocument(fmt.Sprintf("%s.Policies[%d].%s", path, i, ruleIdentityPolicyPath), pm[ruleIdentityPolicyPath])
		}
	}
}

func (s *securityChecker) policyDocument(path string, doc any) {
	d, _ := doc.(map[string]any)
	statements := d["Statement"]
	if one, ok := statements.(map[string]any); ok {
		statements = []any{one}
	}
	list, _ := statements.([]any)
	for i, st := range list {
		m, _ := st.(map[string]any)
		if m["Effect"] != "Allow" {
			continue
		}
		p := fmt.Sprintf("%s.Statement[%d]", path, i)
		actions := stringsOf(m["Action"])
		switch {
		case m["NotAction"] != nil:
			s.add(RuleIAMWildcard, p+".NotAction", "Allow with NotAction grants every other action")
		case slices.Contains(actions, "*"):
			s.add(RuleIAMWildcard, p+".Action", `Allow with Action "*"`)
		}
		if m["NotResource"] != nil {
			s.add(RuleIAMWildcard, p+".NotResource", "Allow with NotResource grants every other resource")
		}
		if slices.Contains(stringsOf(m["Resource"]), "*") {
			var writes []string
			for _, a := range actions {
				if !isReadOnly(a) {
					writes = append(writes, a)
				}
			}
			if len(writes) > 0 {
				s.add(RuleIAMWildcard, p+".Resource", `write actions %v allowed on Resource "*"`, writes)
			}
		}
	}
}

func isReadOnly(action string) bool {
	_, verb, ok := strings.Cut(action, ":")
	if !ok {
		return false
	}
	for _, prefix := range readOnlyVerbs {
		if strings.HasPrefix(verb, prefix) && !strings.Contains(verb, "*") {
			return true
		}
	}
	return false
}

// resourcePolicies finds policy statements anywhere in a resource's properties
// (bucket, queue, key, trust and other resource policies) that let anyone in.
func (s *securityChecker) resourcePolicies(path string, props map[string]any) {
	walk(path, props, func(p string, m map[string]any) {
		if _, isStatement := m["Effect"]; !isStatement || m["Effect"] != "Allow" {
			return
		}
		if m["NotPrincipal"] != nil {
			s.add(RulePublicAccess, p+".NotPrincipal", "Allow with NotPrincipal lets in every other principal")
			return
		}
		principal, ok := m["Principal"]
		if !ok || m["Condition"] != nil {
			return
		}
		if isWildcardPrincipal(principal) {
			s.add(RulePublicAccess, p+".Principal", "Allow to every principal (\"*\") without a condition")
		}
	})
}

func isWildcardPrincipal(p any) bool {
	switch x := p.(type) {
	case string:
		return x == "*"
	case map[string]any:
		return slices.Contains(stringsOf(x["AWS"]), "*")
	}
	return false
}

func (s *securityChecker) restStage(path, id string, props map[string]any) {
	if als, _ := props["AccessLogSetting"].(map[string]any); als["DestinationArn"] == nil {
		s.add(RuleAPIAccessLogs, path+".AccessLogSetting", "stage %s writes no access logs", id)
	}
	settings, _ := props["MethodSettings"].([]any)
	throttled := false
	for i, ms := range settings {
		m, _ := ms.(map[string]any)
		if lvl, ok := m["LoggingLevel"].(string); ok && lvl != "OFF" {
			s.add(RuleLogRetention, fmt.Sprintf("%s.MethodSettings[%d].LoggingLevel", path, i),
				"execution logging writes to API-Gateway-Execution-Logs_<api>/<stage>, a log group outside the stack with no retention")
		}
		if m["HttpMethod"] == "*" && m["ResourcePath"] == "/*" && m["ThrottlingRateLimit"] != nil && m["ThrottlingBurstLimit"] != nil {
			throttled = true
		}
	}
	if !throttled {
		s.add(RuleAPIThrottling, path+".MethodSettings", `stage %s has no throttling rate and burst for every method (HttpMethod "*", ResourcePath "/*")`, id)
	}
}

func (s *securityChecker) httpStage(path, id string, props map[string]any) {
	if als, _ := props["AccessLogSettings"].(map[string]any); als["DestinationArn"] == nil {
		s.add(RuleAPIAccessLogs, path+".AccessLogSettings", "stage %s writes no access logs", id)
	}
	if rs, _ := props["DefaultRouteSettings"].(map[string]any); rs["ThrottlingRateLimit"] == nil || rs["ThrottlingBurstLimit"] == nil {
		s.add(RuleAPIThrottling, path+".DefaultRouteSettings", "stage %s has no default throttling rate and burst", id)
	}
}

func (s *securityChecker) lambdaPermission(path, id string, props map[string]any) {
	principal, _ := props["Principal"].(string)
	switch {
	case principal == "*":
		s.add(RulePublicAccess, path+".Principal", "permission %s lets anyone invoke the function", id)
	case props["FunctionUrlAuthType"] == "NONE":
		s.add(RulePublicAccess, path+".FunctionUrlAuthType", "permission %s opens a function URL to anyone", id)
	case strings.HasSuffix(principal, ".amazonaws.com") && props["SourceArn"] == nil && props["SourceAccount"] == nil:
		s.add(RulePublicAccess, path+".SourceArn", "permission %s lets any account's %s invoke the function: set SourceArn", id, principal)
	}
}

func (s *securityChecker) ingress(path, id string, rule any) {
	m, _ := rule.(map[string]any)
	if m["CidrIp"] == "0.0.0.0/0" || m["CidrIpv6"] == "::/0" {
		s.add(RulePublicAccess, path, "security group %s is open to the internet", id)
	}
}

func (s *securityChecker) bucket(path, id string, props map[string]any) {
	if acl, _ := props["AccessControl"].(string); strings.HasPrefix(acl, "Public") {
		s.add(RulePublicAccess, path+".AccessControl", "bucket %s has a public ACL (%s)", id, acl)
	}
	pab, _ := props["PublicAccessBlockConfiguration"].(map[string]any)
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if pab[k] != true {
			s.add(RulePublicAccess, path+".PublicAccessBlockConfiguration."+k, "bucket %s does not set %s", id, k)
		}
	}
}

// stringsOf returns the literal strings of a string-or-list value.
func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
