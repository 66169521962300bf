// Command fakeruntime is a test-only Lambda runtime that misbehaves on request, to exercise the
// local Lambda's fault paths the real function cannot reach: a crash mid-invocation, running out
// of memory, a malformed API Gateway response, log lines.
//
// A direct invocation's event is {"action": "...", ...}; an API Gateway event's query parameter
// "action" selects the same. Actions: echo (default), print (N log lines), crash (exit 3),
// oom (allocate until killed), sleep (ms), spin (burn CPU for ms), error (a function error), raw (respond with "raw"
// verbatim). FAKE_INIT=fail reports an init error and exits; FAKE_INIT=exit exits at once;
// FAKE_PREALLOC_MB=N takes N MB during init; FAKE_INIT_WAIT_FILE=path stays in its init until
// path exists.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

type event struct {
	Action string `json:"action"`
	Lines  int    `json:"lines"`
	MS     int    `json:"ms"`
	Raw    string `json:"raw"`
	// API Gateway proxy events
	HTTPMethod string            `json:"httpMethod"`
	Query      map[string]string `json:"queryStringParameters"`
}

func main() {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	switch os.Getenv("FAKE_INIT") {
	case "fail":
		body := `{"errorType":"Runtime.FakeInitFailure","errorMessage":"fake init failure"}`
		resp, err := http.Post(base+"/init/error", "application/json", bytes.NewBufferString(body))
		if err == nil {
			resp.Body.Close()
		}
		fmt.Fprintln(os.Stderr, "fake init failure")
		os.Exit(1)
	case "exit":
		os.Exit(2)
	}
	if p := os.Getenv("FAKE_INIT_WAIT_FILE"); p != "" {
		for {
			if _, err := os.Stat(p); err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// FAKE_PREALLOC_MB: memory to take during init (the CPU is unthrottled then), so that an
	// "oom" invocation reaches a small limit fast.
	if mb, _ := strconv.Atoi(os.Getenv("FAKE_PREALLOC_MB")); mb > 0 {
		for range mb {
			held = append(held, touched(1<<20))
		}
	}
	n, _ := strconv.Atoi(os.Getenv("AWS_LAMBDA_MAX_CONCURRENCY"))
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			poll(base)
		}()
	}
	wg.Wait()
}

var (
	heldMu sync.Mutex
	held   [][]byte
)

// touched allocates n bytes and touches every page, so they count as used.
func touched(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

func poll(base string) {
	for {
		resp, err := http.Get(base + "/invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(1)
		}
		payload, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		handle(base, id, payload)
	}
}

func handle(base, id string, payload []byte) {
	var ev event
	_ = json.Unmarshal(payload, &ev)
	if ev.HTTPMethod != "" {
		ev.Action = ev.Query["action"]
		ev.Raw = ev.Query["raw"]
		ev.MS, _ = strconv.Atoi(ev.Query["ms"])
	}
	respond := func(path string, body []byte) {
		resp, err := http.Post(base+"/invocation/"+id+path, "application/json", bytes.NewReader(body))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) // so the connection is reused
			resp.Body.Close()
		}
	}
	switch ev.Action {
	case "print":
		for i := range ev.Lines {
			fmt.Printf("line %d of %s\n", i, id)
		}
		respond("/response", []byte(`{"printed":true}`))
	case "crash":
		fmt.Println("crashing")
		os.Exit(3)
	case "oom":
		for {
			heldMu.Lock()
			held = append(held, touched(1<<20))
			heldMu.Unlock()
		}
	case "sleep":
		time.Sleep(time.Duration(ev.MS) * time.Millisecond)
		respond("/response", []byte(`{"slept":true}`))
	case "spin":
		deadline := time.Now().Add(time.Duration(ev.MS) * time.Millisecond)
		x := uint64(1)
		for time.Now().Before(deadline) {
			for range 10000 {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		respond("/response", []byte(fmt.Sprintf(`{"spun":%d}`, x%2)))
	case "error":
		respond("/error", []byte(`{"errorType":"FakeError","errorMessage":"fake failure"}`))
	case "raw":
		respond("/response", []byte(ev.Raw))
	default:
		if ev.HTTPMethod != "" {
			respond("/response", []byte(`{"statusCode":200,"headers":{"X-Fake":"1"},"body":"ok"}`))
			return
		}
		respond("/response", payload)
	}
}
