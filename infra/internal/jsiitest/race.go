//go:build race

package jsiitest

const raceEnabled = true
