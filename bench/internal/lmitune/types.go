// Package lmitune tunes a function on Lambda Managed Instances (LMI): for
// every configuration of memory × GiB per vCPU × invocations per execution
// environment it publishes a version pinned to a known number of
// environments, steps the load up through the Invoke API until a service
// level objective breaks, and records the highest throughput per
// environment that held it (the knee). From the knees it prices traffic
// levels on LMI (EC2 instances + the management fee + requests) and on
// standard Lambda (GB-seconds + requests), and finds the break-even rate
// above which LMI is cheaper.
package lmitune

import (
	"fmt"
	"time"

	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/stats"
)

// Kind is the "kind" of an LMI tune's summary.json.
const Kind = "tune-lmi"

// Config is one LMI configuration of a sweep.
type Config struct {
	MemoryMB          int     `json:"memory_mb"`
	GiBPerVCPU        float64 `json:"gib_per_vcpu"`
	PerEnvConcurrency int     `json:"per_env_concurrency"`
}

// VCPUs is what one execution environment of c gets: memory ÷ ratio.
func (c Config) VCPUs() float64 { return float64(c.MemoryMB) / 1024 / c.GiBPerVCPU }

// Label names the configuration in tables, samples and charts:
// "2048MB-2GiB/vCPU-c16".
func (c Config) Label() string {
	return fmt.Sprintf("%dMB-%gGiB/vCPU-c%d", c.MemoryMB, c.GiBPerVCPU, c.PerEnvConcurrency)
}

// Step is one level of a configuration's ramp, as measured.
type Step struct {
	Step int `json:"step"`
	// Offered is the load offered: virtual users (closed model) or
	// requests per second (open model).
	Offered   float64 `json:"offered"`
	DurationS float64 `json:"duration_s"`
	// Throughput is the requests answered per second of the step
	// (every answer, failed ones included); Goodput the successful ones.
	Throughput float64 `json:"throughput_rps"`
	Goodput    float64 `json:"goodput_rps"`
	Requests   int64   `json:"requests"`
	OK         int64   `json:"ok"`
	// Errors by class, as load counts them.
	Status429      int64 `json:"status_429"`
	Status4xx      int64 `json:"status_4xx"`
	Status5xx      int64 `json:"status_5xx"`
	FunctionErrors int64 `json:"function_errors"`
	NetworkErrors  int64 `json:"network_errors"`
	Dropped        int64 `json:"dropped"`
	// ErrorRate is failed or dropped ÷ attempted, 0–1.
	ErrorRate float64 `json:"error_rate"`
	// Latency is of the successful requests only (nearest rank).
	Latency stats.Summary `json:"latency_ms"`
	// Environments is how many execution environments served the step
	// (-1: unknown).
	Environments int `json:"environments"`
	// EnvCPU is the CPU the version's environments used, in vCPUs (mean
	// over the step; -1: not measured, as on AWS).
	EnvCPU float64 `json:"env_cpu_vcpus"`
	// Host is how busy this machine was (local target only).
	Host *hostload.Saturation `json:"host,omitempty"`
	// Held says whether the step met every objective; Broke says which
	// did not ("" when it held).
	Held  bool   `json:"held"`
	Broke string `json:"broke,omitempty"`
}

// HostBound reports whether this machine's CPU was saturated during the
// step, so that its figures may be the machine's rather than the function's.
func (s Step) HostBound() bool { return s.Host != nil && s.Host.HostCPUSaturated }

// Result is one configuration's outcome.
type Result struct {
	Config
	Label   string `json:"label"`
	Version string `json:"version,omitempty"`
	// Environments is how many execution environments it was pinned to.
	Environments int `json:"environments"`
	// VCPUsPerEnv is what one environment gets; HostLimit says when this
	// machine has fewer cores than the configuration's environments need
	// (so they shared fewer: measured, and labelled).
	VCPUsPerEnv float64 `json:"vcpus_per_env"`
	HostLimit   string  `json:"host_limit,omitempty"`
	// Status is "ok", "no step held" or what stopped it.
	Status string `json:"status"`
	// KneeStep is the step of the knee (0: none held); the knee is its
	// goodput per environment and per vCPU.
	KneeStep       int     `json:"knee_step"`
	KneeRPSPerEnv  float64 `json:"knee_rps_per_env"`
	KneeRPSPerVCPU float64 `json:"knee_rps_per_vcpu"`
	KneeP99        float64 `json:"knee_p99_ms,omitempty"`
	Steps          []Step  `json:"steps"`
}

// Held reports whether any step held the objectives.
func (r Result) Held() bool { return r.KneeStep > 0 }

// Standard is the standard Lambda configuration LMI is priced against.
type Standard struct {
	MemoryMB int    `json:"memory_mb"`
	Arch     string `json:"architecture"`
	// DurationMs is the mean billed duration of a warm invocation.
	DurationMs float64 `json:"billed_duration_ms"`
	N          int     `json:"n"`
	// Source says where it comes from: "measured in this run (local
	// Lambda)" or "tune results in DIR".
	Source string `json:"source"`
}

// ConfigCost is one configuration's cost at one traffic level.
type ConfigCost struct {
	Label        string  `json:"label"`
	Environments int     `json:"environments"`
	VCPUs        float64 `json:"vcpus"`
	InstanceType string  `json:"instance_type"`
	Instances    int     `json:"instances"`
	InstanceUSD  float64 `json:"instance_usd_per_hour"`
	FeeUSD       float64 `json:"management_fee_usd_per_hour"`
	RequestUSD   float64 `json:"request_usd_per_hour"`
	USDPerHour   float64 `json:"usd_per_hour"`
	// Note says why there is no figure ("" when there is one).
	Note string `json:"note,omitempty"`
}

// RateCost is the cost of one traffic level on every configuration and
// on standard Lambda.
type RateCost struct {
	RPS float64      `json:"rps"`
	LMI []ConfigCost `json:"lmi"`
	// Cheapest is the label of the cheapest LMI configuration.
	Cheapest string `json:"cheapest_lmi,omitempty"`
	// StandardUSDPerHour and StandardConcurrency price the same traffic
	// on standard Lambda (nil without a standard figure).
	StandardUSDPerHour  *float64 `json:"standard_usd_per_hour,omitempty"`
	StandardConcurrency float64  `json:"standard_concurrency,omitempty"`
}

// Meta describes the run.
type Meta struct {
	Function     string     `json:"function"`
	Target       string     `json:"target"`
	Started      time.Time  `json:"started"`
	Finished     time.Time  `json:"finished"`
	Model        load.Model `json:"model"`
	StepS        float64    `json:"step_s"`
	SLO          []string   `json:"slo"`
	MaxErrorRate float64    `json:"max_error_rate"`
	Environments int        `json:"environments"`
	Arch         string     `json:"architecture"`
	CapacityProv string     `json:"capacity_provider,omitempty"`
	InstanceType string     `json:"instance_type"`
	// AllowedTypes are the instance types the costs may choose from
	// (--instance-type, or the capacity provider's; empty: any of Arch).
	AllowedTypes []string          `json:"allowed_instance_types,omitempty"`
	InstanceNote string            `json:"instance_type_note,omitempty"`
	Prices       string            `json:"prices"`
	HostCores    int               `json:"host_cores,omitempty"`
	Confinement  string            `json:"confinement,omitempty"`
	CPUPeriod    string            `json:"cpu_period,omitempty"`
	Payload      string            `json:"payload"`
	Notes        []string          `json:"notes,omitempty"`
	Interrupted  bool              `json:"interrupted,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

func (m Meta) allowed() []string { return m.AllowedTypes }

// Summary is an LMI tune's summary.json.
type Summary struct {
	Kind     string     `json:"kind"`
	Meta     Meta       `json:"meta"`
	Results  []Result   `json:"configurations"`
	Standard *Standard  `json:"standard,omitempty"`
	Rates    []RateCost `json:"rates"`
	// BreakEvenRPS is the lowest rate from which the cheapest LMI
	// configuration costs no more than standard Lambda, up to the
	// highest rate asked (nil: never within the rates asked, or no
	// standard figure); BreakEven says it in words.
	BreakEvenRPS    *float64 `json:"break_even_rps"`
	BreakEvenConfig string   `json:"break_even_config,omitempty"`
	BreakEven       string   `json:"break_even"`
}
