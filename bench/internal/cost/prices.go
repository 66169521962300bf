// Package cost prices AWS Lambda invocations (standard Lambda and Lambda
// Managed Instances) from an overridable price table, and picks a
// configuration from measured candidates the way AWS Lambda Power Tuning
// does (cost, speed or balanced).
package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
)

// The architectures Lambda bills separately, as the Lambda API spells them.
const (
	ArchARM64  = "arm64"
	ArchX86_64 = "x86_64"
)

// Tier is one step of the monthly GB-second price ladder of an architecture.
type Tier struct {
	// UpToGBSeconds is the cumulative monthly GB-seconds (per account, region
	// and architecture) up to which Price applies. The last tier has no upper
	// limit and leaves it out (0).
	UpToGBSeconds float64 `json:"up_to_gb_seconds,omitempty"`
	// Price is the price of one GB-second in USD within this tier.
	Price float64 `json:"usd_per_gb_second"`
}

// PriceTable holds every price the cost calculations use. It is plain JSON
// so that users can dump the defaults, edit them and pass them back.
type PriceTable struct {
	// Region is the AWS region the prices apply to, e.g. "us-east-1".
	Region string `json:"region"`
	// Date is when the prices were read (YYYY-MM-DD or YYYY-MM).
	Date string `json:"date"`
	// Source says where the figures come from.
	Source string `json:"source"`
	// RequestPerMillion is the Lambda request charge in USD per million
	// requests (the same for standard Lambda and LMI).
	RequestPerMillion float64 `json:"usd_per_million_requests"`
	// GBSecond is the monthly GB-second price ladder per architecture
	// ("arm64", "x86_64"), tiers sorted by UpToGBSeconds.
	GBSecond map[string][]Tier `json:"gb_second_tiers"`
	// LMIManagementFee is the Lambda Managed Instances management fee as a
	// fraction of the EC2 on-demand price (0.15 = 15%).
	LMIManagementFee float64 `json:"lmi_management_fee"`
	// InstanceHourly is the EC2 on-demand Linux price in USD per hour of the
	// instance types an LMI capacity provider may run, keyed by type.
	InstanceHourly map[string]float64 `json:"ec2_on_demand_usd_per_hour"`
}

// Default returns the built-in us-east-1 price table. Each call returns a
// fresh copy that the caller may modify.
func Default() PriceTable {
	return PriceTable{
		Region: "us-east-1",
		Date:   "2025-12",
		Source: "Lambda request price, GB-second tiers and LMI fee: AWS Lambda pricing page, us-east-1, " +
			"as of 2025-12. EC2: us-east-1 on-demand Linux hourly rates as quoted from the AWS Price List " +
			"by several public price tables (c8g.xlarge $0.15952); not read from AWS by this tool: check " +
			"them before relying on them",
		RequestPerMillion: 0.20,
		GBSecond: map[string][]Tier{
			ArchX86_64: {
				{UpToGBSeconds: 6e9, Price: 0.0000166667},
				{UpToGBSeconds: 15e9, Price: 0.000015},
				{Price: 0.0000133334},
			},
			ArchARM64: {
				{UpToGBSeconds: 7.5e9, Price: 0.0000133334},
				{UpToGBSeconds: 18.75e9, Price: 0.0000120001},
				{Price: 0.0000106667},
			},
		},
		LMIManagementFee: 0.15,
		InstanceHourly: map[string]float64{
			// Graviton4 (arm64)
			"c8g.large":   0.07976,
			"c8g.xlarge":  0.15952,
			"c8g.2xlarge": 0.31904,
			"m8g.large":   0.08976,
			"m8g.xlarge":  0.17952,
			// Graviton3 (arm64)
			"c7g.large":   0.0725,
			"c7g.xlarge":  0.145,
			"c7g.2xlarge": 0.29,
			"m7g.large":   0.0816,
			"m7g.xlarge":  0.1632,
			// Intel Sapphire Rapids (x86_64)
			"c7i.large":   0.08925,
			"c7i.xlarge":  0.1785,
			"c7i.2xlarge": 0.357,
			"m7i.large":   0.1008,
			"m7i.xlarge":  0.2016,
		},
	}
}

// NormalizeArch maps the spellings of an architecture used around Lambda
// (arm64, aarch64, x86_64, x86, amd64; any case) to "arm64" or "x86_64".
func NormalizeArch(arch string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(arch)) {
	case "arm64", "aarch64", "arm":
		return ArchARM64, nil
	case "x86_64", "x86", "amd64", "x8664", "x86-64":
		return ArchX86_64, nil
	}
	return "", fmt.Errorf("unknown architecture %q (want arm64 or x86_64)", arch)
}

// Validate reports every problem of the table at once: negative or
// non-finite prices, unknown architectures, missing or unsorted tiers.
func (t PriceTable) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !validPrice(t.RequestPerMillion) {
		bad("usd_per_million_requests must be a non-negative number, got %v", t.RequestPerMillion)
	}
	if !validPrice(t.LMIManagementFee) {
		bad("lmi_management_fee must be a non-negative fraction (0.15 = 15%%), got %v", t.LMIManagementFee)
	}
	for _, arch := range slices.Sorted(maps.Keys(t.GBSecond)) {
		if arch != ArchARM64 && arch != ArchX86_64 {
			bad("gb_second_tiers: unknown architecture %q (want %q or %q)", arch, ArchARM64, ArchX86_64)
			continue
		}
		tiers := t.GBSecond[arch]
		if len(tiers) == 0 {
			bad("gb_second_tiers.%s: no tiers", arch)
			continue
		}
		for i, tier := range tiers {
			if !validPrice(tier.Price) {
				bad("gb_second_tiers.%s[%d]: usd_per_gb_second must be a non-negative number, got %v", arch, i, tier.Price)
			}
			last := i == len(tiers)-1
			switch {
			case last && tier.UpToGBSeconds != 0:
				bad("gb_second_tiers.%s[%d]: the last tier has no upper limit; leave out up_to_gb_seconds (got %v)", arch, i, tier.UpToGBSeconds)
			case !last && (!(tier.UpToGBSeconds > 0) || math.IsInf(tier.UpToGBSeconds, 0)):
				bad("gb_second_tiers.%s[%d]: up_to_gb_seconds must be a positive number on every tier but the last, got %v", arch, i, tier.UpToGBSeconds)
			case !last && i > 0 && tier.UpToGBSeconds <= tiers[i-1].UpToGBSeconds:
				bad("gb_second_tiers.%s[%d]: tiers must be sorted ascending: up_to_gb_seconds %v is not above %v", arch, i, tier.UpToGBSeconds, tiers[i-1].UpToGBSeconds)
			}
		}
	}
	for _, arch := range []string{ArchARM64, ArchX86_64} {
		if _, ok := t.GBSecond[arch]; !ok {
			bad("gb_second_tiers: missing architecture %q", arch)
		}
	}
	for _, typ := range slices.Sorted(maps.Keys(t.InstanceHourly)) {
		if strings.TrimSpace(typ) == "" {
			bad("ec2_on_demand_usd_per_hour: empty instance type")
		}
		if p := t.InstanceHourly[typ]; !validPrice(p) {
			bad("ec2_on_demand_usd_per_hour.%s must be a non-negative number, got %v", typ, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid price table: %w", err)
	}
	return nil
}

func validPrice(p float64) bool { return p >= 0 && !math.IsInf(p, 0) }

// Load reads a JSON price table from path over the defaults: every field
// the file gives replaces the default; within the two maps
// (gb_second_tiers, ec2_on_demand_usd_per_hour) each key given replaces or
// adds that one entry and the other defaults stay. Unknown fields are an
// error, and the result is validated.
func Load(path string) (PriceTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return PriceTable{}, fmt.Errorf("load prices: %w", err)
	}
	defer f.Close()
	t, err := Parse(f, path)
	if err != nil {
		return PriceTable{}, fmt.Errorf("load prices %s: %w", path, err)
	}
	return t, nil
}

// Parse reads a JSON price table from r over the defaults, as Load does.
// name says where the overrides came from; it goes into Source when the
// JSON does not set its own.
func Parse(r io.Reader, name string) (PriceTable, error) {
	t := Default()
	defaultSource := t.Source
	t.Source = ""
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return PriceTable{}, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return PriceTable{}, errors.New("decode: unexpected data after the JSON object")
	}
	if t.Source == "" {
		t.Source = fmt.Sprintf("defaults (%s) with overrides from %s", defaultSource, name)
	}
	if err := t.Validate(); err != nil {
		return PriceTable{}, err
	}
	return t, nil
}

// WriteJSON writes the table as indented JSON, the format Load reads: dump
// the defaults with it, edit, and pass the file back.
func (t PriceTable) WriteJSON(w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return fmt.Errorf("encode prices: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write prices: %w", err)
	}
	return nil
}

// GBSecondPrice is the first-tier GB-second price of arch, the price a
// single benchmark run is charged at.
func (t PriceTable) GBSecondPrice(arch string) (float64, error) {
	tiers, err := t.tiers(arch)
	if err != nil {
		return 0, err
	}
	return tiers[0].Price, nil
}

func (t PriceTable) tiers(arch string) ([]Tier, error) {
	a, err := NormalizeArch(arch)
	if err != nil {
		return nil, err
	}
	tiers := t.GBSecond[a]
	if len(tiers) == 0 {
		return nil, fmt.Errorf("no GB-second prices for %s in the price table", a)
	}
	return tiers, nil
}

// InstancePrice is the on-demand hourly price of an EC2 instance type.
func (t PriceTable) InstancePrice(instanceType string) (float64, error) {
	p, ok := t.InstanceHourly[instanceType]
	if !ok {
		return 0, fmt.Errorf("no on-demand price for instance type %q (known: %s; add it to the price table)",
			instanceType, strings.Join(slices.Sorted(maps.Keys(t.InstanceHourly)), ", "))
	}
	return p, nil
}
