/* SPDX-License-Identifier: Apache-2.0 */
/* CreateContainer, StartContainer, RemoveContainer (reference §6.3, §6.6, §7). */
#define LOG_SUBSYSTEM "container"
#include "mount/mount.h"
#include "sandbox.h"
#include "google/protobuf/empty.pb-c.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>

struct remover {
	struct list_head node;
	struct rpc_call *call;
	struct container *c;
	struct ev_timer timer;
	uint32_t timeout;
};

static void reply_empty(struct rpc_call *call)
{
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_call_reply(call, &empty.base);
}

/* ---- kill and remove ---- */

static void kill_by_mount_ns(struct container *c)
{
	/* Processes of the container we did not start (children of its processes) are
	 * found by the container's mount namespace; a pidfd taken before the check makes
	 * the signal go to the very process that was checked. (cgroup.kill will replace this
	 * once containers have cgroups of their own.) */
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	pid_t self = getpid();
	while ((e = readdir(d))) {
		uint32_t pid;
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || parse_u32(e->d_name, &pid) < 0 ||
		    (pid_t)pid == self)
			continue;
		int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (pidfd < 0)
			continue;
		char path[64];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%u/ns/mnt", pid);
		if (stat(path, &st) == 0 && st.st_dev == c->mnt_ns.st_dev &&
		    st.st_ino == c->mnt_ns.st_ino)
			(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		close(pidfd);
	}
	closedir(d);
}

void container_kill_all(struct container *c)
{
	/* CGROUP: cgroup.kill reaches every process of the container, forks included. */
	(void)agent_cgroup_kill(c->sb->agent, c->id);
	struct list_head *pos;
	LIST_FOREACH (pos, &c->procs) {
		struct process *p = list_entry(pos, struct process, node);
		if (!p->reaped && p->pidfd >= 0)
			(void)syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
	}
	if (c->have_mnt_ns)
		kill_by_mount_ns(c);
}

void container_finalize(struct container *c)
{
	struct sandbox *sb = c->sb;
	char b[96];

	container_hooks_free(c);
	c->start_fd = safe_close(c->start_fd);
	while (!list_empty(&c->procs))
		process_detach(list_entry(c->procs.next, struct process, node));
	/* CGROUP: its processes are reaped, so the cgroup is empty and can go. */
	agent_cgroup_remove(sb->agent, c->id);
	if (c->rootfs_mounted && umount2(c->rootfs, MNT_DETACH) < 0)
		log_warn_errno(errno, "container '%s': cannot unmount '%s': %m", c->id, c->rootfs);
	/* Its storages (refcounted; `shared` ones stay until the sandbox goes). */
	storage_release(sb->agent->storages, c->id);
	if (c->bundle && !c->rootfs_mounted && rmdir(c->rootfs) < 0 && errno != ENOENT) {
		/* The rootfs is not ours (a storage put it there): never delete its files. */
		log_debug("container '%s': leaving '%s' to its owner", c->id, c->bundle);
	} else if (c->bundle) {
		int r = rm_rf_same_fs(c->bundle);
		if (r < 0)
			log_warn_errno(r, "container '%s': cannot remove '%s': %m", c->id,
				       c->bundle);
	}
	for (int i = 0; i < CT_NS_COUNT; i++)
		safe_close(c->ns_fd[i]);
	safe_close(c->root_fd);
	list_del(&c->node);
	sb->n_containers--;
	while (!list_empty(&c->removers)) {
		struct remover *rm = list_entry(c->removers.next, struct remover, node);
		list_del(&rm->node);
		ev_timer_stop(sb->loop, &rm->timer);
		reply_empty(rm->call);
		free(rm);
	}
	log_info("container '%s' removed", printable(c->id, b));
	security_profile_unref(c->security);
	free(c->id);
	free(c->bundle);
	free(c->rootfs);
	free(c->termination_log);
	free(c);
	if (sb->destroying)
		sandbox_check_destroyed(sb);
}

void container_check_removed(struct container *c)
{
	if (!c->removing)
		return;
	struct list_head *pos;
	LIST_FOREACH (pos, &c->procs)
		if (!list_entry(pos, struct process, node)->reaped)
			return;
	if (container_hooks_poststop(c))
		return; /* finalized when they are done */
	container_finalize(c);
}

void container_begin_remove(struct container *c)
{
	c->removing = true;
	container_hooks_cancel(c, "the container is being removed");
	c->start_fd = safe_close(c->start_fd);
	container_kill_all(c);
	container_check_removed(c);
}

/* ---- CreateContainer ---- */

static void setup_call_cancel(struct rpc_call *call _unused_, void *data)
{
	struct process *p = data;
	p->setup_call = NULL;
}

static int pin_namespaces(struct container *c, pid_t pid)
{
	char path[64];
	for (int i = 0; i < CT_NS_COUNT; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ct_ns_name((enum ct_ns)i));
		c->ns_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (c->ns_fd[i] < 0)
			return -errno;
	}
	/* Namespaces the container shares with the agent are not to be joined (setns into
	 * our own user namespace fails with EINVAL). */
	for (int i = 0; i < CT_NS_COUNT; i++) {
		struct stat a, b;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ct_ns_name((enum ct_ns)i));
		if (fstat(c->ns_fd[i], &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			c->ns_fd[i] = safe_close(c->ns_fd[i]);
	}
	if (c->ns_fd[CT_NS_MNT] >= 0 && fstat(c->ns_fd[CT_NS_MNT], &c->mnt_ns) == 0)
		c->have_mnt_ns = true;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	c->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return c->root_fd < 0 ? -errno : 0;
}

void container_setup_done(struct process *p, const struct ct_status *st, bool eof _unused_)
{
	struct container *c = p->c;
	struct sandbox *sb = p->sb;
	char msg[CT_ERR_MAX];

	if (!c)
		return;
	if (st && st->ready) {
		int r = pin_namespaces(c, p->pid);
		if (r < 0) {
			snprintf(msg, sizeof(msg), "cannot pin the namespaces of pid %d: %s",
				 (int)p->pid, strerror(-r));
			goto failed;
		}
		p->ready = true;
		c->state = CT_CREATED;
		if (c->init == p && sb->sandbox_pidns && sb->pidns_fd < 0 &&
		    c->ns_fd[CT_NS_PID] >= 0)
			/* The first container holds the pod's pid namespace (reference §6.2). */
			sb->pidns_fd = fcntl(c->ns_fd[CT_NS_PID], F_DUPFD_CLOEXEC, 3);
		log_info("container '%s' created (init pid %d)", c->id, (int)p->pid);
		if (p->setup_call) {
			reply_empty(p->setup_call);
			p->setup_call = NULL;
		}
		return;
	}
	if (c->state != CT_CREATING) {
		/* After StartContainer: only an execve failure can come here. */
		if (st) {
			ct_status_describe(p->plan, st, msg, sizeof(msg));
			log_warn("container '%s': %s", c->id, msg);
		}
		return;
	}
	if (st)
		ct_status_describe(p->plan, st, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "the container process died during setup");
	container_setup_failed(c, st && !st->ready ? errno_to_rpc_code(st->err) : RPC_INTERNAL,
			       msg);
	return;
failed:
	container_setup_failed(c, RPC_INTERNAL, msg);
}

void container_setup_failed(struct container *c, int code, const char *msg)
{
	struct process *p = c->init;
	struct rpc_call *call = p ? TAKE_PTR(p->setup_call) : NULL;
	char cid[256];
	snprintf(cid, sizeof(cid), "%s", c->id);
	if (!call)
		log_warn("create container '%s': %s", cid, msg);
	/* Free the id at once: the child is killed and reaped in the background. The reply
	 * comes after the bundle is gone. */
	if (p && !p->reaped && p->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
	c->removing = true;
	container_finalize(c);
	if (call)
		rpc_call_reply_error(call, code, "create container '%s': %s", cid, msg);
}

static int setup_bundle(struct container *c, const char *root_path, char *err, size_t errsz)
{
	struct stat st;
	char b[96];
	if (root_path[0] != '/') {
		snprintf(err, errsz, "Root.Path '%s' is not an absolute path",
			 printable(root_path, b));
		return -EINVAL;
	}
	if (stat(root_path, &st) < 0) {
		int e = errno;
		snprintf(err, errsz, "Root.Path '%s': %s", printable(root_path, b), strerror(e));
		return e == ENOENT ? -EINVAL : -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "Root.Path '%s' is not a directory", printable(root_path, b));
		return -EINVAL;
	}
	int r = mkdir_p(c->bundle, 0711);
	if (r < 0) {
		snprintf(err, errsz, "cannot create '%s': %s", c->bundle, strerror(-r));
		return r;
	}
	/* A storage (overlay layers) may already have mounted the rootfs in the bundle: then
	 * it is used as it is (Kata's setup_bundle). */
	char real[4096];
	if (realpath(root_path, real) && streq(real, c->rootfs))
		return 0;
	if (mkdir(c->rootfs, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errsz, "cannot create '%s': %s", c->rootfs, strerror(e));
		return -e;
	}
	if (mount(root_path, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
		int e = errno;
		snprintf(err, errsz, "bind mount of Root.Path '%s' on '%s': %s",
			 printable(root_path, b), c->rootfs, strerror(e));
		return -e;
	}
	c->rootfs_mounted = true;
	return 0;
}

struct container_storage_wait {
	struct rpc_call *call;
	Grpc__CreateContainerRequest *req;
	struct storage_op *op;
};

static void create_container_run(struct rpc_call *call, Grpc__CreateContainerRequest *req);

static void create_container_storages_done(void *data, int r, const char *msg)
{
	struct container_storage_wait *w = data;
	struct rpc_call *call = w->call;
	Grpc__CreateContainerRequest *req = w->req;
	char b[96];

	free(w);
	if (r < 0) {
		/* The op rolled back what it mounted. */
		rpc_call_reply_errno(call, r, "create container '%s': %s",
				     printable(req->container_id, b), msg);
		return;
	}
	create_container_run(call, req);
}

static void create_container_storages_cancel(struct rpc_call *call _unused_, void *data)
{
	struct container_storage_wait *w = data;
	storage_op_cancel(w->op); /* rolls back, never calls done */
	free(w);
}

void svc_create_container(struct rpc_call *call, void *request)
{
	Grpc__CreateContainerRequest *req = request;
	struct sandbox *sb = sandbox_of(call);
	char b1[96];
	const char *cid = req->container_id;
	int r;

	if (sb->destroying) {
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "the sandbox is being destroyed");
		return;
	}
	if (!sandbox_valid_id(cid)) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "invalid container id '%s'",
				     printable(cid, b1));
		return;
	}
	const char *exec_id = req->exec_id && *req->exec_id ? req->exec_id : cid;
	if (!sandbox_valid_id(exec_id)) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "invalid exec id '%s'",
				     printable(exec_id, b1));
		return;
	}
	if (container_find(sb, cid)) {
		rpc_call_reply_error(call, RPC_ALREADY_EXISTS, "container '%s' already exists",
				     cid);
		return;
	}
	if (sb->n_containers >= SANDBOX_MAX_CONTAINERS) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "%u containers (limit %d)",
				     sb->n_containers, SANDBOX_MAX_CONTAINERS);
		return;
	}
	const Grpc__Spec *spec = req->oci;
	if (!spec) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "create container '%s': the request has no OCI spec", cid);
		return;
	}
	if (!spec->process) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "create container '%s': the spec has no Process", cid);
		return;
	}
	if (!spec->root || !spec->root->path || !*spec->root->path) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "create container '%s': the spec has no Root.Path", cid);
		return;
	}
	if (req->n_storages || req->n_devices) {
		/* Devices first (their guest major:minor is rewritten into the spec), then the
		 * storages, in Kata's order; a device that is not there yet parks the call. */
		struct container_storage_wait *w = calloc(1, sizeof(*w));
		if (!w) {
			rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
		w->call = call;
		w->req = req;
		r = storage_setup_container(sb->agent->storages, req,
					    create_container_storages_done, w, &w->op);
		if (r < 0) {
			free(w);
			rpc_call_reply_errno(call, r, "create container '%s': storages: %m",
					     printable(cid, b1));
			return;
		}
		rpc_call_park(call, create_container_storages_cancel, w);
		return;
	}
	create_container_run(call, req);
}

/* The rest of CreateContainer, once its devices and storages are in place. */
static void create_container_run(struct rpc_call *call, Grpc__CreateContainerRequest *req)
{
	struct sandbox *sb = sandbox_of(call);
	char b1[96], b2[96], err[CT_ERR_MAX] = "";
	const char *cid = req->container_id;
	const Grpc__Spec *spec = req->oci;
	const char *exec_id = req->exec_id && *req->exec_id ? req->exec_id : cid;
	int r;

	(void)b1;
	/* The sandbox may have changed while the devices were awaited. */
	if (sb->destroying || container_find(sb, cid)) {
		storage_release(sb->agent->storages, cid);
		rpc_call_reply_error(call, sb->destroying ? RPC_UNAVAILABLE : RPC_ALREADY_EXISTS,
				     "create container '%s': %s", printable(cid, b2),
				     sb->destroying ? "the sandbox is being destroyed"
						    : "it already exists");
		return;
	}
	int pidns_fd = -1;
	if (req->sandbox_pidns) {
		if (sb->pidns_fd >= 0) {
			pidns_fd = sb->pidns_fd;
		} else if (sb->n_containers > 0) {
			rpc_call_reply_error(call, RPC_FAILED_PRECONDITION,
					     "create container '%s': sandbox_pidns is set but the "
					     "sandbox has no shared pid namespace",
					     cid);
			return;
		}
		sb->sandbox_pidns = true;
	}

	struct container *c = calloc(1, sizeof(*c));
	struct ct_plan *plan = calloc(1, sizeof(*plan));
	struct ct_stdio stdio = {.parent = {-1, -1, -1}, .child = {-1, -1, -1}};
	struct ct_child child = {
	    .pid = -1, .pidfd = -1, .status_fd = -1, .start_fd = -1, .hook_fd = -1};
	if (!c || !plan) {
		free(c);
		free(plan);
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	ct_plan_init(plan);
	c->sb = sb;
	c->start_fd = c->root_fd = c->hook_fd = -1;
	for (int i = 0; i < CT_NS_COUNT; i++)
		c->ns_fd[i] = -1;
	list_init(&c->procs);
	list_init(&c->removers);
	c->state = CT_CREATING;
	c->id = strdup(cid);
	c->bundle = c->id ? ct_arena_printf(&plan->arena, KATA_RUN_DIR "/%s", cid) : NULL;
	if (c->bundle)
		c->bundle = strdup(c->bundle);
	if (c->bundle)
		c->rootfs = malloc(strlen(c->bundle) + 8);
	if (!c->rootfs) {
		r = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	sprintf(c->rootfs, "%s/rootfs", c->bundle);
	/* Kubernetes' terminationMessagePath, read back by GetDiagnosticData when the runtime
	 * shares no filesystem with the guest (shared_fs=none). */
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (spec->mounts[i]->destination && spec->mounts[i]->source &&
		    streq(spec->mounts[i]->destination, "/dev/termination-log")) {
			free(c->termination_log);
			c->termination_log = strdup(spec->mounts[i]->source);
		}
	list_add_tail(&sb->containers, &c->node);
	sb->n_containers++;

	r = setup_bundle(c, spec->root->path, err, sizeof(err));
	if (r < 0)
		goto fail;
	struct ct_ns_config nsc = {
	    .pidns_fd = pidns_fd,
	    .ipc_fd = sb->ipc_fd,
	    .uts_fd = sb->uts_fd,
	    .no_pivot = sb->no_pivot,
	};
	r = ct_plan_from_spec(plan, spec, c->rootfs, &nsc, err, sizeof(err));
	if (r < 0)
		goto fail;
	c->security = security_profile_ref(plan->sec.profile); /* issue 7: for ExecProcess */
	/* HOOKS: the spec's and the guest's; with any that run before pivot_root the init
	 * stops there for them (agent/container-hooks.c). */
	r = container_hooks_prepare(c, spec, plan, err, sizeof(err));
	if (r < 0)
		goto fail;
	/* CGROUP: the container's cgroup v2 directory with its limits (agent/cgroup/); the
	 * child is cloned into it (CLONE_INTO_CGROUP). */
	r = agent_cgroup_create(sb->agent, cid, spec->linux_ ? spec->linux_->cgroupspath : NULL,
				spec->linux_ ? spec->linux_->resources : NULL, &plan->cgroup_fd,
				err, sizeof(err));
	if (r < 0)
		goto fail;
	r = ct_stdio_open(&stdio, plan->tty,
			  sb->agent->cfg.container_pipe_size ?: SANDBOX_PIPE_SIZE);
	if (r < 0) {
		snprintf(err, sizeof(err), "cannot open stdio: %s", strerror(-r));
		goto fail;
	}
	for (int i = 0; i < 3; i++) {
		plan->stdio[i] = stdio.child[i];
		stdio.child[i] = -1;
	}
	r = ct_spawn(plan, true, &child);
	if (r < 0) {
		snprintf(err, sizeof(err), "cannot create the container process: %s", strerror(-r));
		goto fail;
	}
	ct_plan_close_child_fds(plan);
	c->start_fd = TAKE_FD(child.start_fd);
	c->hook_fd = TAKE_FD(child.hook_fd);
	struct process *p = process_new(c, exec_id, true, &child, &stdio, plan);
	if (!p) {
		kill(child.pid, SIGKILL);
		r = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	c->init = p;
	log_debug("create container '%s': init pid %d", cid, (int)p->pid);
	p->setup_call = call;
	rpc_call_park(call, setup_call_cancel, p);
	return;

fail:
	safe_close(child.pidfd);
	safe_close(child.status_fd);
	safe_close(child.start_fd);
	safe_close(child.hook_fd);
	ct_stdio_close(&stdio);
	if (plan) {
		ct_plan_done(plan);
		free(plan);
	}
	rpc_call_reply_error(call, r == -ENOMEM ? RPC_RESOURCE_EXHAUSTED : errno_to_rpc_code(r),
			     "create container '%s': %s", printable(cid, b2), err);
	if (c->id && c->rootfs) {
		c->removing = true;
		container_finalize(c);
	} else {
		free(c->id);
		free(c->bundle);
		free(c->rootfs);
		free(c);
	}
}

/* ---- StartContainer ---- */

void svc_start_container(struct rpc_call *call, void *request)
{
	Grpc__StartContainerRequest *req = request;
	struct container *c = container_lookup_or_reply(call, req->container_id);
	if (!c)
		return;
	const char *why = NULL;
	if (c->removing)
		why = "is being removed";
	else if (c->starting)
		why = "is being started";
	else if (c->state == CT_CREATING)
		why = "is still being created";
	else if (c->state == CT_RUNNING)
		why = "is already running";
	else if (c->state == CT_STOPPED || !c->init || c->init->reaped)
		why = "has exited";
	if (why) {
		rpc_call_reply_error(call, RPC_FAILED_PRECONDITION, "container '%s' %s", c->id,
				     why);
		return;
	}
	/* HOOKS: startContainer hooks, the start, poststart hooks, then the reply. */
	container_start(c, call);
}

/* ---- RemoveContainer ---- */

static void remover_cancel(struct rpc_call *call _unused_, void *data)
{
	struct remover *rm = data;
	list_del(&rm->node);
	ev_timer_stop(rm->c->sb->loop, &rm->timer);
	free(rm);
}

static void remover_timeout(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct remover *rm = t->data;
	list_del(&rm->node);
	rpc_call_reply_error(rm->call, RPC_DEADLINE_EXCEEDED,
			     "container '%s': processes still alive after %u s", rm->c->id,
			     rm->timeout);
	free(rm);
}

void svc_remove_container(struct rpc_call *call, void *request)
{
	Grpc__RemoveContainerRequest *req = request;
	struct container *c = container_lookup_or_reply(call, req->container_id);
	if (!c)
		return;
	struct remover *rm = calloc(1, sizeof(*rm));
	if (!rm) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	rm->call = call;
	rm->c = c;
	rm->timeout = req->timeout;
	ev_timer_init(&rm->timer);
	list_add_tail(&c->removers, &rm->node);
	rpc_call_park(call, remover_cancel, rm);
	if (req->timeout)
		ev_timer_start(c->sb->loop, &rm->timer,
			       now_monotonic_ns() + (uint64_t)req->timeout * NSEC_PER_SEC,
			       remover_timeout, rm);
	if (!c->removing)
		container_begin_remove(c); /* may complete (and reply) right away */
	else
		container_check_removed(c);
}

int container_termination_log_path(struct agent *a, const char *cid, const char **ret)
{
	struct container *c = a->sandbox ? container_find(a->sandbox, cid) : NULL;
	if (!c)
		return -ENOENT;
	*ret = c->termination_log;
	return 0;
}
