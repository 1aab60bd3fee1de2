package main

// Check (i), run with -rootfs DIR: a container's large output read through
// ReadStdout by Go's ttrpc, as the Kata shim reads it (one call per chunk,
// each reply unmarshalled into ReadStreamResponse).
//
// Hand-written message types for the agent.proto/oci.proto messages it
// needs, in the gogo struct-tag convention of msgs.go; only the fields used
// here (the others stay unset, as proto3 allows).

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/containerd/ttrpc"
)

// User { uint32 UID = 1; uint32 GID = 2; }
type User struct {
	UID uint32 `protobuf:"varint,1,opt,name=UID,proto3"`
	GID uint32 `protobuf:"varint,2,opt,name=GID,proto3"`
}

func (m *User) Reset()         { *m = User{} }
func (m *User) String() string { return fmt.Sprintf("%+v", *m) }
func (*User) ProtoMessage()    {}

// Process { User User = 3; repeated string Args = 4; repeated string Env = 5; string Cwd = 6; }
type Process struct {
	User *User    `protobuf:"bytes,3,opt,name=User,proto3"`
	Args []string `protobuf:"bytes,4,rep,name=Args,proto3"`
	Env  []string `protobuf:"bytes,5,rep,name=Env,proto3"`
	Cwd  string   `protobuf:"bytes,6,opt,name=Cwd,proto3"`
}

func (m *Process) Reset()         { *m = Process{} }
func (m *Process) String() string { return fmt.Sprintf("%+v", *m) }
func (*Process) ProtoMessage()    {}

// Root { string Path = 1; }
type Root struct {
	Path string `protobuf:"bytes,1,opt,name=Path,proto3"`
}

func (m *Root) Reset()         { *m = Root{} }
func (m *Root) String() string { return fmt.Sprintf("%+v", *m) }
func (*Root) ProtoMessage()    {}

// Spec { string Version = 1; Process Process = 2; Root Root = 3; }
type Spec struct {
	Version string   `protobuf:"bytes,1,opt,name=Version,proto3"`
	Process *Process `protobuf:"bytes,2,opt,name=Process,proto3"`
	Root    *Root    `protobuf:"bytes,3,opt,name=Root,proto3"`
}

func (m *Spec) Reset()         { *m = Spec{} }
func (m *Spec) String() string { return fmt.Sprintf("%+v", *m) }
func (*Spec) ProtoMessage()    {}

// CreateContainerRequest { string container_id = 1; string exec_id = 2; Spec OCI = 6; }
type CreateContainerRequest struct {
	ContainerID string `protobuf:"bytes,1,opt,name=container_id,proto3"`
	ExecID      string `protobuf:"bytes,2,opt,name=exec_id,proto3"`
	OCI         *Spec  `protobuf:"bytes,6,opt,name=OCI,proto3"`
}

func (m *CreateContainerRequest) Reset()         { *m = CreateContainerRequest{} }
func (m *CreateContainerRequest) String() string { return fmt.Sprintf("%+v", *m) }
func (*CreateContainerRequest) ProtoMessage()    {}

// StartContainerRequest / RemoveContainerRequest { string container_id = 1; uint32 timeout = 2; }
type ContainerRequest struct {
	ContainerID string `protobuf:"bytes,1,opt,name=container_id,proto3"`
	Timeout     uint32 `protobuf:"varint,2,opt,name=timeout,proto3"`
}

func (m *ContainerRequest) Reset()         { *m = ContainerRequest{} }
func (m *ContainerRequest) String() string { return fmt.Sprintf("%+v", *m) }
func (*ContainerRequest) ProtoMessage()    {}

// ReadStreamRequest { string container_id = 1; string exec_id = 2; uint32 len = 3; }
// (WaitProcessRequest is the same without len.)
type ReadStreamRequest struct {
	ContainerID string `protobuf:"bytes,1,opt,name=container_id,proto3"`
	ExecID      string `protobuf:"bytes,2,opt,name=exec_id,proto3"`
	Len         uint32 `protobuf:"varint,3,opt,name=len,proto3"`
}

func (m *ReadStreamRequest) Reset()         { *m = ReadStreamRequest{} }
func (m *ReadStreamRequest) String() string { return fmt.Sprintf("%+v", *m) }
func (*ReadStreamRequest) ProtoMessage()    {}

// ReadStreamResponse { bytes data = 1; }
type ReadStreamResponse struct {
	Data []byte `protobuf:"bytes,1,opt,name=data,proto3"`
}

func (m *ReadStreamResponse) Reset()         { *m = ReadStreamResponse{} }
func (m *ReadStreamResponse) String() string { return fmt.Sprintf("%d bytes", len(m.Data)) }
func (*ReadStreamResponse) ProtoMessage()    {}

// WaitProcessResponse { int32 status = 1; }
type WaitProcessResponse struct {
	Status int32 `protobuf:"varint,1,opt,name=status,proto3"`
}

func (m *WaitProcessResponse) Reset()         { *m = WaitProcessResponse{} }
func (m *WaitProcessResponse) String() string { return fmt.Sprintf("%+v", *m) }
func (*WaitProcessResponse) ProtoMessage()    {}

// What `yes stdoutWord` repeats.
const stdoutWord = "0123456789abcdefghijklmnopqrstuvwxyz"

var stdoutLine = []byte(stdoutWord + "\n")

type stdoutRun struct {
	c      *ttrpc.Client
	rootfs string
	budget time.Duration
}

func (r *stdoutRun) agent(method string, req, resp interface{}) error {
	return call(r.c, context.Background(), r.budget, svcAgent, method, req, resp)
}

func (r *stdoutRun) start(cid, script string) error {
	req := &CreateContainerRequest{ContainerID: cid, ExecID: cid, OCI: &Spec{
		Version: "1.0.2",
		Process: &Process{User: &User{}, Args: []string{"sh", "-c", script},
			Env: []string{"PATH=/bin"}, Cwd: "/"},
		Root: &Root{Path: r.rootfs},
	}}
	if err := r.agent("CreateContainer", req, &Empty{}); err != nil {
		return fmt.Errorf("CreateContainer: %s", describe(err))
	}
	if err := r.agent("StartContainer", &ContainerRequest{ContainerID: cid}, &Empty{}); err != nil {
		return fmt.Errorf("StartContainer: %s", describe(err))
	}
	return nil
}

func (r *stdoutRun) waitRemove(cid string) error {
	var w WaitProcessResponse
	if err := r.agent("WaitProcess", &ReadStreamRequest{ContainerID: cid, ExecID: cid}, &w); err != nil {
		return fmt.Errorf("WaitProcess: %s", describe(err))
	}
	if w.Status != 0 {
		return fmt.Errorf("the container exited with status %d", w.Status)
	}
	if err := r.agent("RemoveContainer", &ContainerRequest{ContainerID: cid}, &Empty{}); err != nil {
		return fmt.Errorf("RemoveContainer: %s", describe(err))
	}
	return nil
}

// read is one ReadStdout of up to n bytes.
func (r *stdoutRun) read(cid string, n uint32) ([]byte, error) {
	var resp ReadStreamResponse
	if err := r.agent("ReadStdout", &ReadStreamRequest{ContainerID: cid, ExecID: cid, Len: n}, &resp); err != nil {
		return nil, fmt.Errorf("ReadStdout: %s", describe(err))
	}
	if uint32(len(resp.Data)) > n {
		return nil, fmt.Errorf("ReadStdout(%d) returned %d bytes", n, len(resp.Data))
	}
	return resp.Data, nil
}

// matches checks data against the repeated line from offset off.
func matches(data []byte, off int) error {
	for i, b := range data {
		if want := stdoutLine[(off+i)%len(stdoutLine)]; b != want {
			return fmt.Errorf("byte %d is 0x%02x, want 0x%02x", off+i, b, want)
		}
	}
	return nil
}

// streamed: 8 MiB read while the process writes, in reads of n bytes.
func (r *stdoutRun) streamed(cid string, n uint32) error {
	const total = 8 << 20
	if err := r.start(cid, fmt.Sprintf("yes %s | head -c %d", stdoutWord, total)); err != nil {
		return err
	}
	got, calls, largest := 0, 0, 0
	for {
		data, err := r.read(cid, n)
		if err != nil {
			return err
		}
		if len(data) == 0 {
			break
		}
		if err := matches(data, got); err != nil {
			return err
		}
		got += len(data)
		calls++
		if len(data) > largest {
			largest = len(data)
		}
	}
	if got != total {
		return fmt.Errorf("%d bytes before EOF, want %d", got, total)
	}
	info("%s: %d bytes in %d replies of at most %d bytes", cid, got, calls, largest)
	return r.waitRemove(cid)
}

// whole: 200000 bytes written and the process gone before the first read
// (they fit the agent's 256 KiB pipe): one ReadStdout of 1 MiB returns them
// all in one frame, the next one EOF.
func (r *stdoutRun) whole(cid string) error {
	const total = 200000
	if err := r.start(cid, fmt.Sprintf("yes %s | head -c %d", stdoutWord, total)); err != nil {
		return err
	}
	var w WaitProcessResponse
	if err := r.agent("WaitProcess", &ReadStreamRequest{ContainerID: cid, ExecID: cid}, &w); err != nil {
		return fmt.Errorf("WaitProcess: %s", describe(err))
	}
	data, err := r.read(cid, 1<<20)
	if err != nil {
		return err
	}
	if len(data) != total {
		return fmt.Errorf("one read after exit returned %d bytes, want %d", len(data), total)
	}
	if err := matches(data, 0); err != nil {
		return err
	}
	if !bytes.Equal(data[:len(stdoutLine)], stdoutLine) {
		return fmt.Errorf("first line %q", data[:len(stdoutLine)])
	}
	if data, err = r.read(cid, 1<<20); err != nil {
		return err
	} else if len(data) != 0 {
		return fmt.Errorf("%d more bytes where EOF was due", len(data))
	}
	return r.waitRemove(cid)
}

func checkStdout(rootfs string) {
	conn, err := dial()
	if err != nil {
		notOK("(i) ReadStdout of a large output", "connect: %v", err)
		return
	}
	c := ttrpc.NewClient(conn)
	defer c.Close()
	r := &stdoutRun{c: c, rootfs: rootfs, budget: 60 * time.Second}
	for _, n := range []uint32{32 << 10, 1 << 20} {
		name := fmt.Sprintf("(i) ReadStdout: 8 MiB from a container in %d KiB reads, byte-exact, then EOF", n>>10)
		if err := r.streamed(fmt.Sprintf("stdout-%d", n), n); err != nil {
			notOK(name, "%v", err)
		} else {
			ok(name)
		}
	}
	name := "(i) ReadStdout: a 200000-byte pipe after exit in one reply, then EOF"
	if err := r.whole("stdout-whole"); err != nil {
		notOK(name, "%v", err)
	} else {
		ok(name)
	}
}
