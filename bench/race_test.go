//go:build race

package main

// raceDetector is set when the tests run with -race, which slows this
// process (and the local Lambda it runs in process) several times over.
const raceDetector = true
