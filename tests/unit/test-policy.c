/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC policy parser (docs/policy.md) and the ember.allow_cid list. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest.h"

#include <sys/un.h>
#include <linux/vm_sockets.h>

static const struct rpc_method methods[] = {
    {"CreateContainer", NULL, NULL}, {"ExecProcess", NULL, NULL}, {"CopyFile", NULL, NULL},
    {"SetPolicy", NULL, NULL},	     {"GetMetrics", NULL, NULL},
};
static const struct rpc_service svc = {"grpc.AgentService", methods, ARRAY_SIZE(methods)};

static struct policy *parse_ok(const char *text)
{
	struct policy *p = NULL;
	char err[256];
	int r = policy_parse(text, strlen(text), &svc, &p, err, sizeof(err));
	if (r < 0)
		fail_msg("policy_parse(%s): %d: %s", text, r, err);
	assert_non_null(p);
	return p;
}

/* Returns the error message; the parse must fail with -EINVAL. */
static const char *parse_bad(const char *text)
{
	static char err[256];
	struct policy *p = NULL;
	int r = policy_parse(text, strlen(text), &svc, &p, err, sizeof(err));
	assert_int_equal(r, -EINVAL);
	assert_null(p);
	assert_true(err[0] != '\0');
	return err;
}

static void test_default_allow_with_denials(void **state _unused_)
{
	struct policy *p = parse_ok("# an image that forbids exec\n"
				    "default allow\n"
				    "\n"
				    "deny ExecProcess CopyFile   # no shells, no files\n");
	assert_true(policy_allows(p, "CreateContainer"));
	assert_true(policy_allows(p, "SetPolicy"));
	assert_false(policy_allows(p, "ExecProcess"));
	assert_false(policy_allows(p, "CopyFile"));
	/* A method the table does not know falls to the default. */
	assert_true(policy_allows(p, "NoSuchMethod"));
	policy_free(p);
}

static void test_default_deny_with_allowances(void **state _unused_)
{
	struct policy *p = parse_ok("allow CreateContainer\r\n\tallow GetMetrics\ndefault deny");
	assert_true(policy_allows(p, "CreateContainer"));
	assert_true(policy_allows(p, "GetMetrics"));
	assert_false(policy_allows(p, "ExecProcess"));
	assert_false(policy_allows(p, "SetPolicy"));
	policy_free(p);
}

static void test_repeats_of_the_same_verdict_are_fine(void **state _unused_)
{
	struct policy *p = parse_ok("default deny\nallow GetMetrics\nallow GetMetrics CopyFile\n");
	assert_true(policy_allows(p, "GetMetrics"));
	assert_true(policy_allows(p, "CopyFile"));
	policy_free(p);
}

static void test_no_policy_allows_everything(void **state _unused_)
{
	assert_true(policy_allows(NULL, "ExecProcess"));
}

static void test_deny_all(void **state _unused_)
{
	struct policy *p = NULL;
	assert_int_equal(policy_deny_all(&svc, &p), 0);
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		assert_false(policy_allows(p, methods[i].name));
	policy_free(p);
}

static void test_bad_lines_are_named(void **state _unused_)
{
	const char *e;

	e = parse_bad("default allow\nalow ExecProcess\n");
	assert_non_null(strstr(e, "line 2"));
	assert_non_null(strstr(e, "'alow'"));

	e = parse_bad("default allow\n\n# comment\ndeny ExecProces\n");
	assert_non_null(strstr(e, "line 4"));
	assert_non_null(strstr(e, "unknown method 'ExecProces'"));

	e = parse_bad("default allow\ndeny\n");
	assert_non_null(strstr(e, "line 2"));
	assert_non_null(strstr(e, "at least one method"));

	e = parse_bad("default maybe\n");
	assert_non_null(strstr(e, "line 1"));

	e = parse_bad("default allow\ndefault deny\n");
	assert_non_null(strstr(e, "line 2"));
	assert_non_null(strstr(e, "first on line 1"));

	e = parse_bad("default deny\nallow ExecProcess\ndeny ExecProcess\n");
	assert_non_null(strstr(e, "line 3"));
	assert_non_null(strstr(e, "ExecProcess is allowed on line 2"));

	/* Control bytes from the peer are not echoed raw. */
	e = parse_bad("default deny\nallow Exec\x1b[2JProcess\n");
	assert_null(strchr(e, '\x1b'));
}

static void test_missing_default(void **state _unused_)
{
	const char *e = parse_bad("deny ExecProcess\n");
	assert_non_null(strstr(e, "default"));
	parse_bad("");
	parse_bad("# only a comment\n");
}

static void test_bounds(void **state _unused_)
{
	struct policy *p = NULL;
	char err[128];
	size_t big = POLICY_MAX_SIZE + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, '#', big);
	assert_int_equal(policy_parse(text, big, &svc, &p, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "at most"));
	free(text);

	/* An embedded NUL would hide the rest of the text from a reviewer. */
	assert_int_equal(
	    policy_parse("default allow\0deny ExecProcess", 31, &svc, &p, err, sizeof(err)),
	    -EINVAL);
	assert_null(p);

	/* A line with more words than the parser splits is an error, not a truncation. */
	char line[2048] = "default allow\ndeny";
	for (int i = 0; i < 100; i++)
		strcat(line, " ExecProcess");
	parse_bad(line);
}

static void test_cid_list(void **state _unused_)
{
	uint32_t cids[4];
	size_t n = 0;
	assert_int_equal(guest_parse_cid_list("1,3", cids, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cids[0], 1);
	assert_int_equal(cids[1], 3);
	assert_int_equal(guest_parse_cid_list("4294967295", cids, 4, &n), 0);
	assert_int_equal(cids[0], 4294967295u);
	assert_int_equal(guest_parse_cid_list("", cids, 4, &n), -EINVAL);
	assert_int_equal(guest_parse_cid_list("1,", cids, 4, &n), -EINVAL);
	assert_int_equal(guest_parse_cid_list(",1", cids, 4, &n), -EINVAL);
	assert_int_equal(guest_parse_cid_list("1;3", cids, 4, &n), -EINVAL);
	assert_int_equal(guest_parse_cid_list("-1", cids, 4, &n), -EINVAL);
	assert_int_equal(guest_parse_cid_list("4294967296", cids, 4, &n), -EINVAL);
	assert_int_equal(guest_parse_cid_list("1,2,3,4,5", cids, 4, &n), -E2BIG);
	assert_int_equal(guest_parse_cid_list(NULL, cids, 4, &n), -EINVAL);
}

static bool vsock_peer(const struct guest *g, uint32_t cid)
{
	struct sockaddr_vm svm = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = 1234};
	return guest_peer_allowed(g, (struct sockaddr *)&svm, sizeof(svm), "test");
}

static void test_peer_filter(void **state _unused_)
{
	struct guest g = {0};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	assert_true(vsock_peer(&g, VMADDR_CID_HOST));
	assert_false(vsock_peer(&g, 1));
	assert_false(vsock_peer(&g, 3));
	assert_false(vsock_peer(&g, VMADDR_CID_ANY));
	assert_true(guest_peer_allowed(&g, (struct sockaddr *)&sun, sizeof(sun), "test"));

	/* ember.allow_cid=1,3 (vsock_loopback in tests, a sibling VM) */
	assert_int_equal(
	    guest_parse_cid_list("1,3", g.allow_cids, GUEST_MAX_ALLOW_CIDS, &g.n_allow_cids), 0);
	assert_true(vsock_peer(&g, 1));
	assert_true(vsock_peer(&g, 3));
	assert_true(vsock_peer(&g, VMADDR_CID_HOST));
	assert_false(vsock_peer(&g, 4));

	/* A truncated vsock address is refused, not read past its end. */
	struct sockaddr_vm svm = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST};
	assert_false(guest_peer_allowed(&g, (struct sockaddr *)&svm, sizeof(sa_family_t), "test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_allow_with_denials),
	    cmocka_unit_test(test_default_deny_with_allowances),
	    cmocka_unit_test(test_repeats_of_the_same_verdict_are_fine),
	    cmocka_unit_test(test_no_policy_allows_everything),
	    cmocka_unit_test(test_deny_all),
	    cmocka_unit_test(test_bad_lines_are_named),
	    cmocka_unit_test(test_missing_default),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_cid_list),
	    cmocka_unit_test(test_peer_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
