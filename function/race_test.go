//go:build race

package main

// raceEnabled says the tests run with -race; the end-to-end tests then build
// the function with -race too, so a data race in the real process fails them.
const raceEnabled = true
