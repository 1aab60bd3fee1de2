/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OOM case of tests/vm/cgroup.sh, on ONE connection (a virtio-serial port carries one
 * client at a time): GetOOMEvent is parked first, as the shim's watchOOMEvents loop does,
 * then a container with a 32 MiB memory limit grows a string until the kernel kills it.
 * WaitProcess must say 137 and the parked GetOOMEvent must name the container.
 *
 *   cgroup-oom ADDR ROOTFS_IN_GUEST
 */
#include "common/common.h"
#include "rpc/rpc.h"
#include "agent.pb-c.h"
#include "oci.pb-c.h"

#define SVC "grpc.AgentService"

static struct rpc_client *cl;

_noreturn_ static void die(const char *fmt, ...) _printf_(1, 2);
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cgroup-oom: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint32_t send_msg(const char *svc, const char *method, const ProtobufCMessage *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint32_t id;
	if (m) {
		len = protobuf_c_message_get_packed_size(m);
		buf = malloc(len ? len : 1);
		if (!buf)
			die("out of memory");
		protobuf_c_message_pack(m, buf);
	}
	if (rpc_client_send(cl, svc, method, buf, len, 0, &id) < 0 || rpc_client_flush(cl) < 0)
		die("%s: cannot send", method);
	free(buf);
	return id;
}

/* Receives one response; returns its stream id, the status in *st and a copy of the payload. */
static uint32_t recv_msg(struct rpc_status *st, uint8_t **payload, size_t *len)
{
	struct ttrpc_slice p;
	uint32_t id;
	if (rpc_client_recv(cl, &id, st, &p) < 0)
		die("connection lost");
	*len = p.len;
	*payload = malloc(p.len ? p.len : 1);
	if (!*payload)
		die("out of memory");
	memcpy(*payload, p.ptr, p.len);
	return id;
}

static void expect_ok(uint32_t want, const char *what)
{
	struct rpc_status st;
	uint8_t *p;
	size_t len;
	uint32_t got = recv_msg(&st, &p, &len);
	free(p);
	if (got != want)
		die("%s: another call answered first (stream %u, not %u)", what, got, want);
	if (st.code != RPC_OK)
		die("%s: %s: %s", what, rpc_code_name(st.code), st.message);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: cgroup-oom ADDR ROOTFS_IN_GUEST");
	int r = rpc_client_connect(argv[1], 60000, &cl);
	if (r < 0)
		die("cannot connect to %s: %s", argv[1], strerror(-r));

	uint32_t oom_id = send_msg(SVC, "GetOOMEvent", NULL);
	/* parked: a later call on the connection is answered first */
	expect_ok(send_msg("grpc.Health", "Check", NULL), "Check while GetOOMEvent waits");

	char *args[] = {"sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done"};
	char *env[] = {"PATH=/bin"};
	Grpc__User user = GRPC__USER__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	proc.n_args = 3;
	proc.args = args;
	proc.n_env = 1;
	proc.env = env;
	proc.cwd = "/";
	proc.user = &user;
	Grpc__Root root = GRPC__ROOT__INIT;
	root.path = argv[2];
	Grpc__Mount pm = GRPC__MOUNT__INIT;
	pm.destination = "/proc";
	pm.type = "proc";
	pm.source = "proc";
	Grpc__Mount *mounts[] = {&pm};
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	mem.limit = 32 << 20;
	mem.swap = 32 << 20; /* memory+swap = memory: no swap */
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.memory = &mem;
	Grpc__Linux lx = GRPC__LINUX__INIT;
	lx.cgroupspath = "/pod-oom/oom";
	lx.resources = &res;
	Grpc__Spec spec = GRPC__SPEC__INIT;
	spec.version = "1.0.2";
	spec.process = &proc;
	spec.root = &root;
	spec.n_mounts = 1;
	spec.mounts = mounts;
	spec.linux_ = &lx;
	Grpc__CreateContainerRequest cr = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	cr.container_id = "oom";
	cr.exec_id = "oom";
	cr.oci = &spec;
	expect_ok(send_msg(SVC, "CreateContainer", &cr.base), "CreateContainer");
	Grpc__StartContainerRequest sr = GRPC__START_CONTAINER_REQUEST__INIT;
	sr.container_id = "oom";
	expect_ok(send_msg(SVC, "StartContainer", &sr.base), "StartContainer");
	Grpc__WaitProcessRequest wr = GRPC__WAIT_PROCESS_REQUEST__INIT;
	wr.container_id = "oom";
	wr.exec_id = "oom";
	uint32_t wait_id = send_msg(SVC, "WaitProcess", &wr.base);

	/* Both complete now, in either order. */
	int status = -1;
	char *oom_cid = NULL;
	for (int i = 0; i < 2; i++) {
		struct rpc_status st;
		uint8_t *p;
		size_t len;
		uint32_t got = recv_msg(&st, &p, &len);
		if (st.code != RPC_OK)
			die("stream %u: %s: %s", got, rpc_code_name(st.code), st.message);
		if (got == wait_id) {
			Grpc__WaitProcessResponse *w =
			    grpc__wait_process_response__unpack(NULL, len, p);
			if (!w)
				die("WaitProcess: undecodable reply");
			status = w->status;
			grpc__wait_process_response__free_unpacked(w, NULL);
		} else if (got == oom_id) {
			Grpc__OOMEvent *ev = grpc__oomevent__unpack(NULL, len, p);
			if (!ev)
				die("GetOOMEvent: undecodable reply");
			oom_cid = strdup(ev->container_id);
			grpc__oomevent__free_unpacked(ev, NULL);
		} else {
			die("unexpected stream %u", got);
		}
		free(p);
	}
	if (status != 128 + 9)
		die("WaitProcess: status %d, expected 137 (SIGKILL by the OOM killer)", status);
	if (!oom_cid || strcmp(oom_cid, "oom"))
		die("GetOOMEvent returned '%s', expected 'oom'", oom_cid ? oom_cid : "(null)");
	Grpc__RemoveContainerRequest rr = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	rr.container_id = "oom";
	expect_ok(send_msg(SVC, "RemoveContainer", &rr.base), "RemoveContainer");
	printf("WaitProcess %d, GetOOMEvent '%s'\n", status, oom_cid);
	free(oom_cid);
	rpc_client_free(cl);
	return 0;
}
