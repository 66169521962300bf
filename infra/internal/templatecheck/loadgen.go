package templatecheck

// What bench needs of the load-generator stack: one arm64 function with a
// full vCPU (1769 MB or more) and Lambda's longest timeout, whose name is
// the LoadGenFunctionName output.
const (
	loadgenOutput      = "LoadGenFunctionName"
	loadgenMinMemoryMB = 1769
	loadgenTimeoutS    = 900
)

func (c *checker) loadgen(ids []string) {
	if len(ids) != 1 {
		c.add("stack", "", "%d load-generator functions: want one", len(ids))
		return
	}
	id := ids[0]
	path := "Resources." + id + ".Properties."
	p := c.props(id)
	if mb, ok := p["MemorySize"].(float64); !ok || mb < loadgenMinMemoryMB {
		c.add("loadgen", path+"MemorySize", "memory %v: want at least %d MB (one full vCPU), or the generator falls behind its schedule", p["MemorySize"], loadgenMinMemoryMB)
	}
	if t, ok := p["Timeout"].(float64); !ok || t != loadgenTimeoutS {
		c.add("loadgen", path+"Timeout", "timeout %v: want %d s (one invocation sends one window of the run, up to 15 minutes)", p["Timeout"], loadgenTimeoutS)
	}
	if arch := c.functionArch(id); arch != "arm64" {
		c.add("loadgen", path+"Architectures", "architecture %s: want arm64", arch)
	}
	if v, ok := c.output(loadgenOutput); !ok || !refersTo(v, id) {
		c.add("outputs", "Outputs."+loadgenOutput, "want the output, holding the generator's name (Ref %s)", id)
	}
}
