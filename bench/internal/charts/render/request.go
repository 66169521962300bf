package render

import (
	"fmt"

	"lambdabench/bench/internal/charts"
)

func init() { charts.SetRenderer(Draw) }

// Draw draws the chart req asks for.
func Draw(req charts.Request) error {
	switch req.Kind {
	case charts.KindLoadPanel:
		if req.Load == nil {
			return fmt.Errorf("%s chart %s: no scenario", req.Kind, req.Path)
		}
		return LoadPanel(req.Path, *req.Load)
	case charts.KindConcurrency:
		return Concurrency(req.Path, req.Title, req.Series)
	case charts.KindMatrixDurations:
		return MatrixDurations(req.Path, req.Rows)
	case charts.KindMatrixSpeedup:
		return MatrixSpeedup(req.Path, req.Rows)
	case charts.KindMatrixCost:
		return MatrixCost(req.Path, req.Rows, req.Front)
	case charts.KindMatrixColdInit:
		return MatrixColdInit(req.Path, req.Rows)
	case charts.KindTunePowerView:
		return TunePowerView(req.Path, req.Title, req.Rows)
	case charts.KindCompare:
		return Compare(req.Path, req.Title, req.Unit, req.OldName, req.NewName, req.Compare)
	case charts.KindTuneLMILatency:
		if req.LMILatency == nil {
			return fmt.Errorf("%s chart %s: no configurations", req.Kind, req.Path)
		}
		return TuneLMILatency(req.Path, req.Title, *req.LMILatency)
	case charts.KindTuneLMICost:
		if req.LMICost == nil {
			return fmt.Errorf("%s chart %s: no costs", req.Kind, req.Path)
		}
		return TuneLMICost(req.Path, req.Title, *req.LMICost)
	default:
		return fmt.Errorf("unknown chart kind %q", req.Kind)
	}
}
