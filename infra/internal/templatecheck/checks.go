package templatecheck

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"lambdabench/infra/internal/matrix"
)

// elfMachine is the ELF machine a bootstrap must be built for, by Lambda architecture.
var elfMachine = map[string]elf.Machine{"arm64": elf.EM_AARCH64, "x86_64": elf.EM_X86_64}

// assets checks that each architecture's functions share one code asset, that
// no asset serves two architectures, and that each asset's bootstrap is an
// ELF executable of its architecture.
func (c *checker) assets(assets map[string]string) {
	keysByArch := map[string]map[string]bool{}
	archsByKey := map[string]map[string]bool{}
	for _, id := range c.ofType(functionType) {
		path := "Resources." + id + ".Properties.Code"
		arch := c.functionArch(id)
		if _, ok := elfMachine[arch]; !ok {
			c.add("asset", "Resources."+id+".Properties.Architectures", "architecture %s: want one of arm64 or x86_64", arch)
			continue
		}
		key, ok := mapOf(c.props(id)["Code"])["S3Key"].(string)
		if !ok {
			c.add("asset", path, "the code is not a file asset of this assembly (no literal S3Key)")
			continue
		}
		if keysByArch[arch] == nil {
			keysByArch[arch] = map[string]bool{}
		}
		keysByArch[arch][key] = true
		if archsByKey[key] == nil {
			archsByKey[key] = map[string]bool{}
		}
		archsByKey[key][arch] = true
	}
	for _, arch := range sortedKeys(keysByArch) {
		if keys := sortedKeys(keysByArch[arch]); len(keys) > 1 {
			c.add("asset", "", "the %s functions use %d code assets (%s): want one per architecture", arch, len(keys), strings.Join(keys, ", "))
		}
	}
	for _, key := range sortedKeys(archsByKey) {
		archs := sortedKeys(archsByKey[key])
		if len(archs) > 1 {
			c.add("asset", "", "code asset %s serves %s: each architecture needs its own build", key, strings.Join(archs, " and "))
			continue
		}
		dir, ok := assets[key]
		if !ok {
			c.add("asset", "", "code asset %s is not in the stack's asset manifest", key)
			continue
		}
		if err := checkBootstrap(filepath.Join(dir, "bootstrap"), archs[0]); err != nil {
			c.add("asset", "", "code asset %s (%s): %v", key, archs[0], err)
		}
	}
}

// checkBootstrap checks that path is an executable Linux ELF program for arch.
func checkBootstrap(path, arch string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("no bootstrap: %w", err)
	}
	if st.Mode()&0o111 == 0 {
		return fmt.Errorf("bootstrap is not executable (mode %v)", st.Mode())
	}
	magic := make([]byte, len(elf.ELFMAG))
	if r, err := os.Open(path); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	} else {
		_, err = io.ReadFull(r, magic)
		r.Close()
		if err != nil || string(magic) != elf.ELFMAG {
			return fmt.Errorf("bootstrap: %w (it starts with %q)", errNotELF, magic)
		}
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap: %w: %v", errNotELF, err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 {
		return fmt.Errorf("bootstrap is a %v ELF file, want ELFCLASS64", f.Class)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("bootstrap is an ELF %v, want an executable", f.Type)
	}
	if want := elfMachine[arch]; f.Machine != want {
		return fmt.Errorf("bootstrap is built for %v, but the functions are %s (want %v)", f.Machine, arch, want)
	}
	return nil
}

// matrix checks the matrix stack's functions against the matrix table and
// the outputs bench discovers them by.
func (c *checker) matrix(ids []string) {
	prefixes := map[string]bool{}
	byKey := map[string]string{}
	for _, id := range ids {
		p := c.props(id)
		path := "Resources." + id + ".Properties"
		name, _ := p["FunctionName"].(string)
		mem, memOK := p["MemorySize"].(float64)
		workers, werr := strconv.Atoi(fmt.Sprint(mapOf(mapOf(p["Environment"])["Variables"])["WORKER_COUNT"]))
		cfg := matrix.Config{Arch: matrix.Arch(c.functionArch(id)), MemoryMB: int(mem), Workers: workers}
		switch {
		case name == "":
			c.add("matrix", path+".FunctionName", "a matrix function needs a literal name (bench and scripts address it by name)")
			continue
		case !memOK:
			c.add("matrix", path+".MemorySize", "a matrix function needs a literal memory size")
			continue
		case werr != nil:
			c.add("matrix", path+".Environment", "WORKER_COUNT %v is not a number", mapOf(mapOf(p["Environment"])["Variables"])["WORKER_COUNT"])
			continue
		}
		if err := matrix.Validate([]matrix.Config{cfg}); err != nil {
			c.add("matrix", path, "%s: %v", name, err)
			continue
		}
		// The name says architecture, vCPUs and memory: <prefix>-arm64-2vcpu-2048mb.
		suffix := strings.TrimPrefix(cfg.FunctionName("p"), "p")
		prefix, ok := strings.CutSuffix(name, suffix)
		if !ok {
			c.add("matrix", path+".FunctionName", "%s does not name its configuration: want <prefix>%s", name, suffix)
		} else if err := matrix.ValidatePrefix(prefix); err != nil {
			c.add("matrix", path+".FunctionName", "%s: %v", name, err)
		} else {
			prefixes[prefix] = true
		}
		if other, dup := byKey[cfg.Key()]; dup {
			c.add("matrix", path, "%s and %s are both %s %d MB: the table has one function per architecture and memory size", other, id, cfg.Arch, cfg.MemoryMB)
			continue
		}
		byKey[cfg.Key()] = id
		if v, ok := c.output(cfg.FunctionNameOutput()); !ok || !refersTo(v, id) {
			c.add("outputs", "Outputs."+cfg.FunctionNameOutput(), "want the output, holding the name of %s (Ref %s)", name, id)
		}
		if v, ok := c.output(cfg.FunctionArnOutput()); !ok || !getAtt(v, id, "Arn") {
			c.add("outputs", "Outputs."+cfg.FunctionArnOutput(), "want the output, holding the ARN of %s (GetAtt %s.Arn)", name, id)
		}
	}
	if len(prefixes) > 1 {
		c.add("matrix", "", "function names start with different prefixes %v: want one", sortedKeys(prefixes))
	}
	// Every output bench would take for a matrix function must have one behind it.
	for _, key := range sortedKeys(c.outputs) {
		for _, suffix := range []string{"FunctionName", "FunctionArn"} {
			cfgKey, ok := strings.CutSuffix(key, suffix)
			if ok && matrixKey(cfgKey) {
				if _, backed := byKey[cfgKey]; !backed {
					c.add("outputs", "Outputs."+key, "no matrix function %s behind this output", cfgKey)
				}
			}
		}
	}
}

// matrixKey reports whether k looks like a configuration key (Arm64Mem2048).
func matrixKey(k string) bool {
	for _, a := range []matrix.Arch{matrix.Arm64, matrix.X8664} {
		if mb, ok := strings.CutPrefix(k, a.OutputToken()+"Mem"); ok {
			_, err := strconv.Atoi(mb)
			return err == nil
		}
	}
	return false
}

// helloRoute is one route of the LMI stack as bench reads it from the outputs.
type helloRoute struct {
	key      string // output key prefix: <key>Url, <key>FunctionName
	path     string // API path below the stage
	memoryMB int
	lmi      bool
}

// lmi checks the outputs bench reads from the LMI stack: the stage URL, each
// route's URL and function name, and the capacity provider's ARN and name.
func (c *checker) lmi(hello []string) {
	cps := c.ofType(capacityProviderType)
	if len(cps) != 1 {
		c.add("stack", "", "%d capacity providers: want one", len(cps))
		return
	}
	cp := cps[0]
	if v, ok := c.output("CapacityProviderArn"); !ok || !getAtt(v, cp, "Arn") {
		c.add("outputs", "Outputs.CapacityProviderArn", "want the output, holding the capacity provider's ARN (GetAtt %s.Arn)", cp)
	}
	if v, ok := c.output("CapacityProviderName"); !ok || !refersTo(v, cp) {
		c.add("outputs", "Outputs.CapacityProviderName", "want the output, holding the capacity provider's name (Ref %s)", cp)
	}
	if _, ok := c.output("ApiUrl"); !ok {
		c.add("outputs", "Outputs.ApiUrl", "want the output, holding the API stage's URL")
	}

	routes := []helloRoute{{"Default128", "/default/128/hello", 128, false}, {"Default2048", "/default/2048/hello", 2048, false}}
	var onLMI []string
	for _, id := range hello {
		if lmiArn(c.props(id)) != nil {
			onLMI = append(onLMI, id)
		}
	}
	if len(onLMI) != 1 {
		c.add("stack", "", "%d hello functions on the capacity provider: want one", len(onLMI))
	} else if mb, ok := c.props(onLMI[0])["MemorySize"].(float64); !ok {
		c.add("stack", "Resources."+onLMI[0]+".Properties.MemorySize", "the LMI function needs a literal memory size")
	} else {
		routes = append(routes, helloRoute{fmt.Sprintf("Lmi%d", int(mb)), fmt.Sprintf("/lmi/%d/hello", int(mb)), int(mb), true})
		if !getAtt(lmiArn(c.props(onLMI[0])), cp, "Arn") {
			c.add("stack", "Resources."+onLMI[0]+".Properties.CapacityProviderConfig", "the LMI function runs on a capacity provider other than %s", cp)
		}
	}
	if len(hello) != len(routes) {
		c.add("stack", "", "%d hello functions: want %d (one per route)", len(hello), len(routes))
	}
	for _, r := range routes {
		c.route(r, hello)
	}
}

// route checks one route's two outputs.
func (c *checker) route(r helloRoute, hello []string) {
	nameKey, urlKey := r.key+"FunctionName", r.key+"Url"
	v, ok := c.output(nameKey)
	id, _ := mapOf(v)["Ref"].(string)
	switch {
	case !ok:
		c.add("outputs", "Outputs."+nameKey, "want the output, holding the name of the %d MB hello function", r.memoryMB)
	case !slices.Contains(hello, id):
		c.add("outputs", "Outputs."+nameKey, "want a Ref to a hello function, got %v", v)
	default:
		p := c.props(id)
		if mb, _ := p["MemorySize"].(float64); int(mb) != r.memoryMB {
			c.add("outputs", "Outputs."+nameKey, "names %s, which has %v MB: want the %d MB function", id, p["MemorySize"], r.memoryMB)
		}
		if onLMI := lmiArn(p) != nil; onLMI != r.lmi {
			c.add("outputs", "Outputs."+nameKey, "names %s, which %s on the capacity provider", id, map[bool]string{true: "runs", false: "does not run"}[onLMI])
		}
	}
	u, ok := c.output(urlKey)
	if !ok {
		c.add("outputs", "Outputs."+urlKey, "want the output, holding the URL of %s", r.path)
		return
	}
	// The CDK builds the URL with Fn::Join: its last literal part is the path.
	if !strings.HasSuffix(lastString(u), r.path) {
		c.add("outputs", "Outputs."+urlKey, "the URL does not end in %s", r.path)
	}
}

// lmiArn returns a function's capacity provider ARN value, nil when it runs on standard Lambda.
func lmiArn(p map[string]any) any {
	return mapOf(mapOf(p["CapacityProviderConfig"])["LambdaManagedInstancesCapacityProviderConfig"])["CapacityProviderArn"]
}

// lastString returns the last literal string in v, depth first.
func lastString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		for i := len(x) - 1; i >= 0; i-- {
			if s := lastString(x[i]); s != "" {
				return s
			}
		}
	case map[string]any:
		if j, ok := x["Fn::Join"]; ok {
			return lastString(j)
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
