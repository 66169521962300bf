package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/locallambda"
)

// LocalOptions configures the local target.
type LocalOptions struct {
	Root   string // project root; "" = found from the working directory
	Binary string // a prebuilt bootstrap; "" = build it from function/
	Matrix bool   // serve the matrix functions of this machine's architecture
	Hello  bool   // serve the three hello functions and their API routes
	// Functions are served as given (a user's function: tune, serve --function);
	// with no preset, nothing is built and their own binaries run.
	Functions []locallambda.FunctionSpec
	BuildLog  io.Writer // compiler output (nil = discarded)
	// InvokeAddr and APIAddr default to free ports on 127.0.0.1.
	InvokeAddr, APIAddr string
	NoCPUControl        bool // run environments without cgroup CPU and memory limits
	// CPU is how environments are throttled: the period and, from a
	// calibration, the share each memory size gets (zero = the defaults).
	CPU  CPUModel
	Logf func(format string, a ...any) // what the local Lambda does (nil = silent)
	// FunctionLog receives every log line of the functions, with START, END
	// and REPORT (nil = discarded; the log tail of an invocation still works).
	FunctionLog func(function, line string)
	// IdleTimeout stops idle standard environments (0 = the local Lambda's
	// default, negative = never); Scaling and LMITargetCPU (percent, 0 =
	// the stack's 70) set how the LMI function scales.
	IdleTimeout  time.Duration
	Scaling      locallambda.Scaling
	LMITargetCPU float64
	// LMIMinEnvironments and LMIMaxEnvironments override the LMI
	// function's FunctionScalingConfig when LMIMaxEnvironments > 0.
	LMIMinEnvironments, LMIMaxEnvironments int
	// Credentials are the AWS credentials and region every environment
	// gets (zero: placeholders; see ResolveCredentials), and AZID the
	// Availability Zone ID its metadata endpoint answers ("" = a local
	// one). Every environment also gets the AWS_ENDPOINT_URL and
	// AWS_ENDPOINT_URL_<SERVICE> variables of this process's environment.
	Credentials locallambda.Credentials
	AZID        string
}

// CPUModel is how the local Lambda throttles its environments: the CFS
// period of their quotas (0 = locallambda.DefaultCPUPeriod) and, when a
// calibration gives it, the vCPUs each memory size gets (Source names it).
type CPUModel struct {
	Period time.Duration
	Share  func(memoryMB int) float64
	Source string
}

// LocalTarget is a running local Lambda with the project's functions.
type LocalTarget struct {
	Server  *locallambda.Server
	Lambda  *lambda.Client
	Outputs map[string]string // the same keys as the CDK stacks' outputs
	Binary  string
	Arch    string // this machine's architecture as Lambda names it
}

// StartLocal builds the function for this machine (unless Binary is given)
// and starts the local Lambda with the requested presets.
func StartLocal(ctx context.Context, o LocalOptions) (*LocalTarget, error) {
	if !o.Matrix && !o.Hello && len(o.Functions) == 0 {
		return nil, errors.New("local target: nothing to serve")
	}
	bin := o.Binary
	if !o.Matrix && !o.Hello {
		bin = o.Functions[0].Binary
	} else if bin == "" {
		root := o.Root
		if root == "" {
			wd, err := os.Getwd()
			if err != nil {
				return nil, fmt.Errorf("local target: %w", err)
			}
			if root, err = FindRepoRoot(wd); err != nil {
				return nil, err
			}
		}
		log := o.BuildLog
		if log == nil {
			log = io.Discard
		}
		var err error
		if bin, err = BuildFunction(ctx, root, runtime.GOARCH, log); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("--binary: %w", err)
	}
	arch := HostArch()
	cfg := locallambda.Config{
		InvokeAddr:  orDefault(o.InvokeAddr, "127.0.0.1:0"),
		APIAddr:     orDefault(o.APIAddr, "127.0.0.1:0"),
		CPUControl:  !o.NoCPUControl,
		Logf:        o.Logf,
		FunctionLog: o.FunctionLog,
		IdleTimeout: o.IdleTimeout,
		Scaling:     o.Scaling,
		CPUPeriod:   o.CPU.Period,
		CPUShare:    o.CPU.Share,
		CPUSource:   o.CPU.Source,
		Credentials: o.Credentials,
		AZID:        o.AZID,
		Env:         locallambda.EndpointEnv(os.Environ()),
	}
	if o.Matrix {
		cfg.Functions = append(cfg.Functions, locallambda.MatrixPreset(bin, arch)...)
	}
	cfg.Functions = append(cfg.Functions, o.Functions...)
	if o.Hello {
		fns, routes := locallambda.HelloPreset(bin)
		for i := range fns {
			if fns[i].Mode != locallambda.LMI {
				continue
			}
			if o.LMITargetCPU > 0 {
				fns[i].TargetCPUPercent = o.LMITargetCPU
			}
			if o.LMIMaxEnvironments > 0 {
				fns[i].MinEnvironments, fns[i].MaxEnvironments = o.LMIMinEnvironments, o.LMIMaxEnvironments
			}
		}
		cfg.Functions = append(cfg.Functions, fns...)
		cfg.Routes = append(cfg.Routes, routes...)
	} else {
		cfg.APIAddr = "-"
	}
	srv, err := locallambda.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start the local Lambda: %w", err)
	}
	return &LocalTarget{
		Server:  srv,
		Lambda:  LocalLambdaClient(srv.InvokeEndpoint()),
		Outputs: srv.StackOutputs(),
		Binary:  bin,
		Arch:    arch,
	}, nil
}

// Close stops the local Lambda and every environment it started.
func (l *LocalTarget) Close() error { return l.Server.Close() }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
