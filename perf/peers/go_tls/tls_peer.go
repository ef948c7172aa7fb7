// perf/peers/go_tls/tls_peer.go — the Go crypto/tls peer for perf/tls_bench.py: a
// goroutine-per-connection TLS echo server with examples/tls_echo_server's command line
// (perf/run runs it with GOMAXPROCS=1: one P, like one hub). crypto/tls defaults
// otherwise (TLS 1.3 offered, session tickets on), as the other servers keep theirs.
// Build: go build -o tls-peer tls_peer.go (standard library only).
// Run:   tls-peer --port P --cert C --key K [--seconds S] [--quiet]
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	port := flag.Int("port", 8443, "port on 127.0.0.1")
	cert := flag.String("cert", "", "certificate chain (PEM)")
	key := flag.String("key", "", "private key (PEM)")
	seconds := flag.Float64("seconds", 0, "stop after S seconds (0: never)")
	flag.Bool("quiet", false, "accepted for examples/tls_echo_server's command line")
	flag.Parse()
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tls-peer:", err)
		os.Exit(1)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	ln, err := tls.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*port), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tls-peer: listen:", err)
		os.Exit(1)
	}
	if *seconds > 0 {
		time.AfterFunc(time.Duration(*seconds*float64(time.Second)), func() { os.Exit(0) })
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serve(c)
	}
}

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 16384) // a whole TLS record's plaintext per read
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
