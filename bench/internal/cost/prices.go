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
	"time"
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
	// Date is when the Lambda prices were read (YYYY-MM-DD or YYYY-MM);
	// each instance row has its own date.
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
	// Instances are the EC2 instance types an LMI capacity provider may
	// run, keyed by type ("c8g.xlarge"): price, size, architecture and
	// where the price comes from.
	Instances map[string]Instance `json:"ec2_instances"`
}

// Instance is one EC2 instance type of the price table.
type Instance struct {
	// USDPerHour is the on-demand Linux price in USD per hour in the
	// table's region.
	USDPerHour float64 `json:"usd_per_hour"`
	// VCPUs is the instance's vCPU count (large 2, xlarge 4, 2xlarge 8).
	VCPUs int `json:"vcpus"`
	// MemoryGiB is the instance's memory in GiB.
	MemoryGiB float64 `json:"memory_gib"`
	// Architecture is "arm64" or "x86_64".
	Architecture string `json:"architecture"`
	// Source says where USDPerHour comes from.
	Source string `json:"source"`
	// Date is when USDPerHour was read (YYYY-MM or YYYY-MM-DD); empty when
	// not known.
	Date string `json:"date"`
}

// Sources of the built-in instance prices.
const (
	ec2PublicTables     = "us-east-1 on-demand Linux price as public price tables quote the AWS Price List; not read from AWS by this tool"
	ec2PublicTablesDate = "2025-12"
)

// Default returns the built-in us-east-1 price table. Each call returns a
// fresh copy that the caller may modify.
func Default() PriceTable {
	public := func(usdPerHour float64, vcpus int, gibPerVCPU float64, arch string) Instance {
		return Instance{USDPerHour: usdPerHour, VCPUs: vcpus, MemoryGiB: float64(vcpus) * gibPerVCPU, Architecture: arch,
			Source: ec2PublicTables, Date: ec2PublicTablesDate}
	}
	// c families have 2 GiB per vCPU, m families 4.
	return PriceTable{
		Region: "us-east-1",
		Date:   "2025-12",
		Source: "Lambda request price, GB-second tiers and LMI fee: AWS Lambda pricing page, us-east-1, " +
			"as of 2025-12. EC2 on-demand prices: each instance type gives its source and date (c8g.xlarge " +
			"$0.15952, from public price tables); check them before relying on them",
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
		Instances: map[string]Instance{
			// Graviton4 (arm64)
			"c8g.large":   public(0.07976, 2, 2, ArchARM64),
			"c8g.xlarge":  public(0.15952, 4, 2, ArchARM64),
			"c8g.2xlarge": public(0.31904, 8, 2, ArchARM64),
			"m8g.large":   public(0.08976, 2, 4, ArchARM64),
			"m8g.xlarge":  public(0.17952, 4, 4, ArchARM64),
			// Graviton3 (arm64)
			"c7g.large":   public(0.0725, 2, 2, ArchARM64),
			"c7g.xlarge":  public(0.145, 4, 2, ArchARM64),
			"c7g.2xlarge": public(0.29, 8, 2, ArchARM64),
			"m7g.large": {USDPerHour: 0.0816, VCPUs: 2, MemoryGiB: 8, Architecture: ArchARM64,
				Source: "AWS EC2 on-demand pricing, us-east-1, Linux", Date: "2026-06"},
			"m7g.xlarge": {USDPerHour: 0.1632, VCPUs: 4, MemoryGiB: 16, Architecture: ArchARM64,
				Source: "twice m7g.large's AWS price (AWS, 2026-06): on-demand prices double with each size of a family", Date: "2026-06"},
			// Intel Sapphire Rapids (x86_64)
			"c7i.large":   public(0.08925, 2, 2, ArchX86_64),
			"c7i.xlarge":  public(0.1785, 4, 2, ArchX86_64),
			"c7i.2xlarge": public(0.357, 8, 2, ArchX86_64),
			"m7i.large":   public(0.1008, 2, 4, ArchX86_64),
			"m7i.xlarge":  public(0.2016, 4, 4, ArchX86_64),
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
// non-finite prices, unknown architectures, missing or unsorted tiers,
// instance types without vcpus, memory_gib or architecture, and instance
// dates not in YYYY-MM or YYYY-MM-DD form.
func (t PriceTable) Validate() error {
	if err := errors.Join(t.problems()...); err != nil {
		return fmt.Errorf("invalid price table: %w", err)
	}
	return nil
}

func (t PriceTable) problems() []error {
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
	for _, typ := range slices.Sorted(maps.Keys(t.Instances)) {
		in := t.Instances[typ]
		if strings.TrimSpace(typ) == "" {
			bad("ec2_instances: empty instance type")
			continue
		}
		if !validPrice(in.USDPerHour) {
			bad("ec2_instances.%s: usd_per_hour must be a non-negative number, got %v", typ, in.USDPerHour)
		}
		var missing []string
		switch {
		case in.VCPUs == 0:
			missing = append(missing, "vcpus")
		case in.VCPUs < 0:
			bad("ec2_instances.%s: vcpus must be positive, got %d", typ, in.VCPUs)
		}
		switch {
		case in.MemoryGiB == 0:
			missing = append(missing, "memory_gib")
		case !(in.MemoryGiB > 0) || math.IsInf(in.MemoryGiB, 0):
			bad("ec2_instances.%s: memory_gib must be a positive number, got %v", typ, in.MemoryGiB)
		}
		switch in.Architecture {
		case "":
			missing = append(missing, "architecture")
		case ArchARM64, ArchX86_64:
		default:
			bad("ec2_instances.%s: unknown architecture %q (want %q or %q)", typ, in.Architecture, ArchARM64, ArchX86_64)
		}
		if len(missing) > 0 {
			bad("ec2_instances.%s: missing %s (an instance type needs usd_per_hour, vcpus, memory_gib and architecture)", typ, strings.Join(missing, ", "))
		}
		if in.Date != "" && !validDate(in.Date) {
			bad("ec2_instances.%s: date %q: want YYYY-MM or YYYY-MM-DD", typ, in.Date)
		}
	}
	return errs
}

// validDate reports whether s is a YYYY-MM or YYYY-MM-DD date.
func validDate(s string) bool {
	for _, layout := range []string{"2006-01", "2006-01-02"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

func validPrice(p float64) bool { return p >= 0 && !math.IsInf(p, 0) }

// Load reads a JSON price table from path over the defaults: every field
// the file gives replaces the default; within gb_second_tiers each
// architecture given replaces that architecture's tiers, and within
// ec2_instances each type given replaces the fields it gives of that row
// (a new type needs usd_per_hour, vcpus, memory_gib and architecture); the
// other defaults stay. A row whose price the file gives without a source
// or date gets "given in FILE" and the file's date. The price-only
// ec2_on_demand_usd_per_hour map of older tables is still read: it sets
// the price of built-in types only. Unknown fields are an error, and the
// result is validated.
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
// JSON does not set its own, and into the source of instance rows whose
// price it gives without one.
func Parse(r io.Reader, name string) (PriceTable, error) {
	def := Default()
	f := tableFile{plainTable: plainTable(def)}
	f.Source, f.Date = "", "" // to tell whether the file gives them
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return PriceTable{}, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return PriceTable{}, errors.New("decode: unexpected data after the JSON object")
	}
	t, errs := f.merge(name, true)
	if t.Source == "" {
		t.Source = fmt.Sprintf("defaults (%s) with overrides from %s", def.Source, name)
	}
	if t.Date == "" {
		t.Date = def.Date
	}
	if err := errors.Join(append(errs, t.problems()...)...); err != nil {
		return PriceTable{}, fmt.Errorf("invalid price table: %w", err)
	}
	return t, nil
}

// UnmarshalJSON reads a price table over t as Parse reads one over the
// defaults, but without validating it or rejecting unknown fields, for the
// summary.json files that embed a table. It still reads the
// ec2_on_demand_usd_per_hour map of older files: a built-in type gets its
// built-in row with that price, an unknown type a row with the price
// alone (enough for InstancePrice, not for the capacity math; Validate
// reports it).
func (t *PriceTable) UnmarshalJSON(b []byte) error {
	f := tableFile{plainTable: plainTable(*t)}
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*t, _ = f.merge("the JSON price table", false)
	return nil
}

// plainTable is PriceTable without its methods, so that decoding it does
// not call UnmarshalJSON.
type plainTable PriceTable

// tableFile is a price table as JSON gives it: instance rows may give only
// some of their fields, and ec2_on_demand_usd_per_hour is the price-only
// instance map of older tables. Its Instances hide plainTable's.
type tableFile struct {
	plainTable
	Instances    map[string]instanceFields `json:"ec2_instances"`
	LegacyHourly map[string]float64        `json:"ec2_on_demand_usd_per_hour"`
}

// instanceFields is an instance row as JSON gives it: nil is a field left
// out.
type instanceFields struct {
	USDPerHour   *float64 `json:"usd_per_hour"`
	VCPUs        *int     `json:"vcpus"`
	MemoryGiB    *float64 `json:"memory_gib"`
	Architecture *string  `json:"architecture"`
	Source       *string  `json:"source"`
	Date         *string  `json:"date"`
}

// merge lays the instance rows of f over the rows f's table already has
// and returns the table. origin names the JSON for the source of the rows
// whose price it gives without one. strict (Parse) reports a new type
// missing a field, a bad architecture and an ec2_on_demand_usd_per_hour
// entry that is not a built-in type or is also under ec2_instances, and
// leaves those entries out; otherwise (UnmarshalJSON) they are kept as
// given.
func (f tableFile) merge(origin string, strict bool) (PriceTable, []error) {
	var errs []error
	t := PriceTable(f.plainTable)
	rows := maps.Clone(t.Instances)
	if rows == nil && (len(f.Instances) > 0 || len(f.LegacyHourly) > 0) {
		rows = map[string]Instance{}
	}
	for _, typ := range slices.Sorted(maps.Keys(f.Instances)) {
		in := f.Instances[typ]
		row, known := rows[typ]
		if !known && strict {
			var missing []string
			for _, m := range []struct {
				given bool
				name  string
			}{{in.USDPerHour != nil, "usd_per_hour"}, {in.VCPUs != nil, "vcpus"}, {in.MemoryGiB != nil, "memory_gib"}, {in.Architecture != nil, "architecture"}} {
				if !m.given {
					missing = append(missing, m.name)
				}
			}
			if len(missing) > 0 {
				errs = append(errs, fmt.Errorf("ec2_instances.%s: missing %s (a type not in the built-in table needs usd_per_hour, vcpus, memory_gib and architecture)",
					typ, strings.Join(missing, ", ")))
				continue
			}
		}
		if in.USDPerHour != nil {
			row.USDPerHour = *in.USDPerHour
			row.Source, row.Date = "given in "+origin, t.Date
		}
		if in.VCPUs != nil {
			row.VCPUs = *in.VCPUs
		}
		if in.MemoryGiB != nil {
			row.MemoryGiB = *in.MemoryGiB
		}
		if in.Architecture != nil {
			row.Architecture = *in.Architecture
			if a, err := NormalizeArch(*in.Architecture); err == nil {
				row.Architecture = a
			} else if strict {
				errs = append(errs, fmt.Errorf("ec2_instances.%s: %w", typ, err))
				continue
			}
		}
		if in.Source != nil {
			row.Source = *in.Source
		}
		if in.Date != nil {
			row.Date = *in.Date
		}
		rows[typ] = row
	}
	builtin := Default().Instances
	for _, typ := range slices.Sorted(maps.Keys(f.LegacyHourly)) {
		price := f.LegacyHourly[typ]
		if _, both := f.Instances[typ]; both {
			if strict {
				errs = append(errs, fmt.Errorf("ec2_on_demand_usd_per_hour.%s: also given under ec2_instances; give it there only", typ))
			}
			continue
		}
		row, known := rows[typ]
		if !known {
			row, known = builtin[typ]
		}
		switch {
		case strict && !known:
			errs = append(errs, fmt.Errorf("ec2_on_demand_usd_per_hour.%s: not a built-in instance type: give it under ec2_instances with usd_per_hour, vcpus, memory_gib and architecture", typ))
			continue
		case strict && !validPrice(price):
			errs = append(errs, fmt.Errorf("ec2_on_demand_usd_per_hour.%s must be a non-negative number, got %v", typ, price))
			continue
		}
		if !known || row.USDPerHour != price {
			row.USDPerHour = price
			row.Source, row.Date = "ec2_on_demand_usd_per_hour in "+origin, t.Date
		}
		rows[typ] = row
	}
	t.Instances = rows
	return t, errs
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

// ErrUnknownInstanceType is wrapped by the errors about an instance type
// the price table does not have.
var ErrUnknownInstanceType = errors.New("instance type not in the price table")

// Instance returns the row of instanceType. A type the table does not have
// is an error wrapping ErrUnknownInstanceType that says how to add it with
// --prices.
func (t PriceTable) Instance(instanceType string) (Instance, error) {
	in, ok := t.Instances[instanceType]
	if !ok {
		return Instance{}, fmt.Errorf("%w: %q (known: %s); add it under ec2_instances, with usd_per_hour, vcpus, memory_gib and architecture, in a --prices file (see matrix --print-prices)",
			ErrUnknownInstanceType, instanceType, strings.Join(slices.Sorted(maps.Keys(t.Instances)), ", "))
	}
	return in, nil
}

// InstancePrice is the on-demand hourly price of an EC2 instance type; an
// unknown type is an error as Instance gives.
func (t PriceTable) InstancePrice(instanceType string) (float64, error) {
	in, err := t.Instance(instanceType)
	if err != nil {
		return 0, err
	}
	return in.USDPerHour, nil
}

// InstanceTypes returns the instance types of the table of arch (any
// spelling NormalizeArch reads), sorted by name.
func (t PriceTable) InstanceTypes(arch string) ([]string, error) {
	a, err := NormalizeArch(arch)
	if err != nil {
		return nil, err
	}
	var types []string
	for _, typ := range slices.Sorted(maps.Keys(t.Instances)) {
		if t.Instances[typ].Architecture == a {
			types = append(types, typ)
		}
	}
	return types, nil
}
