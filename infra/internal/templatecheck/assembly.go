// Package templatecheck checks a synthesized cloud assembly (cdk.out) for what
// this project intends and neither cfn-lint (CloudFormation's schema and rules)
// nor cdk-nag (the AwsSolutions rule pack) can know:
//
//   - each stack ships one code asset per architecture, and that asset's
//     bootstrap is a Linux ELF executable built for that architecture (two
//     assets from the same source are easily deduplicated into one, and then
//     x86_64 functions run an arm64 binary: both tools would pass that);
//   - the matrix stack's functions form the matrix table: name, architecture,
//     memory size and worker count agree, and each has the name and ARN
//     outputs bench discovers the matrix by;
//   - the LMI stack has every output bench reads, each pointing at the right
//     function, route or capacity provider.
package templatecheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Finding is one problem in an assembly.
type Finding struct {
	// Stack is the stack's artifact id, e.g. GoLambdaBenchMatrix.
	Stack string
	// Rule names the check: asset, matrix, outputs or stack.
	Rule string
	// Path locates the value, e.g. Resources.Arm64Mem1536.Properties.Code.
	Path    string
	Message string
}

func (f Finding) String() string {
	if f.Path == "" {
		return fmt.Sprintf("%s: %s [%s]", f.Stack, f.Message, f.Rule)
	}
	return fmt.Sprintf("%s: %s: %s [%s]", f.Stack, f.Path, f.Message, f.Rule)
}

// Template is a decoded CloudFormation template.
type Template map[string]any

// Stack is one stack of an assembly.
type Stack struct {
	// Name is the stack's artifact id.
	Name     string
	Template Template
	// Assets maps each file asset's S3 object key (as the template's Code.S3Key
	// names it) to the asset's directory in the assembly.
	Assets map[string]string
}

// Assembly is a synthesized cloud assembly.
type Assembly struct {
	Dir    string
	Stacks []Stack
}

// manifest is the part of manifest.json this package reads.
type manifest struct {
	Artifacts map[string]struct {
		Type       string `json:"type"`
		Properties struct {
			TemplateFile string `json:"templateFile"`
			File         string `json:"file"`
		} `json:"properties"`
		Dependencies []string `json:"dependencies"`
	} `json:"artifacts"`
}

// assetManifest is the part of <stack>.assets.json this package reads.
type assetManifest struct {
	Files map[string]struct {
		Source struct {
			Path string `json:"path"`
		} `json:"source"`
		Destinations map[string]struct {
			ObjectKey string `json:"objectKey"`
		} `json:"destinations"`
	} `json:"files"`
}

// LoadAssembly reads the stacks of the cloud assembly in dir: their templates
// and where their file assets are.
func LoadAssembly(dir string) (*Assembly, error) {
	var m manifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		return nil, fmt.Errorf("cloud assembly %s (run cdk synth first): %w", dir, err)
	}
	a := &Assembly{Dir: dir}
	names := make([]string, 0, len(m.Artifacts))
	for id, art := range m.Artifacts {
		if art.Type == "aws:cloudformation:stack" {
			names = append(names, id)
		}
	}
	sort.Strings(names)
	for _, id := range names {
		s := Stack{Name: id, Assets: map[string]string{}}
		if err := readJSON(filepath.Join(dir, m.Artifacts[id].Properties.TemplateFile), &s.Template); err != nil {
			return nil, fmt.Errorf("stack %s: %w", id, err)
		}
		if s.Template == nil {
			return nil, fmt.Errorf("stack %s: template is not a JSON object", id)
		}
		// The stack's asset manifest is the cdk:asset-manifest artifact it depends on.
		for _, dep := range append(m.Artifacts[id].Dependencies, id+".assets") {
			art, ok := m.Artifacts[dep]
			if !ok || art.Type != "cdk:asset-manifest" {
				continue
			}
			var am assetManifest
			if err := readJSON(filepath.Join(dir, art.Properties.File), &am); err != nil {
				return nil, fmt.Errorf("stack %s: %w", id, err)
			}
			for _, f := range am.Files {
				for _, d := range f.Destinations {
					if d.ObjectKey != "" {
						s.Assets[d.ObjectKey] = filepath.Join(dir, f.Source.Path)
					}
				}
			}
		}
		a.Stacks = append(a.Stacks, s)
	}
	if len(a.Stacks) == 0 {
		return nil, fmt.Errorf("cloud assembly %s holds no stacks", dir)
	}
	return a, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// Check runs every check on every stack.
func (a *Assembly) Check() []Finding {
	var out []Finding
	for _, s := range a.Stacks {
		out = append(out, CheckStack(s)...)
	}
	return out
}

// CheckStack checks one stack: its code assets, and the matrix table or the
// LMI outputs, depending on which of the two stacks it is.
func CheckStack(s Stack) []Finding {
	c := &checker{stack: s.Name, resources: mapOf(s.Template["Resources"]), outputs: mapOf(s.Template["Outputs"])}
	if len(c.resources) == 0 {
		c.add("stack", "Resources", "the template has no resources")
		return c.findings
	}
	c.assets(s.Assets)
	matrixFns, helloFns, loadgenFns := c.functionsByHandler()
	switch {
	case len(loadgenFns) > 0 && len(matrixFns)+len(helloFns) > 0:
		c.add("stack", "", "holds the load generator with benchmark functions: the load-generator stack is a stack of its own")
	case len(loadgenFns) > 0:
		c.loadgen(loadgenFns)
	case len(matrixFns) > 0 && len(helloFns) > 0:
		c.add("stack", "", "holds both bcrypt and hello functions: the matrix and the LMI stack are separate stacks")
	case len(matrixFns) > 0:
		c.matrix(matrixFns)
	case len(helloFns) > 0 || len(c.ofType(capacityProviderType)) > 0:
		c.lmi(helloFns)
	default:
		c.add("stack", "", "neither the matrix stack (bcrypt functions), the LMI stack (hello functions, a capacity provider) nor the load-generator stack (a loadgen function)")
	}
	return c.findings
}

const (
	functionType         = "AWS::Lambda::Function"
	capacityProviderType = "AWS::Lambda::CapacityProvider"
)

type checker struct {
	stack     string
	resources map[string]any
	outputs   map[string]any
	findings  []Finding
}

func (c *checker) add(rule, path, format string, a ...any) {
	c.findings = append(c.findings, Finding{Stack: c.stack, Rule: rule, Path: path, Message: fmt.Sprintf(format, a...)})
}

// ofType returns the logical ids of the resources of a type, sorted.
func (c *checker) ofType(typ string) []string {
	var ids []string
	for id, r := range c.resources {
		if mapOf(r)["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// props returns a resource's properties.
func (c *checker) props(id string) map[string]any {
	return mapOf(mapOf(c.resources[id])["Properties"])
}

// functionsByHandler splits the stack's functions into the bcrypt (matrix),
// hello (LMI stack) and loadgen (load-generator stack) ones, by logical id.
func (c *checker) functionsByHandler() (matrix, hello, loadgen []string) {
	for _, id := range c.ofType(functionType) {
		switch c.props(id)["Handler"] {
		case "probe":
			// The calibration probes live beside the matrix; nothing
			// else about them needs checking.
		case "bcrypt":
			matrix = append(matrix, id)
		case "hello":
			hello = append(hello, id)
		case "loadgen":
			loadgen = append(loadgen, id)
		default:
			c.add("stack", "Resources."+id+".Properties.Handler", "handler %v: want bcrypt, hello, probe or loadgen", c.props(id)["Handler"])
		}
	}
	return matrix, hello, loadgen
}

// functionArch is a function's architecture as Lambda spells it (x86_64 when unset, as Lambda defaults).
func (c *checker) functionArch(id string) string {
	if archs, ok := c.props(id)["Architectures"].([]any); ok && len(archs) == 1 {
		if a, ok := archs[0].(string); ok {
			return a
		}
	}
	if _, set := c.props(id)["Architectures"]; set {
		return fmt.Sprint(c.props(id)["Architectures"])
	}
	return "x86_64"
}

// output returns an output's Value, and whether the output exists.
func (c *checker) output(key string) (any, bool) {
	o, ok := c.outputs[key]
	if !ok {
		return nil, false
	}
	return mapOf(o)["Value"], true
}

// refersTo reports whether v is {"Ref": id}.
func refersTo(v any, id string) bool {
	return mapOf(v)["Ref"] == id && len(mapOf(v)) == 1
}

// getAtt reports whether v is {"Fn::GetAtt": [id, attr]} (or the "id.attr" string form).
func getAtt(v any, id, attr string) bool {
	switch g := mapOf(v)["Fn::GetAtt"].(type) {
	case []any:
		return len(g) == 2 && g[0] == id && g[1] == attr
	case string:
		return g == id+"."+attr
	}
	return false
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// errNotELF is returned for a bootstrap that is no ELF file at all.
var errNotELF = errors.New("not an ELF file")

// Summary describes what a stack holds for the checks, e.g.
// "12 functions, code assets: arm64, x86_64".
func Summary(s Stack) string {
	c := &checker{resources: mapOf(s.Template["Resources"])}
	archs := map[string]bool{}
	fns := c.ofType(functionType)
	for _, id := range fns {
		archs[c.functionArch(id)] = true
	}
	return fmt.Sprintf("%d functions, %d outputs, one code asset each for %s", len(fns), len(mapOf(s.Template["Outputs"])), strings.Join(sortedKeys(archs), " and "))
}
