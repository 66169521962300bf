package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagGroup is a heading of a verb's --help and the flags under it, in the
// order the verb's docs page describes them.
type flagGroup struct {
	title string
	names []string
}

// groupFlags makes fs's --help list its flags under groups' headings, in
// their order; flags in no group come last under "Other". Each flag is
// printed as flag.PrintDefaults prints it.
func groupFlags(fs *flag.FlagSet, usage, description string, groups []flagGroup) {
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: bench %s\n\n%s\n", usage, description)
		seen := map[string]bool{}
		for _, g := range groups {
			fmt.Fprintf(out, "\n%s:\n", g.title)
			for _, n := range g.names {
				f := fs.Lookup(n)
				if f == nil {
					panic("flag group " + g.title + " names an unknown flag " + n)
				}
				seen[n] = true
				printFlag(out, f)
			}
		}
		var rest []*flag.Flag
		fs.VisitAll(func(f *flag.Flag) {
			if !seen[f.Name] {
				rest = append(rest, f)
			}
		})
		if len(rest) > 0 {
			fmt.Fprintf(out, "\nOther:\n")
			for _, f := range rest {
				printFlag(out, f)
			}
		}
	}
}

// printFlag prints one flag as flag.PrintDefaults does.
func printFlag(w io.Writer, f *flag.Flag) {
	var b strings.Builder
	fmt.Fprintf(&b, "  -%s", f.Name)
	name, usage := flag.UnquoteUsage(f)
	if len(name) > 0 {
		b.WriteString(" ")
		b.WriteString(name)
	}
	if b.Len() <= 4 { // space, space, '-', one-letter name
		b.WriteString("\t")
	} else {
		b.WriteString("\n    \t")
	}
	b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
	if !isZeroDefault(f) {
		if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
			fmt.Fprintf(&b, " (default %q)", f.DefValue)
		} else {
			fmt.Fprintf(&b, " (default %v)", f.DefValue)
		}
	}
	fmt.Fprintln(w, b.String())
}

// isZeroDefault reports whether a flag's default is its type's zero value,
// which flag.PrintDefaults leaves out.
func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s", "[]", "<nil>":
		return true
	}
	return false
}
