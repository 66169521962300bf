package tune

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// PowerTuningInput is AWS Lambda Power Tuning's execution input, as users
// keep it for its state machine. Every key is optional here; a nil field
// was not given.
type PowerTuningInput struct {
	LambdaARN            string
	PowerValues          []int // nil: not given; "ALL" is expanded
	Num                  *int
	Payload              json.RawMessage
	ParallelInvocation   *bool
	Strategy             *string
	BalancedWeight       *float64
	DiscardTopBottom     *float64
	SleepBetweenRunsMs   *float64
	OnlyColdStarts       *bool
	AllowedExceptions    []string // error types whose failures are allowed
	AllowedErrors        *int     // allowedExceptions given as a count
	AutoOptimize         *bool
	AutoOptimizeAlias    *string
	DryRun               *bool
	DisablePayloadLogs   *bool
	IncludeOutputResults *bool
	// Keys lists the keys the file gave, in its order.
	Keys []string
}

// PowerTuningAll is what Power Tuning's powerValues "ALL" means: 128 to
// 3008 MB in steps of 64 (bench's own --memory all goes to 10240).
func PowerTuningAll() []int {
	var out []int
	for m := 128; m <= 3008; m += 64 {
		out = append(out, m)
	}
	return out
}

// PowerTuningDefaultPowers are the power values Power Tuning uses when the
// input names none (its deploy-time default).
var PowerTuningDefaultPowers = []int{128, 256, 512, 1024, 1536, 3008}

// unsupportedKeys are the Power Tuning input keys bench cannot honour, and
// why.
var unsupportedKeys = map[string]string{
	"payloadS3":        "bench reads no payload from S3: download it and pass --payload @FILE",
	"preProcessorARN":  "bench invokes no pre-processor function",
	"postProcessorARN": "bench invokes no post-processor function",
}

// ReadPowerTuningInput reads a Power Tuning execution input from path, or
// from stdin when path is "-". A key bench cannot honour (payloadS3,
// preProcessorARN, postProcessorARN) or does not know is an error naming
// it, as is a value of the wrong type.
func ReadPowerTuningInput(path string, stdin io.Reader) (PowerTuningInput, error) {
	var in PowerTuningInput
	name := "--power-tuning-input " + path
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 8<<20))
	} else {
		b, err = os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return in, &UsageError{name + ": no such file"}
		}
	}
	if err != nil {
		return in, &UsageError{fmt.Sprintf("%s: %v", name, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return in, &UsageError{fmt.Sprintf("%s: not a Power Tuning input (a JSON object): %v", name, err)}
	}
	// The keys in the file's order, for messages and the summary.
	if tok, err := dec.Token(); err == nil && tok == json.Delim('{') {
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				break
			}
			in.Keys = append(in.Keys, fmt.Sprint(k))
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				break
			}
		}
	}
	for _, k := range in.Keys {
		if why, ok := unsupportedKeys[k]; ok {
			return in, &UsageError{fmt.Sprintf("%s: %s is not supported: %s", name, k, why)}
		}
	}
	field := func(key string, dst any) error {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return &UsageError{fmt.Sprintf("%s: %s: %s is not %s", name, key, v, kindOf(dst))}
		}
		return nil
	}
	known := map[string]bool{}
	for _, f := range []struct {
		key string
		dst any
	}{
		{"lambdaARN", &in.LambdaARN}, {"num", &in.Num}, {"parallelInvocation", &in.ParallelInvocation},
		{"strategy", &in.Strategy}, {"balancedWeight", &in.BalancedWeight}, {"discardTopBottom", &in.DiscardTopBottom},
		{"sleepBetweenRunsMs", &in.SleepBetweenRunsMs}, {"onlyColdStarts", &in.OnlyColdStarts},
		{"autoOptimize", &in.AutoOptimize}, {"autoOptimizeAlias", &in.AutoOptimizeAlias}, {"dryRun", &in.DryRun},
		{"disablePayloadLogs", &in.DisablePayloadLogs}, {"includeOutputResults", &in.IncludeOutputResults},
	} {
		known[f.key] = true
		if err := field(f.key, f.dst); err != nil {
			return in, err
		}
	}
	known["payload"], known["powerValues"], known["allowedExceptions"] = true, true, true
	for _, k := range in.Keys {
		if !known[k] {
			return in, &UsageError{fmt.Sprintf("%s: unknown key %q (Power Tuning's keys: lambdaARN, powerValues, num, payload, parallelInvocation, strategy, balancedWeight, discardTopBottom, sleepBetweenRunsMs, onlyColdStarts, allowedExceptions, autoOptimize, autoOptimizeAlias, dryRun, disablePayloadLogs, includeOutputResults)", name, k)}
		}
	}
	if v, ok := raw["payload"]; ok && string(v) != "null" {
		in.Payload = v
	}
	if v, ok := raw["powerValues"]; ok && string(v) != "null" {
		var all string
		if json.Unmarshal(v, &all) == nil {
			if !strings.EqualFold(all, "ALL") {
				return in, &UsageError{fmt.Sprintf("%s: powerValues %q: want a list of memory sizes or \"ALL\"", name, all)}
			}
			in.PowerValues = PowerTuningAll()
		} else {
			// Power Tuning takes numbers or numeric strings.
			var list []json.Number
			if err := json.Unmarshal(v, &list); err != nil || len(list) == 0 {
				return in, &UsageError{fmt.Sprintf("%s: powerValues: %s is not a list of memory sizes or \"ALL\"", name, v)}
			}
			for _, n := range list {
				m, err := strconv.Atoi(n.String())
				if err != nil {
					return in, &UsageError{fmt.Sprintf("%s: powerValues: %s is not a memory size in MB", name, n)}
				}
				in.PowerValues = append(in.PowerValues, m)
			}
		}
	}
	if v, ok := raw["allowedExceptions"]; ok && string(v) != "null" {
		var n int
		if json.Unmarshal(v, &n) == nil {
			in.AllowedErrors = &n
		} else if err := json.Unmarshal(v, &in.AllowedExceptions); err != nil || slices.Contains(in.AllowedExceptions, "") {
			return in, &UsageError{fmt.Sprintf("%s: allowedExceptions: %s is not a list of error types (such as [\"HandledError\"]) or a count", name, v)}
		}
	}
	return in, nil
}

func kindOf(dst any) string {
	switch dst.(type) {
	case *string, **string:
		return "a string"
	case **bool:
		return "true or false"
	case **int:
		return "a whole number"
	}
	return "a number"
}

// FunctionName is the function name of a Lambda ARN (arn:…:function:NAME,
// with or without a qualifier), or the name itself.
func FunctionName(arn string) string {
	if _, name, ok := strings.Cut(arn, ":function:"); ok {
		name, _, _ = strings.Cut(name, ":")
		return name
	}
	return arn
}
