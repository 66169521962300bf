// Command loadgen is bench's load generator as a Lambda function (runtime
// provided.al2023): it takes a load.GenPlan, waits for the plan's start
// time, sends its share of the load with the same engine as
// 'go run ./bench load', and answers with a load.GenResponse: per scenario,
// endpoint and stage an HdrHistogram of latency and of send lag, counts by
// status class, drops, and per-second aggregates, gzip-compressed under
// Lambda's 6 MB response limit. 'go run ./bench load --generators N' invokes
// it N times at once and merges the answers exactly.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

	"lambdabench/bench/internal/load"
)

func handle(ctx context.Context, raw json.RawMessage) (*load.GenResponse, error) {
	var plan load.GenPlan
	if err := json.Unmarshal(raw, &plan); err != nil {
		return nil, fmt.Errorf("loadgen: bad plan: %w", err)
	}
	res, err := load.Generate(ctx, plan)
	if err != nil {
		return nil, fmt.Errorf("loadgen: generator %d of %d: %w", plan.Generator, plan.Generators, err)
	}
	return load.EncodeResponse(res)
}

func main() { lambda.Start(handle) }
