package cost

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultIsValidAndMatchesFacts(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]Tier{
		"x86_64": {{6e9, 0.0000166667}, {15e9, 0.000015}, {0, 0.0000133334}},
		"arm64":  {{7.5e9, 0.0000133334}, {18.75e9, 0.0000120001}, {0, 0.0000106667}},
	}
	if !reflect.DeepEqual(p.GBSecond, want) {
		t.Errorf("tiers = %v, want %v", p.GBSecond, want)
	}
	if p.RequestPerMillion != 0.20 || p.LMIManagementFee != 0.15 || p.InstanceHourly["c8g.xlarge"] != 0.15952 {
		t.Errorf("default prices changed: %+v", p)
	}
	for _, typ := range []string{"c8g.xlarge", "c7g.xlarge", "m7g.large", "c7i.xlarge", "m8g.xlarge"} {
		if _, err := p.InstancePrice(typ); err != nil {
			t.Error(err)
		}
	}
	// Each call is a fresh copy.
	p.InstanceHourly["c8g.xlarge"] = 1
	p.GBSecond["arm64"][0].Price = 1
	if q := Default(); q.InstanceHourly["c8g.xlarge"] != 0.15952 || q.GBSecond["arm64"][0].Price != 0.0000133334 {
		t.Error("Default shares state between calls")
	}
}

func TestWriteJSONRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Default().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(&buf, "dump")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("round trip changed the table:\n%+v\n%+v", got, Default())
	}
}

func TestParseOverrides(t *testing.T) {
	const in = `{
	  "date": "2026-01-15",
	  "usd_per_million_requests": 0.25,
	  "gb_second_tiers": {"arm64": [{"usd_per_gb_second": 0.00001}]},
	  "ec2_on_demand_usd_per_hour": {"c8g.xlarge": 0.2, "c8g.4xlarge": 0.638}
	}`
	p, err := Parse(strings.NewReader(in), "my-prices.json")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if p.Date != "2026-01-15" || p.RequestPerMillion != 0.25 || p.Region != d.Region || p.LMIManagementFee != 0.15 {
		t.Errorf("scalars: %+v", p)
	}
	if got := p.GBSecond["arm64"]; len(got) != 1 || got[0].Price != 0.00001 {
		t.Errorf("arm64 tiers not replaced: %v", got)
	}
	if !reflect.DeepEqual(p.GBSecond["x86_64"], d.GBSecond["x86_64"]) {
		t.Errorf("x86_64 tiers should keep the defaults: %v", p.GBSecond["x86_64"])
	}
	if p.InstanceHourly["c8g.xlarge"] != 0.2 || p.InstanceHourly["c8g.4xlarge"] != 0.638 || p.InstanceHourly["c7g.xlarge"] != 0.145 {
		t.Errorf("instance prices not merged: %v", p.InstanceHourly)
	}
	if !strings.Contains(p.Source, "my-prices.json") {
		t.Errorf("Source should name the override file: %q", p.Source)
	}
	// An empty object is the defaults.
	e, err := Parse(strings.NewReader("{}"), "x")
	if err != nil {
		t.Fatal(err)
	}
	e.Source = d.Source
	if !reflect.DeepEqual(e, d) {
		t.Error("{} should give the defaults")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown field", `{"request_price": 0.2}`, `unknown field "request_price"`},
		{"not json", `{`, "decode"},
		{"trailing data", `{} {}`, "after the JSON object"},
		{"negative request price", `{"usd_per_million_requests": -0.2}`, "usd_per_million_requests must be a non-negative number"},
		{"negative fee", `{"lmi_management_fee": -1}`, "lmi_management_fee"},
		{"negative instance", `{"ec2_on_demand_usd_per_hour": {"c8g.xlarge": -1}}`, "ec2_on_demand_usd_per_hour.c8g.xlarge"},
		{"unknown arch", `{"gb_second_tiers": {"amd64": [{"usd_per_gb_second": 1}]}}`, `unknown architecture "amd64"`},
		{"no tiers", `{"gb_second_tiers": {"arm64": []}}`, "gb_second_tiers.arm64: no tiers"},
		{"unsorted tiers", `{"gb_second_tiers": {"arm64": [{"up_to_gb_seconds": 5, "usd_per_gb_second": 1}, {"up_to_gb_seconds": 3, "usd_per_gb_second": 1}, {"usd_per_gb_second": 1}]}}`, "sorted ascending"},
		{"bounded last tier", `{"gb_second_tiers": {"arm64": [{"up_to_gb_seconds": 5, "usd_per_gb_second": 1}]}}`, "last tier has no upper limit"},
		{"unbounded middle tier", `{"gb_second_tiers": {"arm64": [{"usd_per_gb_second": 1}, {"usd_per_gb_second": 1}]}}`, "positive number on every tier but the last"},
		{"negative tier price", `{"gb_second_tiers": {"x86_64": [{"usd_per_gb_second": -1}]}}`, "gb_second_tiers.x86_64[0]: usd_per_gb_second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in), "test.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%s) error = %v, want it to mention %q", tt.in, err, tt.want)
			}
		})
	}
	// Validate reports every problem at once.
	p := Default()
	p.RequestPerMillion = -1
	p.LMIManagementFee = -1
	if err := p.Validate(); err == nil || strings.Count(err.Error(), "\n") < 1 {
		t.Errorf("want both problems reported, got %v", err)
	}
	delete(p.GBSecond, "x86_64")
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), `missing architecture "x86_64"`) {
		t.Errorf("want the missing architecture reported, got %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(path, []byte(`{"region": "eu-west-1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil || p.Region != "eu-west-1" {
		t.Fatalf("Load = %+v, %v", p, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file error should name it: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"region": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("decode error should name the file: %v", err)
	}
}

func TestNormalizeArch(t *testing.T) {
	for in, want := range map[string]string{"arm64": "arm64", "AArch64": "arm64", "x86_64": "x86_64", "x86": "x86_64", "amd64": "x86_64", "X8664": "x86_64"} {
		if got, err := NormalizeArch(in); err != nil || got != want {
			t.Errorf("NormalizeArch(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeArch("ppc64le"); err == nil {
		t.Error("ppc64le should be rejected")
	}
}
