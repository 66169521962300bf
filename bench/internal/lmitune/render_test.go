package lmitune

// The charts these tests draw are drawn in process, as bench draws them.
import _ "lambdabench/bench/internal/charts/render"
