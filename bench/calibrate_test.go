package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/calibrate"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
)

// TestCalibrateLocalRecoversThePeriod runs calibrate against the local
// Lambda set to a 20 ms and a 100 ms throttling period: the probes must
// recover each period within ±25% and each memory size's share within
// ±15% of the one the local Lambda gives it.
func TestCalibrateLocalRecoversThePeriod(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function and probes the local Lambda for about 20 s")
	}
	bin := functionBinary(t)
	for _, period := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		t.Run(period.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cal")
			var stdout, stderr bytes.Buffer
			err := run(testContext(t, 3*time.Minute), []string{"calibrate", "--binary", bin, "--cpu-period", period.String(),
				"--memory", "128,512,1024", "--runs", "3", "--duration", "1s", "--out", dir}, &stdout, &stderr)
			if err != nil {
				t.Fatalf("calibrate: %v\n%s", err, stderr.String())
			}
			if strings.Contains(stderr.String(), "Local Lambda: none") {
				t.Skipf("this machine cannot confine environments (no writable cgroups): %s", stderr.String())
			}
			cal, err := calibrate.Read(filepath.Join(dir, calibrate.FileName))
			if err != nil {
				t.Fatal(err)
			}
			want := float64(period) / float64(time.Millisecond)
			if cal.LocalPeriodMs != want || math.Abs(cal.PeriodMs-want) > 0.25*want {
				t.Errorf("period %.1f ms (local set to %v), want %v ±25%%", cal.PeriodMs, cal.LocalPeriodMs, want)
			}
			for _, s := range cal.Sizes {
				if math.Abs(s.Share-s.DocumentedShare) > 0.15*s.DocumentedShare {
					t.Errorf("%d MB: share %.3f, want %.3f ±15%%", s.MemoryMB, s.Share, s.DocumentedShare)
				}
			}
			if !strings.Contains(stdout.String(), "Throttling period") {
				t.Errorf("no period in the table:\n%s", stdout.String())
			}
		})
	}
}

// TestCalibrationDrivesTheLocalLambda: a calibration's period and shares
// are what the local Lambda then confines environments to.
func TestCalibrationDrivesTheLocalLambda(t *testing.T) {
	dir := t.TempDir()
	c := &calibrate.File{Kind: calibrate.Kind, Target: "aws", PeriodMs: 50, Sizes: []calibrate.Size{{MemoryMB: 128, Share: 0.1}, {MemoryMB: 1024, Share: 0.5}}}
	path := filepath.Join(dir, calibrate.FileName)
	if err := c.Write(path); err != nil {
		t.Fatal(err)
	}
	tf := targetFlags{calibration: path}
	m, err := tf.cpuModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Period != 50*time.Millisecond || m.Share == nil || math.Abs(m.Share(576)-0.3) > 1e-9 || !strings.Contains(m.Source, path) {
		t.Errorf("model from the calibration: period %s, source %q", m.Period, m.Source)
	}
	tf = targetFlags{}
	if m, err := tf.cpuModel(); err != nil || m.Period != 20*time.Millisecond || m.Share != nil {
		t.Errorf("default model: %+v, %v", m, err)
	}
}

// TestCalibrateAWSPathAgainstLocalEndpoint drives --target aws — the same
// SDK calls, functions named by --function-prefix — against a local Lambda
// serving three probe functions, and refuses a prefix naming none.
func TestCalibrateAWSPathAgainstLocalEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function and probes the local Lambda")
	}
	bin := functionBinary(t)
	ctx := testContext(t, 2*time.Minute)
	var specs []locallambda.FunctionSpec
	for _, mb := range []int{128, 512, 1024} {
		specs = append(specs, locallambda.FunctionSpec{Name: fmt.Sprintf("probe-%d", mb), Binary: bin, Handler: "probe", MemoryMB: mb,
			Timeout: 30 * time.Second, Architecture: target.HostArch(), ReservedConcurrency: 1})
	}
	lt, err := target.StartLocal(ctx, target.LocalOptions{Functions: specs})
	if err != nil {
		t.Fatal(err)
	}
	defer lt.Close()
	ep := lt.Server.InvokeEndpoint()
	dir := filepath.Join(t.TempDir(), "cal")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"calibrate", "--target", "aws", "--endpoint-url", ep, "--function-prefix", "probe",
		"--runs", "1", "--duration", "300ms", "--out", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("calibrate --target aws: %v\n%s", err, stderr.String())
	}
	cal, err := calibrate.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cal.Target != "aws" || len(cal.Sizes) != 3 || cal.Sizes[0].Function != "probe-128" || cal.LocalPeriodMs != 0 {
		t.Errorf("calibration %+v", cal)
	}
	err = run(ctx, []string{"calibrate", "--target", "aws", "--endpoint-url", ep, "--function-prefix", "nope",
		"--runs", "1", "--duration", "100ms", "--out", filepath.Join(t.TempDir(), "x")}, &stdout, &stderr)
	if exitCode(err, io.Discard) != 2 || !strings.Contains(err.Error(), "no function nope-128") {
		t.Errorf("unknown probe functions: %v", err)
	}
}

func TestCalibrateRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--runs", "0"}, "--runs 0"},
		{[]string{"--duration", "10ms"}, "--duration 10ms"},
		{[]string{"--memory", "64"}, "between 128 and 10240"},
		{[]string{"--memory", "128,128"}, "given twice"},
		{[]string{"--target", "aws", "--cpu-period", "20ms"}, "not with --target aws"},
		{[]string{"--cpu-period", "2s"}, "--cpu-period 2s"},
		{[]string{"--target", "gcp"}, "unknown target"},
	}
	for _, tt := range tests {
		err := run(context.Background(), append([]string{"calibrate", "--out", filepath.Join(t.TempDir(), "c")}, tt.args...), io.Discard, io.Discard)
		if exitCode(err, io.Discard) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("calibrate %v: %v, want exit 2 about %q", tt.args, err, tt.want)
		}
	}
}
