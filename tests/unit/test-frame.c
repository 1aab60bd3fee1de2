/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rpc/rpc.h"

struct seen {
	struct ttrpc_header h[64];
	uint8_t body[64][64];
	bool oversize[64];
	int n;
};

static int on_frame(void *data, const struct ttrpc_header *h, const uint8_t *body)
{
	struct seen *s = data;
	assert_true(s->n < 64);
	s->h[s->n] = *h;
	s->oversize[s->n] = body == NULL;
	if (body)
		memcpy(s->body[s->n], body, MIN(h->length, 64u));
	s->n++;
	return 0;
}

static void test_header_roundtrip(void **state _unused_)
{
	uint8_t b[TTRPC_HEADER_LEN];
	struct ttrpc_header h = {0x1a, 0x01020305, TTRPC_RESPONSE, 0x5}, d;
	ttrpc_header_encode(b, &h);
	const uint8_t want[] = {0, 0, 0, 0x1a, 1, 2, 3, 5, 2, 5};
	assert_memory_equal(b, want, sizeof(want));
	ttrpc_header_decode(b, &d);
	assert_int_equal(d.length, h.length);
	assert_int_equal(d.stream_id, h.stream_id);
	assert_int_equal(d.type, h.type);
	assert_int_equal(d.flags, h.flags);
}

static void build_stream(struct bytebuf *out)
{
	assert_int_equal(ttrpc_frame_append(out, 1, TTRPC_REQUEST, 0, "hello", 5), 0);
	assert_int_equal(ttrpc_frame_append(out, 3, TTRPC_REQUEST, 0, "", 0), 0);
	assert_int_equal(ttrpc_frame_append(out, 5, TTRPC_DATA, 1, "0123456789abcdef", 16), 0);
}

static void check_stream(const struct seen *s)
{
	assert_int_equal(s->n, 3);
	assert_int_equal(s->h[0].stream_id, 1);
	assert_int_equal(s->h[0].length, 5);
	assert_memory_equal(s->body[0], "hello", 5);
	assert_int_equal(s->h[1].length, 0);
	assert_false(s->oversize[1]);
	assert_int_equal(s->h[2].type, TTRPC_DATA);
	assert_int_equal(s->h[2].flags, 1);
	assert_memory_equal(s->body[2], "0123456789abcdef", 16);
}

static void test_split_at_every_byte(void **state _unused_)
{
	struct bytebuf b = {0};
	build_stream(&b);
	for (size_t split = 0; split <= b.len; split++) {
		struct ttrpc_parser p;
		struct seen s = {0};
		ttrpc_parser_init(&p, 1024);
		assert_int_equal(ttrpc_parser_feed(&p, b.data, split, on_frame, &s), 0);
		assert_int_equal(ttrpc_parser_feed(&p, b.data + split, b.len - split, on_frame, &s),
				 0);
		check_stream(&s);
		assert_false(ttrpc_parser_mid_frame(&p));
		ttrpc_parser_reset(&p);
	}
	/* and one byte at a time */
	struct ttrpc_parser p;
	struct seen s = {0};
	ttrpc_parser_init(&p, 1024);
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(ttrpc_parser_feed(&p, b.data + i, 1, on_frame, &s), 0);
	check_stream(&s);
	ttrpc_parser_reset(&p);
	bytebuf_free(&b);
}

static void test_oversize_discarded(void **state _unused_)
{
	struct bytebuf b = {0};
	uint8_t big[100];
	memset(big, 'x', sizeof(big));
	assert_int_equal(ttrpc_frame_append(&b, 7, TTRPC_REQUEST, 0, big, sizeof(big)), 0);
	assert_int_equal(ttrpc_frame_append(&b, 9, TTRPC_REQUEST, 0, "ok", 2), 0);
	for (size_t split = 0; split <= b.len; split += 7) {
		struct ttrpc_parser p;
		struct seen s = {0};
		ttrpc_parser_init(&p, 64);
		assert_int_equal(ttrpc_parser_feed(&p, b.data, split, on_frame, &s), 0);
		assert_int_equal(ttrpc_parser_feed(&p, b.data + split, b.len - split, on_frame, &s),
				 0);
		assert_int_equal(s.n, 2);
		assert_true(s.oversize[0]);
		assert_int_equal(s.h[0].stream_id, 7);
		assert_int_equal(s.h[0].length, 100);
		assert_false(s.oversize[1]);
		assert_memory_equal(s.body[1], "ok", 2);
		ttrpc_parser_reset(&p);
	}
	bytebuf_free(&b);
}

static void test_frame_append_limit(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(ttrpc_frame_append(&b, 1, 1, 0, NULL, TTRPC_MAX_DATA + 1), -EMSGSIZE);
	assert_int_equal(bytebuf_used(&b), 0);
	bytebuf_free(&b);
}

static int count_frame(void *data, const struct ttrpc_header *h, const uint8_t *body)
{
	size_t *n = data;
	/* The parser never hands over a body longer than its maximum. */
	assert_true(body == NULL || h->length <= 4096);
	(*n)++;
	return 0;
}

static void test_random_bytes(void **state _unused_)
{
	uint32_t seed = 12345;
	uint8_t buf[8192];
	for (int round = 0; round < 200; round++) {
		struct ttrpc_parser p;
		size_t frames = 0;
		ttrpc_parser_init(&p, 4096);
		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245 + 12345;
			/* Mostly small lengths so real frames do complete. */
			buf[i] = (uint8_t)(i % 10 < 2 ? 0 : seed >> 16);
		}
		size_t off = 0;
		while (off < sizeof(buf)) {
			seed = seed * 1103515245 + 12345;
			size_t n = MIN((size_t)(seed >> 20) % 300 + 1, sizeof(buf) - off);
			assert_int_equal(ttrpc_parser_feed(&p, buf + off, n, count_frame, &frames),
					 0);
			off += n;
		}
		ttrpc_parser_reset(&p);
	}
}

static int stop_cb(void *data _unused_, const struct ttrpc_header *h _unused_,
		   const uint8_t *body _unused_)
{
	return -ECANCELED;
}

static void test_callback_error_stops(void **state _unused_)
{
	struct bytebuf b = {0};
	struct ttrpc_parser p;
	build_stream(&b);
	ttrpc_parser_init(&p, 1024);
	assert_int_equal(ttrpc_parser_feed(&p, b.data, b.len, stop_cb, NULL), -ECANCELED);
	ttrpc_parser_reset(&p);
	bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_roundtrip),   cmocka_unit_test(test_split_at_every_byte),
	    cmocka_unit_test(test_oversize_discarded), cmocka_unit_test(test_frame_append_limit),
	    cmocka_unit_test(test_random_bytes),       cmocka_unit_test(test_callback_error_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
