package main

// Hand-written protobuf message types for the Kata health.proto messages
// (package "grpc") that this client needs. The struct tags follow the
// golang/gogo protobuf conventions so gogo's reflection-based marshaller
// (used by containerd/ttrpc 1.1.1) can encode/decode them without generated
// code. Field numbers are from src/libs/protocols/protos/health.proto.
//
// This file is intentionally duplicated in bench/go-ttrpc/{server,client}:
// the three binaries are built in GOPATH mode (GO111MODULE=off) from paths
// outside GOPATH, where sharing a local package is not possible.

import "fmt"

// CheckRequest { string service = 1; }
type CheckRequest struct {
	Service string `protobuf:"bytes,1,opt,name=service,proto3"`
}

func (m *CheckRequest) Reset()         { *m = CheckRequest{} }
func (m *CheckRequest) String() string { return fmt.Sprintf("%+v", *m) }
func (*CheckRequest) ProtoMessage()    {}

// HealthCheckResponse.ServingStatus enum values.
const (
	ServingStatusUnknown    int32 = 0
	ServingStatusServing    int32 = 1
	ServingStatusNotServing int32 = 2
)

// HealthCheckResponse { ServingStatus status = 1; }
type HealthCheckResponse struct {
	Status int32 `protobuf:"varint,1,opt,name=status,proto3"`
}

func (m *HealthCheckResponse) Reset()         { *m = HealthCheckResponse{} }
func (m *HealthCheckResponse) String() string { return fmt.Sprintf("%+v", *m) }
func (*HealthCheckResponse) ProtoMessage()    {}

// VersionCheckResponse { string grpc_version = 1; string agent_version = 2; }
type VersionCheckResponse struct {
	GrpcVersion  string `protobuf:"bytes,1,opt,name=grpc_version,proto3"`
	AgentVersion string `protobuf:"bytes,2,opt,name=agent_version,proto3"`
}

func (m *VersionCheckResponse) Reset()         { *m = VersionCheckResponse{} }
func (m *VersionCheckResponse) String() string { return fmt.Sprintf("%+v", *m) }
func (*VersionCheckResponse) ProtoMessage()    {}

// Empty is google.protobuf.Empty (also used as a stand-in for any request
// or response we do not decode).
type Empty struct{}

func (m *Empty) Reset()         { *m = Empty{} }
func (m *Empty) String() string { return "{}" }
func (*Empty) ProtoMessage()    {}
