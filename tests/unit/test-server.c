/* SPDX-License-Identifier: Apache-2.0 */
/* The server's dispatch rules, driven over a socketpair on a real event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rpc/rpc.h"
#include "agent.pb-c.h"
#include "health.pb-c.h"

#include <fcntl.h>
#include <sys/socket.h>

static struct ev_loop *test_loop;
static int cancels;
static struct rpc_call *later_call;
static struct ev_timer later_timer;

static void h_echo(struct rpc_call *call, void *request)
{
	Grpc__CheckRequest *req = request;
	Grpc__VersionCheckResponse resp = GRPC__VERSION_CHECK_RESPONSE__INIT;
	resp.agent_version = req->service;
	rpc_call_reply(call, &resp.base);
}

static void on_cancel(struct rpc_call *call _unused_, void *data)
{
	*(int *)data += 1;
}

static void h_park(struct rpc_call *call, void *request _unused_)
{
	rpc_call_park(call, on_cancel, &cancels);
}

static void later_cb(struct ev_loop *loop _unused_, struct ev_timer *t _unused_)
{
	rpc_call_reply_errno(TAKE_PTR(later_call), -ENOENT, "container '%s': %m", "abc");
}

static void h_later(struct rpc_call *call, void *request _unused_)
{
	later_call = call;
	rpc_call_park(call, NULL, NULL);
	ev_timer_start(test_loop, &later_timer, now_monotonic_ns() + 5 * NSEC_PER_MSEC, later_cb,
		       NULL);
}

static void h_nothing(struct rpc_call *call _unused_, void *request _unused_)
{
}

/* Bulk replies: the request's service is "N MAX": N pattern bytes read into a reply room for
 * MAX; "again" fills nothing (-EAGAIN) and the call is answered with an error instead. */
static ssize_t fill_pattern(void *buf, size_t max, void *data)
{
	size_t n = *(size_t *)data;
	if (n > max)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = (uint8_t)(i % 251);
	return (ssize_t)n;
}

static ssize_t fill_again(void *buf _unused_, size_t max _unused_, void *data _unused_)
{
	return -EAGAIN;
}

static void h_bytes(struct rpc_call *call, void *request)
{
	Grpc__CheckRequest *req = request;
	if (streq(req->service, "again")) {
		assert_int_equal(rpc_call_reply_bytes(call, 1, 4096, fill_again, NULL), -EAGAIN);
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "nothing yet");
		return;
	}
	size_t n, max;
	assert_int_equal(sscanf(req->service, "%zu %zu", &n, &max), 2);
	assert_int_equal(rpc_call_reply_bytes(call, 1, max, fill_pattern, &n), (ssize_t)n);
	/* the call is gone: a second reply is refused, not sent */
}

/* A container's stdout stand-in: a 1 MiB pipe whose bytes count up mod 251 across writes. The
 * Pipe handler replies with up to MAX (its request's service) of them; an empty pipe is
 * answered UNAVAILABLE. */
static int test_pipe[2] = {-1, -1};
static size_t pipe_written;

static void pipe_fill(size_t n)
{
	uint8_t *b = malloc(n);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((pipe_written + i) % 251);
	assert_int_equal(loop_write(test_pipe[1], b, n), 0);
	pipe_written += n;
	free(b);
}

static void h_pipe(struct rpc_call *call, void *request)
{
	Grpc__CheckRequest *req = request;
	ssize_t n = rpc_call_reply_pipe(call, 1, strtoul(req->service, NULL, 10), test_pipe[0]);
	if (n == -EAGAIN)
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "empty");
	else
		assert_true(n >= 0);
}

/* Parked calls completed later with 1 MiB each by a holder that pops them one at a time. */
enum holder_state { H_FREE, H_PARKED, H_REPLYING, H_DONE, H_CANCELLED };
static struct holder {
	struct rpc_call *call;
	enum holder_state state;
} holders[4];
static int n_holders, holder_cancels, holder_replies;
static struct ev_timer complete_timer;

static void holder_cancel(struct rpc_call *call _unused_, void *data)
{
	struct holder *h = data;
	/* Never the call whose own reply dropped the connection. */
	assert_int_equal(h->state, H_PARKED);
	h->state = H_CANCELLED;
	holder_cancels++;
}

static void complete_cb(struct ev_loop *loop _unused_, struct ev_timer *t _unused_)
{
	size_t n = 1 << 20;
	for (int i = 0; i < n_holders; i++) {
		if (holders[i].state != H_PARKED)
			continue;
		holders[i].state = H_REPLYING;
		assert_int_equal(rpc_call_reply_bytes(holders[i].call, 1, n, fill_pattern, &n),
				 (ssize_t)n);
		holders[i].state = H_DONE;
		holder_replies++;
	}
}

static void h_park_bytes(struct rpc_call *call, void *request _unused_)
{
	struct holder *h = &holders[n_holders++];
	h->call = call;
	h->state = H_PARKED;
	rpc_call_park(call, holder_cancel, h);
	if (n_holders == (int)ARRAY_SIZE(holders))
		ev_timer_start(test_loop, &complete_timer, now_monotonic_ns(), complete_cb, NULL);
}

static const struct rpc_method methods[] = {
    {"Echo", &grpc__check_request__descriptor, h_echo},
    {"Park", &grpc__check_request__descriptor, h_park},
    {"Later", &grpc__check_request__descriptor, h_later},
    {"Nothing", &grpc__check_request__descriptor, h_nothing},
    {"Unimpl", &grpc__check_request__descriptor, NULL},
    {"Bytes", &grpc__check_request__descriptor, h_bytes},
    {"ParkBytes", &grpc__check_request__descriptor, h_park_bytes},
    {"Pipe", &grpc__check_request__descriptor, h_pipe},
};
static const struct rpc_service svc = {"test.Svc", methods, ARRAY_SIZE(methods)};

struct fixture {
	struct ev_loop *loop;
	struct rpc_server *server;
	int peer;
	int server_end; /* a dup of the agent's end: fills its send buffer */
	struct ev_timer stop;
	struct bytebuf in;
};

static void stop_cb(struct ev_loop *loop, struct ev_timer *t _unused_)
{
	ev_loop_exit(loop, 0);
}

static struct rpc_limits test_limits(void)
{
	struct rpc_limits lim = rpc_default_limits;
	lim.max_inflight = 4;
	return lim;
}

static int setup_limits(void **state, struct rpc_limits lim)
{
	static struct fixture f;
	int sv[2];
	memset(&f, 0, sizeof(f));
	assert_int_equal(ev_loop_new(&f.loop), 0);
	assert_int_equal(rpc_server_new(f.loop, &lim, NULL, &f.server), 0);
	assert_int_equal(rpc_server_add_service(f.server, &svc), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f.server_end = fcntl(sv[0], F_DUPFD_CLOEXEC, 3);
	assert_int_equal(rpc_server_adopt_fd(f.server, sv[0]), 0);
	f.peer = sv[1];
	assert_int_equal(pipe2(test_pipe, O_CLOEXEC), 0);
	assert_true(fcntl(test_pipe[0], F_SETPIPE_SZ, 1 << 20) >= 1 << 20);
	(void)fd_nonblock(test_pipe[0], true);
	pipe_written = 0;
	ev_timer_init(&f.stop);
	ev_timer_init(&later_timer);
	ev_timer_init(&complete_timer);
	cancels = 0;
	memset(holders, 0, sizeof(holders));
	n_holders = holder_cancels = holder_replies = 0;
	test_loop = f.loop;
	*state = &f;
	return 0;
}

static int setup(void **state)
{
	return setup_limits(state, test_limits());
}

/* A peer that stops reading is dropped after a few KiB of queued replies. */
static int setup_small_queue(void **state)
{
	struct rpc_limits lim = test_limits();
	lim.output_pause = 1024;
	lim.output_max = 4096;
	return setup_limits(state, lim);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rpc_server_free(f->server);
	ev_loop_free(f->loop);
	safe_close(f->peer);
	safe_close(f->server_end);
	test_pipe[0] = safe_close(test_pipe[0]);
	test_pipe[1] = safe_close(test_pipe[1]);
	bytebuf_free(&f->in);
	return 0;
}

static void send_req(struct fixture *f, uint32_t id, const char *service, const char *method,
		     const char *arg, int64_t timeout)
{
	struct bytebuf b = {0};
	uint8_t payload[256];
	size_t len = 0;
	if (arg) {
		Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
		req.service = (char *)arg;
		len = protobuf_c_message_pack(&req.base, payload);
	}
	assert_int_equal(ttrpc_request_frame_append(&b, id, service, method, payload, len, timeout),
			 0);
	assert_int_equal(loop_write(f->peer, b.data, b.len), 0);
	bytebuf_free(&b);
}

static void run_for_ms(struct fixture *f, unsigned ms)
{
	ev_timer_start(f->loop, &f->stop, now_monotonic_ns() + ms * NSEC_PER_MSEC, stop_cb, NULL);
	ev_loop_run(f->loop);
}

/* Reads what the server sends while its loop runs, for ms. */
static void drain_peer(struct fixture *f, unsigned ms)
{
	uint8_t buf[65536];
	(void)fd_nonblock(f->peer, true);
	for (unsigned i = 0; i < ms; i++) {
		run_for_ms(f, 1);
		ssize_t n;
		while ((n = read(f->peer, buf, sizeof(buf))) > 0)
			bytebuf_append(&f->in, buf, (size_t)n);
	}
}

struct reply {
	uint32_t id;
	int code;
	char msg[256];
	char version[64]; /* VersionCheckResponse.agent_version */
	size_t data_len;  /* with bytes: ReadStreamResponse.data, */
	bool pattern_ok;  /* bytes counting up mod 251 (fill_pattern, the test pipe) */
	uint8_t first;
};

/* Reads what arrived and decodes the replies in order; a payload is a VersionCheckResponse,
 * or with bytes a ReadStreamResponse (as a shim decodes it, with protobuf-c). */
static int read_replies_of(struct fixture *f, struct reply *out, int max, bool bytes)
{
	uint8_t buf[65536];
	(void)fd_nonblock(f->peer, true);
	for (;;) {
		ssize_t n = read(f->peer, buf, sizeof(buf));
		if (n <= 0)
			break;
		bytebuf_append(&f->in, buf, (size_t)n);
	}
	int k = 0;
	while (k < max && bytebuf_used(&f->in) >= TTRPC_HEADER_LEN) {
		struct ttrpc_header h;
		const uint8_t *p = f->in.data + f->in.head;
		ttrpc_header_decode(p, &h);
		assert_int_equal(h.type, TTRPC_RESPONSE);
		assert_true(bytebuf_used(&f->in) >= TTRPC_HEADER_LEN + h.length);
		struct ttrpc_response r;
		assert_int_equal(ttrpc_response_decode(p + TTRPC_HEADER_LEN, h.length, &r), 0);
		out[k].id = h.stream_id;
		out[k].code = r.code;
		snprintf(out[k].msg, sizeof(out[k].msg), "%.*s", (int)r.message.len, r.message.ptr);
		out[k].version[0] = '\0';
		out[k].data_len = 0;
		out[k].pattern_ok = true;
		out[k].first = 0;
		if (r.code == 0 && bytes) {
			Grpc__ReadStreamResponse *m =
			    grpc__read_stream_response__unpack(NULL, r.payload.len, r.payload.ptr);
			assert_non_null(m);
			out[k].data_len = m->data.len;
			out[k].first = m->data.len ? m->data.data[0] : 0;
			for (size_t i = 0; i < m->data.len; i++)
				out[k].pattern_ok &=
				    m->data.data[i] == (uint8_t)((out[k].first + i) % 251);
			grpc__read_stream_response__free_unpacked(m, NULL);
		} else if (r.code == 0 && r.payload.len) {
			Grpc__VersionCheckResponse *v = grpc__version_check_response__unpack(
			    NULL, r.payload.len, r.payload.ptr);
			assert_non_null(v);
			snprintf(out[k].version, sizeof(out[k].version), "%s", v->agent_version);
			grpc__version_check_response__free_unpacked(v, NULL);
		}
		bytebuf_consume(&f->in, TTRPC_HEADER_LEN + h.length);
		k++;
	}
	return k;
}

static int read_replies(struct fixture *f, struct reply *out, int max)
{
	return read_replies_of(f, out, max, false);
}

static void test_dispatch_errors(void **state)
{
	struct fixture *f = *state;
	struct reply r[16];
	send_req(f, 1, "test.Svc", "Echo", "hi", 0);
	send_req(f, 3, "test.Nope", "Echo", NULL, 0);
	send_req(f, 5, "test.Svc", "Nope", NULL, 0);
	send_req(f, 7, "test.Svc", "Unimpl", NULL, 0);
	send_req(f, 9, "test.Svc", "Nothing", NULL, 0);
	send_req(f, 10, "test.Svc", "Echo", NULL, 0); /* even */
	send_req(f, 9, "test.Svc", "Echo", NULL, 0);  /* not increasing */
	/* payload that is not a CheckRequest: field 1 as varint */
	struct bytebuf b = {0};
	const uint8_t bad[] = {0x08, 0x01};
	ttrpc_request_frame_append(&b, 11, "test.Svc", "Echo", bad, sizeof(bad), 0);
	loop_write(f->peer, b.data, b.len);
	bytebuf_free(&b);
	run_for_ms(f, 50);
	assert_int_equal(read_replies(f, r, 16), 8);
	assert_int_equal(r[0].code, RPC_OK);
	assert_string_equal(r[0].version, "hi");
	assert_int_equal(r[1].code, RPC_UNIMPLEMENTED);
	assert_non_null(strstr(r[1].msg, "test.Nope"));
	assert_int_equal(r[2].code, RPC_UNIMPLEMENTED);
	assert_non_null(strstr(r[2].msg, "Nope"));
	assert_int_equal(r[3].code, RPC_UNIMPLEMENTED);
	assert_non_null(strstr(r[3].msg, "/test.Svc/Unimpl"));
	assert_int_equal(r[4].code, RPC_INTERNAL);
	assert_int_equal(r[5].id, 10);
	assert_int_equal(r[5].code, RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(r[5].msg, "odd"));
	assert_int_equal(r[6].code, RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(r[6].msg, "re-used"));
	assert_int_equal(r[7].id, 11);
	assert_int_equal(r[7].code, RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(r[7].msg, "grpc.CheckRequest"));
}

static void test_parked_out_of_order_and_deadline(void **state)
{
	struct fixture *f = *state;
	struct reply r[8];
	send_req(f, 1, "test.Svc", "Park", NULL, 30 * NSEC_PER_MSEC); /* expires */
	send_req(f, 3, "test.Svc", "Park", NULL, 0);		      /* parked forever */
	send_req(f, 5, "test.Svc", "Echo", "after", 0);
	run_for_ms(f, 100);
	assert_int_equal(read_replies(f, r, 8), 2);
	/* The parked calls never delay the one after them. */
	assert_int_equal(r[0].id, 5);
	assert_string_equal(r[0].version, "after");
	assert_int_equal(r[1].id, 1);
	assert_int_equal(r[1].code, RPC_DEADLINE_EXCEEDED);
	assert_int_equal(cancels, 1);
	/* Closing the connection cancels the one still parked. */
	f->peer = safe_close(f->peer);
	run_for_ms(f, 20);
	assert_int_equal(cancels, 2);
	assert_int_equal(rpc_server_connections(f->server), 0);
}

static void test_inflight_limit(void **state)
{
	struct fixture *f = *state;
	struct reply r[8];
	for (uint32_t id = 1; id <= 9; id += 2)
		send_req(f, id, "test.Svc", "Park", NULL, 0);
	run_for_ms(f, 30);
	assert_int_equal(read_replies(f, r, 8), 1);
	assert_int_equal(r[0].id, 9);
	assert_int_equal(r[0].code, RPC_RESOURCE_EXHAUSTED);
	rpc_server_shutdown(f->server);
	assert_int_equal(cancels, 4);
}

static void test_oversize_keeps_connection(void **state)
{
	struct fixture *f = *state;
	struct reply r[4];
	uint8_t hdr[TTRPC_HEADER_LEN];
	struct ttrpc_header h = {TTRPC_MAX_DATA + 1, 1, TTRPC_REQUEST, 0};
	ttrpc_header_encode(hdr, &h);
	assert_int_equal(loop_write(f->peer, hdr, sizeof(hdr)), 0);
	/* Stream the oversized body in pieces while the loop discards it. */
	static uint8_t chunk[1 << 16];
	size_t left = TTRPC_MAX_DATA + 1;
	(void)fd_nonblock(f->peer, true);
	while (left > 0) {
		ssize_t n = write(f->peer, chunk, MIN(left, sizeof(chunk)));
		if (n > 0)
			left -= (size_t)n;
		run_for_ms(f, 1);
	}
	(void)fd_nonblock(f->peer, false);
	send_req(f, 3, "test.Svc", "Echo", "still", 0);
	run_for_ms(f, 30);
	assert_int_equal(read_replies(f, r, 4), 2);
	assert_int_equal(r[0].id, 1);
	assert_int_equal(r[0].code, RPC_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(r[0].msg, "4194305"));
	assert_int_equal(r[1].code, RPC_OK);
	assert_string_equal(r[1].version, "still");
}

static void test_completed_later(void **state)
{
	struct fixture *f = *state;
	struct reply r[4];
	send_req(f, 1, "test.Svc", "Later", NULL, 0);
	run_for_ms(f, 30);
	assert_int_equal(read_replies(f, r, 4), 1);
	assert_int_equal(r[0].code, RPC_NOT_FOUND);
	assert_string_equal(r[0].msg, "container 'abc': No such file or directory");
}

static void test_reply_bytes(void **state)
{
	struct fixture *f = *state;
	struct reply r[8];
	/* one at a time: the queue is empty when each reply is built */
	const char *args[] = {"5 5", "100 1048576", "0 4096", "20000 20000", "300000 1048576"};
	for (size_t i = 0; i < ARRAY_SIZE(args); i++) {
		send_req(f, 1 + 2 * (uint32_t)i, "test.Svc", "Bytes", args[i], 0);
		run_for_ms(f, 20);
	}
	send_req(f, 11, "test.Svc", "Bytes", "again", 0);
	run_for_ms(f, 20);
	assert_int_equal(read_replies_of(f, r, 8, true), 6);
	const size_t want[] = {5, 100, 0, 20000, 300000};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(r[i].id, 1 + 2 * i);
		assert_int_equal(r[i].code, RPC_OK);
		assert_int_equal(r[i].data_len, want[i]);
		assert_int_equal(r[i].first, 0);
		assert_true(r[i].pattern_ok);
	}
	/* a fill error sends nothing and leaves the call to be answered otherwise */
	assert_int_equal(r[5].id, 11);
	assert_int_equal(r[5].code, RPC_UNAVAILABLE);
}

/* Replies built behind others still queued (several requests in one read: nothing is
 * flushed before the read callback ends): a shorter count than the room moves the bytes
 * down. */
static void test_reply_bytes_behind_queued(void **state)
{
	struct fixture *f = *state;
	struct reply r[8];
	struct bytebuf b = {0};
	const char *args[] = {"100 1048576", "0 100", "20000 1048576", "3 3"};
	for (size_t i = 0; i < ARRAY_SIZE(args); i++) {
		Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
		uint8_t payload[64];
		req.service = (char *)args[i];
		size_t len = protobuf_c_message_pack(&req.base, payload);
		assert_int_equal(ttrpc_request_frame_append(&b, 1 + 2 * (uint32_t)i, "test.Svc",
							    "Bytes", payload, len, 0),
				 0);
	}
	assert_int_equal(loop_write(f->peer, b.data, b.len), 0);
	bytebuf_free(&b);
	run_for_ms(f, 30);
	assert_int_equal(read_replies_of(f, r, 8, true), 4);
	const size_t want[] = {100, 0, 20000, 3};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(r[i].id, 1 + 2 * i);
		assert_int_equal(r[i].code, RPC_OK);
		assert_int_equal(r[i].data_len, want[i]);
		assert_true(r[i].pattern_ok);
	}
}

/* A peer that never reads: replies to parked calls fill the socket, then the queue, until
 * one of them drops the connection. That drop cancels the other parked calls, never the one
 * being answered (its holder already let go of it). */
static void test_reply_dropping_connection_spares_itself(void **state)
{
	struct fixture *f = *state;
	for (uint32_t i = 0; i < ARRAY_SIZE(holders); i++)
		send_req(f, 1 + 2 * i, "test.Svc", "ParkBytes", NULL, 0);
	run_for_ms(f, 50);
	/* 4 MiB of replies against a 2 MiB socket buffer and a 4 KiB queue */
	assert_int_equal(rpc_server_connections(f->server), 0);
	assert_int_equal(holder_replies + holder_cancels, (int)ARRAY_SIZE(holders));
	assert_true(holder_replies >= 1);
	assert_true(holder_cancels >= 1);
}

static void test_reply_pipe(void **state)
{
	struct fixture *f = *state;
	struct reply r[8];
	pipe_fill(100000);
	send_req(f, 1, "test.Svc", "Pipe", "1048576", 0); /* all of it */
	run_for_ms(f, 20);
	pipe_fill(10);
	send_req(f, 3, "test.Svc", "Pipe", "4", 0); /* at most max */
	run_for_ms(f, 20);
	send_req(f, 5, "test.Svc", "Pipe", "100", 0); /* the rest */
	run_for_ms(f, 20);
	send_req(f, 7, "test.Svc", "Pipe", "100", 0); /* empty: nothing sent by rpc */
	run_for_ms(f, 20);
	test_pipe[1] = safe_close(test_pipe[1]);
	send_req(f, 9, "test.Svc", "Pipe", "100", 0); /* EOF: the empty message */
	run_for_ms(f, 20);
	assert_int_equal(read_replies_of(f, r, 8, true), 5);
	const size_t want[] = {100000, 4, 6};
	size_t off = 0;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(r[i].id, 1 + 2 * i);
		assert_int_equal(r[i].code, RPC_OK);
		assert_int_equal(r[i].data_len, want[i]);
		assert_int_equal(r[i].first, off % 251);
		assert_true(r[i].pattern_ok);
		off += want[i];
	}
	assert_int_equal(r[3].code, RPC_UNAVAILABLE);
	assert_int_equal(r[4].code, RPC_OK);
	assert_int_equal(r[4].data_len, 0);
}

/* Behind a reply still queued, the pipe's bytes are read into the queue: never ahead of it.
 */
static void test_reply_pipe_behind_queued(void **state)
{
	struct fixture *f = *state;
	struct reply r[4];
	struct bytebuf b = {0};
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	uint8_t payload[64];
	pipe_fill(5000);
	req.service = "first";
	size_t len = protobuf_c_message_pack(&req.base, payload);
	assert_int_equal(ttrpc_request_frame_append(&b, 1, "test.Svc", "Echo", payload, len, 0), 0);
	req.service = "3000";
	len = protobuf_c_message_pack(&req.base, payload);
	assert_int_equal(ttrpc_request_frame_append(&b, 3, "test.Svc", "Pipe", payload, len, 0), 0);
	assert_int_equal(loop_write(f->peer, b.data, b.len), 0);
	bytebuf_free(&b);
	run_for_ms(f, 20);
	assert_int_equal(read_replies_of(f, r, 1, false), 1);
	assert_string_equal(r[0].version, "first");
	assert_int_equal(read_replies_of(f, r, 4, true), 1);
	assert_int_equal(r[0].id, 3);
	assert_int_equal(r[0].data_len, 3000);
	assert_true(r[0].pattern_ok);
}

/* Fills the agent's send buffer behind its back with junk; returns its length. */
static size_t fill_socket(struct fixture *f)
{
	static uint8_t junk[65536];
	size_t len = 0;
	(void)fd_nonblock(f->server_end, true);
	for (ssize_t n; (n = write(f->server_end, junk, sizeof(junk))) > 0;)
		len += (size_t)n;
	return len;
}

static void skip_junk(struct fixture *f, size_t len)
{
	static uint8_t junk[65536];
	(void)fd_nonblock(f->peer, false);
	while (len > 0) {
		ssize_t n = read(f->peer, junk, MIN(len, sizeof(junk)));
		assert_true(n > 0);
		len -= (size_t)n;
	}
}

/* A peer that does not read for a while: the socket is full before the frame starts (the
 * whole frame waits in the queue) or fills while the bytes move (the rest waits); a later
 * reply queues behind. Every frame arrives whole and in order once the peer reads. */
static void test_reply_pipe_socket_full(void **state)
{
	struct fixture *f = *state;
	struct reply r[8];
	size_t junk = fill_socket(f);
	pipe_fill(300000);
	send_req(f, 1, "test.Svc", "Pipe", "1048576", 0);
	run_for_ms(f, 20);
	skip_junk(f, junk);
	drain_peer(f, 50);
	assert_int_equal(read_replies_of(f, r, 8, true), 1);
	assert_int_equal(r[0].data_len, 300000);
	assert_int_equal(r[0].first, 0);
	assert_true(r[0].pattern_ok);

	/* Room for the prefix and some of the bytes only. */
	junk = fill_socket(f);
	skip_junk(f, 200000);
	junk -= 200000;
	size_t off = pipe_written;
	for (uint32_t i = 0; i < 2; i++) {
		pipe_fill(1 << 20);
		send_req(f, 3 + 2 * i, "test.Svc", "Pipe", "1048576", 0);
		run_for_ms(f, 20);
	}
	skip_junk(f, junk);
	drain_peer(f, 200);
	assert_int_equal(read_replies_of(f, r, 8, true), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(r[i].id, 3 + 2 * i);
		assert_int_equal(r[i].data_len, 1 << 20);
		assert_int_equal(r[i].first, (off + i * (1 << 20)) % 251);
		assert_true(r[i].pattern_ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dispatch_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parked_out_of_order_and_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize_keeps_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_completed_later, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_bytes_behind_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_pipe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_pipe_behind_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_pipe_socket_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_dropping_connection_spares_itself,
					    setup_small_queue, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
