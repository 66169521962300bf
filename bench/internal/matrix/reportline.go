package matrix

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Report is what Lambda's REPORT log line says about one invocation.
type Report struct {
	DurationMs    float64
	BilledMs      float64
	MemorySizeMB  int
	MaxMemoryMB   int
	InitMs        float64 // 0 unless the invocation was a cold start
	HasInit       bool
	RequestID     string
	Status        string // "timeout", "error" or "" (the REPORT line's Status field)
	ErrorType     string // the REPORT line's Error Type, e.g. Runtime.OutOfMemory
	Found         bool   // false when the log tail held no REPORT line
	MalformedNote string
}

// ParseLogResult decodes the base64 log tail of an invocation (LogType Tail)
// and parses its REPORT line, for example:
//
//	REPORT RequestId: 8f5…	Duration: 263.34 ms	Billed Duration: 467 ms	Memory Size: 128 MB	Max Memory Used: 38 MB	Init Duration: 203.47 ms
func ParseLogResult(b64 string) (Report, error) {
	if b64 == "" {
		return Report{}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return Report{}, fmt.Errorf("decode log result: %w", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 0, 8192), 1<<20)
	var line string
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "REPORT ") {
			line = l
		}
	}
	if line == "" {
		return Report{}, nil
	}
	return ParseReportLine(line)
}

// ParseReportLine parses one REPORT line. Fields are tab-separated
// "Name: value unit" pairs; unknown fields are ignored.
func ParseReportLine(line string) (Report, error) {
	r := Report{Found: true}
	fields := strings.Split(strings.TrimPrefix(line, "REPORT "), "\t")
	seen := 0
	for _, f := range fields {
		name, val, ok := strings.Cut(strings.TrimSpace(f), ": ")
		if !ok {
			continue
		}
		num := strings.Fields(val)
		var x float64
		if len(num) > 0 {
			x, _ = strconv.ParseFloat(num[0], 64)
		}
		switch name {
		case "RequestId":
			r.RequestID = val
		case "Duration":
			r.DurationMs = x
			seen++
		case "Billed Duration":
			r.BilledMs = x
			seen++
		case "Memory Size":
			r.MemorySizeMB = int(x)
		case "Max Memory Used":
			r.MaxMemoryMB = int(x)
		case "Init Duration":
			r.InitMs, r.HasInit = x, true
		case "Status":
			r.Status = val
		case "Error Type":
			r.ErrorType = val
		}
	}
	if seen < 2 {
		return r, fmt.Errorf("REPORT line without Duration and Billed Duration: %q", line)
	}
	return r, nil
}
