package cost

import (
	"bytes"
	"encoding/json"
	"errors"
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
	if p.RequestPerMillion != 0.20 || p.LMIManagementFee != 0.15 || p.Instances["c8g.xlarge"].USDPerHour != 0.15952 {
		t.Errorf("default prices changed: %+v", p)
	}
	for _, typ := range []string{"c8g.xlarge", "c7g.xlarge", "m7g.large", "c7i.xlarge", "m8g.xlarge"} {
		if _, err := p.InstancePrice(typ); err != nil {
			t.Error(err)
		}
	}
	// Each call is a fresh copy.
	p.Instances["c8g.xlarge"] = Instance{USDPerHour: 1}
	p.GBSecond["arm64"][0].Price = 1
	if q := Default(); q.Instances["c8g.xlarge"].USDPerHour != 0.15952 || q.GBSecond["arm64"][0].Price != 0.0000133334 {
		t.Error("Default shares state between calls")
	}
}

// TestDefaultInstances checks every built-in row against the standard EC2
// sizes (large 2 vCPUs, xlarge 4, 2xlarge 8; c families 2 GiB per vCPU, m
// families 4), the Graviton (g) types against arm64, and that each says
// where its price comes from and when.
func TestDefaultInstances(t *testing.T) {
	vcpus := map[string]int{"large": 2, "xlarge": 4, "2xlarge": 8}
	gibPerVCPU := map[byte]float64{'c': 2, 'm': 4}
	for typ, in := range Default().Instances {
		family, size, _ := strings.Cut(typ, ".")
		if in.VCPUs != vcpus[size] || in.MemoryGiB != float64(in.VCPUs)*gibPerVCPU[family[0]] {
			t.Errorf("%s: %d vCPUs, %v GiB", typ, in.VCPUs, in.MemoryGiB)
		}
		if want := map[bool]string{true: ArchARM64, false: ArchX86_64}[strings.HasSuffix(family, "g")]; in.Architecture != want {
			t.Errorf("%s: architecture %s, want %s", typ, in.Architecture, want)
		}
		if in.Source == "" || !validDate(in.Date) {
			t.Errorf("%s: source %q, date %q", typ, in.Source, in.Date)
		}
	}
	// The AWS price of June 2026, and its xlarge twice it.
	d := Default().Instances
	if l, xl := d["m7g.large"], d["m7g.xlarge"]; l.USDPerHour != 0.0816 || l.Date != "2026-06" || !strings.Contains(l.Source, "AWS") ||
		xl.USDPerHour != 2*l.USDPerHour {
		t.Errorf("m7g: %+v, %+v", l, xl)
	}
	if c := d["c8g.xlarge"]; c.Date != "2025-12" || !strings.Contains(c.Source, "public price tables") {
		t.Errorf("c8g.xlarge: %+v", c)
	}
	types, err := Default().InstanceTypes("x86_64")
	if want := []string{"c7i.2xlarge", "c7i.large", "c7i.xlarge", "m7i.large", "m7i.xlarge"}; err != nil || !reflect.DeepEqual(types, want) {
		t.Errorf("InstanceTypes(x86_64) = %v, %v; want %v", types, err, want)
	}
}

func TestInstanceUnknown(t *testing.T) {
	_, err := Default().InstancePrice("z9.huge")
	if !errors.Is(err, ErrUnknownInstanceType) || !strings.Contains(err.Error(), "--prices") ||
		!strings.Contains(err.Error(), `"z9.huge"`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error = %v", err)
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
	  "ec2_instances": {
	    "c8g.xlarge": {"usd_per_hour": 0.2},
	    "c8g.4xlarge": {"usd_per_hour": 0.638, "vcpus": 16, "memory_gib": 32, "architecture": "aarch64", "source": "AWS", "date": "2026-01"}
	  }
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
	// A price alone keeps the row's size and architecture, and takes the
	// file as its source and the file's date; a new type is taken whole.
	want := map[string]Instance{
		"c8g.xlarge":  {0.2, 4, 8, ArchARM64, "given in my-prices.json", "2026-01-15"},
		"c8g.4xlarge": {0.638, 16, 32, ArchARM64, "AWS", "2026-01"},
		"c7g.xlarge":  d.Instances["c7g.xlarge"],
	}
	for typ, w := range want {
		if got := p.Instances[typ]; got != w {
			t.Errorf("%s = %+v, want %+v", typ, got, w)
		}
	}
	if len(p.Instances) != len(d.Instances)+1 {
		t.Errorf("%d instance types, want %d", len(p.Instances), len(d.Instances)+1)
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
		{"negative instance", `{"ec2_instances": {"c8g.xlarge": {"usd_per_hour": -1}}}`, "ec2_instances.c8g.xlarge: usd_per_hour must be a non-negative number"},
		{"negative legacy instance", `{"ec2_on_demand_usd_per_hour": {"c8g.xlarge": -1}}`, "ec2_on_demand_usd_per_hour.c8g.xlarge must be a non-negative number"},
		{"new type missing fields", `{"ec2_instances": {"z9.huge": {"usd_per_hour": 1, "vcpus": 4}}}`, "ec2_instances.z9.huge: missing memory_gib, architecture"},
		{"new type without a price", `{"ec2_instances": {"z9.huge": {"vcpus": 4, "memory_gib": 8, "architecture": "arm64"}}}`, "ec2_instances.z9.huge: missing usd_per_hour"},
		{"legacy unknown type", `{"ec2_on_demand_usd_per_hour": {"z9.huge": 1}}`, "ec2_on_demand_usd_per_hour.z9.huge: not a built-in instance type: give it under ec2_instances with usd_per_hour, vcpus, memory_gib and architecture"},
		{"legacy and new", `{"ec2_on_demand_usd_per_hour": {"c8g.xlarge": 1}, "ec2_instances": {"c8g.xlarge": {"usd_per_hour": 1}}}`, "also given under ec2_instances"},
		{"instance arch", `{"ec2_instances": {"c8g.xlarge": {"architecture": "riscv64"}}}`, `ec2_instances.c8g.xlarge: unknown architecture "riscv64"`},
		{"instance date", `{"ec2_instances": {"c8g.xlarge": {"date": "June 2026"}}}`, `ec2_instances.c8g.xlarge: date "June 2026": want YYYY-MM or YYYY-MM-DD`},
		{"zero vcpus", `{"ec2_instances": {"c8g.xlarge": {"vcpus": 0}}}`, "ec2_instances.c8g.xlarge: missing vcpus"},
		{"negative memory", `{"ec2_instances": {"c8g.xlarge": {"memory_gib": -8}}}`, "ec2_instances.c8g.xlarge: memory_gib must be a positive number"},
		{"instance unknown field", `{"ec2_instances": {"c8g.xlarge": {"price": 1}}}`, `unknown field "price"`},
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

// TestParseLegacyInstancePrices: ec2_on_demand_usd_per_hour, the price-only
// map of older tables, still overrides the price of a built-in type.
func TestParseLegacyInstancePrices(t *testing.T) {
	p, err := Parse(strings.NewReader(`{"date": "2026-03-01", "ec2_on_demand_usd_per_hour": {"c8g.xlarge": 0.1595, "c7g.xlarge": 0.145}}`), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	d := Default().Instances
	if got, want := p.Instances["c8g.xlarge"], (Instance{0.1595, 4, 8, ArchARM64, "ec2_on_demand_usd_per_hour in old.json", "2026-03-01"}); got != want {
		t.Errorf("c8g.xlarge = %+v, want %+v", got, want)
	}
	// The built-in price again: the built-in row, source and date unchanged.
	if got := p.Instances["c7g.xlarge"]; got != d["c7g.xlarge"] {
		t.Errorf("c7g.xlarge = %+v, want %+v", got, d["c7g.xlarge"])
	}
}

// TestUnmarshalEmbedded: a table embedded in a summary.json decodes back to
// itself, and an older summary's ec2_on_demand_usd_per_hour still prices
// its instance types (a type the built-in table lacks gets its price only).
func TestUnmarshalEmbedded(t *testing.T) {
	type summary struct {
		Prices *PriceTable `json:"prices"`
	}
	b, err := json.Marshal(summary{Prices: new(Default())})
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*s.Prices, Default()) {
		t.Errorf("embedded round trip changed the table:\n%+v", *s.Prices)
	}

	old := `{"prices": {"region": "us-east-1", "date": "2025-12", "source": "old", "usd_per_million_requests": 0.2,
	  "gb_second_tiers": {"arm64": [{"usd_per_gb_second": 0.0000133334}], "x86_64": [{"usd_per_gb_second": 0.0000166667}]},
	  "lmi_management_fee": 0.15, "ec2_on_demand_usd_per_hour": {"c8g.xlarge": 0.15952, "c8g.4xlarge": 0.638}}}`
	s = summary{}
	if err := json.Unmarshal([]byte(old), &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Prices.Instances["c8g.xlarge"]; got != Default().Instances["c8g.xlarge"] {
		t.Errorf("c8g.xlarge = %+v", got)
	}
	if p, err := s.Prices.InstancePrice("c8g.4xlarge"); err != nil || p != 0.638 {
		t.Errorf("c8g.4xlarge = %v, %v", p, err)
	}
	if len(s.Prices.Instances) != 2 {
		t.Errorf("instances = %v", s.Prices.Instances)
	}
	if err := s.Prices.Validate(); err == nil || !strings.Contains(err.Error(), "ec2_instances.c8g.4xlarge: missing vcpus, memory_gib, architecture") {
		t.Errorf("Validate = %v", err)
	}
	if _, err := s.Prices.EnvironmentsPerInstance("c8g.4xlarge", LMIEnvironment{2048, 2}); err == nil || !strings.Contains(err.Error(), "--prices") {
		t.Errorf("a price-only row should not size environments: %v", err)
	}
}
