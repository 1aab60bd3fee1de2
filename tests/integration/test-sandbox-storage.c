/* SPDX-License-Identifier: Apache-2.0 */
/* Storages named by CreateSandbox and CreateContainer, mounted and released over the
 * sandbox's life the way the Go runtime drives it. */
#include "test-container-util.h"

#include <sys/wait.h>

static struct agent_proc agent;

static bool agent_has_mount(const char *target)
{
	char path[64], *s = NULL, needle[256];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", agent.pid);
	assert_int_equal(read_file(path, 1 << 20, &s, NULL), 0);
	snprintf(needle, sizeof(needle), " %s ", target);
	bool found = strstr(s, needle) != NULL;
	free(s);
	return found;
}

static Grpc__Storage *tmpfs_storage(Grpc__Storage *st, const char *driver, const char *source,
				    const char *mount_point, char **options, size_t n)
{
	grpc__storage__init(st);
	st->driver = (char *)driver;
	st->source = (char *)source;
	st->fstype = "tmpfs";
	st->mount_point = (char *)mount_point;
	st->options = options;
	st->n_options = n;
	return st;
}

static int create_sandbox(struct rpc_client *c, Grpc__Storage **storages, size_t n, char *msg)
{
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.hostname = "pod";
	req.sandbox_id = "sb1";
	req.storages = storages;
	req.n_storages = n;
	int code = harness_call(c, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
				&resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static void test_storage_lifecycle(void **state _unused_)
{
	char msg[512];
	harness_start_agent(&agent, HARNESS_ISOLATE, NULL);
	_cleanup_(rpc_client_freep) struct rpc_client *c = harness_connect(&agent);

	/* The Go runtime's pod shm. */
	char *shm_opts[] = {"noexec", "nosuid", "nodev", "mode=1777", "size=1048576"};
	Grpc__Storage shm, *sst[] = {&shm};
	tmpfs_storage(&shm, "ephemeral", "shm", "/run/kata-containers/sandbox/shm", shm_opts, 5);
	assert_int_equal(create_sandbox(c, sst, 1, msg), RPC_OK);
	assert_true(agent_has_mount("/run/kata-containers/sandbox/shm"));

	/* A container's emptyDir (medium=Memory), bind-mounted into it as the runtime does. */
	Grpc__Storage vol, *cst[] = {&vol};
	tmpfs_storage(&vol, "ephemeral", "tmpfs", "/run/kata-containers/sandbox/ephemeral/data",
		      NULL, 0);
	Grpc__Mount m = GRPC__MOUNT__INIT, *mounts[] = {&m};
	char *bind_opts[] = {"rbind", "rw"};
	m.destination = "/data";
	m.source = "/run/kata-containers/sandbox/ephemeral/data";
	m.type = "bind";
	m.options = bind_opts;
	m.n_options = 2;
	struct ct_test_spec s = {
	    .args = ARGS("/bin/sh", "-c", "echo kept > /data/file && cat /data/file"),
	    .mounts = mounts,
	    .n_mounts = 1,
	    .storages = cst,
	    .n_storages = 1,
	};
	int status = -1;
	_cleanup_free_ char *out = NULL;
	assert_int_equal(ct_create(c, "app", &s, false, msg), RPC_OK);
	assert_true(agent_has_mount("/run/kata-containers/sandbox/ephemeral/data"));
	assert_int_equal(ct_start(c, "app", msg), RPC_OK);
	out = ct_read_all(c, "app", "app", false);
	status = ct_wait(c, "app", "app", msg);
	assert_int_equal(status, 0);
	assert_string_equal(out, "kept\n");
	assert_int_equal(ct_remove(c, "app", 0, msg), RPC_OK);
	/* Released with its only user; the sandbox's shm stays. */
	assert_false(agent_has_mount("/run/kata-containers/sandbox/ephemeral/data"));
	assert_true(agent_has_mount("/run/kata-containers/sandbox/shm"));

	/* Kubernetes' termination message, read back the way the Go runtime does without a
	 * shared filesystem: GetDiagnosticData(termination_log). */
	assert_int_equal(
	    harness_sh("printf '' > /proc/%d/root/run/kata-containers/sandbox/shm/tlog", agent.pid),
	    0);
	Grpc__Mount tm = GRPC__MOUNT__INIT, *tmounts[] = {&tm};
	tm.destination = "/dev/termination-log";
	tm.source = "/run/kata-containers/sandbox/shm/tlog";
	tm.type = "bind";
	tm.options = bind_opts;
	tm.n_options = 2;
	struct ct_test_spec ts = {
	    .args = ARGS("/bin/sh", "-c", "echo 'bye from tl' > /dev/termination-log"),
	    .mounts = tmounts,
	    .n_mounts = 1,
	};
	free(ct_run(c, "tl-run", &ts, &status));
	assert_int_equal(status, 0);
	assert_int_equal(ct_create(c, "tl", &ts, false, msg), RPC_OK);
	assert_int_equal(ct_start(c, "tl", msg), RPC_OK);
	assert_int_equal(ct_wait(c, "tl", "tl", msg), 0);
	Grpc__GetDiagnosticDataRequest dd = GRPC__GET_DIAGNOSTIC_DATA_REQUEST__INIT;
	ProtobufCMessage *ddr = NULL;
	dd.log_type = "termination_log";
	dd.container_id = "tl";
	assert_int_equal(harness_call(c, "GetDiagnosticData", &dd.base,
				      &grpc__get_diagnostic_data_response__descriptor, &ddr, msg),
			 RPC_OK);
	assert_string_equal(((Grpc__GetDiagnosticDataResponse *)ddr)->data, "bye from tl\n");
	protobuf_c_message_free_unpacked(ddr, NULL);
	assert_int_equal(ct_remove(c, "tl", 0, msg), RPC_OK);
	dd.container_id = "gone";
	assert_int_equal(harness_call(c, "GetDiagnosticData", &dd.base,
				      &grpc__get_diagnostic_data_response__descriptor, &ddr, msg),
			 RPC_NOT_FOUND);
	assert_non_null(strstr(msg, "gone"));

	/* A storage the agent cannot handle fails the create, naming it, and leaves nothing:
	 * the same id can be created afterwards. */
	Grpc__Storage bad, *bst[] = {&bad};
	tmpfs_storage(&bad, "no-such-driver", "x", "/run/kata-containers/sandbox/bad", NULL, 0);
	struct ct_test_spec sb = {.args = ARGS("/bin/true"), .storages = bst, .n_storages = 1};
	assert_int_equal(ct_create(c, "bad", &sb, false, msg), RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "no-such-driver"));
	struct ct_test_spec ok = {.args = ARGS("/bin/true")};
	assert_int_equal(ct_create(c, "bad", &ok, false, msg), RPC_OK);
	assert_int_equal(ct_remove(c, "bad", 0, msg), RPC_OK);

	/* DestroySandbox unmounts what is left and the agent exits with the status that makes
	 * ember-init power the VM off. */
	Grpc__DestroySandboxRequest dreq = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", agent.pid);
	assert_int_equal(harness_call(c, "DestroySandbox", &dreq.base,
				      &google__protobuf__empty__descriptor, &resp, msg),
			 RPC_OK);
	protobuf_c_message_free_unpacked(resp, NULL);
	int ws;
	assert_int_equal(waitpid(agent.pid, &ws, 0), agent.pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), EMBER_EXIT_SANDBOX_DESTROYED);
	harness_sh("rm -rf %s", agent.dir);
}

/* kernel_modules: a module the guest kernel does not have fails CreateSandbox naming it (on
 * the host only this case runs: loading a real module changes the machine; the VM suite
 * loads one), and leaves nothing behind: the next CreateSandbox works. */
static void test_kernel_module_missing(void **state _unused_)
{
	char msg[512];
	harness_start_agent(&agent, HARNESS_ISOLATE, NULL);
	_cleanup_(rpc_client_freep) struct rpc_client *c = harness_connect(&agent);
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__KernelModule km = GRPC__KERNEL_MODULE__INIT, *kms[] = {&km};
	char *params[] = {"debug=1"};
	ProtobufCMessage *resp = NULL;
	km.name = "ember_no_such_module";
	km.parameters = params;
	km.n_parameters = 1;
	req.hostname = "pod";
	req.kernel_modules = kms;
	req.n_kernel_modules = 1;
	assert_int_equal(harness_call(c, "CreateSandbox", &req.base,
				      &google__protobuf__empty__descriptor, &resp, msg),
			 RPC_NOT_FOUND);
	assert_non_null(strstr(msg, "ember_no_such_module"));
	assert_int_equal(create_sandbox(c, NULL, 0, msg), RPC_OK);
	harness_stop_agent(&agent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_storage_lifecycle),
	    cmocka_unit_test(test_kernel_module_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
