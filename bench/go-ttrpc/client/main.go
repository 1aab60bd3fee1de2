// go-ttrpc-client: ttrpc load generator (containerd/ttrpc 1.1.1 Go client).
//
// Usage:
//
//	go-ttrpc-client -addr unix:///path.sock [-conns 1] [-inflight 1]
//	                [-calls 20000] [-warmup 1000] [-method Check|Version]
//
//	-conns N     number of ttrpc connections (one ttrpc.Client each)
//	-inflight K  concurrent callers PER CONNECTION; each caller issues its
//	             next call only after the previous one returned, so K is the
//	             number of requests in flight on each connection.
//	             K=1 with conns=1 measures pure round-trip latency.
//	-calls N     TOTAL measured calls across all connections and callers
//	             (shared counter, so exactly N calls are timed)
//	-warmup N    TOTAL untimed calls issued first with the same layout
//
// Output: exactly one result line on stdout, space-separated key=value:
//
//	go-client method=Check conns=1 inflight=1 calls=20000 errors=0 elapsed_s=1.234
//	  p50_us=45.1 p90_us=.. p99_us=.. p999_us=.. max_us=.. mean_us=.. calls_per_s=16207
//
// (one line; wrapped here). Latencies are per call, measured around
// client.Call. Exit status 1 if any call failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/ttrpc"
)

func socketPath(addr string) (string, error) {
	switch {
	case strings.HasPrefix(addr, "unix://"):
		addr = strings.TrimPrefix(addr, "unix://")
	case strings.HasPrefix(addr, "unix:"):
		addr = strings.TrimPrefix(addr, "unix:")
	case strings.Contains(addr, "://"):
		return "", fmt.Errorf("unsupported address %q (only unix sockets)", addr)
	}
	if addr == "" {
		return "", fmt.Errorf("empty socket path")
	}
	return addr, nil
}

type phaseResult struct {
	lat     []time.Duration
	errs    int64
	firstEr error
	elapsed time.Duration
}

func runPhase(clients []*ttrpc.Client, inflight int, total int64, method string, record bool) phaseResult {
	var (
		next    int64 // calls handed out
		errs    int64
		mu      sync.Mutex
		firstEr error
		wg      sync.WaitGroup
		perW    = make([][]time.Duration, len(clients)*inflight)
	)
	start := time.Now()
	for ci, c := range clients {
		for k := 0; k < inflight; k++ {
			w := ci*inflight + k
			if record {
				perW[w] = make([]time.Duration, 0, total/int64(len(perW))+16)
			}
			wg.Add(1)
			go func(c *ttrpc.Client, w int) {
				defer wg.Done()
				ctx := context.Background()
				for atomic.AddInt64(&next, 1) <= total {
					var err error
					t0 := time.Now()
					if method == "Version" {
						var r VersionCheckResponse
						err = c.Call(ctx, "grpc.Health", "Version", &CheckRequest{}, &r)
					} else {
						var r HealthCheckResponse
						err = c.Call(ctx, "grpc.Health", "Check", &CheckRequest{}, &r)
						if err == nil && r.Status != ServingStatusServing {
							err = fmt.Errorf("status=%d, want SERVING", r.Status)
						}
					}
					d := time.Since(t0)
					if err != nil {
						atomic.AddInt64(&errs, 1)
						mu.Lock()
						if firstEr == nil {
							firstEr = err
						}
						mu.Unlock()
						if err == ttrpc.ErrClosed {
							return
						}
						continue
					}
					if record {
						perW[w] = append(perW[w], d)
					}
				}
			}(c, w)
		}
	}
	wg.Wait()
	res := phaseResult{elapsed: time.Since(start), errs: errs, firstEr: firstEr}
	if record {
		for _, l := range perW {
			res.lat = append(res.lat, l...)
		}
	}
	return res
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i]) / 1e3
}

func main() {
	var (
		addr     = flag.String("addr", "", "server socket: unix:///path or /path")
		conns    = flag.Int("conns", 1, "number of connections")
		inflight = flag.Int("inflight", 1, "concurrent callers (= in-flight calls) per connection")
		calls    = flag.Int64("calls", 20000, "TOTAL measured calls across all connections")
		warmup   = flag.Int64("warmup", 1000, "TOTAL untimed warm-up calls")
		method   = flag.String("method", "Check", "grpc.Health method: Check or Version")
	)
	flag.Parse()
	if *addr == "" || *conns < 1 || *inflight < 1 || *calls < 1 || (*method != "Check" && *method != "Version") {
		fmt.Fprintln(os.Stderr, "usage: go-ttrpc-client -addr unix:///path.sock [-conns N] [-inflight K] [-calls TOTAL] [-warmup TOTAL] [-method Check|Version]")
		os.Exit(2)
	}
	path, err := socketPath(*addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-ttrpc-client:", err)
		os.Exit(2)
	}

	clients := make([]*ttrpc.Client, *conns)
	for i := range clients {
		conn, err := net.DialTimeout("unix", path, 5*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-ttrpc-client: dial:", err)
			os.Exit(1)
		}
		clients[i] = ttrpc.NewClient(conn)
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()

	if *warmup > 0 {
		w := runPhase(clients, *inflight, *warmup, *method, false)
		if w.errs > 0 {
			fmt.Fprintf(os.Stderr, "go-ttrpc-client: %d warm-up errors, first: %v\n", w.errs, w.firstEr)
			os.Exit(1)
		}
	}
	r := runPhase(clients, *inflight, *calls, *method, true)
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	var sum time.Duration
	for _, d := range r.lat {
		sum += d
	}
	mean := math.NaN()
	if len(r.lat) > 0 {
		mean = float64(sum) / float64(len(r.lat)) / 1e3
	}
	fmt.Printf("go-client method=%s conns=%d inflight=%d calls=%d errors=%d elapsed_s=%.3f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f calls_per_s=%.0f\n",
		*method, *conns, *inflight, len(r.lat), r.errs, r.elapsed.Seconds(),
		pct(r.lat, 0.50), pct(r.lat, 0.90), pct(r.lat, 0.99), pct(r.lat, 0.999), pct(r.lat, 1.0), mean,
		float64(len(r.lat))/r.elapsed.Seconds())
	if r.errs > 0 {
		fmt.Fprintf(os.Stderr, "go-ttrpc-client: %d errors, first: %v\n", r.errs, r.firstEr)
		os.Exit(1)
	}
}
