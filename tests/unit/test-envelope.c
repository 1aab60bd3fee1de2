/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rpc/rpc.h"
#include "agent.pb-c.h"
#include "health.pb-c.h"

/* Byte examples of the protocol reference, §1.10. */
static void test_request_example(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(
	    ttrpc_request_frame_append(&b, 1, "grpc.Health", "Check", NULL, 0, 30 * 1000000000LL),
	    0);
	const uint8_t want[] = {0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x01, 0x01,
				0x00, 0x0a, 0x0b, 'g',	'r',  'p',  'c',  '.',	'H',
				'e',  'a',  'l',  't',	'h',  0x12, 0x05, 'C',	'h',
				'e',  'c',  'k',  0x20, 0x80, 0xd8, 0x8e, 0xe1, 0x6f};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));

	struct ttrpc_request req;
	assert_int_equal(ttrpc_request_decode(b.data + 10, b.len - 10, &req), 0);
	assert_int_equal(req.service.len, 11);
	assert_memory_equal(req.service.ptr, "grpc.Health", 11);
	assert_memory_equal(req.method.ptr, "Check", 5);
	assert_int_equal(req.payload.len, 0);
	assert_int_equal(req.timeout_nano, 30000000000LL);
	bytebuf_free(&b);
}

static void test_response_ok_example(void **state _unused_)
{
	struct bytebuf b = {0};
	Grpc__HealthCheckResponse h = GRPC__HEALTH_CHECK_RESPONSE__INIT;
	h.status = GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	assert_int_equal(ttrpc_response_frame_append(&b, 1, 0, NULL, &h.base), 0);
	const uint8_t want[] = {0, 0, 0, 6, 0, 0, 0, 1, 2, 0, 0x0a, 0x00, 0x12, 0x02, 0x08, 0x01};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));

	struct ttrpc_response resp;
	assert_int_equal(ttrpc_response_decode(b.data + 10, b.len - 10, &resp), 0);
	assert_true(resp.has_status);
	assert_int_equal(resp.code, 0);
	assert_int_equal(resp.payload.len, 2);
	bytebuf_free(&b);
}

static void test_response_error_example(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(ttrpc_response_frame_append(&b, 3, RPC_NOT_FOUND, "x", NULL), 0);
	const uint8_t want[] = {0, 0,	 0,    7,    0,	   0,	 0,    3,  2,
				0, 0x0a, 0x05, 0x08, 0x05, 0x12, 0x01, 'x'};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	bytebuf_free(&b);
}

static void test_response_without_status(void **state _unused_)
{
	/* containerd/ttrpc 1.1 omits the status on success: "12 02 08 01". */
	const uint8_t body[] = {0x12, 0x02, 0x08, 0x01};
	struct ttrpc_response resp;
	assert_int_equal(ttrpc_response_decode(body, sizeof(body), &resp), 0);
	assert_false(resp.has_status);
	assert_int_equal(resp.code, 0);
	assert_int_equal(resp.payload.len, 2);
}

static void test_unknown_fields_skipped(void **state _unused_)
{
	/* metadata (5), an unknown varint (9), fixed64 (10), fixed32 (11), then method */
	const uint8_t body[] = {0x0a, 0x01, 's',  0x2a, 0x04, 0x0a, 0x00, 0x12, 0x00, 0x48,
				0x96, 0x01, 0x51, 1,	2,    3,    4,	  5,	6,    7,
				8,    0x5d, 1,	  2,	3,    4,    0x12, 0x01, 'm'};
	struct ttrpc_request req;
	assert_int_equal(ttrpc_request_decode(body, sizeof(body), &req), 0);
	assert_int_equal(req.n_metadata, 1);
	assert_memory_equal(req.method.ptr, "m", 1);
}

static void test_malformed(void **state _unused_)
{
	struct ttrpc_request req;
	struct ttrpc_response resp;
	const uint8_t overrun[] = {0x0a, 0x05, 'a'};
	const uint8_t bad_varint[] = {0x20, 0xff, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	const uint8_t truncated_varint[] = {0x20, 0x80};
	const uint8_t group[] = {0x0b};
	const uint8_t field0[] = {0x00, 0x01};
	const uint8_t wrong_type[] = {0x0d, 1, 2, 3, 4}; /* service as fixed32 */
	assert_int_equal(ttrpc_request_decode(overrun, sizeof(overrun), &req), -EBADMSG);
	assert_int_equal(ttrpc_request_decode(bad_varint, sizeof(bad_varint), &req), -EBADMSG);
	assert_int_equal(ttrpc_request_decode(truncated_varint, sizeof(truncated_varint), &req),
			 -EBADMSG);
	assert_int_equal(ttrpc_request_decode(group, sizeof(group), &req), -EBADMSG);
	assert_int_equal(ttrpc_request_decode(field0, sizeof(field0), &req), -EBADMSG);
	assert_int_equal(ttrpc_request_decode(wrong_type, sizeof(wrong_type), &req), -EBADMSG);
	const uint8_t bad_status[] = {0x0a, 0x02, 0x08, 0x80};
	assert_int_equal(ttrpc_response_decode(bad_status, sizeof(bad_status), &resp), -EBADMSG);
}

static void test_negative_code_and_addr(void **state _unused_)
{
	struct bytebuf b = {0};
	struct ttrpc_response resp;
	assert_int_equal(ttrpc_response_frame_append(&b, 1, -1, "neg", NULL), 0);
	assert_int_equal(ttrpc_response_decode(b.data + 10, b.len - 10, &resp), 0);
	assert_int_equal(resp.code, -1);
	bytebuf_free(&b);

	struct rpc_addr a;
	assert_int_equal(rpc_addr_parse("vsock://-1:1024", &a), 0);
	assert_int_equal(a.kind, RPC_ADDR_VSOCK);
	assert_int_equal(a.cid, 0xffffffffu);
	assert_int_equal(a.port, 1024);
	assert_int_equal(rpc_addr_parse("vsock://3:1024", &a), 0);
	assert_int_equal(a.cid, 3);
	assert_int_equal(rpc_addr_parse("unix:///run/a.sock", &a), 0);
	assert_int_equal(a.kind, RPC_ADDR_UNIX);
	assert_string_equal(a.path, "/run/a.sock");
	assert_int_equal(rpc_addr_parse("/run/b.sock", &a), 0);
	assert_int_equal(a.kind, RPC_ADDR_UNIX);
	assert_int_equal(rpc_addr_parse("serial:///dev/virtio-ports/agent.channel.0", &a), 0);
	assert_int_equal(a.kind, RPC_ADDR_SERIAL);
	assert_int_equal(rpc_addr_parse("hvsock:///run/vmm/kata.hvsock:1024", &a), 0);
	assert_int_equal(a.kind, RPC_ADDR_HVSOCK);
	assert_string_equal(a.path, "/run/vmm/kata.hvsock");
	assert_int_equal(a.port, 1024);
	assert_int_equal(rpc_addr_parse("vsock://x:1", &a), -EINVAL);
	assert_int_equal(rpc_addr_parse("vsock://3", &a), -EINVAL);
	assert_int_equal(rpc_addr_parse("tcp://1.2.3.4:5", &a), -EINVAL);
	assert_int_equal(rpc_addr_parse("unix://", &a), -EINVAL);
	assert_int_equal(rpc_addr_parse("hvsock://rel:1", &a), -EINVAL);
}

/* A message with only the bytes field `field` set, as protobuf-c builds it: ReadStreamResponse
 * (data = 1) or WriteStreamRequest (data = 3, ids left empty). */
static ProtobufCMessage *bytes_message(uint32_t field, uint8_t *data, size_t n,
				       Grpc__ReadStreamResponse *rs, Grpc__WriteStreamRequest *ws)
{
	if (field == 1) {
		grpc__read_stream_response__init(rs);
		rs->data.data = data;
		rs->data.len = n;
		return &rs->base;
	}
	grpc__write_stream_request__init(ws);
	ws->data.data = data;
	ws->data.len = n;
	return &ws->base;
}

/* The frame built around bytes in place is the frame of the same protobuf-c message, byte for
 * byte; its payload is protobuf-c's own packing, and decodes in place to the same bytes. */
static void check_bytes_frame(uint32_t field, size_t n)
{
	uint8_t *data = malloc(n + 1);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	Grpc__ReadStreamResponse rs;
	Grpc__WriteStreamRequest ws;
	ProtobufCMessage *msg = bytes_message(field, data, n, &rs, &ws);

	struct bytebuf want = {0};
	assert_int_equal(ttrpc_response_frame_append(&want, 7, 0, NULL, msg), 0);
	size_t pre = ttrpc_bytes_frame_prefix_len(field, n);
	uint8_t *got = malloc(pre + n);
	assert_non_null(got);
	assert_int_equal(ttrpc_bytes_frame_prefix(got, 7, field, n), 0);
	memcpy(got + pre, data, n);
	assert_int_equal(bytebuf_used(&want), pre + n);
	assert_memory_equal(want.data + want.head, got, pre + n);

	struct ttrpc_response r;
	assert_int_equal(
	    ttrpc_response_decode(got + TTRPC_HEADER_LEN, pre + n - TTRPC_HEADER_LEN, &r), 0);
	assert_true(r.has_status);
	assert_int_equal(r.code, 0);
	size_t plen = protobuf_c_message_get_packed_size(msg);
	uint8_t *packed = malloc(plen + 1);
	assert_non_null(packed);
	assert_int_equal(protobuf_c_message_pack(msg, packed), plen);
	assert_int_equal(r.payload.len, plen);
	assert_memory_equal(r.payload.ptr, packed, plen);
	struct ttrpc_slice s;
	assert_int_equal(ttrpc_bytes_field_decode(r.payload.ptr, r.payload.len, field, &s), 0);
	assert_int_equal(s.len, n);
	assert_memory_equal(s.ptr, data, n);

	free(packed);
	free(got);
	bytebuf_free(&want);
	free(data);
}

static void test_bytes_frame_matches_protobuf_c(void **state _unused_)
{
	/* Around each varint length step of the data and of the payload length. */
	static const size_t sizes[] = {
	    0,	       1,	2,	 120,	  121,	   122,	    125,    126,   127,
	    128,       129,	16380,	 16381,	  16382,   16383,   16384,  16385, 65536,
	    (1 << 20), 2097146, 2097147, 2097148, 2097151, 2097152, 2097153};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		check_bytes_frame(1, sizes[i]);
		check_bytes_frame(3, sizes[i]);
	}
}

static void test_bytes_frame_limits(void **state _unused_)
{
	/* The largest data that fits TTRPC_MAX_DATA, as protobuf-c's frame agrees. */
	size_t max = TTRPC_MAX_DATA - (2 + 1 + 4 + 1 + 4);
	check_bytes_frame(1, max);
	uint8_t pre[32];
	assert_int_equal(ttrpc_bytes_frame_prefix(pre, 1, 1, max + 1), -EMSGSIZE);
	uint8_t *data = calloc(1, max + 1);
	assert_non_null(data);
	Grpc__ReadStreamResponse rs;
	Grpc__WriteStreamRequest ws;
	struct bytebuf b = {0};
	assert_int_equal(
	    ttrpc_response_frame_append(&b, 1, 0, NULL, bytes_message(1, data, max + 1, &rs, &ws)),
	    -EMSGSIZE);
	free(data);

	/* Room reserved for a larger count fits any smaller one. */
	for (size_t n = 0; n < 70000; n++) {
		assert_true(ttrpc_bytes_frame_prefix_len(1, n) <=
			    ttrpc_bytes_frame_prefix_len(1, n + 1));
		assert_true(ttrpc_bytes_frame_prefix_len(16, n) <=
			    ttrpc_bytes_frame_prefix_len(16, n + 1));
	}
	for (size_t n = 2097100; n < 2097200; n++)
		assert_true(ttrpc_bytes_frame_prefix_len(1, n) <=
			    ttrpc_bytes_frame_prefix_len(1, n + 1));
	/* A two-byte key (field 16): 0x82 0x01. */
	assert_int_equal(ttrpc_bytes_frame_prefix_len(16, 5), TTRPC_HEADER_LEN + 2 + 2 + 2 + 1);
	assert_int_equal(ttrpc_bytes_frame_prefix(pre, 1, 16, 5), 0);
	const uint8_t want16[] = {0x0a, 0x00, 0x12, 0x08, 0x82, 0x01, 0x05};
	assert_memory_equal(pre + TTRPC_HEADER_LEN, want16, sizeof(want16));
}

static void test_bytes_field_decode(void **state _unused_)
{
	Grpc__WriteStreamRequest ws = GRPC__WRITE_STREAM_REQUEST__INIT;
	uint8_t buf[128];
	ws.container_id = "c1";
	ws.exec_id = "e1";
	ws.data.data = (uint8_t *)"xyz";
	ws.data.len = 3;
	size_t n = protobuf_c_message_pack(&ws.base, buf);
	struct ttrpc_slice s;
	/* other fields before it are skipped */
	assert_int_equal(ttrpc_bytes_field_decode(buf, n, 3, &s), 0);
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.ptr, "xyz", 3);
	assert_int_equal(ttrpc_bytes_field_decode(buf, n, 2, &s), 0);
	assert_memory_equal(s.ptr, "e1", 2);
	/* absent: empty */
	assert_int_equal(ttrpc_bytes_field_decode(buf, n, 9, &s), 0);
	assert_int_equal(s.len, 0);
	assert_int_equal(ttrpc_bytes_field_decode(buf, 0, 1, &s), 0);
	assert_int_equal(s.len, 0);
	/* two messages concatenated merge: the last occurrence wins, as protobuf-c's unpack */
	ws.data.data = (uint8_t *)"last";
	ws.data.len = 4;
	size_t n2 = n + protobuf_c_message_pack(&ws.base, buf + n);
	assert_int_equal(ttrpc_bytes_field_decode(buf, n2, 3, &s), 0);
	assert_int_equal(s.len, 4);
	assert_memory_equal(s.ptr, "last", 4);
	Grpc__WriteStreamRequest *u = grpc__write_stream_request__unpack(NULL, n2, buf);
	assert_non_null(u);
	assert_int_equal(u->data.len, 4);
	grpc__write_stream_request__free_unpacked(u, NULL);
	/* malformed: truncated, or the field is not length-delimited */
	assert_int_equal(ttrpc_bytes_field_decode(buf, n - 1, 3, &s), -EBADMSG);
	const uint8_t varint_field[] = {0x08, 0x01};
	assert_int_equal(ttrpc_bytes_field_decode(varint_field, sizeof(varint_field), 1, &s),
			 -EBADMSG);
	const uint8_t overrun[] = {0x0a, 0x05, 'a'};
	assert_int_equal(ttrpc_bytes_field_decode(overrun, sizeof(overrun), 1, &s), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_example),
	    cmocka_unit_test(test_response_ok_example),
	    cmocka_unit_test(test_response_error_example),
	    cmocka_unit_test(test_response_without_status),
	    cmocka_unit_test(test_unknown_fields_skipped),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_negative_code_and_addr),
	    cmocka_unit_test(test_bytes_frame_matches_protobuf_c),
	    cmocka_unit_test(test_bytes_frame_limits),
	    cmocka_unit_test(test_bytes_field_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
