package locallambda

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func zipOf(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVersionsAndAliases(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{{Name: "fn", Binary: fakeBinary, MemoryMB: 128, Timeout: 5 * time.Second}}})
	c := client(s)
	ctx := context.Background()
	fn := aws.String("fn")

	v1, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn, Description: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: fn, MemorySize: aws.Int32(256)}); err != nil {
		t.Fatal(err)
	}
	v2, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v1.Version) != "1" || aws.ToString(v2.Version) != "2" || aws.ToInt32(v1.MemorySize) != 128 || aws.ToInt32(v2.MemorySize) != 256 ||
		aws.ToString(v1.Description) != "first" || aws.ToString(v1.FunctionArn) != FunctionARN("fn")+":1" {
		t.Fatalf("published %+v and %+v", v1, v2)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	// Invoking the alias runs version 1 with its own memory, whatever $LATEST has.
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: fn, Qualifier: aws.String("live"), Payload: []byte(`{}`), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	r, log := parseReport(t, out.LogResult)
	if aws.ToString(out.ExecutedVersion) != "1" || r.memorySize != 128 || !strings.Contains(log, "Version: 1") || !r.hasInit {
		t.Fatalf("alias invoke: version %q, memory %d, log:\n%s", aws.ToString(out.ExecutedVersion), r.memorySize, log)
	}
	// Moving the alias moves the invocations.
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: fn, Qualifier: aws.String("live"), Payload: []byte(`{}`), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := parseReport(t, out.LogResult); aws.ToString(out.ExecutedVersion) != "2" || r.memorySize != 256 {
		t.Fatalf("after UpdateAlias: version %q, memory %d", aws.ToString(out.ExecutedVersion), r.memorySize)
	}

	var conflict *types.ResourceConflictException
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn, Qualifier: aws.String("2")}); !errors.As(err, &conflict) {
		t.Fatalf("deleting a version an alias uses: %v, want ResourceConflictException", err)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("1")}); !errors.As(err, &conflict) {
		t.Fatalf("a second alias of the same name: %v, want ResourceConflictException", err)
	}
	var notFound *types.ResourceNotFoundException
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("x"), FunctionVersion: aws.String("9")}); !errors.As(err, &notFound) {
		t.Fatalf("alias to a missing version: %v, want ResourceNotFoundException", err)
	}
	aliases, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: fn})
	if err != nil || len(aliases.Aliases) != 1 || aws.ToString(aliases.Aliases[0].FunctionVersion) != "2" {
		t.Fatalf("ListAliases: %+v, %v", aliases, err)
	}
	if _, err := c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: fn, Name: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2"} {
		if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn, Qualifier: aws.String(v)}); err != nil {
			t.Fatalf("delete version %s: %v", v, err)
		}
	}
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: fn, Qualifier: aws.String("1"), Payload: []byte(`{}`)}); !errors.As(err, &notFound) {
		t.Fatalf("invoking a deleted version: %v, want ResourceNotFoundException", err)
	}
	versions, err := c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: fn})
	if err != nil || len(versions.Versions) != 1 || aws.ToString(versions.Versions[0].Version) != "$LATEST" {
		t.Fatalf("ListVersionsByFunction after the deletes: %+v, %v", versions, err)
	}
	// Numbers are never reused.
	v3, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn})
	if err != nil || aws.ToString(v3.Version) != "3" {
		t.Fatalf("third publish: %+v, %v", v3, err)
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn}); err == nil {
		t.Fatal("deleting the whole function must be refused")
	}
}

func TestUpdateFunctionCode(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{{Name: "fn", Binary: fakeBinary, MemoryMB: 128, Timeout: 5 * time.Second}}})
	c := client(s)
	ctx := context.Background()
	fn := aws.String("fn")
	before, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	other := "arm64"
	if HostArchitecture() == "arm64" {
		other = "x86_64"
	}
	code := zipOf(t, fakeBinary)
	out, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: fn, ZipFile: code,
		Architectures: []types.Architecture{types.Architecture(other)}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Architectures[0]) != other || aws.ToString(out.CodeSha256) != aws.ToString(before.CodeSha256) || aws.ToString(out.RevisionId) == aws.ToString(before.RevisionId) {
		t.Fatalf("after UpdateFunctionCode: arch %v, sha %q (was %q), revision %q (was %q)", out.Architectures,
			aws.ToString(out.CodeSha256), aws.ToString(before.CodeSha256), aws.ToString(out.RevisionId), aws.ToString(before.RevisionId))
	}
	// GetFunction's Code.Location serves the code back as a zip.
	fnOut, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	if loc := aws.ToString(fnOut.Code.Location); !strings.HasPrefix(loc, s.InvokeEndpoint()) {
		t.Fatalf("Code.Location %q is not on the local Lambda", loc)
	}
	var invalid *types.InvalidParameterValueException
	if _, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: fn, ZipFile: []byte("not a zip")}); !errors.As(err, &invalid) {
		t.Fatalf("a broken zip: %v, want InvalidParameterValueException", err)
	}
}
