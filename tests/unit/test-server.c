/* SPDX-License-Identifier: Apache-2.0 */
/* The server's dispatch rules, driven over a socketpair on a real event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rpc/rpc.h"
#include "health.pb-c.h"

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

static const struct rpc_method methods[] = {
    {"Echo", &grpc__check_request__descriptor, h_echo},
    {"Park", &grpc__check_request__descriptor, h_park},
    {"Later", &grpc__check_request__descriptor, h_later},
    {"Nothing", &grpc__check_request__descriptor, h_nothing},
    {"Unimpl", &grpc__check_request__descriptor, NULL},
};
static const struct rpc_service svc = {"test.Svc", methods, ARRAY_SIZE(methods)};

struct fixture {
	struct ev_loop *loop;
	struct rpc_server *server;
	int peer;
	struct ev_timer stop;
	struct bytebuf in;
};

static void stop_cb(struct ev_loop *loop, struct ev_timer *t _unused_)
{
	ev_loop_exit(loop, 0);
}

static int setup(void **state)
{
	static struct fixture f;
	int sv[2];
	memset(&f, 0, sizeof(f));
	assert_int_equal(ev_loop_new(&f.loop), 0);
	struct rpc_limits lim = rpc_default_limits;
	lim.max_inflight = 4;
	assert_int_equal(rpc_server_new(f.loop, &lim, NULL, &f.server), 0);
	assert_int_equal(rpc_server_add_service(f.server, &svc), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(rpc_server_adopt_fd(f.server, sv[0]), 0);
	f.peer = sv[1];
	ev_timer_init(&f.stop);
	ev_timer_init(&later_timer);
	cancels = 0;
	test_loop = f.loop;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rpc_server_free(f->server);
	ev_loop_free(f->loop);
	safe_close(f->peer);
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

struct reply {
	uint32_t id;
	int code;
	char msg[256];
	char version[64];
};

static int read_replies(struct fixture *f, struct reply *out, int max)
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
		if (r.code == 0 && r.payload.len) {
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dispatch_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parked_out_of_order_and_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize_keeps_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_completed_later, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
