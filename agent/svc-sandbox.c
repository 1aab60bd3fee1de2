/* SPDX-License-Identifier: Apache-2.0 */
/* CreateSandbox and DestroySandbox: the sandbox core (reference §6.2, §6.6, §4.3). */
#define LOG_SUBSYSTEM "sandbox"
#include "sandbox.h"
#include "kmod/kmod.h"
#include "mount/mount.h"
#include "google/protobuf/empty.pb-c.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#define RESOLV_PATH   KATA_RUN_DIR "/sandbox/resolv.conf"
#define MAX_DNS_LINES 1024
#define MAX_DNS_BYTES (64u << 10)

static void reply_empty(struct rpc_call *call)
{
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_call_reply(call, &empty.base);
}

static int bind_ns_file(int ns_fd, const char *name)
{
	char target[64], source[64];
	snprintf(target, sizeof(target), SANDBOX_NS_DIR "/%s", name);
	snprintf(source, sizeof(source), "/proc/self/fd/%d", ns_fd);
	(void)umount2(target, MNT_DETACH); /* a previous agent's */
	int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0)
		return -errno;
	close(fd);
	if (mount(source, target, NULL, MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

/*
 * Persistent ipc and uts namespaces for the pod. Kata unshares them in a helper thread;
 * the single-threaded agent unshares itself, keeps fds of the new namespaces and steps
 * back into its own, all in a few syscalls. The namespaces are also bind-mounted at
 * /run/sandbox-ns/{ipc,uts} where Kata keeps them (/var/run is /run in the guest).
 */
static int create_pod_namespaces(struct sandbox *sb, const char *hostname, char *err, size_t errsz)
{
	_cleanup_close_ int self_ipc = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int self_uts = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	int r;
	if (self_ipc < 0 || self_uts < 0)
		return snprintf(err, errsz, "cannot open the agent's namespaces: %m"), -errno;
	if (unshare(CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		return snprintf(err, errsz, "cannot create the pod namespaces: %m"), -errno;
	r = 0;
	if (hostname && *hostname && sethostname(hostname, strlen(hostname)) < 0) {
		r = -errno;
		snprintf(err, errsz, "hostname '%s': %m", hostname);
	}
	if (r == 0) {
		sb->ipc_fd = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
		sb->uts_fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
		if (sb->ipc_fd < 0 || sb->uts_fd < 0) {
			r = -errno;
			snprintf(err, errsz, "cannot open the pod namespaces: %m");
		}
	}
	if (setns(self_ipc, CLONE_NEWIPC) < 0 || setns(self_uts, CLONE_NEWUTS) < 0) {
		log_critical("cannot return to the agent's ipc/uts namespaces: %m");
		abort();
	}
	if (r < 0)
		return r;
	r = mkdir_p(SANDBOX_NS_DIR, 0755);
	if (r >= 0)
		r = bind_ns_file(sb->ipc_fd, "ipc");
	if (r >= 0)
		r = bind_ns_file(sb->uts_fd, "uts");
	if (r < 0) {
		snprintf(err, errsz, "cannot bind the pod namespaces under " SANDBOX_NS_DIR ": %s",
			 strerror(-r));
		return r;
	}
	sb->ns_mounted = true;
	return 0;
}

static int setup_dns(struct sandbox *sb, char **lines, size_t n, char *err, size_t errsz)
{
	struct bytebuf text = {0};
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = bytebuf_append(&text, lines[i], strlen(lines[i]));
		if (r >= 0)
			r = bytebuf_append(&text, "\n", 1);
	}
	if (r >= 0)
		r = bytebuf_append(&text, "", 1);
	if (r < 0) {
		bytebuf_free(&text);
		return snprintf(err, errsz, "out of memory"), r;
	}
	r = mkdir_p(KATA_RUN_DIR "/sandbox", 0755);
	if (r >= 0) {
		_cleanup_close_ int fd =
		    open(RESOLV_PATH, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		r = fd < 0 ? -errno
			   : loop_write(fd, text.data + text.head, bytebuf_used(&text) - 1);
	}
	bytebuf_free(&text);
	if (r < 0)
		return snprintf(err, errsz, "cannot write " RESOLV_PATH ": %s", strerror(-r)), r;
	/* Bound over the guest's file only when that exists and is not a directory. */
	struct stat st;
	if (stat("/etc/resolv.conf", &st) == 0 && !S_ISDIR(st.st_mode)) {
		if (mount(RESOLV_PATH, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
			return snprintf(err, errsz,
					"cannot bind " RESOLV_PATH " over /etc/resolv.conf: %m"),
			       -errno;
		sb->resolv_mounted = true;
	}
	return 0;
}

static void undo_sandbox(struct sandbox *sb)
{
	if (sb->resolv_mounted && umount2("/etc/resolv.conf", MNT_DETACH) < 0)
		log_warn_errno(errno, "cannot unmount /etc/resolv.conf: %m");
	sb->resolv_mounted = false;
	if (sb->ns_mounted) {
		(void)umount2(SANDBOX_NS_DIR "/ipc", MNT_DETACH);
		(void)umount2(SANDBOX_NS_DIR "/uts", MNT_DETACH);
		sb->ns_mounted = false;
	}
	sb->ipc_fd = safe_close(sb->ipc_fd);
	sb->uts_fd = safe_close(sb->uts_fd);
	hook_set_free(&sb->guest_hooks);
}

/* kernel_modules: Kata runs `modprobe -v name params...`; the guest has no modprobe, so
 * ember-init's loader resolves modules.dep and calls finit_module (bounded syscalls). */
static int load_kernel_modules(const Grpc__CreateSandboxRequest *req, char *err, size_t errsz)
{
	_cleanup_(kmod_db_freep) struct kmod_db *db = NULL;
	struct utsname u;
	char moddir[320], q[96];
	int r;

	if (req->n_kernel_modules == 0)
		return 0;
	if (req->n_kernel_modules > 256) {
		snprintf(err, errsz, "%zu kernel modules (limit 256)", req->n_kernel_modules);
		return -E2BIG;
	}
	uname(&u);
	snprintf(moddir, sizeof(moddir), "/lib/modules/%s", u.release);
	for (size_t i = 0; i < req->n_kernel_modules; i++) {
		const Grpc__KernelModule *m = req->kernel_modules[i];
		_cleanup_free_ char *params = NULL;
		size_t len = 1;
		for (size_t k = 0; k < m->n_parameters; k++)
			len += strlen(m->parameters[k]) + 1;
		if (len > 4096) {
			snprintf(err, errsz, "kernel module '%s': parameters longer than 4 KiB",
				 printable(m->name, q));
			return -E2BIG;
		}
		params = calloc(1, len);
		if (!params)
			return -ENOMEM;
		for (size_t k = 0; k < m->n_parameters; k++) {
			if (k)
				strcat(params, " ");
			strcat(params, m->parameters[k]);
		}
		if (!db) {
			r = kmod_db_open(moddir, &db);
			if (r < 0) {
				snprintf(err, errsz,
					 "kernel module '%s': cannot read %s/modules.dep: %s",
					 printable(m->name, q), moddir, strerror(-r));
				return r;
			}
		}
		r = kmod_load_with_deps(db, m->name, params);
		if (r < 0) {
			snprintf(err, errsz, "kernel module '%s': %s", printable(m->name, q),
				 r == -ENOENT ? "not in modules.dep" : strerror(-r));
			return r;
		}
		log_info("kernel module '%s' loaded%s%s", m->name, *params ? " with " : "", params);
	}
	return 0;
}

struct sandbox_storage_wait {
	struct rpc_call *call;
	struct sandbox *sb;
	const Grpc__CreateSandboxRequest *req;
	struct storage_op *op;
};

static void create_sandbox_finish(struct rpc_call *call, struct sandbox *sb,
				  const Grpc__CreateSandboxRequest *req);

static void create_sandbox_storages_done(void *data, int r, const char *msg)
{
	struct sandbox_storage_wait *w = data;
	struct rpc_call *call = w->call;
	struct sandbox *sb = w->sb;
	const Grpc__CreateSandboxRequest *req = w->req;

	free(w);
	if (r < 0) {
		/* The op rolled back its own mounts. */
		undo_sandbox(sb);
		rpc_call_reply_errno(call, r, "create sandbox: %s", msg);
		return;
	}
	create_sandbox_finish(call, sb, req);
}

static void create_sandbox_storages_cancel(struct rpc_call *call _unused_, void *data)
{
	struct sandbox_storage_wait *w = data;
	storage_op_cancel(w->op); /* rolls back, never calls done */
	undo_sandbox(w->sb);
	free(w);
}

void svc_create_sandbox(struct rpc_call *call, void *request)
{
	Grpc__CreateSandboxRequest *req = request;
	struct sandbox *sb = sandbox_of(call);
	char b[96], err[CT_ERR_MAX] = "";
	int r;

	if (sb->destroying) {
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "the sandbox is being destroyed");
		return;
	}
	if (sb->created) {
		rpc_call_reply_error(call, RPC_ALREADY_EXISTS, "sandbox '%s' already exists",
				     printable(sb->id, b));
		return;
	}
	if (sb->n_containers) {
		rpc_call_reply_error(call, RPC_FAILED_PRECONDITION,
				     "CreateSandbox after %u containers were created",
				     sb->n_containers);
		return;
	}
	if (req->hostname && strlen(req->hostname) > 64) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "hostname '%s' is longer than 64 characters",
				     printable(req->hostname, b));
		return;
	}
	if (req->sandbox_id && *req->sandbox_id && !sandbox_valid_id(req->sandbox_id)) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "invalid sandbox id '%s'",
				     printable(req->sandbox_id, b));
		return;
	}
	size_t dns_bytes = 0;
	for (size_t i = 0; i < req->n_dns; i++)
		dns_bytes += strlen(req->dns[i]) + 1;
	if (req->n_dns > MAX_DNS_LINES || dns_bytes > MAX_DNS_BYTES) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "%zu dns lines, %zu bytes (limits %d, %u)", req->n_dns,
				     dns_bytes, MAX_DNS_LINES, MAX_DNS_BYTES);
		return;
	}

	if (req->guest_hook_path && *req->guest_hook_path && req->guest_hook_path[0] != '/') {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "guest_hook_path '%s' is not absolute",
				     printable(req->guest_hook_path, b));
		return;
	}

	/* Kata wipes what a previous life of the sandbox left. Mounts below it are not
	 * followed (rm_rf_same_fs stops at other filesystems). */
	r = rm_rf_same_fs(KATA_RUN_DIR);
	if (r < 0)
		log_warn_errno(r, "cannot wipe " KATA_RUN_DIR ": %m");
	r = mkdir_p(KATA_RUN_DIR "/sandbox", 0755);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "cannot create " KATA_RUN_DIR "/sandbox: %m");
		return;
	}
	r = create_pod_namespaces(sb, req->hostname, err, sizeof(err));
	if (r >= 0)
		r = setup_dns(sb, req->dns, req->n_dns, err, sizeof(err));
	if (r < 0) {
		undo_sandbox(sb);
		rpc_call_reply_error(call, errno_to_rpc_code(r), "create sandbox: %s", err);
		return;
	}
	r = load_kernel_modules(req, err, sizeof(err));
	if (r < 0) {
		undo_sandbox(sb);
		rpc_call_reply_error(call, errno_to_rpc_code(r), "create sandbox: %s", err);
		return;
	}
	/* Guest hooks (reference §7.9): scanned once, merged into every container's hooks.
	 * Kata only warns when the directory cannot be read; a relative path is refused. */
	hook_set_free(&sb->guest_hooks);
	if (req->guest_hook_path && *req->guest_hook_path) {
		r = hook_set_scan_dir(&sb->guest_hooks, req->guest_hook_path, err, sizeof(err));
		if (r == -EINVAL || r == -ENOMEM) {
			hook_set_free(&sb->guest_hooks);
			undo_sandbox(sb);
			rpc_call_reply_error(call, errno_to_rpc_code(r), "create sandbox: %s", err);
			return;
		}
		if (r < 0)
			log_warn("create sandbox: %s", err);
		log_info("guest hooks from '%s': %zu prestart, %zu poststart, %zu poststop",
			 printable(req->guest_hook_path, b), sb->guest_hooks.kind[HOOK_PRESTART].n,
			 sb->guest_hooks.kind[HOOK_POSTSTART].n,
			 sb->guest_hooks.kind[HOOK_POSTSTOP].n);
	}
	if (req->n_storages) {
		/* The shared fs and the pod's shm; a block device may not be there yet, so the
		 * call parks until the storage module is done. */
		struct sandbox_storage_wait *w = calloc(1, sizeof(*w));
		if (!w) {
			undo_sandbox(sb);
			rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
		w->call = call;
		w->sb = sb;
		w->req = req;
		r = storage_add(sb->agent->storages, req->storages, req->n_storages,
				STORAGE_OWNER_SANDBOX, create_sandbox_storages_done, w, &w->op);
		if (r < 0) {
			free(w);
			undo_sandbox(sb);
			rpc_call_reply_errno(call, r, "create sandbox: storages: %m");
			return;
		}
		rpc_call_park(call, create_sandbox_storages_cancel, w);
		return;
	}
	create_sandbox_finish(call, sb, req);
}

static void create_sandbox_finish(struct rpc_call *call, struct sandbox *sb,
				  const Grpc__CreateSandboxRequest *req)
{
	char b[96];

	sb->sandbox_pidns = req->sandbox_pidns;
	free(sb->id);
	free(sb->hostname);
	sb->id = strdup(req->sandbox_id ? req->sandbox_id : "");
	sb->hostname = strdup(req->hostname ? req->hostname : "");
	sb->created = true;
	log_info("sandbox '%s' created", printable(sb->id, b));
	reply_empty(call);
}

/* ---- DestroySandbox ---- */

static void exit_cb(struct ev_loop *loop, struct ev_timer *t)
{
	struct sandbox *sb = t->data;
	/* The reply was flushed in an earlier loop iteration; now stop serving and let the
	 * agent exit with the status that makes ember-init power the VM off. */
	rpc_server_shutdown(sb->agent->server);
	ev_loop_exit(loop, EMBER_EXIT_SANDBOX_DESTROYED);
}

void sandbox_check_destroyed(struct sandbox *sb)
{
	if (!sb->destroying || sb->n_containers > 0 || ev_timer_armed(&sb->exit_timer))
		return;
	/* Every storage left, shared ones too, before the namespaces and DNS go. */
	storage_release_all(sb->agent->storages);
	undo_sandbox(sb);
	sb->pidns_fd = safe_close(sb->pidns_fd);
	log_info("sandbox '%s' destroyed", sb->id ? sb->id : "");
	if (sb->destroy_call) {
		reply_empty(sb->destroy_call);
		sb->destroy_call = NULL;
	}
	ev_timer_start(sb->loop, &sb->exit_timer, now_monotonic_ns(), exit_cb, sb);
}

static void destroy_cancel(struct rpc_call *call _unused_, void *data)
{
	struct sandbox *sb = data;
	sb->destroy_call = NULL; /* the teardown goes on */
}

void svc_destroy_sandbox(struct rpc_call *call, void *request _unused_)
{
	struct sandbox *sb = sandbox_of(call);
	if (sb->destroying) {
		rpc_call_reply_error(call, RPC_FAILED_PRECONDITION,
				     "the sandbox is already being destroyed");
		return;
	}
	sb->destroying = true;
	sb->destroy_call = call;
	rpc_call_park(call, destroy_cancel, sb);

	/* Parked calls end now with a clear error rather than with a dropped connection. */
	struct list_head *pos, *tmp;
	LIST_FOREACH (pos, &sb->procs)
		process_fail_parked(list_entry(pos, struct process, all_node), RPC_UNAVAILABLE,
				    "the sandbox is being destroyed");
	/* CGROUP: a waiting GetOOMEvent ends too (Kata drops its OOM channel here). */
	cgroup_oom_fail_waiters(sb->agent, RPC_UNAVAILABLE, "the sandbox is being destroyed");
	LIST_FOREACH_SAFE (pos, tmp, &sb->containers) {
		struct container *c = list_entry(pos, struct container, node);
		if (!c->removing)
			container_begin_remove(c);
	}
	sandbox_check_destroyed(sb);
}
