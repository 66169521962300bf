package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"lambdabench/infra/internal/jsiitest"
	"lambdabench/infra/internal/matrix"
)

func TestMain(m *testing.M) { os.Exit(jsiitest.Main(m)) }

func fromMap(ctx map[string]any) func(string) any {
	return func(key string) any { return ctx[key] }
}

func TestDefaultSettings(t *testing.T) {
	s, err := readSettings(fromMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.MatrixStackName != "GoLambdaBenchMatrix" || s.LmiStackName != "GoLambdaBenchLmi" {
		t.Errorf("stack names %s, %s", s.MatrixStackName, s.LmiStackName)
	}
	if !reflect.DeepEqual(s.Matrix.Configs, matrix.Default()) || s.Matrix.Prefix != "go-bench" {
		t.Errorf("matrix %+v", s.Matrix)
	}
	l := s.Lmi
	if l.Arch != matrix.Arm64 || l.InstanceType != "c8g.xlarge" || l.MaxVCpuCount != 12 || l.TargetCPUPercent != 70 ||
		l.LmiMemoryMB != 2048 || l.MemoryGiBPerVCpu != 2 || l.MaxConcurrency != 64 || l.MinEnvironments != 1 ||
		l.MaxEnvironments != 4 || len(l.SubnetIDs) != 0 || l.NatGateway || l.SkipAPIGatewayLogRole {
		t.Errorf("lmi %+v", l)
	}
}

// Context arrives as strings from `cdk -c key=value` and as JSON values from cdk.json.
func TestContextOverrides(t *testing.T) {
	for _, ctx := range []map[string]any{
		{"architectures": "arm64", "memorySizes": "1536, 2048", "workers": "4", "prefix": "mine",
			"lmiSubnetIds": "subnet-01234567,subnet-0123456789abcdef0", "lmiSecurityGroupId": "sg-01234567",
			"lmiMemory": "4096", "lmiMinEnvironments": "0", "apiThrottleRate": "50", "apiGatewayLogRole": "false", "lmiTargetCpu": "55.5"},
		{"architectures": []any{"arm64"}, "memorySizes": []any{1536.0, 2048.0}, "workers": 4.0, "prefix": "mine",
			"lmiSubnetIds": []any{"subnet-01234567", "subnet-0123456789abcdef0"}, "lmiSecurityGroupId": "sg-01234567",
			"lmiMemory": 4096.0, "lmiMinEnvironments": 0.0, "apiThrottleRate": 50.0, "apiGatewayLogRole": false, "lmiTargetCpu": 55.5},
	} {
		s, err := readSettings(fromMap(ctx))
		if err != nil {
			t.Fatal(err)
		}
		want := []matrix.Config{{Arch: matrix.Arm64, MemoryMB: 1536, Workers: 4}, {Arch: matrix.Arm64, MemoryMB: 2048, Workers: 4}}
		if !reflect.DeepEqual(s.Matrix.Configs, want) || s.Matrix.Prefix != "mine" {
			t.Errorf("matrix %+v", s.Matrix)
		}
		l := s.Lmi
		if l.Prefix != "mine" || l.LmiMemoryMB != 4096 || !l.MinEnvironmentsSet || l.MinEnvironments != 0 || l.ThrottleRate != 50 ||
			!l.SkipAPIGatewayLogRole || l.TargetCPUPercent != 55.5 || len(l.SubnetIDs) != 2 || l.SecurityGroupID != "sg-01234567" {
			t.Errorf("lmi %+v", l)
		}
	}
}

func TestInvalidContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  map[string]any
		want []string
	}{
		{"unknown architecture", map[string]any{"architectures": "arm64,sparc"}, []string{`context architectures=arm64,sparc: unknown architecture "sparc"`}},
		{"memory below 128", map[string]any{"memorySizes": "64"}, []string{"memory size 64 MB outside 128-10240 MB"}},
		{"memory above 10240", map[string]any{"memorySizes": "2048,12288"}, []string{"memory size 12288 MB outside 128-10240 MB"}},
		{"memory not a number", map[string]any{"memorySizes": "2GB"}, []string{`"2GB" is not a whole number`}},
		{"worker count mismatch", map[string]any{"memorySizes": "1536,2048", "workers": "1,2,3"}, []string{"3 worker counts for 2 memory sizes"}},
		{"too many workers", map[string]any{"workers": "8"}, []string{"worker count 8 outside 1-6"}},
		{"LMI memory below 2048", map[string]any{"lmiMemory": "1024"}, []string{"LMI memory size 1024 MB outside 2048-10240 MB"}},
		{"malformed subnet list", map[string]any{"lmiSubnetIds": "subnet-01234567,,subnet-89abcdef", "lmiSecurityGroupId": "sg-01234567"}, []string{"empty item in the list"}},
		{"malformed subnet id", map[string]any{"lmiSubnetIds": "subnet-01234567;subnet-89abcdef", "lmiSecurityGroupId": "sg-01234567"}, []string{`subnet id "subnet-01234567;subnet-89abcdef"`}},
		{"subnets without security group", map[string]any{"lmiSubnetIds": "subnet-01234567"}, []string{"give both subnet ids and a security group id"}},
		{"zero throttling", map[string]any{"apiThrottleRate": "0"}, []string{"context apiThrottleRate=0: want a positive number"}},
		{"not a boolean", map[string]any{"lmiNatGateway": "maybe"}, []string{"context lmiNatGateway=maybe: want true or false"}},
		{"several at once", map[string]any{"architectures": "mips", "lmiMemory": "512", "logRetentionDays": "10"},
			[]string{`unknown architecture "mips"`, "LMI memory size 512 MB", "log retention 10 days"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readSettings(fromMap(tt.ctx))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "invalid context: ") {
				t.Errorf("error %q does not say it is about context", err)
			}
		})
	}
}

// Through a real App: values set with -c reach readSettings as strings, and
// invalid ones stop the app before any stack is defined.
func TestAppContext(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(t.TempDir()),
		Context: &map[string]any{"architectures": "arm64", "memorySizes": "1536,10240", "lmiMemory": "1024"},
	})
	_, err := readSettings(func(key string) any { return app.Node().TryGetContext(&key) })
	if err == nil || !strings.Contains(err.Error(), "LMI memory size 1024 MB") {
		t.Fatalf("error %v, want the LMI memory size rejected", err)
	}
	app = awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(t.TempDir()),
		Context: &map[string]any{"architectures": "x86_64", "memorySizes": "1536,10240", "matrixStackName": "M", "lmiStackName": "L"},
	})
	s, err := readSettings(func(key string) any { return app.Node().TryGetContext(&key) })
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Matrix.Configs) != 2 || s.Matrix.Configs[1].Key() != "X8664Mem10240" || s.Matrix.Configs[1].Workers != 6 {
		t.Errorf("matrix %+v", s.Matrix.Configs)
	}
	if err := defineStacks(app, s, nil, nil); err == nil || !strings.Contains(err.Error(), "no code source") {
		t.Errorf("defineStacks without code: %v", err)
	}
}

func TestResolveOutdir(t *testing.T) {
	abs, _ := filepath.Abs("..")
	for _, tt := range []struct{ outdir, cliDir, want string }{
		{"", "..", ""},
		{"cdk.out", "", "cdk.out"},
		{"/tmp/x", "..", "/tmp/x"},
		{"cdk.out", "..", filepath.Join(abs, "cdk.out")},
	} {
		got, err := resolveOutdir(tt.outdir, tt.cliDir)
		if err != nil || got != tt.want {
			t.Errorf("resolveOutdir(%q, %q) = %q, %v; want %q", tt.outdir, tt.cliDir, got, err, tt.want)
		}
	}
}

func TestFunctionDir(t *testing.T) {
	dir, err := functionDir("")
	if err != nil || filepath.Base(dir) != "function" {
		t.Errorf("functionDir() = %q, %v", dir, err)
	}
	if _, err := functionDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "functionDir") {
		t.Errorf("functionDir(empty) error %v", err)
	}
}
