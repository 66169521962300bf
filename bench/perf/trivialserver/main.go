// Command trivial is a trivial HTTP server on 127.0.0.1 for load-generator
// comparisons: it answers every request with a short body, after an
// optional fixed delay.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address")
	delay := flag.Duration("delay", 0, "delay before answering")
	flag.Parse()
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *delay > 0 {
			time.Sleep(*delay)
		}
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok\n")
	})))
}
