package charts

import (
	"errors"
	"testing"
)

// TestDrawRenderer: a chart goes to the installed renderer as one Request,
// and without a renderer it is ErrNoRenderer, never a silent success.
func TestDrawRenderer(t *testing.T) {
	old := renderer
	t.Cleanup(func() { renderer = old })

	tests := []struct {
		name     string
		renderer func(Request) error
		draw     func() error
		wantKind string
		wantErr  error
	}{
		{name: "no renderer", draw: func() error { return LoadPanel("a.png", LoadScenario{Name: "s"}) }, wantErr: ErrNoRenderer},
		{name: "load panel", renderer: func(Request) error { return nil },
			draw: func() error { return LoadPanel("a.png", LoadScenario{Name: "s"}) }, wantKind: KindLoadPanel},
		{name: "comparison", renderer: func(Request) error { return nil },
			draw: func() error { return Compare("a.png", "t", "ms", "old", "new", nil) }, wantKind: KindCompare},
		{name: "LMI latency", renderer: func(r Request) error { return checkLMI(r.LMILatency != nil) },
			draw: func() error { return TuneLMILatency("a.png", "t", LMILatency{}) }, wantKind: KindTuneLMILatency},
		{name: "LMI cost", renderer: func(r Request) error { return checkLMI(r.LMICost != nil) },
			draw: func() error { return TuneLMICost("a.png", "t", LMICost{}) }, wantKind: KindTuneLMICost},
		{name: "renderer error", renderer: func(Request) error { return errBoom },
			draw: func() error { return MatrixCost("a.png", nil, nil) }, wantKind: KindMatrixCost, wantErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Request
			renderer = nil
			if tt.renderer != nil {
				renderer = func(r Request) error { got = append(got, r); return tt.renderer(r) }
			}
			err := tt.draw()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantKind == "" {
				return
			}
			if len(got) != 1 || got[0].Kind != tt.wantKind || got[0].Path != "a.png" {
				t.Errorf("renderer got %+v, want one %s request for a.png", got, tt.wantKind)
			}
		})
	}
}

var errBoom = errors.New("boom")

// checkLMI fails a request that lacks its LMI chart.
func checkLMI(ok bool) error {
	if !ok {
		return errors.New("no LMI chart in the request")
	}
	return nil
}
