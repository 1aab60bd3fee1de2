/* SPDX-License-Identifier: Apache-2.0 */
/* CreateSandbox / DestroySandbox and what containers share in a pod. Each test runs its
 * own agent: DestroySandbox ends it. */
#include "test-container-util.h"

#include <signal.h>
#include <sys/wait.h>

static struct agent_proc agent;
static struct rpc_client *cl;

static int setup(void **state _unused_)
{
	ct_rootfs();
	harness_start_agent(&agent, HARNESS_ISOLATE, NULL);
	cl = harness_connect(&agent);
	return 0;
}

static int teardown(void **state _unused_)
{
	rpc_client_free(cl);
	cl = NULL;
	if (agent.pid > 0)
		harness_stop_agent(&agent);
	else
		harness_sh("rm -rf %s", agent.dir);
	return 0;
}

static int create_sandbox(const char *hostname, bool pidns, char *msg)
{
	static char *dns[] = {"nameserver 192.0.2.53", "search example.test"};
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.hostname = (char *)hostname;
	req.dns = dns;
	req.n_dns = 2;
	req.sandbox_pidns = pidns;
	req.sandbox_id = "pod1";
	int code = harness_call(cl, "CreateSandbox", &req.base,
				&google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static void start(const char *cid, const struct ct_test_spec *s, bool pidns)
{
	char msg[512];
	int code = ct_create(cl, cid, s, pidns, msg);
	if (code != RPC_OK)
		fail_msg("create %s: %s: %s", cid, rpc_code_name(code), msg);
	code = ct_start(cl, cid, msg);
	if (code != RPC_OK)
		fail_msg("start %s: %s: %s", cid, rpc_code_name(code), msg);
}

static void test_pod_shares_namespaces(void **state _unused_)
{
	char msg[512], path[256], *text = NULL;
	int status;
	assert_int_equal(create_sandbox("podhost", true, msg), RPC_OK);
	assert_int_equal(create_sandbox("again", true, msg), RPC_ALREADY_EXISTS);

	/* Kata's places: DNS lines, persistent namespaces. */
	snprintf(path, sizeof(path), "/proc/%d/root/run/kata-containers/sandbox/resolv.conf",
		 agent.pid);
	assert_int_equal(read_file(path, 4096, &text, NULL), 0);
	assert_string_equal(text, "nameserver 192.0.2.53\nsearch example.test\n");
	free(text);
	assert_int_equal(harness_sh("grep -q ' /run/sandbox-ns/ipc ' /proc/%d/mountinfo && "
				    "grep -q ' /run/sandbox-ns/uts ' /proc/%d/mountinfo && "
				    "grep -q ' /etc/resolv.conf ' /proc/%d/mountinfo",
				    agent.pid, agent.pid, agent.pid),
			 0);

	struct ct_test_spec pause = {.args = ARGS("sleep", "1000"), .hostname = "ignored"};
	start("pause", &pause, true);
	/* The second container sees the first one's processes (sandbox_pidns), the pod's
	 * hostname and the pod's ipc namespace. */
	struct ct_test_spec probe = {
	    .args = ARGS(
		"sh", "-c",
		"cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; readlink /proc/self/ns/ipc"),
	};
	start("app", &probe, true);
	char *out = ct_read_all(cl, "app", "app", false);
	assert_int_equal(ct_wait(cl, "app", "app", msg), 0);
	assert_int_equal(ct_remove(cl, "app", 0, msg), RPC_OK);
	/* without sandbox_pidns a container has a pid namespace of its own */
	struct ct_test_spec own = {.args = ARGS("cat", "/proc/1/cmdline")};
	char *out3 = ct_run(cl, "own", &own, &status);
	assert_string_equal(out3, "cat");
	free(out3);
	struct ct_test_spec ipc = {.args = ARGS("readlink", "/proc/1/ns/ipc")};
	char *out2 = ct_exec_run(cl, "pause", "ipc", &ipc, &status);
	char expect[256];
	snprintf(expect, sizeof(expect), "sleep 1000 \npodhost\n%s", out2);
	assert_string_equal(out, expect);
	free(out);
	free(out2);
}

/* DestroySandbox: removes every container, fails parked calls with a clear error, replies,
 * then the agent exits with EMBER_EXIT_SANDBOX_DESTROYED (init powers off). */
static void test_destroy(void **state _unused_)
{
	char msg[512];
	assert_int_equal(create_sandbox("pod", false, msg), RPC_OK);
	struct ct_test_spec s = {.args = ARGS("sleep", "1000")};
	start("c1", &s, false);
	start("c2", &s, false);

	/* A WaitProcess parked on a second connection. */
	struct rpc_client *c2 = harness_connect(&agent);
	Grpc__WaitProcessRequest wr = GRPC__WAIT_PROCESS_REQUEST__INIT;
	wr.container_id = "c1";
	wr.exec_id = "c1";
	uint8_t buf[128];
	size_t len = grpc__wait_process_request__pack(&wr, buf);
	uint32_t id, got;
	struct rpc_status st;
	struct ttrpc_slice payload;
	assert_int_equal(rpc_client_send(c2, "grpc.AgentService", "WaitProcess", buf, len, 0, &id),
			 0);
	assert_int_equal(rpc_client_flush(c2), 0);
	/* make sure it is parked: a later call on the same connection is answered first */
	uint32_t chk;
	assert_int_equal(rpc_client_send(c2, "grpc.Health", "Check", NULL, 0, 0, &chk), 0);
	assert_int_equal(rpc_client_flush(c2), 0);
	assert_int_equal(rpc_client_recv(c2, &got, &st, &payload), 0);
	assert_int_equal(got, chk);

	Grpc__DestroySandboxRequest dr = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	assert_int_equal(harness_call(cl, "DestroySandbox", &dr.base,
				      &google__protobuf__empty__descriptor, &resp, msg),
			 RPC_OK);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	assert_int_equal(rpc_client_recv(c2, &got, &st, &payload), 0);
	assert_int_equal(got, id);
	assert_int_equal(st.code, RPC_UNAVAILABLE);
	assert_non_null(strstr(st.message, "destroyed"));
	rpc_client_free(c2);

	int wst;
	assert_int_equal(waitpid(agent.pid, &wst, 0), agent.pid);
	assert_true(WIFEXITED(wst));
	assert_int_equal(WEXITSTATUS(wst), EMBER_EXIT_SANDBOX_DESTROYED);
	agent.pid = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pod_shares_namespaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
