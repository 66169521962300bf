package compare

import (
	"bytes"
	"encoding/json"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// sampleResult is a comparison of two hand-made matrix runs: one row
// slower beyond the gate, one unchanged, one with too few samples, rows on
// one side only, a changed verdict.
func sampleResult(t *testing.T) *Result {
	t.Helper()
	old := matrixRun("bench-results/old", "x86_64 2048 MB", map[string][]float64{
		"x86_64 1536 MB":  seq(200, 1, 10),
		"x86_64 2048 MB":  seq(150, 1, 10),
		"x86_64 4096 MB":  {100, 101, 102},
		"x86_64 10240 MB": seq(90, 1, 10),
	}, "x86_64 1536 MB", "x86_64 2048 MB", "x86_64 4096 MB", "x86_64 10240 MB")
	cur := matrixRun("bench-results/new", "x86_64 1536 MB", map[string][]float64{
		"x86_64 1536 MB": seq(230, 1, 10),
		"x86_64 2048 MB": seq(150.5, 1, 10),
		"x86_64 4096 MB": {200, 201, 202},
		"x86_64 8192 MB": seq(90, 1, 10),
	}, "x86_64 1536 MB", "x86_64 2048 MB", "x86_64 4096 MB", "x86_64 8192 MB")
	old.Rows[0].Attempts, old.Rows[0].Failures = 11, 1
	cur.Rows[0].Attempts = 10
	old.Notes = []string{"bench-results/old: no summary.json: no verdict; priced with the built-in prices"}
	res, err := Compare([]*Run{old}, []*Run{cur}, Options{FailPct: 5})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWriteTextGolden(t *testing.T) {
	res := sampleResult(t)
	var plain, colour bytes.Buffer
	if err := res.WriteText(&plain, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt", plain.Bytes())
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("colour escapes without Color")
	}
	if err := res.WriteText(&colour, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(colour.String(), ansiBold+ansiRed+"x86_64 1536 MB") {
		t.Error("the regression row is not red with Color")
	}
	// Columns line up: every row of a table has its "vs old" column at
	// the same rune offset.
	lines := strings.Split(plain.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "warm duration") {
			col := strings.Index(l, "vs old")
			for _, r := range lines[i+1 : i+4] {
				if idx := strings.Index(r, "("); idx < 0 || len([]rune(r[:strings.LastIndex(r[:idx], "  ")+2])) != len([]rune(l[:col])) {
					t.Errorf("misaligned:\n%s\n%s", l, r)
				}
			}
		}
	}
}

func TestWriteMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := sampleResult(t).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.md", b.Bytes())
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	res := sampleResult(t)
	if err := res.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.json", b.Bytes())
	var back struct {
		Regressions []string `json:"regressions"`
		Parts       []struct {
			Metrics []struct {
				Metric struct{ ID string }
				Rows   []struct {
					Row       string   `json:"row"`
					ChangePct *float64 `json:"change_pct"`
					Old       struct {
						N    int      `json:"n"`
						CILo *float64 `json:"ci_lo"`
					} `json:"old"`
				} `json:"rows"`
			} `json:"metrics"`
		} `json:"parts"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	warm := back.Parts[0].Metrics[0]
	if warm.Metric.ID != "warm" || len(warm.Rows) != 3 || warm.Rows[2].Old.CILo != nil || warm.Rows[0].Old.CILo == nil || warm.Rows[0].ChangePct == nil {
		t.Errorf("JSON warm table: %+v", warm)
	}
	// 4096 MB doubled, but 3 samples a side cannot show it.
	if len(back.Regressions) != 1 {
		t.Errorf("regressions %v, want 1536 MB only", back.Regressions)
	}
	if strings.Join(res.Undetectable, ",") != "x86_64 4096 MB warm" {
		t.Errorf("undetectable gate rows %v", res.Undetectable)
	}
}

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	paths, err := sampleResult(t).WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pngs int
	for _, p := range paths {
		if filepath.Ext(p) != ".png" {
			continue
		}
		pngs++
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 100 {
			t.Errorf("%s: %v", p, err)
		}
	}
	// warm, billed, roundtrip, cost (init has no samples here).
	if pngs != 4 || len(paths) != 7 {
		t.Errorf("wrote %v", paths)
	}
	b, err := os.ReadFile(filepath.Join(dir, TextFile))
	if err != nil || !strings.Contains(string(b), "REGRESSION") {
		t.Errorf("compare.txt: %v", err)
	}
}
