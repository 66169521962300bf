package tune

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Apply is what --apply asks for once the verdict is in (Power Tuning's
// autoOptimize): the winning memory, and with code for it the winning
// architecture, on $LATEST; with Alias also a version published with them
// and the alias pointed at it (autoOptimizeAlias).
type Apply struct {
	Alias string // "" = $LATEST only
}

// ParseApply reads --apply: "latest" or "alias:NAME".
func ParseApply(s string) (*Apply, error) {
	switch {
	case s == "":
		return nil, nil
	case s == "latest" || s == "$LATEST":
		return &Apply{}, nil
	}
	name, ok := strings.CutPrefix(s, "alias:")
	if !ok {
		return nil, fmt.Errorf("--apply %q: want latest (the winning memory on $LATEST) or alias:NAME (also publish a version and point alias NAME at it)", s)
	}
	if !aliasName.MatchString(name) || allDigits.MatchString(name) || len(name) > 128 {
		return nil, fmt.Errorf("--apply %q: %q is not a Lambda alias name (letters, digits, - and _, not only digits, at most 128)", s, name)
	}
	if strings.HasPrefix(name, AliasPrefix) {
		return nil, fmt.Errorf("--apply %q: aliases starting %s are tune's own, deleted at its cleanup", s, AliasPrefix)
	}
	return &Apply{Alias: name}, nil
}

var (
	aliasName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	allDigits = regexp.MustCompile(`^[0-9]+$`)
)

// Applied records in the journal what --apply changed, before it changes
// it, so that 'tune --cleanup DIR' can undo it.
type Applied struct {
	MemoryMB int    `json:"memory_mb"`
	Arch     string `json:"architecture"`
	Code     bool   `json:"code_replaced"` // $LATEST got the code built by --source
	Alias    string `json:"alias,omitempty"`
	// AliasBefore is the version the alias pointed at before ("" when
	// apply created it); Version the version apply published.
	AliasBefore string `json:"alias_version_before,omitempty"`
	Version     string `json:"version,omitempty"`
	Undone      bool   `json:"undone"`
}

// applyDescription marks the version --apply publishes (never deleted by
// the run's own cleanup, which deletes "bench tune RUN" versions).
func (j *Journal) applyDescription() string { return j.VersionDescription() + " apply" }

// ApplyVerdict sets the winning memory (and, when the session has code
// for arch, that code and architecture) on $LATEST, and with a.Alias
// publishes a version and points the alias at it. Every step is in the
// journal before it is made. It runs after Cleanup, on the function as
// it was found.
func (s *Session) ApplyVerdict(ctx context.Context, a Apply, arch string, memoryMB int) error {
	j := s.Journal
	fn := j.Original.FunctionName
	code := s.Code[arch]
	if code == nil && arch != j.Original.Arch {
		return fmt.Errorf("apply %s %d MB: no code for %s", arch, memoryMB, arch)
	}
	before := ""
	if a.Alias != "" {
		v, err := s.aliasVersion(ctx, a.Alias)
		if err != nil {
			return err
		}
		before = v
	}
	rec := &Applied{MemoryMB: memoryMB, Arch: arch, Code: code != nil, Alias: a.Alias, AliasBefore: before}
	if err := j.Update(func(j *Journal) { j.Applied = rec }); err != nil {
		return err
	}
	if code != nil {
		s.logf("  apply: UpdateFunctionCode %s: code for %s (%d bytes)", fn, arch, len(code))
		if _, err := s.API.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName: aws.String(fn), ZipFile: code, Architectures: []types.Architecture{types.Architecture(arch)},
		}); err != nil {
			return Explain(fmt.Errorf("apply: update code of %s for %s: %w", fn, arch, err), "lambda:UpdateFunctionCode")
		}
		if err := s.waitUpdated(ctx, fn); err != nil {
			return err
		}
	}
	s.logf("  apply: UpdateFunctionConfiguration %s MemorySize=%d", fn, memoryMB)
	if _, err := s.API.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(fn), MemorySize: aws.Int32(int32(memoryMB)),
	}); err != nil {
		return Explain(fmt.Errorf("apply: set %d MB on %s: %w", memoryMB, fn, err), "lambda:UpdateFunctionConfiguration")
	}
	if err := s.waitUpdated(ctx, fn); err != nil {
		return err
	}
	if a.Alias == "" {
		return nil
	}
	pv, err := s.API.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(fn), Description: aws.String(j.applyDescription())})
	if err != nil {
		return Explain(fmt.Errorf("apply: publish a version of %s: %w", fn, err), "lambda:PublishVersion")
	}
	version := aws.ToString(pv.Version)
	if err := j.Update(func(j *Journal) { j.Applied.Version = version }); err != nil {
		return err
	}
	if before == "" {
		_, err = s.API.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(a.Alias), FunctionVersion: aws.String(version)})
	} else {
		_, err = s.API.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String(a.Alias), FunctionVersion: aws.String(version)})
	}
	if err != nil {
		return Explain(fmt.Errorf("apply: point alias %s at version %s: %w", a.Alias, version, err), "lambda:CreateAlias/lambda:UpdateAlias")
	}
	s.logf("  apply: version %s published, alias %s points at it (before: %s)", version, a.Alias, orWord(before, "none"))
	return nil
}

// aliasVersion is the version an alias of the function points at, or ""
// when there is no such alias.
func (s *Session) aliasVersion(ctx context.Context, alias string) (string, error) {
	fn := s.Journal.Original.FunctionName
	var marker *string
	for {
		out, err := s.API.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn), Marker: marker})
		if err != nil {
			return "", Explain(fmt.Errorf("apply: list aliases of %s: %w", fn, err), "lambda:ListAliases")
		}
		for _, a := range out.Aliases {
			if aws.ToString(a.Name) == alias {
				return aws.ToString(a.FunctionVersion), nil
			}
		}
		if marker = out.NextMarker; marker == nil {
			return "", nil
		}
	}
}

// UndoApply reverts what ApplyVerdict did, from the journal: the alias
// back to its version (or deleted when apply made it), the version apply
// published deleted, and $LATEST's memory, environment, architecture and
// code as they were found (originalCode: the function's code as found).
func (s *Session) UndoApply(ctx context.Context, originalCode []byte) error {
	j := s.Journal
	a := j.Applied
	if a == nil || a.Undone {
		return nil
	}
	fn := j.Original.FunctionName
	var errs []error
	if a.Alias != "" {
		var err error
		if a.AliasBefore == "" {
			_, err = s.API.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(fn), Name: aws.String(a.Alias)})
			s.logf("  undo apply: DeleteAlias %s", a.Alias)
		} else {
			_, err = s.API.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String(a.Alias), FunctionVersion: aws.String(a.AliasBefore)})
			s.logf("  undo apply: alias %s back to version %s", a.Alias, a.AliasBefore)
		}
		if err != nil && !isNotFound(err) {
			errs = append(errs, Explain(fmt.Errorf("undo apply: alias %s: %w", a.Alias, err), "lambda:UpdateAlias/lambda:DeleteAlias"))
		}
		if a.Version != "" && len(errs) == 0 {
			if _, err := s.API.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn), Qualifier: aws.String(a.Version)}); err != nil && !isNotFound(err) {
				errs = append(errs, Explain(fmt.Errorf("undo apply: delete version %s: %w", a.Version, err), "lambda:DeleteFunction"))
			} else {
				s.logf("  undo apply: DeleteFunction %s:%s", fn, a.Version)
			}
		}
	}
	o := j.Original
	if a.Code {
		if originalCode == nil {
			errs = append(errs, fmt.Errorf("the original code of %s is missing from the results folder: restore it from your deployment (code sha256 %s)", fn, o.CodeSha256))
		} else if _, err := s.API.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName: aws.String(fn), ZipFile: originalCode, Architectures: []types.Architecture{types.Architecture(o.Arch)},
		}); err != nil {
			errs = append(errs, Explain(fmt.Errorf("undo apply: restore the code of %s: %w", fn, err), "lambda:UpdateFunctionCode"))
		} else if err := s.waitUpdated(ctx, fn); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := s.API.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(fn), MemorySize: aws.Int32(o.MemoryMB), Environment: &types.Environment{Variables: maps.Clone(o.Env)},
	}); err != nil {
		errs = append(errs, Explain(fmt.Errorf("undo apply: restore the configuration of %s: %w", fn, err), "lambda:UpdateFunctionConfiguration"))
	} else if err := s.waitUpdated(ctx, fn); err != nil {
		errs = append(errs, err)
	} else {
		s.logf("  undo apply: %s back to %d MB", fn, o.MemoryMB)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return j.Update(func(j *Journal) { j.Applied.Undone = true })
}

func orWord(s, w string) string {
	if s == "" {
		return w
	}
	return s
}

// describeApply is the dry run's line for --apply.
func describeApply(w io.Writer, a *Apply, o Original, withCode bool) {
	if a == nil || w == nil {
		return
	}
	fmt.Fprintf(w, "\nApply (after the verdict, once the function is restored; undone by 'tune --cleanup DIR'):\n")
	if withCode {
		fmt.Fprintf(w, "  UpdateFunctionCode ZipFile (the winner's architecture) on $LATEST; wait\n")
	}
	fmt.Fprintf(w, "  UpdateFunctionConfiguration %s MemorySize=<the verdict's>; wait\n", o.FunctionName)
	if a.Alias != "" {
		fmt.Fprintf(w, "  PublishVersion; CreateAlias or UpdateAlias %s → that version\n", a.Alias)
	}
	fmt.Fprintf(w, "  (not applied when the run is interrupted, a --threshold is crossed, or the verdict left configurations out for errors without --allowed-errors)\n")
}
