// Command bootstrap is the benchmark function for the Lambda provided.al2023
// runtime. The _HANDLER environment variable (the function's Handler
// property) picks the workload:
//
//	bcrypt  the parallel bcrypt batch, invoked directly
//	hello   the hello workload behind an API Gateway REST proxy
//	probe   spins for a given time and reports how the environment was throttled
//
// WORKER_COUNT (1–6) sizes the bcrypt worker pool; without it the pool has one
// worker per CPU the process may use. aws-lambda-go runs up to
// AWS_LAMBDA_MAX_CONCURRENCY invocations at once (Lambda Managed Instances);
// both handlers keep no mutable state between invocations except atomic
// counters.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"lambdabench/function/internal/bcryptbatch"
	"lambdabench/function/internal/handlers"
	"lambdabench/function/internal/hello"
	"lambdabench/function/internal/initerror"
	"lambdabench/function/internal/procstat"
)

func main() {
	log.SetFlags(0)
	h, err := newHandler(os.Getenv("_HANDLER"), os.Getenv("WORKER_COUNT"))
	if err != nil {
		failInit(err)
	}
	lambda.Start(h)
}

// initError is a failed initialisation with the errorType to report.
type initError struct{ typ, msg string }

func (e *initError) Error() string { return e.msg }

// newHandler builds the handler named by _HANDLER.
func newHandler(name, workerCount string) (lambda.Handler, *initError) {
	switch name {
	case "bcrypt":
		cpus := procstat.DetectCPUs()
		workers := bcryptbatch.ClampWorkers(cpus.Usable)
		if workerCount != "" {
			n, err := strconv.Atoi(strings.TrimSpace(workerCount))
			if err != nil {
				return nil, &initError{"Runtime.InvalidConfiguration",
					fmt.Sprintf("WORKER_COUNT must be an integer from 1 to %d, got %q", bcryptbatch.MaxWorkers, workerCount)}
			}
			workers = bcryptbatch.ClampWorkers(n)
		}
		quota := "none"
		if cpus.Quota > 0 {
			quota = strconv.FormatFloat(cpus.Quota, 'f', 2, 64)
		}
		log.Printf("bcrypt: workers=%d detected_cpus=%d (affinity %d, cgroup quota %s) gomaxprocs=%d WORKER_COUNT=%q",
			workers, cpus.Usable, cpus.Affinity, quota, runtime.GOMAXPROCS(0), workerCount)
		return handlers.Bcrypt{Config: bcryptbatch.Config{Workers: workers, DetectedCPUs: cpus.Usable}}, nil
	case "hello":
		return handlers.Hello{Env: &hello.Environment{}}, nil
	case "probe":
		return handlers.Probe{}, nil
	case "":
		return nil, &initError{"Runtime.InvalidHandler", "_HANDLER is not set: set the function's handler to bcrypt, hello or probe"}
	default:
		return nil, &initError{"Runtime.InvalidHandler", fmt.Sprintf("unknown _HANDLER %q: set the function's handler to bcrypt, hello or probe", name)}
	}
}

// failInit logs err, reports it to the Runtime API's init error endpoint and
// exits non-zero; Lambda then fails the invocation with err's message.
func failInit(err *initError) {
	log.Printf("init failed: %s", err.msg)
	if api := os.Getenv("AWS_LAMBDA_RUNTIME_API"); api != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if rerr := initerror.Report(ctx, api, err.typ, err.msg); rerr != nil {
			log.Printf("report init error: %v", rerr)
		}
		cancel()
	}
	os.Exit(1)
}
