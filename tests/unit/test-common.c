/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/common.h"

#include <fcntl.h>
#include <sys/epoll.h>

struct kv {
	char keys[16][64];
	char vals[16][64];
	bool has_val[16];
	int n;
};

static int collect(const char *k, const char *v, void *data)
{
	struct kv *kv = data;
	snprintf(kv->keys[kv->n], 64, "%s", k);
	kv->has_val[kv->n] = v != NULL;
	snprintf(kv->vals[kv->n], 64, "%s", v ? v : "");
	kv->n++;
	return 0;
}

static void test_cmdline_words(void **state _unused_)
{
	struct kv kv = {0};
	assert_int_equal(
	    cmdline_foreach(
		"  quiet agent.log=debug  x=\"a b\" \"agent.server_addr=vsock://-1:1024\"\n",
		collect, &kv),
	    0);
	assert_int_equal(kv.n, 4);
	assert_string_equal(kv.keys[0], "quiet");
	assert_false(kv.has_val[0]);
	assert_string_equal(kv.keys[1], "agent.log");
	assert_string_equal(kv.vals[1], "debug");
	assert_string_equal(kv.vals[2], "a b");
	assert_string_equal(kv.keys[3], "agent.server_addr");
	assert_string_equal(kv.vals[3], "vsock://-1:1024");
}

static int stop_at_second(const char *k _unused_, const char *v _unused_, void *data)
{
	int *n = data;
	return ++*n == 2 ? -ECANCELED : 0;
}

static void test_cmdline_stop(void **state _unused_)
{
	int n = 0;
	assert_int_equal(cmdline_foreach("a b c", stop_at_second, &n), -ECANCELED);
	assert_int_equal(n, 2);
}

static void test_parse_numbers(void **state _unused_)
{
	uint64_t u;
	uint32_t u32;
	int64_t i;
	assert_int_equal(parse_u64("1024", &u), 0);
	assert_int_equal(u, 1024);
	assert_int_equal(parse_u64("0x10", &u), 0);
	assert_int_equal(u, 16);
	assert_int_equal(parse_u64("-1", &u), -EINVAL);
	assert_int_equal(parse_u64("12a", &u), -EINVAL);
	assert_int_equal(parse_u64("", &u), -EINVAL);
	assert_int_equal(parse_u64("99999999999999999999999", &u), -ERANGE);
	assert_int_equal(parse_u32("4294967296", &u32), -ERANGE);
	assert_int_equal(parse_u32("4294967295", &u32), 0);
	assert_int_equal(parse_i64("-5", &i), 0);
	assert_int_equal(i, -5);
}

static void test_parse_bool(void **state _unused_)
{
	assert_int_equal(parse_bool("true"), 1);
	assert_int_equal(parse_bool("FALSE"), 0);
	assert_int_equal(parse_bool("1"), 1);
	assert_int_equal(parse_bool("0"), 0);
	assert_int_equal(parse_bool("42"), 1); /* Kata: any non-zero number */
	assert_int_equal(parse_bool("maybe"), -EINVAL);
}

static void test_errno_codes(void **state _unused_)
{
	assert_int_equal(errno_to_rpc_code(0), RPC_OK);
	assert_int_equal(errno_to_rpc_code(-ENOENT), RPC_NOT_FOUND);
	assert_int_equal(errno_to_rpc_code(ENOENT), RPC_NOT_FOUND);
	assert_int_equal(errno_to_rpc_code(-EEXIST), RPC_ALREADY_EXISTS);
	assert_int_equal(errno_to_rpc_code(-EINVAL), RPC_INVALID_ARGUMENT);
	assert_int_equal(errno_to_rpc_code(-ETIMEDOUT), RPC_DEADLINE_EXCEEDED);
	assert_int_equal(errno_to_rpc_code(-EPERM), RPC_PERMISSION_DENIED);
	assert_int_equal(errno_to_rpc_code(-ENOSYS), RPC_UNIMPLEMENTED);
	assert_int_equal(errno_to_rpc_code(-ENOMEM), RPC_RESOURCE_EXHAUSTED);
	assert_int_equal(errno_to_rpc_code(-EBUSY), RPC_FAILED_PRECONDITION);
	assert_int_equal(errno_to_rpc_code(-EUCLEAN), RPC_INTERNAL);
	assert_string_equal(rpc_code_name(RPC_NOT_FOUND), "NOT_FOUND");
	assert_string_equal(rpc_code_name(99), "UNKNOWN");
	assert_int_equal(rpc_code_from_name("UNIMPLEMENTED"), 12);
	assert_int_equal(rpc_code_from_name("4"), 4);
	assert_int_equal(rpc_code_from_name("NOPE"), -EINVAL);
}

static void test_log_levels(void **state _unused_)
{
	assert_int_equal(log_level_from_name("fatal"), LOG_LEVEL_CRITICAL);
	assert_int_equal(log_level_from_name("warning"), LOG_LEVEL_WARN);
	assert_int_equal(log_level_from_name("TRACE"), LOG_LEVEL_TRACE);
	assert_int_equal(log_level_from_name("loud"), -EINVAL);
}

static void test_log_json_line(void **state _unused_)
{
	int p[2];
	char buf[4096];
	assert_int_equal(pipe(p), 0);
	log_setup("ember-test", "agent", LOG_FORMAT_JSON);
	log_set_fd(p[1]);
	log_set_level(LOG_LEVEL_DEBUG);
	assert_int_equal(log_error_errno(-ENOENT, "open \"%s\": %m", "x\ny"), -ENOENT);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "{\"msg\":\"open \\\"x\\ny\\\": No such file or directory\""));
	assert_non_null(strstr(buf, "\"level\":\"ERROR\""));
	assert_non_null(strstr(buf, "\"name\":\"ember-test\""));
	assert_non_null(strstr(buf, "\"source\":\"agent\""));
	assert_true(buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1);
	/* Below the level nothing is written, and the error is still returned. */
	log_set_level(LOG_LEVEL_CRITICAL);
	assert_int_equal(log_warn_errno(EIO, "hidden"), -EIO);
	log_set_fd(STDERR_FILENO);
	close(p[1]);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	log_set_level(LOG_LEVEL_INFO);
}

static void test_bytebuf(void **state _unused_)
{
	struct bytebuf b = {0};
	uint8_t chunk[1000];
	memset(chunk, 7, sizeof(chunk));
	for (int i = 0; i < 100; i++)
		assert_int_equal(bytebuf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(bytebuf_used(&b), 100000);
	bytebuf_consume(&b, 99999);
	assert_int_equal(bytebuf_used(&b), 1);
	size_t cap = b.cap;
	/* A queue that drains as fast as it fills must not grow. */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(bytebuf_append(&b, chunk, sizeof(chunk)), 0);
		bytebuf_consume(&b, sizeof(chunk));
	}
	assert_int_equal(b.cap, cap);
	bytebuf_free(&b);
}

struct loop_ctx {
	int order[8];
	int n;
	struct ev_io a, b;
	int pa[2], pb[2];
};

static void timer_cb(struct ev_loop *loop, struct ev_timer *t)
{
	struct loop_ctx *c = t->data ? t->data : NULL;
	(void)loop;
	c->order[c->n++] = (int)(t->deadline_ns % 10);
	if (c->n == 3)
		ev_loop_exit(loop, 7);
}

static void test_loop_timers_in_order(void **state _unused_)
{
	_cleanup_(ev_loop_freep) struct ev_loop *loop = NULL;
	struct loop_ctx c = {0};
	struct ev_timer t[4];
	uint64_t now = now_monotonic_ns() / 10 * 10;
	assert_int_equal(ev_loop_new(&loop), 0);
	for (int i = 0; i < 4; i++)
		ev_timer_init(&t[i]);
	/* deadlines end in digits 3, 1, 2 (ms apart), plus one stopped before it fires */
	ev_timer_start(loop, &t[0], now + 3 * NSEC_PER_MSEC + 3, timer_cb, &c);
	ev_timer_start(loop, &t[1], now + 1 * NSEC_PER_MSEC + 1, timer_cb, &c);
	ev_timer_start(loop, &t[2], now + 2 * NSEC_PER_MSEC + 2, timer_cb, &c);
	ev_timer_start(loop, &t[3], now + 1 * NSEC_PER_MSEC + 9, timer_cb, &c);
	ev_timer_stop(loop, &t[3]);
	assert_false(ev_timer_armed(&t[3]));
	assert_int_equal(ev_loop_run(loop), 7);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.order[0], 1);
	assert_int_equal(c.order[1], 2);
	assert_int_equal(c.order[2], 3);
}

static void io_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents _unused_)
{
	struct loop_ctx *c = io->data;
	c->order[c->n++] = io == &c->a ? 'a' : 'b';
	/* Whichever runs first stops the other, whose event is pending in the same batch. */
	ev_io_stop(loop, io == &c->a ? &c->b : &c->a);
	ev_io_stop(loop, io);
	ev_loop_exit(loop, 0);
}

static void test_loop_stop_pending_watcher(void **state _unused_)
{
	_cleanup_(ev_loop_freep) struct ev_loop *loop = NULL;
	struct loop_ctx c = {0};
	assert_int_equal(ev_loop_new(&loop), 0);
	assert_int_equal(pipe2(c.pa, O_CLOEXEC), 0);
	assert_int_equal(pipe2(c.pb, O_CLOEXEC), 0);
	assert_int_equal(write(c.pa[1], "x", 1), 1);
	assert_int_equal(write(c.pb[1], "x", 1), 1);
	assert_int_equal(ev_io_start(loop, &c.a, c.pa[0], EPOLLIN, io_cb, &c), 0);
	assert_int_equal(ev_io_start(loop, &c.b, c.pb[0], EPOLLIN, io_cb, &c), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(c.n, 1);
	for (int i = 0; i < 2; i++) {
		close(c.pa[i]);
		close(c.pb[i]);
	}
}

static void test_read_write_file(void **state _unused_)
{
	char path[] = "/tmp/ember-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(write_file(path, "hello"), 0);
	char *s;
	size_t len;
	assert_int_equal(read_file(path, 100, &s, &len), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	free(s);
	assert_int_equal(read_file(path, 4, &s, &len), -EFBIG);
	unlink(path);
	assert_int_equal(read_file(path, 4, &s, &len), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmdline_words),
	    cmocka_unit_test(test_cmdline_stop),
	    cmocka_unit_test(test_parse_numbers),
	    cmocka_unit_test(test_parse_bool),
	    cmocka_unit_test(test_errno_codes),
	    cmocka_unit_test(test_log_levels),
	    cmocka_unit_test(test_log_json_line),
	    cmocka_unit_test(test_bytebuf),
	    cmocka_unit_test(test_loop_timers_in_order),
	    cmocka_unit_test(test_loop_stop_pending_watcher),
	    cmocka_unit_test(test_read_write_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
