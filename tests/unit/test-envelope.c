/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rpc/rpc.h"
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
