package charts

// Kinds of chart of an LMI tune (bench tune --lmi).
const (
	KindTuneLMILatency = "tune-lmi-latency"
	KindTuneLMICost    = "tune-lmi-cost"
)

// TuneLMILatency draws the latency of successful requests (p50 and p99)
// against the offered load, one colour per configuration, with each
// configuration's knee and the p99 objectives marked, at path.
func TuneLMILatency(path, title string, c LMILatency) error {
	return draw(Request{Kind: KindTuneLMILatency, Path: path, Title: title, LMILatency: &c})
}

// TuneLMICost draws the cost per hour against the request rate for each
// LMI configuration and for standard Lambda, with the break-even marked,
// at path.
func TuneLMICost(path, title string, c LMICost) error {
	return draw(Request{Kind: KindTuneLMICost, Path: path, Title: title, LMICost: &c})
}

// LMILatency is what the latency chart of an LMI tune shows.
type LMILatency struct {
	// OfferedUnit names the x axis' unit: "virtual users" (closed model)
	// or "requests per second" (open model).
	OfferedUnit string
	// Configs are the configurations in the tune's order: configuration i
	// is drawn in colour i, also when it has no point, so that the colours
	// match the cost chart's.
	Configs []LMIConfig
	// SLOs are the p99 objectives, drawn as horizontal lines.
	SLOs []LMISLO
}

// LMIConfig is one configuration's ramp.
type LMIConfig struct {
	Label string
	// Points are its steps with successful requests, in ramp order.
	Points []LMIPoint
	// KneeLabel is written beside the knee (the point with Knee set),
	// e.g. "knee 41.2 req/s/env".
	KneeLabel string
}

// LMIPoint is one step of a ramp.
type LMIPoint struct {
	// Offered is the load offered: virtual users or requests per second.
	Offered float64
	// P50 and P99 are the latency of the step's successful requests (ms).
	P50, P99 float64
	// Held says whether the step met every objective; Knee marks the knee.
	Held bool
	Knee bool
}

// LMISLO is a latency objective on p99: a horizontal line at Ms.
type LMISLO struct {
	Label string
	Ms    float64
}

// LMICost is what the cost chart of an LMI tune shows.
type LMICost struct {
	// Series are the LMI configurations in the tune's order (series i in
	// colour i, as in the latency chart; a series without points is not
	// drawn).
	Series []LMICostSeries
	// Standard is standard Lambda's cost at each rate (none: no standard
	// figure).
	Standard []LMICostPoint
	// BreakEvenRPS, when positive, is drawn as a vertical line labelled
	// BreakEvenLabel.
	BreakEvenRPS   float64
	BreakEvenLabel string
	// Note is added to the title, e.g. why there is no break-even.
	Note string
}

// LMICostSeries is one LMI configuration's cost at the rates priced.
type LMICostSeries struct {
	Label  string
	Points []LMICostPoint
}

// LMICostPoint is a cost per hour at one request rate.
type LMICostPoint struct {
	RPS        float64
	USDPerHour float64
}
