package initerror

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReport(t *testing.T) {
	var gotBody map[string]any
	var gotType, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &gotBody)
		gotType, gotPath = r.Header.Get("Lambda-Runtime-Function-Error-Type"), r.URL.Path
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	api := strings.TrimPrefix(srv.URL, "http://")
	if err := Report(ctx, api, "Runtime.InvalidHandler", "unknown _HANDLER \"x\""); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/2018-06-01/runtime/init/error" || gotType != "Runtime.InvalidHandler" ||
		gotBody["errorMessage"] != "unknown _HANDLER \"x\"" || gotBody["errorType"] != "Runtime.InvalidHandler" {
		t.Fatalf("got %s %q %v", gotPath, gotType, gotBody)
	}
}

func TestReportRejected(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	err := Report(context.Background(), strings.TrimPrefix(srv.URL, "http://"), "T", "m")
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("got %v, want an error naming the status", err)
	}
}
