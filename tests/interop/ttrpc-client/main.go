// ttrpc-client: interoperability checks for ember-agent, using the real
// containerd/ttrpc Go client (1.1.1, the version packaged by Debian 12).
//
// Usage:
//
//	ttrpc-client -addr unix:///path/agent.sock [-extended] [-timeout 5s]
//
// Each check prints "ok - NAME" or "not ok - NAME: DETAIL"; informational
// lines start with "# ". The last line is exactly "N passed, M failed" and
// the exit status is 1 if M > 0 (2 on bad usage).
//
// Base checks (always run):
//
//	codec       hand-written message types encode to the expected bytes (local)
//	connect     unix socket connect
//	(a) Check returns SERVING
//	(b) Version returns non-empty grpc_version and agent_version
//	(c) grpc.AgentService/NoSuchMethod -> UNIMPLEMENTED, message names the method
//	(d) grpc.NoSuchService/Check -> UNIMPLEMENTED, message names the service
//	(e) grpc.AgentService/ListInterfaces (empty payload) completes with some
//	    rpc status (any code) within the per-call timeout, no transport error
//	(f) 16 goroutines x 200 concurrent Check calls on ONE connection
//	(f2) concurrent interleaved Check/Version calls on one connection each get
//	    their own response (stream-id matching with out-of-order replies)
//	(g) Check with a 30 s context deadline (timeout_nano sent) succeeds
//	(h) no response arrived on a stream id without a pending call
//	(i) with -rootfs DIR (a busybox rootfs): ReadStdout of a container's
//	    8 MiB output in 32 KiB and 1 MiB reads, byte-exact, and a whole
//	    200000-byte pipe in one reply (stdout.go)
//
// Extended checks (-extended; raw-socket framing and robustness):
//
//	several connections at once, non-empty CheckRequest payload, exact bytes of
//	a Check response frame, even stream id -> INVALID_ARGUMENT, unknown message
//	type ignored, oversized frame -> RESOURCE_EXHAUSTED with the connection kept,
//	a request split into 1-byte writes, several requests in one write, abrupt
//	client disconnects (then a fresh connection must still be served).
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/proto"
	"github.com/sirupsen/logrus"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	svcHealth = "grpc.Health"
	svcAgent  = "grpc.AgentService"
)

var (
	flagAddr     = flag.String("addr", "", "agent socket: unix:///path or /path (unix:@name for abstract)")
	flagTimeout  = flag.Duration("timeout", 5*time.Second, "budget for each single call")
	flagExtended = flag.Bool("extended", false, "also run raw-socket framing/robustness checks")
	flagWorkers  = flag.Int("goroutines", 16, "goroutines for check (f)")
	flagPerG     = flag.Int("calls", 200, "calls per goroutine for check (f)")
	flagVerbose  = flag.Bool("v", false, "print extra diagnostics")
	flagRootfs   = flag.String("rootfs", "", "busybox rootfs: also run check (i), containers through the agent")

	passed, failed int
)

func ok(name string) {
	passed++
	fmt.Printf("ok - %s\n", name)
}

func notOK(name, format string, args ...interface{}) {
	failed++
	detail := fmt.Sprintf(format, args...)
	detail = strings.ReplaceAll(detail, "\n", " | ")
	fmt.Printf("not ok - %s: %s\n", name, detail)
}

func info(format string, args ...interface{}) {
	fmt.Printf("# "+format+"\n", args...)
}

func finish() {
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
	os.Exit(0)
}

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
		return "", errors.New("empty socket path")
	}
	return addr, nil
}

var sockPath string

func dial() (net.Conn, error) {
	return net.DialTimeout("unix", sockPath, *flagTimeout)
}

var errHang = errors.New("call did not complete in time (client-side watchdog)")

// call runs client.Call with a client-side watchdog of `budget`, independent
// of ctx (so calls without a deadline, i.e. timeout_nano == 0, cannot hang
// the test run).
func call(c *ttrpc.Client, ctx context.Context, budget time.Duration, service, method string, req, resp interface{}) error {
	done := make(chan error, 1)
	go func() { done <- c.Call(ctx, service, method, req, resp) }()
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("%w after %v", errHang, budget)
	}
}

func describe(err error) string {
	if err == nil {
		return "OK (nil error)"
	}
	if st, isStatus := status.FromError(err); isStatus {
		return fmt.Sprintf("rpc status code=%d (%s) message=%q", int(st.Code()), st.Code(), st.Message())
	}
	return fmt.Sprintf("transport/non-status error: %v", err)
}

// ---------------------------------------------------------------- codec

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func checkCodec() {
	const name = "codec: hand-written protobuf types encode as expected (local)"
	type tc struct {
		what string
		got  []byte
		want string
	}
	cases := []tc{
		{"HealthCheckResponse{SERVING}", mustMarshal(&HealthCheckResponse{Status: ServingStatusServing}), "0801"},
		{"HealthCheckResponse{UNKNOWN}", mustMarshal(&HealthCheckResponse{}), ""},
		{"CheckRequest{}", mustMarshal(&CheckRequest{}), ""},
		{"CheckRequest{\"x\"}", mustMarshal(&CheckRequest{Service: "x"}), "0a0178"},
		{"VersionCheckResponse{0.0.1,x}", mustMarshal(&VersionCheckResponse{GrpcVersion: "0.0.1", AgentVersion: "x"}), "0a05302e302e31120178"},
		// kata-agent-protocol.md §1.10 worked examples
		{"Request Check 30s", mustMarshal(&ttrpc.Request{Service: svcHealth, Method: "Check", TimeoutNano: int64(30 * time.Second)}),
			"0a0b" + hex.EncodeToString([]byte("grpc.Health")) + "1205" + hex.EncodeToString([]byte("Check")) + "2080d88ee16f"},
		{"Response OK SERVING", mustMarshal(&ttrpc.Response{Status: &spb.Status{}, Payload: []byte{0x08, 0x01}}), "0a0012020801"},
		{"Response NOT_FOUND x", mustMarshal(&ttrpc.Response{Status: &spb.Status{Code: 5, Message: "x"}}), "0a050805120178"},
	}
	var bad []string
	for _, c := range cases {
		if hex.EncodeToString(c.got) != c.want {
			bad = append(bad, fmt.Sprintf("%s: got %x want %s", c.what, c.got, c.want))
		}
	}
	// decode round trip
	var h HealthCheckResponse
	if err := proto.Unmarshal([]byte{0x08, 0x01}, &h); err != nil || h.Status != ServingStatusServing {
		bad = append(bad, fmt.Sprintf("decode 08 01: %v %+v", err, h))
	}
	if len(bad) > 0 {
		notOK(name, "%s", strings.Join(bad, "; "))
		return
	}
	ok(name)
}

// ---------------------------------------------------------------- base checks

func checkHealth(c *ttrpc.Client) {
	const name = "(a) grpc.Health/Check returns SERVING"
	var resp HealthCheckResponse
	err := call(c, context.Background(), *flagTimeout, svcHealth, "Check", &CheckRequest{}, &resp)
	if err != nil {
		notOK(name, "%s", describe(err))
		return
	}
	if resp.Status != ServingStatusServing {
		notOK(name, "status=%d, want 1 (SERVING)", resp.Status)
		return
	}
	ok(name)
}

func checkVersion(c *ttrpc.Client) {
	const name = "(b) grpc.Health/Version returns non-empty agent_version and grpc_version"
	var resp VersionCheckResponse
	err := call(c, context.Background(), *flagTimeout, svcHealth, "Version", &CheckRequest{}, &resp)
	if err != nil {
		notOK(name, "%s", describe(err))
		return
	}
	info("Version: grpc_version=%q agent_version=%q", resp.GrpcVersion, resp.AgentVersion)
	if resp.AgentVersion == "" || resp.GrpcVersion == "" {
		notOK(name, "grpc_version=%q agent_version=%q", resp.GrpcVersion, resp.AgentVersion)
		return
	}
	ok(name)
}

func expectUnimplemented(c *ttrpc.Client, name, service, method, mustContain string) {
	var resp Empty
	err := call(c, context.Background(), *flagTimeout, service, method, &Empty{}, &resp)
	if err == nil {
		notOK(name, "call succeeded, want UNIMPLEMENTED")
		return
	}
	st, isStatus := status.FromError(err)
	if !isStatus {
		notOK(name, "%s", describe(err))
		return
	}
	info("%s/%s -> code=%d (%s) message=%q", service, method, int(st.Code()), st.Code(), st.Message())
	if st.Code() != codes.Unimplemented {
		notOK(name, "code=%d (%s) message=%q, want code 12 (Unimplemented)", int(st.Code()), st.Code(), st.Message())
		return
	}
	if !strings.Contains(st.Message(), mustContain) {
		notOK(name, "message %q does not name %q", st.Message(), mustContain)
		return
	}
	ok(name)
}

func checkRealMethod(c *ttrpc.Client) {
	const name = "(e) grpc.AgentService/ListInterfaces (empty payload) completes with an rpc status"
	var resp Empty // Interfaces; unknown fields are dropped
	start := time.Now()
	err := call(c, context.Background(), *flagTimeout, svcAgent, "ListInterfaces", &Empty{}, &resp)
	info("ListInterfaces -> %s in %v", describe(err), time.Since(start).Round(time.Microsecond))
	if err == nil {
		ok(name)
		return
	}
	if _, isStatus := status.FromError(err); !isStatus {
		notOK(name, "%s", describe(err))
		return
	}
	ok(name)
}

func checkConcurrent(c *ttrpc.Client) {
	name := fmt.Sprintf("(f) %d goroutines x %d concurrent Check calls on one connection", *flagWorkers, *flagPerG)
	total := *flagWorkers * *flagPerG
	budget := 60 * time.Second
	var (
		wg       sync.WaitGroup
		nOK      int64
		errMu    sync.Mutex
		firstErr string
		nErr     int64
	)
	start := time.Now()
	for g := 0; g < *flagWorkers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < *flagPerG; i++ {
				var resp HealthCheckResponse
				err := c.Call(context.Background(), svcHealth, "Check", &CheckRequest{}, &resp)
				if err == nil && resp.Status != ServingStatusServing {
					err = fmt.Errorf("status=%d, want SERVING", resp.Status)
				}
				if err != nil {
					atomic.AddInt64(&nErr, 1)
					errMu.Lock()
					if firstErr == "" {
						firstErr = describe(err)
					}
					errMu.Unlock()
					if errors.Is(err, ttrpc.ErrClosed) {
						return
					}
					continue
				}
				atomic.AddInt64(&nOK, 1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(budget):
		notOK(name, "not finished after %v: %d/%d ok, %d errors, first error: %s",
			budget, atomic.LoadInt64(&nOK), total, atomic.LoadInt64(&nErr), firstErr)
		return
	}
	el := time.Since(start)
	info("(f) %d calls in %v (%.0f calls/s)", nOK, el.Round(time.Millisecond), float64(nOK)/el.Seconds())
	if nOK != int64(total) {
		notOK(name, "%d/%d ok, %d errors, first error: %s", nOK, total, nErr, firstErr)
		return
	}
	ok(name)
}

// checkMixed interleaves Check and Version on one connection from many
// goroutines. Their responses decode differently, so a response delivered to
// the wrong stream id is detected.
func checkMixed(c *ttrpc.Client) {
	const name = "(f2) concurrent interleaved Check/Version calls each get their own response"
	const G, N = 8, 100
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		bad      int
		firstErr string
	)
	fail := func(s string) {
		mu.Lock()
		bad++
		if firstErr == "" {
			firstErr = s
		}
		mu.Unlock()
	}
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < N; i++ {
				if (g+i)%2 == 0 {
					var r HealthCheckResponse
					err := c.Call(context.Background(), svcHealth, "Check", &CheckRequest{}, &r)
					if err != nil {
						fail("Check: " + describe(err))
					} else if r.Status != ServingStatusServing {
						fail(fmt.Sprintf("Check got status=%d (mismatched response?)", r.Status))
					}
				} else {
					var r VersionCheckResponse
					err := c.Call(context.Background(), svcHealth, "Version", &CheckRequest{}, &r)
					if err != nil {
						fail("Version: " + describe(err))
					} else if r.AgentVersion == "" || r.GrpcVersion == "" {
						fail(fmt.Sprintf("Version got %+v (mismatched response?)", r))
					}
				}
			}
		}(g)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		notOK(name, "not finished after 60s")
		return
	}
	if bad > 0 {
		notOK(name, "%d/%d bad, first: %s", bad, G*N, firstErr)
		return
	}
	ok(name)
}

func checkDeadline(c *ttrpc.Client) {
	const name = "(g) Check with a 30 s context deadline (timeout_nano set) succeeds"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var resp HealthCheckResponse
	err := call(c, ctx, *flagTimeout, svcHealth, "Check", &CheckRequest{}, &resp)
	if err != nil {
		notOK(name, "%s", describe(err))
		return
	}
	if resp.Status != ServingStatusServing {
		notOK(name, "status=%d, want 1 (SERVING)", resp.Status)
		return
	}
	ok(name)
}

// ---------------------------------------------------------------- extended (raw)

type frame struct {
	length uint32
	stream uint32
	typ    byte
	flags  byte
	data   []byte
}

func encodeFrame(stream uint32, typ, flags byte, data []byte) []byte {
	b := make([]byte, 10+len(data))
	binary.BigEndian.PutUint32(b[0:4], uint32(len(data)))
	binary.BigEndian.PutUint32(b[4:8], stream)
	b[8] = typ
	b[9] = flags
	copy(b[10:], data)
	return b
}

func readFrame(r io.Reader) (frame, error) {
	var h [10]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return frame{}, fmt.Errorf("reading header: %w", err)
	}
	f := frame{
		length: binary.BigEndian.Uint32(h[0:4]),
		stream: binary.BigEndian.Uint32(h[4:8]),
		typ:    h[8],
		flags:  h[9],
	}
	if f.length > 4<<20 {
		return f, fmt.Errorf("response length %d exceeds 4 MiB", f.length)
	}
	f.data = make([]byte, f.length)
	if _, err := io.ReadFull(r, f.data); err != nil {
		return f, fmt.Errorf("reading %d data bytes: %w", f.length, err)
	}
	return f, nil
}

func reqBytes(service, method string, payload []byte, timeout time.Duration) []byte {
	return mustMarshal(&ttrpc.Request{Service: service, Method: method, Payload: payload, TimeoutNano: int64(timeout)})
}

// expectResponse reads one frame and checks it is a well-formed Response on
// `stream`; returns the decoded status code (0 if absent) and payload.
func expectResponse(conn net.Conn, stream uint32) (int32, string, []byte, error) {
	_ = conn.SetReadDeadline(time.Now().Add(*flagTimeout))
	f, err := readFrame(conn)
	if err != nil {
		return 0, "", nil, err
	}
	if f.typ != 0x02 || f.flags != 0 || f.stream != stream {
		return 0, "", nil, fmt.Errorf("got frame stream=%d type=%#x flags=%#x, want stream=%d type=0x2 flags=0 (data %x)",
			f.stream, f.typ, f.flags, stream, f.data)
	}
	var resp ttrpc.Response
	if err := proto.Unmarshal(f.data, &resp); err != nil {
		return 0, "", nil, fmt.Errorf("Response does not decode: %v (data %x)", err, f.data)
	}
	var code int32
	var msg string
	if resp.Status != nil {
		code, msg = resp.Status.Code, resp.Status.Message
	}
	return code, msg, resp.Payload, nil
}

func rawConn(name string) net.Conn {
	conn, err := dial()
	if err != nil {
		notOK(name, "dial: %v", err)
		return nil
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	return conn
}

func rawCheckOn(conn net.Conn, stream uint32) error {
	if _, err := conn.Write(encodeFrame(stream, 1, 0, reqBytes(svcHealth, "Check", nil, 0))); err != nil {
		return fmt.Errorf("write: %v", err)
	}
	code, msg, payload, err := expectResponse(conn, stream)
	if err != nil {
		return err
	}
	if code != 0 || !bytes.Equal(payload, []byte{0x08, 0x01}) {
		return fmt.Errorf("code=%d msg=%q payload=%x, want OK / 0801", code, msg, payload)
	}
	return nil
}

func checkMultiConn() {
	const name = "(x1) 8 connections x 50 Check calls in parallel"
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := dial()
			if err != nil {
				errs <- "dial: " + err.Error()
				return
			}
			c := ttrpc.NewClient(conn)
			defer c.Close()
			for j := 0; j < 50; j++ {
				var r HealthCheckResponse
				err := call(c, context.Background(), *flagTimeout, svcHealth, "Check", &CheckRequest{}, &r)
				if err != nil || r.Status != ServingStatusServing {
					errs <- fmt.Sprintf("%s status=%d", describe(err), r.Status)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if e, has := <-errs; has {
		notOK(name, "%s", e)
		return
	}
	ok(name)
}

func checkNonEmptyPayload(c *ttrpc.Client) {
	const name = "(x2) Check with non-empty CheckRequest{service} payload returns SERVING"
	var resp HealthCheckResponse
	err := call(c, context.Background(), *flagTimeout, svcHealth, "Check", &CheckRequest{Service: svcAgent}, &resp)
	if err != nil || resp.Status != ServingStatusServing {
		notOK(name, "%s status=%d", describe(err), resp.Status)
		return
	}
	ok(name)
}

func checkRawFrames() {
	name := "(x3) raw Check frame: response on stream 1, type 2, flags 0, status OK, payload 08 01"
	conn := rawConn(name)
	if conn == nil {
		return
	}
	defer conn.Close()
	// exact bytes from kata-agent-protocol.md §1.10
	req := encodeFrame(1, 1, 0, reqBytes(svcHealth, "Check", nil, 30*time.Second))
	if *flagVerbose {
		info("raw request: %x", req)
	}
	if _, err := conn.Write(req); err != nil {
		notOK(name, "write: %v", err)
		return
	}
	_ = conn.SetReadDeadline(time.Now().Add(*flagTimeout))
	f, err := readFrame(conn)
	if err != nil {
		notOK(name, "%v", err)
		return
	}
	raw := encodeFrame(f.stream, f.typ, f.flags, f.data)
	info("raw Check response frame: % x", raw)
	if f.typ != 2 || f.flags != 0 || f.stream != 1 {
		notOK(name, "header stream=%d type=%d flags=%d", f.stream, f.typ, f.flags)
		return
	}
	var resp ttrpc.Response
	if err := proto.Unmarshal(f.data, &resp); err != nil {
		notOK(name, "decode: %v", err)
		return
	}
	if (resp.Status != nil && resp.Status.Code != 0) || !bytes.Equal(resp.Payload, []byte{0x08, 0x01}) {
		notOK(name, "status=%v payload=%x", resp.Status, resp.Payload)
		return
	}
	if !bytes.Equal(f.data, []byte{0x0a, 0x00, 0x12, 0x02, 0x08, 0x01}) {
		// Go ttrpc 1.1.1 omits the OK status (12 02 08 01); newer Go ttrpc and
		// ttrpc-rust send an empty Status (0a 00 12 02 08 01). Both are valid.
		info("note: data %x is not the ttrpc-rust/newer-Go form 0a 00 12 02 08 01 (still valid)", f.data)
	}
	ok(name)

	// even stream id (same connection; stream 3 is skipped on purpose)
	name = "(x4) even stream id 4 -> Response on stream 4 with INVALID_ARGUMENT, connection kept"
	if _, err := conn.Write(encodeFrame(4, 1, 0, reqBytes(svcHealth, "Check", nil, 0))); err != nil {
		notOK(name, "write: %v", err)
		return
	}
	code, msg, _, err := expectResponse(conn, 4)
	if err != nil {
		notOK(name, "%v", err)
		return
	}
	info("even stream id -> code=%d message=%q", code, msg)
	if code != int32(codes.InvalidArgument) {
		notOK(name, "code=%d message=%q, want 3", code, msg)
	} else if err := rawCheckOn(conn, 5); err != nil {
		notOK(name, "follow-up Check on stream 5: %v", err)
	} else {
		ok(name)
	}

	name = "(x5) unknown message type 0x7f is ignored"
	if _, err := conn.Write(encodeFrame(7, 0x7f, 0, []byte{1, 2, 3})); err != nil {
		notOK(name, "write: %v", err)
		return
	}
	if err := rawCheckOn(conn, 9); err != nil {
		notOK(name, "Check on stream 9 after unknown frame: %v", err)
	} else {
		ok(name)
	}

	name = "(x6) oversized frame (4 MiB + 1) -> RESOURCE_EXHAUSTED on its stream, connection kept"
	big := make([]byte, (4<<20)+1)
	werr := make(chan error, 1)
	go func() {
		_, err := conn.Write(encodeFrame(11, 1, 0, big))
		werr <- err
	}()
	code, msg, _, err = expectResponse(conn, 11)
	if err != nil {
		notOK(name, "%v", err)
		return
	}
	if e := <-werr; e != nil {
		notOK(name, "write: %v", e)
		return
	}
	info("oversized frame -> code=%d message=%q", code, msg)
	if code != int32(codes.ResourceExhausted) {
		notOK(name, "code=%d message=%q, want 8", code, msg)
	} else if err := rawCheckOn(conn, 13); err != nil {
		notOK(name, "follow-up Check on stream 13: %v", err)
	} else {
		ok(name)
	}

	name = "(x7) request split into 1-byte writes"
	req = encodeFrame(15, 1, 0, reqBytes(svcHealth, "Check", nil, 0))
	for i := range req {
		if _, err := conn.Write(req[i : i+1]); err != nil {
			notOK(name, "write: %v", err)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	code, msg, payload, err := expectResponse(conn, 15)
	if err != nil || code != 0 || !bytes.Equal(payload, []byte{8, 1}) {
		notOK(name, "err=%v code=%d msg=%q payload=%x", err, code, msg, payload)
	} else {
		ok(name)
	}

	name = "(x8) 20 requests in one write all answered"
	var batch []byte
	want := map[uint32]bool{}
	for i := uint32(0); i < 20; i++ {
		id := 17 + 2*i
		want[id] = true
		batch = append(batch, encodeFrame(id, 1, 0, reqBytes(svcHealth, "Check", nil, 0))...)
	}
	if _, err := conn.Write(batch); err != nil {
		notOK(name, "write: %v", err)
		return
	}
	_ = conn.SetReadDeadline(time.Now().Add(*flagTimeout))
	for len(want) > 0 {
		f, err := readFrame(conn)
		if err != nil {
			notOK(name, "%d responses missing: %v", len(want), err)
			return
		}
		if !want[f.stream] || f.typ != 2 {
			notOK(name, "unexpected frame stream=%d type=%d", f.stream, f.typ)
			return
		}
		delete(want, f.stream)
	}
	ok(name)
}

func checkAbruptDisconnects() {
	const name = "(x9) abrupt disconnects (half header, unread responses, mid-body) do not hurt the agent"
	// half a header
	if conn, err := dial(); err == nil {
		conn.Write([]byte{0, 0, 0})
		conn.Close()
	}
	// header promising more data than sent
	if conn, err := dial(); err == nil {
		conn.Write(encodeFrame(1, 1, 0, reqBytes(svcHealth, "Check", nil, 0))[:15])
		conn.Close()
	}
	// many requests, close without reading the responses
	if conn, err := dial(); err == nil {
		var batch []byte
		for i := uint32(0); i < 64; i++ {
			batch = append(batch, encodeFrame(1+2*i, 1, 0, reqBytes(svcHealth, "Check", nil, 0))...)
		}
		conn.Write(batch)
		conn.Close()
	}
	// ttrpc client closed with calls in flight
	if conn, err := dial(); err == nil {
		c := ttrpc.NewClient(conn)
		for i := 0; i < 32; i++ {
			go c.Call(context.Background(), svcHealth, "Version", &CheckRequest{}, &VersionCheckResponse{})
		}
		time.Sleep(time.Millisecond)
		c.Close()
	}
	time.Sleep(100 * time.Millisecond)
	conn, err := dial()
	if err != nil {
		notOK(name, "fresh dial: %v", err)
		return
	}
	defer conn.Close()
	c := ttrpc.NewClient(conn)
	defer c.Close()
	var r HealthCheckResponse
	if err := call(c, context.Background(), *flagTimeout, svcHealth, "Check", &CheckRequest{}, &r); err != nil || r.Status != ServingStatusServing {
		notOK(name, "Check on a fresh connection: %s status=%d", describe(err), r.Status)
		return
	}
	ok(name)
}

// strayHook counts the ttrpc client's "received message for unknown channel"
// log lines: a response on a stream id with no call waiting (duplicate or
// misaddressed response from the server).
type strayHook struct{ n int64 }

func (h *strayHook) Levels() []logrus.Level { return logrus.AllLevels }
func (h *strayHook) Fire(e *logrus.Entry) error {
	if strings.Contains(e.Message, "unknown channel") {
		atomic.AddInt64(&h.n, 1)
	}
	return nil
}

// ---------------------------------------------------------------- main

func main() {
	flag.Parse()
	if *flagAddr == "" {
		fmt.Fprintln(os.Stderr, "usage: ttrpc-client -addr unix:///path/agent.sock [-extended]")
		os.Exit(2)
	}
	p, err := socketPath(*flagAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ttrpc-client:", err)
		os.Exit(2)
	}
	sockPath = p

	stray := &strayHook{}
	logrus.AddHook(stray)

	checkCodec()

	// The agent may create the socket (bind) a moment before listen();
	// retry a refused connect for up to 2 s.
	conn, err := dial()
	for t0 := time.Now(); err != nil && errors.Is(err, syscall.ECONNREFUSED) && time.Since(t0) < 2*time.Second; {
		time.Sleep(20 * time.Millisecond)
		conn, err = dial()
	}
	if err != nil {
		notOK("connect "+sockPath, "%v", err)
		finish()
	}
	ok("connect " + sockPath)
	client := ttrpc.NewClient(conn)
	defer client.Close()

	checkHealth(client)
	checkVersion(client)
	expectUnimplemented(client, "(c) grpc.AgentService/NoSuchMethod -> UNIMPLEMENTED naming the method",
		svcAgent, "NoSuchMethod", "NoSuchMethod")
	expectUnimplemented(client, "(d) grpc.NoSuchService/Check -> UNIMPLEMENTED naming the service",
		"grpc.NoSuchService", "Check", "grpc.NoSuchService")
	checkRealMethod(client)
	checkConcurrent(client)
	checkMixed(client)
	checkDeadline(client)
	time.Sleep(50 * time.Millisecond) // let any late stray frame arrive
	if n := atomic.LoadInt64(&stray.n); n > 0 {
		notOK("(h) no responses on stream ids without a pending call", "%d stray responses", n)
	} else {
		ok("(h) no responses on stream ids without a pending call")
	}

	if *flagRootfs != "" {
		checkStdout(*flagRootfs)
	}

	if *flagExtended {
		checkMultiConn()
		checkNonEmptyPayload(client)
		checkRawFrames()
		checkAbruptDisconnects()
	}

	finish()
}
