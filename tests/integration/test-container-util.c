/* SPDX-License-Identifier: Apache-2.0 */
#include "test-container-util.h"

#include <dirent.h>
#include <libgen.h>
#include <limits.h>

static char rootfs_dir[64];

static void rootfs_cleanup(void)
{
	if (rootfs_dir[0])
		harness_sh("rm -rf %s", rootfs_dir);
}

const char *ct_rootfs(void)
{
	if (rootfs_dir[0])
		return rootfs_dir;
	char script[PATH_MAX];
	const char *src = getenv("EMBER_ROOTFS_SH");
	assert_non_null(src);
	snprintf(script, sizeof(script), "%s", src);
	strcpy(rootfs_dir, "/tmp/ember-rootfs-XXXXXX");
	assert_non_null(mkdtemp(rootfs_dir));
	assert_int_equal(harness_sh("bash %s %s", script, rootfs_dir), 0);
	atexit(rootfs_cleanup);
	return rootfs_dir;
}

static size_t count(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* Fills a Process in place; the arrays point to the caller's (static) data. */
static void fill_process(Grpc__Process *p, Grpc__User *u, const struct ct_test_spec *s)
{
	static const char *const default_env[] = {"PATH=/bin:/usr/bin", NULL};
	grpc__process__init(p);
	grpc__user__init(u);
	p->terminal = s->terminal;
	p->n_args = count(s->args);
	p->args = (char **)s->args;
	const char *const *env = s->env ? s->env : default_env;
	p->n_env = count(env);
	p->env = (char **)env;
	p->cwd = (char *)(s->cwd ? s->cwd : "/");
	u->uid = s->uid;
	u->gid = s->gid;
	u->n_additionalgids = s->n_gids;
	u->additionalgids = (uint32_t *)s->gids;
	u->username = (char *)(s->username ? s->username : "");
	p->user = u;
}

int ct_create(struct rpc_client *c, const char *cid, const struct ct_test_spec *s,
	      bool sandbox_pidns, char *msg)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Process proc;
	Grpc__User user;
	Grpc__Root root = GRPC__ROOT__INIT;
	ProtobufCMessage *resp = NULL;

	fill_process(&proc, &user, s);
	root.path = (char *)(s->root_path ? s->root_path : ct_rootfs());
	root.readonly = s->readonly;
	spec.process = &proc;
	spec.root = &root;
	spec.hostname = (char *)(s->hostname ? s->hostname : "");
	if (s->hooks) {
		spec.hooks = s->hooks;
		spec.version = "1.1.0";
	}
	/* Like every runtime's default spec: /proc of the container's pid namespace. */
	Grpc__Mount proc_mount = GRPC__MOUNT__INIT;
	Grpc__Mount *mounts[16];
	proc_mount.destination = "/proc";
	proc_mount.type = "proc";
	proc_mount.source = "proc";
	mounts[0] = &proc_mount;
	assert_true(s->n_mounts < ARRAY_SIZE(mounts));
	for (size_t i = 0; i < s->n_mounts; i++)
		mounts[i + 1] = s->mounts[i];
	spec.n_mounts = s->n_mounts + 1;
	spec.mounts = mounts;
	req.container_id = (char *)cid;
	req.exec_id = (char *)cid;
	req.oci = &spec;
	req.sandbox_pidns = sandbox_pidns;
	req.storages = s->storages;
	req.n_storages = s->n_storages;
	Grpc__Linux lx = GRPC__LINUX__INIT;
	if (s->resources || s->n_linux_devices) {
		lx.resources = s->resources;
		lx.devices = s->linux_devices;
		lx.n_devices = s->n_linux_devices;
		spec.linux_ = &lx;
	}
	req.devices = s->devices;
	req.n_devices = s->n_devices;
	int code = harness_call(c, "CreateContainer", &req.base,
				&google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

int ct_start(struct rpc_client *c, const char *cid, char *msg)
{
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	int code = harness_call(c, "StartContainer", &req.base,
				&google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

int ct_exec(struct rpc_client *c, const char *cid, const char *eid, const struct ct_test_spec *s,
	    char *msg)
{
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	Grpc__Process proc;
	Grpc__User user;
	ProtobufCMessage *resp = NULL;
	fill_process(&proc, &user, s);
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.process = &proc;
	int code = harness_call(c, "ExecProcess", &req.base, &google__protobuf__empty__descriptor,
				&resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

int ct_wait(struct rpc_client *c, const char *cid, const char *eid, char *msg)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	int code = harness_call(c, "WaitProcess", &req.base,
				&grpc__wait_process_response__descriptor, &resp, msg);
	if (code != RPC_OK)
		return -code;
	int st = ((Grpc__WaitProcessResponse *)resp)->status;
	protobuf_c_message_free_unpacked(resp, NULL);
	return st;
}

int ct_signal(struct rpc_client *c, const char *cid, const char *eid, uint32_t sig, char *msg)
{
	Grpc__SignalProcessRequest req = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.signal = sig;
	int code = harness_call(c, "SignalProcess", &req.base, &google__protobuf__empty__descriptor,
				&resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

int ct_remove(struct rpc_client *c, const char *cid, uint32_t timeout, char *msg)
{
	Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.timeout = timeout;
	int code = harness_call(c, "RemoveContainer", &req.base,
				&google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

int ct_write(struct rpc_client *c, const char *cid, const char *eid, const void *data, size_t len,
	     uint32_t *written, char *msg)
{
	Grpc__WriteStreamRequest req = GRPC__WRITE_STREAM_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.data.data = (uint8_t *)data;
	req.data.len = len;
	int code = harness_call(c, "WriteStdin", &req.base,
				&grpc__write_stream_response__descriptor, &resp, msg);
	if (code == RPC_OK) {
		if (written)
			*written = ((Grpc__WriteStreamResponse *)resp)->len;
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	return code;
}

int ct_close_stdin(struct rpc_client *c, const char *cid, const char *eid, char *msg)
{
	Grpc__CloseStdinRequest req = GRPC__CLOSE_STDIN_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	int code = harness_call(c, "CloseStdin", &req.base, &google__protobuf__empty__descriptor,
				&resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

int ct_read(struct rpc_client *c, const char *cid, const char *eid, bool err, uint32_t max,
	    char **out, size_t *len, char *msg)
{
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.len = max;
	int code = harness_call(c, err ? "ReadStderr" : "ReadStdout", &req.base,
				&grpc__read_stream_response__descriptor, &resp, msg);
	*out = NULL;
	*len = 0;
	if (code == RPC_OK) {
		Grpc__ReadStreamResponse *r = (Grpc__ReadStreamResponse *)resp;
		*out = malloc(r->data.len + 1);
		assert_non_null(*out);
		if (r->data.len)
			memcpy(*out, r->data.data, r->data.len);
		(*out)[r->data.len] = '\0';
		*len = r->data.len;
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	return code;
}

char *ct_read_all(struct rpc_client *c, const char *cid, const char *eid, bool err)
{
	size_t cap = 256, used = 0;
	char *all = malloc(cap), msg[512];
	assert_non_null(all);
	for (int i = 0; i < 100000; i++) {
		char *chunk;
		size_t n;
		int code = ct_read(c, cid, eid, err, 32768, &chunk, &n, msg);
		if (code != RPC_OK)
			fail_msg("read %s of %s/%s: %s: %s", err ? "stderr" : "stdout", cid, eid,
				 rpc_code_name(code), msg);
		if (n == 0) {
			free(chunk);
			break;
		}
		if (used + n + 1 > cap) {
			cap = (used + n + 1) * 2;
			all = realloc(all, cap);
			assert_non_null(all);
		}
		memcpy(all + used, chunk, n);
		used += n;
		free(chunk);
	}
	all[used] = '\0';
	return all;
}

void ct_create_started(struct rpc_client *c, const char *cid, const struct ct_test_spec *s)
{
	char msg[512];
	int code = ct_create(c, cid, s, false, msg);
	if (code != RPC_OK)
		fail_msg("create %s: %s: %s", cid, rpc_code_name(code), msg);
	code = ct_start(c, cid, msg);
	if (code != RPC_OK)
		fail_msg("start %s: %s: %s", cid, rpc_code_name(code), msg);
}

char *ct_run(struct rpc_client *c, const char *cid, const struct ct_test_spec *s, int *status)
{
	char msg[512];
	ct_create_started(c, cid, s);
	char *out = ct_read_all(c, cid, cid, false);
	*status = ct_wait(c, cid, cid, msg);
	int code = ct_remove(c, cid, 0, msg);
	if (code != RPC_OK)
		fail_msg("remove %s: %s: %s", cid, rpc_code_name(code), msg);
	return out;
}

char *ct_exec_run(struct rpc_client *c, const char *cid, const char *eid,
		  const struct ct_test_spec *s, int *status)
{
	char msg[512];
	int code = ct_exec(c, cid, eid, s, msg);
	if (code != RPC_OK)
		fail_msg("exec %s/%s: %s: %s", cid, eid, rpc_code_name(code), msg);
	char *out = ct_read_all(c, cid, eid, false);
	*status = ct_wait(c, cid, eid, msg);
	return out;
}

int agent_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int agent_mount_count(pid_t pid)
{
	char path[64], *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	assert_int_equal(read_file(path, 16 << 20, &text, NULL), 0);
	int n = 0;
	for (char *p = text; *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

long agent_rss_kb(pid_t pid)
{
	char path[64], *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	assert_int_equal(read_file(path, 1 << 20, &text, NULL), 0);
	const char *l = strstr(text, "VmRSS:");
	assert_non_null(l);
	long kb = strtol(l + 6, NULL, 10);
	free(text);
	return kb;
}

int agent_dir_entries(pid_t pid, const char *path)
{
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, path);
	DIR *d = opendir(full);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

struct agent_proc ct_agent;
struct rpc_client *ct_cl;

int ct_setup(void **state _unused_)
{
	ct_rootfs();
	harness_start_agent(&ct_agent, HARNESS_ISOLATE, NULL);
	ct_cl = harness_connect(&ct_agent);
	return 0;
}

int ct_teardown(void **state _unused_)
{
	rpc_client_free(ct_cl);
	ct_cl = NULL;
	harness_stop_agent(&ct_agent);
	return 0;
}
