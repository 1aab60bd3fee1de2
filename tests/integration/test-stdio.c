/* SPDX-License-Identifier: Apache-2.0 */
/* A container's output through ReadStdout/ReadStderr as a shim reads it: every byte, in
 * order, each reply at most the length asked for, one pipe read per call, EOF as empty data. */
#include "test-container-util.h"

#define WORD	 "0123456789abcdefghijklmnopqrstuvwxyz"
#define LINE	 WORD "\n" /* what `yes WORD` repeats */
#define LINE_LEN (sizeof(LINE) - 1)

/* Reads to EOF with requests of len bytes; checks the bytes against the repeated LINE and
 * returns how many arrived. */
static size_t read_pattern(const char *cid, bool err, uint32_t len, size_t *max_reply)
{
	size_t off = 0;
	*max_reply = 0;
	for (;;) {
		char *chunk, msg[512];
		size_t n;
		int code = ct_read(ct_cl, cid, cid, err, len, &chunk, &n, msg);
		if (code != RPC_OK)
			fail_msg("read %s: %s: %s", cid, rpc_code_name(code), msg);
		if (n == 0) {
			free(chunk);
			return off;
		}
		assert_true(n <= len);
		*max_reply = MAX(*max_reply, n);
		for (size_t i = 0; i < n; i++)
			if (chunk[i] != LINE[(off + i) % LINE_LEN])
				fail_msg("%s: byte %zu is 0x%02x, want 0x%02x", cid, off + i,
					 (uint8_t)chunk[i], (uint8_t)LINE[(off + i) % LINE_LEN]);
		off += n;
		free(chunk);
	}
}

/* 8 MiB streamed while the process writes, with the shim's 32 KiB reads and with 1 MiB ones. */
static void test_large_stdout_in_order(void **state _unused_)
{
	static const uint32_t lens[] = {32 << 10, 1 << 20};
	struct ct_test_spec s = {.args = ARGS("sh", "-c", "yes " WORD " | head -c 8388608")};
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		char cid[32], msg[512];
		size_t max_reply;
		snprintf(cid, sizeof(cid), "big%zu", i);
		ct_create_started(ct_cl, cid, &s);
		assert_int_equal(read_pattern(cid, false, lens[i], &max_reply), 8u << 20);
		assert_int_equal(ct_wait(ct_cl, cid, cid, msg), 0);
		assert_int_equal(ct_remove(ct_cl, cid, 0, msg), RPC_OK);
	}
}

/* What the pipe holds after the process exited comes in one reply when len allows (frames of
 * 200 KB), or in pieces of exactly len; then EOF. Both streams. The output fits the agent's
 * 256 KiB pipes (SANDBOX_PIPE_SIZE), so the process exits before anything is read. */
static void test_whole_pipe_in_one_reply(void **state _unused_)
{
	struct ct_test_spec s = {.args = ARGS("sh", "-c",
					      "yes " WORD " | head -c 200000; "
					      "yes " WORD " | head -c 150000 >&2")};
	char msg[512], *chunk;
	size_t n, max_reply;
	ct_create_started(ct_cl, "whole", &s);
	assert_int_equal(ct_wait(ct_cl, "whole", "whole", msg), 0);

	assert_int_equal(ct_read(ct_cl, "whole", "whole", false, 1000, &chunk, &n, msg), RPC_OK);
	assert_int_equal(n, 1000);
	assert_memory_equal(chunk, LINE, LINE_LEN);
	free(chunk);
	assert_int_equal(ct_read(ct_cl, "whole", "whole", false, 1 << 20, &chunk, &n, msg), RPC_OK);
	assert_int_equal(n, 199000);
	assert_int_equal(chunk[0], LINE[1000 % LINE_LEN]);
	free(chunk);
	assert_int_equal(ct_read(ct_cl, "whole", "whole", false, 1 << 20, &chunk, &n, msg), RPC_OK);
	assert_int_equal(n, 0);
	free(chunk);

	assert_int_equal(read_pattern("whole", true, 1 << 20, &max_reply), 150000);
	assert_int_equal(max_reply, 150000);
	assert_int_equal(ct_remove(ct_cl, "whole", 0, msg), RPC_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_large_stdout_in_order),
	    cmocka_unit_test(test_whole_pipe_in_one_reply),
	};
	return cmocka_run_group_tests(tests, ct_setup, ct_teardown);
}
