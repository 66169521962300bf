// Command charts is bench's chart renderer. It reads one gob-encoded
// charts.Request on standard input and writes the PNG it asks for. bench
// runs it after a measurement, so that the plotting library's start-up
// memory never adds to the load generator's (see package charts).
//
// Build it on its own to draw charts with a bench built outside the
// project's checkout:
//
//	go build -o ~/bin/bench-charts ./bench/cmd/charts
//	BENCH_CHARTS=~/bin/bench-charts bench report DIR
package main

import (
	"encoding/gob"
	"fmt"
	"os"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/charts/render"
)

func main() {
	var req charts.Request
	if err := gob.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "charts: read the request: %v\n", err)
		os.Exit(2)
	}
	if err := render.Draw(req); err != nil {
		fmt.Fprintf(os.Stderr, "charts: %v\n", err)
		os.Exit(1)
	}
}
