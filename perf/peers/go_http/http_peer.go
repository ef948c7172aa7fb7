// perf/peers/go_http/http_peer.go — the Go net/http peer for perf/http_bench.py and a
// stand-in for tests/examples/check_http_server.py: the same command line and routes as
// examples/http_server (GET / "Hello, world!", POST|PUT /echo, GET /stream?n=K chunked,
// 404 otherwise; SIGINT/SIGTERM stop gracefully). GOMAXPROCS comes from the environment
// (perf/run: 1, one P like one hub). Standard library only.
// Build: go build -o http-peer http_peer.go
// Run:   http-peer --port P [--threads N] [--host H]   (--threads sets GOMAXPROCS)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

var hello = []byte("Hello, world!")

func root(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain") // set, so net/http does not sniff and add a charset
	h.Set("Content-Length", "13")
	w.Write(hello)
}

func echo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// stream flushes after every line, so the response is chunked even when it is short.
func stream(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 || n > 1000000 {
		http.Error(w, "n must be a count", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	f, _ := w.(http.Flusher)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "line %d\n", i)
		if f != nil {
			f.Flush()
		}
	}
}

func main() {
	port := flag.Int("port", 8080, "port to listen on")
	threads := flag.Int("threads", 0, "GOMAXPROCS (0: from the environment)")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	flag.Parse()
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", root)
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/stream", stream)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "http-peer: listen:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		close(done)
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "http-peer: serve:", err)
		os.Exit(1)
	}
	<-done
}
