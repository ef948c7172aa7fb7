// perf/peers/go/peer.go — the Go peer for perf/run: a goroutine-per-connection echo
// server and the same micro benchmarks as perf/micro, printed the same way
// (`name n=N ns_per_op=X [key=value...]`). GOMAXPROCS comes from the environment:
// perf/run uses 1 (one P, like one hub) and 2 for the cross-thread channel ping-pong.
// Build: go build -o peer peer.go (standard library only).
// Run:   peer echo --port P [--seconds S]
//
//	peer micro [--scale F] [--only NAME]
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func echo(port int, seconds float64) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer: listen:", err)
		os.Exit(1)
	}
	if seconds > 0 {
		time.AfterFunc(time.Duration(seconds*float64(time.Second)), func() { os.Exit(0) })
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 1024) // the same buffer size as examples/echo_server
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil { // io.EOF: the client closed
					return
				}
			}
		}(c)
	}
}

var scale = 1.0

func scaled(n int) int {
	v := int(float64(n) * scale)
	if v < 1 {
		v = 1
	}
	return v
}

func report(name string, n int, nsPerOp float64, extra string) {
	fmt.Printf("%s n=%d ns_per_op=%.2f%s\n", name, n, nsPerOp, extra)
}

// yield: two goroutines Gosched n times each; per Gosched.
func yield(n int) float64 {
	var wg sync.WaitGroup
	wg.Add(2)
	t0 := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
}

// spawn_join: n goroutines started, then all waited for.
func spawnJoin(n int) float64 {
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

// skynet: the classic benchmark, each goroutine sends its sum on an unbuffered channel.
func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sub := size / div
	for i := 0; i < div; i++ {
		go skynet(rc, num+i*sub, sub, div)
	}
	sum := 0
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func sleepMany(n int) float64 {
	var wg sync.WaitGroup
	wg.Add(n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() { time.Sleep(10 * time.Millisecond); wg.Done() }()
	}
	wg.Wait()
	return (float64(time.Since(t0).Nanoseconds()) - 10e6) / float64(n)
}

// chan_pingpong: one item bounced between two goroutines over two unbuffered channels;
// per one-way hand-off.
func chanPingPong(n int) float64 {
	a, b := make(chan int), make(chan int)
	done := make(chan bool)
	go func() {
		for i := 0; i < n; i++ {
			b <- (<-a) + 1
		}
		done <- true
	}()
	t0 := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		a <- v
		v = <-b
	}
	dt := time.Since(t0)
	<-done
	return float64(dt.Nanoseconds()) / float64(2*n)
}

// timer_churn: arm and stop a timer n times while `armed` others wait.
func timerChurn(n, armed int) float64 {
	keep := make([]*time.Timer, armed)
	for i := range keep {
		keep[i] = time.AfterFunc(time.Hour, func() {})
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		t := time.AfterFunc(time.Duration(1+i%7)*time.Second, func() {})
		t.Stop()
	}
	dt := time.Since(t0)
	for _, t := range keep {
		t.Stop()
	}
	return float64(dt.Nanoseconds()) / float64(n)
}

func rssKiB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.Atoi(f[1])
	return float64(pages * os.Getpagesize() / 1024)
}

// idle_1m: n goroutines parked on a channel; RSS per goroutine and creation time.
func idleMany(n int) (float64, float64, float64) {
	block := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	before := rssKiB()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() { started.Done(); <-block }()
	}
	started.Wait()
	dt := time.Since(t0)
	kib := (rssKiB() - before) / float64(n)
	close(block)
	return float64(dt.Nanoseconds()) / float64(n), kib, float64(dt.Milliseconds())
}

func skynetBench(leaves int) float64 {
	c := make(chan int)
	t0 := time.Now()
	go skynet(c, 0, leaves, 10)
	sum := <-c
	dt := time.Since(t0)
	if sum != leaves*(leaves-1)/2 {
		fmt.Fprintln(os.Stderr, "skynet: wrong sum", sum)
	}
	return float64(dt.Nanoseconds()) / float64(leaves)
}

// micro runs the chosen benchmarks, each `warmup` times untimed first (as perf/micro
// --warmup does), except idle_1m, which measures fresh memory on purpose.
func micro(only string, warmup int) {
	leaves := 1
	for leaves*10 <= scaled(1000000) {
		leaves *= 10
	}
	benches := []struct {
		name string
		n    int
		run  func(n int) float64
	}{
		{"yield", scaled(5000000), yield},
		{"spawn_join", scaled(100000), spawnJoin},
		{"skynet_1m", leaves, skynetBench},
		{"sleep_100k", scaled(100000), sleepMany},
		{"chan_pingpong", scaled(2000000), chanPingPong},
		{"timeout_churn", scaled(1000000), func(n int) float64 { return timerChurn(n, scaled(100000)) }},
	}
	for _, b := range benches {
		if only != "" && only != b.name {
			continue
		}
		for w := 0; w < warmup; w++ {
			b.run(b.n)
		}
		report(b.name, b.n, b.run(b.n), fmt.Sprintf(" procs=%d", runtime.GOMAXPROCS(0)))
	}
	if only == "" || only == "idle_1m" {
		n := scaled(1000000)
		ns, kib, ms := idleMany(n)
		report("idle_1m", n, ns, fmt.Sprintf(" rss_kib_per_fiber=%.2f create_ms=%.0f", kib, ms))
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peer echo|micro [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	port := fs.Int("port", 8003, "echo port")
	seconds := fs.Float64("seconds", 0, "echo: stop after S seconds (0: never)")
	only := fs.String("only", "", "micro: run only this benchmark")
	fs.Float64Var(&scale, "scale", 1, "micro: size factor")
	warmup := fs.Int("warmup", 0, "micro: untimed runs before the timed one")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "echo":
		echo(*port, *seconds)
	case "micro":
		micro(*only, *warmup)
	default:
		fmt.Fprintln(os.Stderr, "peer: unknown mode", os.Args[1])
		os.Exit(2)
	}
}
