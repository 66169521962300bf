// Package tune tunes any Lambda function over memory × architecture, the way
// AWS Lambda Power Tuning does, and leaves it exactly as it found it: for each
// configuration it changes $LATEST (memory, and architecture with code built
// for it), waits until the update is done, publishes a version, points an
// alias at it and has the measuring engine invoke the alias. Every change is
// written to a journal in the results folder first, so that Cleanup can undo
// everything after an error, an interruption or a crash.
package tune

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"lambdabench/bench/internal/matrix"
)

// API is the part of the Lambda API tune uses; *lambda.Client satisfies it,
// for AWS and the local Lambda alike.
type API interface {
	matrix.Lambda
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	PublishVersion(ctx context.Context, in *lambda.PublishVersionInput, optFns ...func(*lambda.Options)) (*lambda.PublishVersionOutput, error)
	CreateAlias(ctx context.Context, in *lambda.CreateAliasInput, optFns ...func(*lambda.Options)) (*lambda.CreateAliasOutput, error)
	UpdateAlias(ctx context.Context, in *lambda.UpdateAliasInput, optFns ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
	DeleteAlias(ctx context.Context, in *lambda.DeleteAliasInput, optFns ...func(*lambda.Options)) (*lambda.DeleteAliasOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
	ListAliases(ctx context.Context, in *lambda.ListAliasesInput, optFns ...func(*lambda.Options)) (*lambda.ListAliasesOutput, error)
	ListVersionsByFunction(ctx context.Context, in *lambda.ListVersionsByFunctionInput, optFns ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error)
	ListProvisionedConcurrencyConfigs(ctx context.Context, in *lambda.ListProvisionedConcurrencyConfigsInput, optFns ...func(*lambda.Options)) (*lambda.ListProvisionedConcurrencyConfigsOutput, error)
}

// ColdStartVariable is the environment variable a configuration change sets
// on $LATEST so that every published version is new (Lambda publishes no
// version when nothing changed) and starts cold.
const ColdStartVariable = matrix.ColdStartVariable

// AliasPrefix starts the name of every alias tune creates.
const AliasPrefix = "bench-tune-"

// Original is what tune must restore: $LATEST as it was found.
type Original struct {
	FunctionName string            `json:"function_name"`
	FunctionArn  string            `json:"function_arn"`
	MemoryMB     int32             `json:"memory_mb"`
	Arch         string            `json:"architecture"`
	Env          map[string]string `json:"environment"`
	HasEnv       bool              `json:"has_environment"`
	CodeSha256   string            `json:"code_sha256"`
	PackageType  string            `json:"package_type"`
	TimeoutSec   int32             `json:"timeout_s"`
	Handler      string            `json:"handler"`
	Runtime      string            `json:"runtime"`
	// LMI is the function's capacity provider configuration, for a
	// function on Lambda Managed Instances (nil: standard Lambda).
	LMI *LMIConfig `json:"lmi,omitempty"`
}

// LMIConfig is a function's Lambda Managed Instances configuration
// (CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig).
type LMIConfig struct {
	CapacityProviderArn string  `json:"capacity_provider_arn"`
	GiBPerVCPU          float64 `json:"gib_per_vcpu"`
	PerEnvConcurrency   int32   `json:"per_env_concurrency"`
}

// Input is the CapacityProviderConfig that sets c.
func (c LMIConfig) Input() *types.CapacityProviderConfig {
	return &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
		CapacityProviderArn:                   aws.String(c.CapacityProviderArn),
		ExecutionEnvironmentMemoryGiBPerVCpu:  aws.Float64(c.GiBPerVCPU),
		PerExecutionEnvironmentMaxConcurrency: aws.Int32(c.PerEnvConcurrency),
	}}
}

// UnsupportedError says why tune cannot handle a function.
type UnsupportedError struct{ Msg string }

func (e *UnsupportedError) Error() string { return e.Msg }

// NotFoundError is an unknown function.
type NotFoundError struct{ Function string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("function %s not found (check --function, --region and --profile)", e.Function)
}

// Inspect reads the function and refuses what tune cannot handle: Lambda
// Managed Instances, SnapStart and provisioned concurrency.
func Inspect(ctx context.Context, api API, function string) (Original, error) {
	o, err := inspect(ctx, api, function)
	if err == nil && o.LMI != nil {
		err = &UnsupportedError{fmt.Sprintf("function %s runs on Lambda Managed Instances (a capacity provider): tune it with 'bench tune --lmi --function %s'", o.FunctionName, function)}
	}
	return o, err
}

// InspectLMI reads a function on Lambda Managed Instances; a standard
// function is refused (tune it without --lmi).
func InspectLMI(ctx context.Context, api API, function string) (Original, error) {
	o, err := inspect(ctx, api, function)
	if err == nil && o.LMI == nil {
		err = &UnsupportedError{fmt.Sprintf("function %s is a standard Lambda function (no capacity provider): tune it without --lmi, or give --standard-from a folder of that tune to compare it with LMI", o.FunctionName)}
	}
	return o, err
}

// IsLMI reports whether a function runs on Lambda Managed Instances.
func IsLMI(ctx context.Context, api API, function string) (bool, error) {
	out, err := api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return false, &NotFoundError{Function: function}
		}
		return false, Explain(fmt.Errorf("read function %s: %w", function, err), "lambda:GetFunctionConfiguration")
	}
	cp := out.CapacityProviderConfig
	return cp != nil && cp.LambdaManagedInstancesCapacityProviderConfig != nil, nil // as inspect reads it
}

func inspect(ctx context.Context, api API, function string) (Original, error) {
	out, err := api.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(function)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return Original{}, &NotFoundError{Function: function}
		}
		return Original{}, Explain(fmt.Errorf("read function %s: %w", function, err), "lambda:GetFunction")
	}
	c := out.Configuration
	o := Original{
		FunctionName: aws.ToString(c.FunctionName), FunctionArn: aws.ToString(c.FunctionArn),
		MemoryMB: aws.ToInt32(c.MemorySize), Arch: "x86_64", CodeSha256: aws.ToString(c.CodeSha256),
		PackageType: string(c.PackageType), TimeoutSec: aws.ToInt32(c.Timeout), Handler: aws.ToString(c.Handler),
		Runtime: string(c.Runtime), Env: map[string]string{},
	}
	if len(c.Architectures) > 0 {
		o.Arch = string(c.Architectures[0])
	}
	if c.Environment != nil && c.Environment.Variables != nil {
		o.HasEnv = true
		maps.Copy(o.Env, c.Environment.Variables)
	}
	if cp := c.CapacityProviderConfig; cp != nil && cp.LambdaManagedInstancesCapacityProviderConfig != nil {
		l := cp.LambdaManagedInstancesCapacityProviderConfig
		o.LMI = &LMIConfig{CapacityProviderArn: aws.ToString(l.CapacityProviderArn),
			GiBPerVCPU: aws.ToFloat64(l.ExecutionEnvironmentMemoryGiBPerVCpu), PerEnvConcurrency: aws.ToInt32(l.PerExecutionEnvironmentMaxConcurrency)}
	}
	if c.SnapStart != nil && c.SnapStart.ApplyOn == types.SnapStartApplyOnPublishedVersions {
		return o, &UnsupportedError{fmt.Sprintf("function %s has SnapStart on published versions: every version tune publishes would take a snapshot, and its cold starts would not be the function's; turn SnapStart off on a copy to tune it", o.FunctionName)}
	}
	pc, err := api.ListProvisionedConcurrencyConfigs(ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String(function)})
	if err != nil {
		return o, Explain(fmt.Errorf("read provisioned concurrency of %s: %w", function, err), "lambda:ListProvisionedConcurrencyConfigs")
	}
	if len(pc.ProvisionedConcurrencyConfigs) > 0 {
		return o, &UnsupportedError{fmt.Sprintf("function %s has provisioned concurrency on %s: its invocations do not cold-start as tune's versions do; tune a copy without it", o.FunctionName, aws.ToString(pc.ProvisionedConcurrencyConfigs[0].FunctionArn))}
	}
	if c.State == types.StateFailed || c.State == types.StateInactive {
		return o, &UnsupportedError{fmt.Sprintf("function %s is %s: %s", o.FunctionName, c.State, aws.ToString(c.StateReason))}
	}
	return o, nil
}

// Explain adds the IAM action to an AccessDenied error.
func Explain(err error, action string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "AccessDeniedException" || ae.ErrorCode() == "AccessDenied") {
		return fmt.Errorf("%w (the caller needs IAM permission %s)", err, action)
	}
	return err
}

// Session makes tune's changes to one function and undoes them.
type Session struct {
	API      API
	Journal  *Journal
	Code     map[string][]byte // zip with bootstrap per architecture ("" = keep the function's code)
	Wait     time.Duration     // how long an update may take (0 = 5 minutes)
	Every    time.Duration     // status poll (0 = 1 s)
	Log      io.Writer         // one line per change (nil = silent)
	curArch  string
	aliasFor map[string]bool // aliases created
}

func (s *Session) logf(format string, a ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", a...)
	}
}

// AliasName is the alias tune points at a configuration's versions.
func AliasName(runID, arch string, memoryMB int) string {
	short := "x86"
	if arch == "arm64" {
		short = "arm64"
	}
	return fmt.Sprintf("%s%s-%s-%d", AliasPrefix, runID, short, memoryMB)
}

// Prepare is the engine's hook: it sets memory (and architecture and code)
// on $LATEST with a fresh ColdStartVariable, waits, publishes a version,
// points the configuration's alias at it and returns the configuration with
// the alias as its qualifier.
func (s *Session) Prepare(ctx context.Context, c matrix.Config, cold int) (matrix.Config, error) {
	version, err := s.publish(ctx, c)
	if err != nil {
		return c, err
	}
	alias, err := s.pointAlias(ctx, c, version)
	if err != nil {
		return c, err
	}
	s.logf("  %s %d MB: version %s, alias %s (cold start %d)", c.Arch, c.MemoryMB, version, alias, cold+1)
	c.Qualifier = alias
	return c, nil
}

// publish sets the configuration on $LATEST (code and architecture when
// they differ, memory, a fresh ColdStartVariable), waits until the update
// is done and publishes a version, journaled; it returns the version.
func (s *Session) publish(ctx context.Context, c matrix.Config) (string, error) {
	j := s.Journal
	fn := j.Original.FunctionName
	if s.curArch == "" {
		s.curArch = j.Original.Arch
	}
	if c.Arch != s.curArch || (s.Code[c.Arch] != nil && !j.CodeChanged) {
		code := s.Code[c.Arch]
		if code == nil {
			return "", fmt.Errorf("no code for %s: pass --source to build it", c.Arch)
		}
		if err := j.Update(func(j *Journal) { j.CodeChanged = true }); err != nil {
			return "", err
		}
		s.logf("  UpdateFunctionCode %s: code for %s (%d bytes)", fn, c.Arch, len(code))
		if _, err := s.API.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName: aws.String(fn), ZipFile: code, Architectures: []types.Architecture{types.Architecture(c.Arch)},
		}); err != nil {
			return "", Explain(fmt.Errorf("update code of %s for %s: %w", fn, c.Arch, err), "lambda:UpdateFunctionCode")
		}
		if err := s.waitUpdated(ctx, fn); err != nil {
			return "", err
		}
		s.curArch = c.Arch
	}
	env := maps.Clone(j.Original.Env)
	env[ColdStartVariable] = j.RunID + "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	if _, err := s.API.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(fn), MemorySize: aws.Int32(int32(c.MemoryMB)), Environment: &types.Environment{Variables: env},
	}); err != nil {
		return "", Explain(fmt.Errorf("set %d MB on %s: %w", c.MemoryMB, fn, err), "lambda:UpdateFunctionConfiguration")
	}
	if err := s.waitUpdated(ctx, fn); err != nil {
		return "", err
	}
	version, err := s.publishJournaled(ctx)
	if err != nil {
		return "", err
	}
	return version, nil
}

// publishJournaled publishes a version of $LATEST marked with the run's
// description and adds it to the journal.
func (s *Session) publishJournaled(ctx context.Context) (string, error) {
	j := s.Journal
	fn := j.Original.FunctionName
	pv, err := s.API.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(fn), Description: aws.String(j.VersionDescription())})
	if err != nil {
		return "", Explain(fmt.Errorf("publish a version of %s: %w", fn, err), "lambda:PublishVersion")
	}
	version := aws.ToString(pv.Version)
	if err := j.Update(func(j *Journal) { j.Versions = append(j.Versions, version) }); err != nil {
		return "", err
	}
	return version, nil
}

// pointAlias creates the configuration's alias on version, or moves it
// there, journaled; it returns the alias.
func (s *Session) pointAlias(ctx context.Context, c matrix.Config, version string) (string, error) {
	j := s.Journal
	fn := j.Original.FunctionName
	alias := AliasName(j.RunID, c.Arch, c.MemoryMB)
	if s.aliasFor == nil {
		s.aliasFor = map[string]bool{}
	}
	if !s.aliasFor[alias] {
		if err := j.Update(func(j *Journal) { j.Aliases = append(j.Aliases, alias) }); err != nil {
			return "", err
		}
		if _, err := s.API.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias), FunctionVersion: aws.String(version)}); err != nil {
			return "", Explain(fmt.Errorf("create alias %s: %w", alias, err), "lambda:CreateAlias")
		}
		s.aliasFor[alias] = true
	} else if _, err := s.API.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias), FunctionVersion: aws.String(version)}); err != nil {
		return "", Explain(fmt.Errorf("update alias %s: %w", alias, err), "lambda:UpdateAlias")
	}
	return alias, nil
}

// PublishAll publishes, before anything is measured, every version the
// measurement will invoke (as Power Tuning's initializer does): per
// configuration n versions — one per forced cold start — and its alias on
// the last. Measured configurations can then run at once: each forced
// cold start invokes its own version (the last through the alias), and
// the warm invocations the alias. It returns the qualifiers per
// configuration (Config.Label), in cold-start order.
func (s *Session) PublishAll(ctx context.Context, cfgs []matrix.Config, n int) (map[string][]string, error) {
	out := map[string][]string{}
	for _, c := range cfgs {
		if c.Skip != "" {
			continue
		}
		var qs []string
		for i := range n {
			version, err := s.publish(ctx, c)
			if err != nil {
				return out, err
			}
			if i == n-1 {
				alias, err := s.pointAlias(ctx, c, version)
				if err != nil {
					return out, err
				}
				s.logf("  %s %d MB: version %s, alias %s", c.Arch, c.MemoryMB, version, alias)
				version = alias
			} else {
				s.logf("  %s %d MB: version %s (cold start %d)", c.Arch, c.MemoryMB, version, i+1)
			}
			qs = append(qs, version)
		}
		out[c.Label()] = qs
	}
	return out, nil
}

// waitUpdated polls until $LATEST's LastUpdateStatus is Successful.
func (s *Session) waitUpdated(ctx context.Context, fn string) error {
	wait := cmp.Or(s.Wait, 5*time.Minute)
	var status types.LastUpdateStatus
	return Poll(ctx, wait, cmp.Or(s.Every, time.Second), func() (bool, error) {
		out, err := s.API.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
		if err != nil {
			return false, Explain(fmt.Errorf("wait for the update of %s: %w", fn, err), "lambda:GetFunctionConfiguration")
		}
		switch status = out.LastUpdateStatus; status {
		case types.LastUpdateStatusSuccessful, "":
			return true, nil
		case types.LastUpdateStatusFailed:
			return false, fmt.Errorf("update of %s failed: %s", fn, aws.ToString(out.LastUpdateStatusReason))
		}
		return false, nil
	}, func() error { return fmt.Errorf("update of %s still %s after %s", fn, status, wait) })
}

// Poll calls done every interval until it reports true or an error, ctx
// ends, or wait has passed (then the error late gives).
func Poll(ctx context.Context, wait, every time.Duration, done func() (bool, error), late func() error) error {
	deadline := time.Now().Add(wait)
	for {
		if ok, err := done(); ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return late()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// Cleanup deletes every alias and version the run made (from the journal,
// and any alias or version the listing shows with the run's marks, in case
// the run died between a change and its journal entry) and restores
// $LATEST's memory, environment, architecture and code. It is safe to run
// twice. original code is the function's code as found (nil when the code
// was never changed).
func (s *Session) Cleanup(ctx context.Context, originalCode []byte) error {
	j := s.Journal
	fn := j.Original.FunctionName
	var errs []error
	aliases := slices.Clone(j.Aliases)
	if out, err := s.API.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn)}); err == nil {
		for _, a := range out.Aliases {
			if n := aws.ToString(a.Name); strings.HasPrefix(n, AliasPrefix+j.RunID+"-") && !slices.Contains(aliases, n) {
				aliases = append(aliases, n)
			}
		}
	} else {
		errs = append(errs, Explain(fmt.Errorf("list aliases: %w", err), "lambda:ListAliases"))
	}
	for _, a := range aliases {
		if _, err := s.API.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(fn), Name: aws.String(a)}); err != nil && !isNotFound(err) {
			errs = append(errs, Explain(fmt.Errorf("delete alias %s: %w", a, err), "lambda:DeleteAlias"))
			continue
		}
		s.logf("  DeleteAlias %s", a)
	}
	versions := slices.Clone(j.Versions)
	var marker *string
	for {
		out, err := s.API.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(fn), Marker: marker})
		if err != nil {
			errs = append(errs, Explain(fmt.Errorf("list versions: %w", err), "lambda:ListVersionsByFunction"))
			break
		}
		for _, v := range out.Versions {
			if n := aws.ToString(v.Version); aws.ToString(v.Description) == j.VersionDescription() && !slices.Contains(versions, n) {
				versions = append(versions, n)
			}
		}
		if marker = out.NextMarker; marker == nil {
			break
		}
	}
	for _, v := range versions {
		if _, err := s.API.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn), Qualifier: aws.String(v)}); err != nil && !isNotFound(err) {
			errs = append(errs, Explain(fmt.Errorf("delete version %s: %w", v, err), "lambda:DeleteFunction"))
			continue
		}
		s.logf("  DeleteFunction %s:%s", fn, v)
	}
	o := j.Original
	if j.CodeChanged {
		if originalCode == nil {
			errs = append(errs, fmt.Errorf("the original code of %s is missing from the results folder: restore it from your deployment (code sha256 %s)", fn, o.CodeSha256))
		} else if _, err := s.API.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName: aws.String(fn), ZipFile: originalCode, Architectures: []types.Architecture{types.Architecture(o.Arch)},
		}); err != nil {
			errs = append(errs, Explain(fmt.Errorf("restore the code of %s: %w", fn, err), "lambda:UpdateFunctionCode"))
		} else if err := s.waitUpdated(ctx, fn); err != nil {
			errs = append(errs, err)
		} else {
			s.logf("  UpdateFunctionCode %s: original code (%s)", fn, o.Arch)
		}
	}
	env := maps.Clone(o.Env)
	in := &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(fn), MemorySize: aws.Int32(o.MemoryMB), Environment: &types.Environment{Variables: env},
	}
	what := fmt.Sprintf("%d MB and its own environment", o.MemoryMB)
	if o.LMI != nil {
		in.CapacityProviderConfig = o.LMI.Input()
		what = fmt.Sprintf("%d MB, %g GiB per vCPU, %d per environment and its own environment", o.MemoryMB, o.LMI.GiBPerVCPU, o.LMI.PerEnvConcurrency)
	}
	if _, err := s.API.UpdateFunctionConfiguration(ctx, in); err != nil {
		errs = append(errs, Explain(fmt.Errorf("restore the configuration of %s: %w", fn, err), "lambda:UpdateFunctionConfiguration"))
	} else if err := s.waitUpdated(ctx, fn); err != nil {
		errs = append(errs, err)
	} else {
		s.logf("  UpdateFunctionConfiguration %s: %s restored", fn, what)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return j.Update(func(j *Journal) { j.CleanedUp = true })
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// DownloadCode fetches a function's code as a zip from GetFunction's
// Code.Location (a presigned URL on AWS).
func DownloadCode(ctx context.Context, api API, function string) ([]byte, error) {
	out, err := api.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(function)})
	if err != nil {
		return nil, Explain(fmt.Errorf("read code location of %s: %w", function, err), "lambda:GetFunction")
	}
	if out.Code == nil || aws.ToString(out.Code.Location) == "" {
		return nil, fmt.Errorf("function %s has no code location (an image function?)", function)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, aws.ToString(out.Code.Location), nil)
	if err != nil {
		return nil, fmt.Errorf("download code of %s: %w", function, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download code of %s: %w", function, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download code of %s: %s", function, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 300<<20))
	if err != nil {
		return nil, fmt.Errorf("download code of %s: %w", function, err)
	}
	return b, nil
}
