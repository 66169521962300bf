package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NagPack is the cdk-nag rule pack every stack of the app is checked against.
const NagPack = "AwsSolutions"

// AddNagChecks applies cdk-nag's AwsSolutions rule pack to every stack under
// scope (the app), as an Aspect: each unsuppressed finding becomes an error or
// warning annotation, which `cdk synth` reports (errors fail it) and the stack
// tests fail on. Each stack carries its own suppressions, each with its reason.
func AddNagChecks(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// suppression is one accepted cdk-nag finding and why it is accepted.
type suppression struct {
	id, reason string
	appliesTo  []string // finding ids (e.g. "Policy::arn:...") when the rule reports several per resource
}

func nagSuppressions(ss ...suppression) *[]*cdknag.NagPackSuppression {
	out := make([]*cdknag.NagPackSuppression, 0, len(ss))
	for _, s := range ss {
		n := &cdknag.NagPackSuppression{Id: jsii.String(s.id), Reason: jsii.String(s.reason)}
		if len(s.appliesTo) > 0 {
			applies := make([]any, len(s.appliesTo))
			for i, a := range s.appliesTo {
				applies[i] = a
			}
			n.AppliesTo = &applies
		}
		out = append(out, n)
	}
	return &out
}

// suppress accepts findings on construct c and everything below it.
func suppress(c constructs.IConstruct, ss ...suppression) {
	cdknag.NagSuppressions_AddResourceSuppressions(c, nagSuppressions(ss...), jsii.Bool(true))
}
