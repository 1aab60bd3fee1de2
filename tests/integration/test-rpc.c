/* SPDX-License-Identifier: Apache-2.0 */
/* The ttrpc server of the real agent under load and abuse. */
#include "harness.h"
#include "health.pb-c.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static struct agent_proc agent;

static int setup(void **state _unused_)
{
	harness_start_agent(&agent, HARNESS_ISOLATE, NULL);
	return 0;
}

static int teardown(void **state _unused_)
{
	harness_stop_agent(&agent);
	return 0;
}

static int raw_connect(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/agent.sock", agent.dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void check_ok(struct rpc_client *c)
{
	struct rpc_status st;
	ProtobufCMessage *resp = NULL;
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	assert_int_equal(rpc_client_call(c, "grpc.Health", "Check", &req.base,
					 &grpc__health_check_response__descriptor, &resp,
					 5 * NSEC_PER_SEC, &st),
			 0);
	assert_int_equal(st.code, RPC_OK);
	assert_int_equal(((Grpc__HealthCheckResponse *)resp)->status,
			 GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
	protobuf_c_message_free_unpacked(resp, NULL);
}

static void test_emberctl(void **state _unused_)
{
	const char *ctl = getenv("EMBERCTL");
	assert_non_null(ctl);
	assert_int_equal(harness_sh("%s --addr %s check | grep -qx SERVING", ctl, agent.addr), 0);
	assert_int_equal(
	    harness_sh("%s --addr %s version | grep -q '^agent_version: '", ctl, agent.addr), 0);
	/* An RPC error prints the status name and exits 1. */
	assert_int_equal(
	    harness_sh("%s --addr %s call ResizeVolume 2>&1 | grep -q '^emberctl: UNIMPLEMENTED: '",
		       ctl, agent.addr),
	    0);
	assert_int_equal(harness_sh("%s --addr %s call ResizeVolume 2>/dev/null", ctl, agent.addr),
			 1);
	assert_int_equal(harness_sh("%s --addr unix:///nonexistent check 2>/dev/null", ctl), 3);
}

/* 32 connections x 200 pipelined calls, answered with the right stream ids. */
static void test_pipelined_connections(void **state _unused_)
{
	enum { CONNS = 32, CALLS = 200 };
	struct rpc_client *c[CONNS];
	for (int i = 0; i < CONNS; i++) {
		c[i] = harness_connect(&agent);
		for (int k = 0; k < CALLS; k++)
			assert_int_equal(rpc_client_send(c[i], "grpc.Health",
							 k % 2 ? "Version" : "Check", NULL, 0, 0,
							 NULL),
					 0);
	}
	for (int i = 0; i < CONNS; i++)
		assert_int_equal(rpc_client_flush(c[i]), 0);
	for (int i = 0; i < CONNS; i++) {
		for (int k = 0; k < CALLS; k++) {
			uint32_t id;
			struct rpc_status st;
			struct ttrpc_slice pl;
			assert_int_equal(rpc_client_recv(c[i], &id, &st, &pl), 0);
			assert_int_equal(st.code, RPC_OK);
			assert_int_equal(id, 2 * (uint32_t)k + 1);
			if (k % 2) {
				Grpc__VersionCheckResponse *v =
				    grpc__version_check_response__unpack(NULL, pl.len, pl.ptr);
				assert_non_null(v);
				assert_string_not_equal(v->agent_version, "");
				grpc__version_check_response__free_unpacked(v, NULL);
			}
		}
		rpc_client_free(c[i]);
	}
}

/* A peer sending garbage or oversized frames disturbs nobody else. */
static void test_garbage_and_oversize(void **state _unused_)
{
	_cleanup_(rpc_client_freep) struct rpc_client *good = harness_connect(&agent);
	check_ok(good);

	uint8_t junk[4096];
	uint32_t seed = 7;
	for (size_t i = 0; i < sizeof(junk); i++) {
		seed = seed * 1103515245 + 12345;
		junk[i] = (uint8_t)(seed >> 16);
	}
	for (int round = 0; round < 20; round++) {
		int fd = raw_connect();
		(void)write(fd, junk, sizeof(junk) - (size_t)round * 100);
		if (round % 2)
			close(fd); /* mid-frame */
		else {
			shutdown(fd, SHUT_WR);
			close(fd);
		}
		check_ok(good);
	}

	/* Oversized frame: RESOURCE_EXHAUSTED on its stream, and the connection lives on. */
	int fd = raw_connect();
	uint8_t hdr[TTRPC_HEADER_LEN];
	struct ttrpc_header h = {TTRPC_MAX_DATA + 1, 1, TTRPC_REQUEST, 0};
	ttrpc_header_encode(hdr, &h);
	assert_int_equal(loop_write(fd, hdr, sizeof(hdr)), 0);
	static uint8_t zeros[TTRPC_MAX_DATA + 1];
	assert_int_equal(loop_write(fd, zeros, sizeof(zeros)), 0);
	struct bytebuf b = {0};
	assert_int_equal(ttrpc_request_frame_append(&b, 3, "grpc.Health", "Check", NULL, 0, 0), 0);
	assert_int_equal(loop_write(fd, b.data, b.len), 0);
	bytebuf_free(&b);
	uint8_t buf[512];
	size_t have = 0;
	int frames = 0;
	uint32_t ids[2] = {0};
	int codes[2] = {-1, -1};
	while (frames < 2) {
		struct pollfd p = {fd, POLLIN, 0};
		assert_int_equal(poll(&p, 1, 5000), 1);
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		assert_true(n > 0);
		have += (size_t)n;
		while (have >= TTRPC_HEADER_LEN) {
			struct ttrpc_header rh;
			ttrpc_header_decode(buf, &rh);
			if (have < TTRPC_HEADER_LEN + rh.length)
				break;
			struct ttrpc_response r;
			assert_int_equal(
			    ttrpc_response_decode(buf + TTRPC_HEADER_LEN, rh.length, &r), 0);
			ids[frames] = rh.stream_id;
			codes[frames] = r.code;
			frames++;
			memmove(buf, buf + TTRPC_HEADER_LEN + rh.length,
				have - TTRPC_HEADER_LEN - rh.length);
			have -= TTRPC_HEADER_LEN + rh.length;
		}
	}
	assert_int_equal(ids[0], 1);
	assert_int_equal(codes[0], RPC_RESOURCE_EXHAUSTED);
	assert_int_equal(ids[1], 3);
	assert_int_equal(codes[1], RPC_OK);
	close(fd);
	check_ok(good);
	assert_true(harness_agent_alive(&agent));
}

static long agent_rss_kib(void)
{
	char path[64], *s = NULL;
	snprintf(path, sizeof(path), "/proc/%d/status", agent.pid);
	assert_int_equal(read_file(path, 65536, &s, NULL), 0);
	char *p = strstr(s, "VmRSS:");
	assert_non_null(p);
	long kib = strtol(p + 6, NULL, 10);
	free(s);
	return kib;
}

/* A peer that keeps calling but never reads cannot grow the agent's memory. */
static void test_peer_not_reading(void **state _unused_)
{
	long before = agent_rss_kib();
	int fd = raw_connect();
	struct bytebuf b = {0};
	for (uint32_t id = 1; id < 2 * 4096; id += 2)
		assert_int_equal(
		    ttrpc_request_frame_append(&b, id, "grpc.Health", "Version", NULL, 0, 0), 0);
	(void)fd_nonblock(fd, true);
	size_t sent_total = 0;
	bool paused = false;
	for (int round = 0; round < 2000 && !paused; round++) {
		ssize_t n = write(fd, b.data, b.len);
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			/* No progress for 300 ms: the agent stopped reading this connection. */
			struct pollfd p = {fd, POLLOUT, 0};
			paused = poll(&p, 1, 300) == 0;
			continue;
		}
		sent_total += (size_t)n;
	}
	bytebuf_free(&b);
	long after = agent_rss_kib();
	/* Replies queued for us are bounded (rpc_limits.output_pause), not proportional to what
	 * we could send: the agent paused reading well before 2000 batches (~300 MiB). */
	assert_true(paused);
	assert_true(sent_total < (64u << 20));
	assert_true(after - before < 8 * 1024);
	_cleanup_(rpc_client_freep) struct rpc_client *good = harness_connect(&agent);
	check_ok(good);
	close(fd);
	check_ok(good);
}

/* Connections beyond the cap are refused; those within keep working. */
static void test_connection_cap(void **state _unused_)
{
	enum { CAP = 64 };
	int fds[CAP + 1];
	_cleanup_(rpc_client_freep) struct rpc_client *first = harness_connect(&agent);
	check_ok(first);
	for (int i = 0; i < CAP; i++)
		fds[i] = raw_connect();
	/* One of the raw connections (the last accepted beyond the cap) reads EOF. */
	int refused = 0;
	for (int i = 0; i < CAP; i++) {
		struct pollfd p = {fds[i], POLLIN, 0};
		if (poll(&p, 1, i == CAP - 1 ? 1000 : 50) == 1) {
			char c;
			if (read(fds[i], &c, 1) == 0)
				refused++;
		}
	}
	assert_int_equal(refused, 1);
	check_ok(first);
	for (int i = 0; i < CAP; i++)
		close(fds[i]);
	usleep(100 * 1000);
	_cleanup_(rpc_client_freep) struct rpc_client *again = harness_connect(&agent);
	check_ok(again);
}

/* A stand-in for the VMM end of hybrid vsock (Firecracker, Cloud Hypervisor): it answers
 * "CONNECT 1024\n" with "OK 1073741824\n" and then relays bytes to the agent. */
static pid_t fake_vmm(const char *vmm_path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", vmm_path);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	char line[32] = {0};
	for (size_t i = 0; i < sizeof(line) - 1 && read(c, line + i, 1) == 1 && line[i] != '\n';
	     i++)
		;
	if (strcmp(line, "CONNECT 1024\n") != 0) {
		(void)!write(c, "ERR no listener\n", 16);
		_exit(0);
	}
	(void)!write(c, "OK 1073741824\n", 14);
	int a = raw_connect();
	struct pollfd p[2] = {{c, POLLIN, 0}, {a, POLLIN, 0}};
	char buf[4096];
	for (;;) {
		if (poll(p, 2, 5000) <= 0)
			_exit(0);
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0)
				_exit(0);
			if (loop_write(p[1 - i].fd, buf, (size_t)n) < 0)
				_exit(0);
		}
	}
}

static void test_hybrid_vsock_client(void **state _unused_)
{
	char vmm[128], addr[160];
	snprintf(vmm, sizeof(vmm), "%s/vmm.hvsock", agent.dir);
	snprintf(addr, sizeof(addr), "hvsock://%s:1024", vmm);
	pid_t pid = fake_vmm(vmm);
	struct rpc_client *c = NULL;
	assert_int_equal(rpc_client_connect(addr, 5000, &c), 0);
	check_ok(c);
	rpc_client_free(c);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* A VMM that refuses the port: the client reports it, not a garbled stream. */
	snprintf(vmm, sizeof(vmm), "%s/vmm2.hvsock", agent.dir);
	snprintf(addr, sizeof(addr), "hvsock://%s:1025", vmm);
	pid = fake_vmm(vmm);
	assert_int_equal(rpc_client_connect(addr, 5000, &c), -ECONNREFUSED);
	waitpid(pid, &status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_emberctl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_connections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_and_oversize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_not_reading, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connection_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hybrid_vsock_client, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
