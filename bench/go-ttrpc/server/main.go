// go-ttrpc-server: the benchmark anchor for ember.
//
// A plain containerd/ttrpc (Go, 1.1.1 as packaged by Debian 12) server that
// serves the same Health API as the Kata agent:
//
//	grpc.Health/Check   CheckRequest -> HealthCheckResponse{status=SERVING}
//	grpc.Health/Version CheckRequest -> VersionCheckResponse{grpc_version, agent_version}
//
// and registers "grpc.AgentService" with no methods, so every AgentService
// call gets the stock Go ttrpc answer UNIMPLEMENTED "method <M>" (mirrors an
// agent where every AgentService method is unimplemented).
//
// Usage:
//
//	go-ttrpc-server -addr /path/to.sock
//	go-ttrpc-server --listen unix:///path/to.sock   (same CLI as ember-agent)
//
// A stale socket file at the path is removed first. SIGINT/SIGTERM shut the
// server down and remove the socket.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/containerd/ttrpc"
)

const (
	grpcVersion  = "0.0.1" // API_VERSION of kata-agent (src/agent/Makefile)
	agentVersion = "go-ttrpc-1.1.1-anchor"
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

func main() {
	var addr, listen string
	flag.StringVar(&addr, "addr", "", "unix socket path to listen on (`unix:///p` or `/p`)")
	flag.StringVar(&listen, "listen", "", "alias of -addr (ember-agent compatible CLI)")
	flag.Parse()
	if addr == "" {
		addr = listen
	}
	if addr == "" {
		fmt.Fprintln(os.Stderr, "usage: go-ttrpc-server -addr unix:///path.sock")
		os.Exit(2)
	}
	path, err := socketPath(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-ttrpc-server:", err)
		os.Exit(2)
	}

	server, err := ttrpc.NewServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-ttrpc-server: NewServer:", err)
		os.Exit(1)
	}
	server.Register("grpc.Health", map[string]ttrpc.Method{
		"Check": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req CheckRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &HealthCheckResponse{Status: ServingStatusServing}, nil
		},
		"Version": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req CheckRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &VersionCheckResponse{GrpcVersion: grpcVersion, AgentVersion: agentVersion}, nil
		},
	})
	// Registered but empty: unknown methods -> UNIMPLEMENTED "method X".
	server.Register("grpc.AgentService", map[string]ttrpc.Method{})

	if !strings.HasPrefix(path, "@") {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(path)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-ttrpc-server: listen:", err)
		os.Exit(1)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		server.Close()
		l.Close()
		if !strings.HasPrefix(path, "@") {
			_ = os.Remove(path)
		}
		os.Exit(0)
	}()

	if err := server.Serve(context.Background(), l); err != nil && err != ttrpc.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "go-ttrpc-server: serve:", err)
		os.Exit(1)
	}
}
