package templatecheck

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Finding is one problem in a template.
type Finding struct {
	// Rule names the check, e.g. spec/unknown-property or security/iam-wildcard.
	Rule string
	// Path locates the value, e.g. Resources.Fn.Properties.MemorySize.
	Path    string
	Message string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s [%s]", f.Path, f.Message, f.Rule)
}

// Template is a decoded CloudFormation template.
type Template map[string]any

// ParseTemplate decodes a JSON template.
func ParseTemplate(data []byte) (Template, error) {
	var t Template
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	if t == nil {
		return nil, fmt.Errorf("decode template: not a JSON object")
	}
	return t, nil
}

// Check runs the specification checks and the security rules.
func Check(spec *Spec, t Template) []Finding {
	return append(CheckSpec(spec, t), CheckSecurity(t)...)
}

// Resource types CloudFormation accepts that the registry specification does not list.
var extraResourceTypes = map[string]bool{
	"AWS::CDK::Metadata": true, // CDK's version reporting, handled by CloudFormation itself
}

var templateSections = []string{"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
	"Mappings", "Conditions", "Transform", "Resources", "Outputs"}

var resourceKeys = []string{"Type", "Properties", "DependsOn", "Metadata", "Condition", "DeletionPolicy",
	"UpdateReplacePolicy", "UpdatePolicy", "CreationPolicy"}

var deletionPolicies = []any{"Delete", "Retain", "Snapshot", "RetainExceptOnCreate"}

var pseudoParameters = map[string]bool{"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true,
	"AWS::Partition": true, "AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true}

// CheckSpec checks a template against the resource specification: sections,
// resource types, property names at every depth, required properties, value
// shapes and allowed values, and the targets of Ref, Fn::GetAtt and Fn::Sub.
// Intrinsic functions stand for values that are only known at deploy time and
// are accepted wherever a value is.
func CheckSpec(spec *Spec, t Template) []Finding {
	c := &specChecker{spec: spec}
	for k := range t {
		if !slices.Contains(templateSections, k) {
			c.add("template/section", k, "unknown template section")
		}
	}
	resources, ok := t["Resources"].(map[string]any)
	if !ok || len(resources) == 0 {
		c.add("template/section", "Resources", "a template needs at least one resource")
		return c.findings
	}
	for _, id := range sortedKeys(resources) {
		c.resource("Resources."+id, resources[id])
	}
	c.references(t, resources)
	return c.findings
}

type specChecker struct {
	spec     *Spec
	findings []Finding
}

func (c *specChecker) add(rule, path, format string, a ...any) {
	c.findings = append(c.findings, Finding{Rule: rule, Path: path, Message: fmt.Sprintf(format, a...)})
}

func (c *specChecker) resource(path string, v any) {
	r, ok := v.(map[string]any)
	if !ok {
		c.add("spec/type", path, "a resource must be an object")
		return
	}
	for k := range r {
		if !slices.Contains(resourceKeys, k) {
			c.add("template/resource-attribute", path+"."+k, "unknown resource attribute")
		}
	}
	for _, k := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
		if p, ok := r[k]; ok && !slices.Contains(deletionPolicies, p) {
			c.add("spec/disallowed-value", path+"."+k, "%v is not one of %v", p, deletionPolicies)
		}
	}
	typ, _ := r["Type"].(string)
	switch {
	case typ == "":
		c.add("spec/type", path+".Type", "a resource needs a Type")
		return
	case extraResourceTypes[typ], strings.HasPrefix(typ, "Custom::"), typ == "AWS::CloudFormation::CustomResource":
		return
	}
	rs, ok := c.spec.resources[typ]
	if !ok {
		c.add("spec/unknown-resource-type", path+".Type", "unknown resource type %s", typ)
		return
	}
	props, present := r["Properties"]
	if !present {
		props = map[string]any{}
	}
	c.findings = append(c.findings, c.object(path+".Properties", props, rs.properties, typ)...)
}

// object checks v as an object with the given properties, returning findings
// instead of recording them so that unions can try each alternative.
func (c *specChecker) object(path string, v any, props map[string]*propertySpec, typeName string) []Finding {
	if isIntrinsic(v) {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return []Finding{{Rule: "spec/type", Path: path, Message: fmt.Sprintf("want an object (%s), got %s", typeName, describe(v))}}
	}
	var out []Finding
	for _, k := range sortedKeys(m) {
		p, ok := props[k]
		if !ok {
			msg := fmt.Sprintf("unknown property %s of %s", k, typeName)
			if near := nearest(k, props); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			out = append(out, Finding{Rule: "spec/unknown-property", Path: path + "." + k, Message: msg})
			continue
		}
		out = append(out, c.property(path+"."+k, m[k], p)...)
	}
	for _, k := range sortedKeys(props) {
		if _, ok := m[k]; !ok && props[k].required {
			out = append(out, Finding{Rule: "spec/missing-required", Path: path + "." + k, Message: fmt.Sprintf("%s requires property %s", typeName, k)})
		}
	}
	return out
}

// property accepts v if it fits the current type or any earlier type of the property.
func (c *specChecker) property(path string, v any, p *propertySpec) []Finding {
	first := c.value(path, v, p.types[0])
	if len(first) == 0 {
		return nil
	}
	for _, t := range p.types[1:] {
		if len(c.value(path, v, t)) == 0 {
			return nil
		}
	}
	return first
}

func (c *specChecker) value(path string, v any, t *valueType) []Finding {
	if isIntrinsic(v) {
		return nil
	}
	bad := func(want string) []Finding {
		return []Finding{{Rule: "spec/type", Path: path, Message: fmt.Sprintf("want %s, got %s", want, describe(v))}}
	}
	switch t.kind {
	case "json":
		return nil
	case "string", "date-time":
		switch v.(type) {
		case string, float64, bool: // CloudFormation turns scalars into strings
			return c.allowed(path, v, t)
		}
		return bad("a string")
	case "integer":
		switch x := v.(type) {
		case float64:
			if x != math.Trunc(x) {
				return bad("an integer")
			}
			return c.allowed(path, v, t)
		case string:
			if _, err := strconv.ParseInt(x, 10, 64); err != nil {
				return bad("an integer")
			}
			return c.allowed(path, v, t)
		}
		return bad("an integer")
	case "number":
		switch x := v.(type) {
		case float64:
			return c.allowed(path, v, t)
		case string:
			if _, err := strconv.ParseFloat(x, 64); err != nil {
				return bad("a number")
			}
			return c.allowed(path, v, t)
		}
		return bad("a number")
	case "boolean":
		switch x := v.(type) {
		case bool:
			return nil
		case string:
			if x == "true" || x == "false" {
				return nil
			}
		}
		return bad("a boolean")
	case "null":
		if v == nil {
			return nil
		}
		return bad("null")
	case "tag":
		return c.object(path, v, tagProperties, "Tag")
	case "array":
		items, ok := v.([]any)
		if !ok {
			return bad("an array")
		}
		var out []Finding
		for i, item := range items {
			out = append(out, c.value(fmt.Sprintf("%s[%d]", path, i), item, t.element)...)
		}
		return out
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("a map")
		}
		var out []Finding
		for _, k := range sortedKeys(m) {
			out = append(out, c.value(path+"."+k, m[k], t.element)...)
		}
		return out
	case "ref":
		td, ok := c.spec.types[t.ref]
		if !ok {
			return []Finding{{Rule: "spec/internal", Path: path, Message: fmt.Sprintf("specification refers to missing type definition %s", t.ref)}}
		}
		return c.object(path, v, td.properties, td.name)
	case "union":
		var best []Finding
		for i, alt := range t.union {
			f := c.value(path, v, alt)
			if len(f) == 0 {
				return nil
			}
			if i == 0 || len(f) < len(best) {
				best = f
			}
		}
		return best
	}
	return []Finding{{Rule: "spec/internal", Path: path, Message: fmt.Sprintf("specification type %q is not understood by this checker", t.kind)}}
}

// allowed checks a literal scalar against the type's allowed values, if any.
func (c *specChecker) allowed(path string, v any, t *valueType) []Finding {
	if len(t.allowed) == 0 {
		return nil
	}
	for _, a := range t.allowed {
		if fmt.Sprint(a) == fmt.Sprint(v) {
			return nil
		}
	}
	return []Finding{{Rule: "spec/disallowed-value", Path: path, Message: fmt.Sprintf("%v is not one of %v", v, t.allowed)}}
}

var tagProperties = map[string]*propertySpec{
	"Key":   {required: true, types: []*valueType{{kind: "string"}}},
	"Value": {required: true, types: []*valueType{{kind: "string"}}},
}

// references checks that every Ref, Fn::GetAtt and Fn::Sub variable names a
// resource, parameter or pseudo parameter, and that attributes exist.
func (c *specChecker) references(t Template, resources map[string]any) {
	params, _ := t["Parameters"].(map[string]any)
	known := func(name string) bool {
		_, isRes := resources[name]
		_, isParam := params[name]
		return isRes || isParam || pseudoParameters[name]
	}
	attrOK := func(id, attr string) (bool, string) {
		r, _ := resources[id].(map[string]any)
		typ, _ := r["Type"].(string)
		rs, ok := c.spec.resources[typ]
		if !ok { // custom or unknown types: reported elsewhere
			return true, typ
		}
		return rs.attributes[attr], typ
	}
	checkGetAtt := func(path, id, attr string) {
		if _, ok := resources[id]; !ok {
			c.add("spec/unknown-reference", path, "Fn::GetAtt names %s, which is not a resource", id)
			return
		}
		if ok, typ := attrOK(id, attr); !ok {
			c.add("spec/unknown-attribute", path, "%s (%s) has no attribute %s", id, typ, attr)
		}
	}
	for _, section := range []string{"Resources", "Outputs", "Conditions", "Rules"} {
		walk(section, t[section], func(path string, m map[string]any) {
			if len(m) != 1 {
				return
			}
			switch {
			case m["Ref"] != nil:
				if name, ok := m["Ref"].(string); ok && !known(name) {
					c.add("spec/unknown-reference", path, "Ref to %s, which is neither a resource nor a parameter", name)
				}
			case m["Fn::GetAtt"] != nil:
				switch a := m["Fn::GetAtt"].(type) {
				case []any:
					if len(a) == 2 {
						id, _ := a[0].(string)
						if attr, ok := a[1].(string); ok {
							checkGetAtt(path, id, attr)
						}
					}
				case string:
					if id, attr, ok := strings.Cut(a, "."); ok {
						checkGetAtt(path, id, attr)
					}
				}
			case m["Fn::Sub"] != nil:
				str, vars := m["Fn::Sub"], map[string]any{}
				if a, ok := str.([]any); ok && len(a) == 2 {
					str = a[0]
					vars, _ = a[1].(map[string]any)
				}
				s, _ := str.(string)
				for _, name := range subVariables(s) {
					if _, local := vars[name]; local {
						continue
					}
					id, attr, isAttr := strings.Cut(name, ".")
					if isAttr && !pseudoParameters[name] {
						checkGetAtt(path, id, attr)
					} else if !known(name) {
						c.add("spec/unknown-reference", path, "Fn::Sub names ${%s}, which is neither a resource nor a parameter", name)
					}
				}
			}
		})
	}
}

var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

func subVariables(s string) []string {
	var names []string
	for _, m := range subVariable.FindAllStringSubmatch(s, -1) {
		names = append(names, strings.TrimSpace(m[1]))
	}
	return names
}

// walk calls fn for every object under v, depth first.
func walk(path string, v any, fn func(path string, m map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(path, x)
		for _, k := range sortedKeys(x) {
			walk(path+"."+k, x[k], fn)
		}
	case []any:
		for i, e := range x {
			walk(fmt.Sprintf("%s[%d]", path, i), e, fn)
		}
	}
}

// isIntrinsic reports whether v is an intrinsic function call ({"Ref": ...} or {"Fn::X": ...}).
func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case float64:
		return "number " + strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// nearest suggests the known property closest to a misspelt one.
func nearest(name string, props map[string]*propertySpec) string {
	best, bestDist := "", len(name)/3+1
	for _, k := range sortedKeys(props) {
		if strings.EqualFold(k, name) {
			return k
		}
		if d := levenshtein(strings.ToLower(k), strings.ToLower(name)); d <= bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
