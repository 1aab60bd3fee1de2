/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's OCI hooks (reference §7.9; runtime-spec "Lifecycle"), run by agent/hook/
 * from the event loop while the call that triggered them is parked:
 *  - CreateContainer: the init stops after its namespaces and mounts, before pivot_root;
 *    prestart and createRuntime hooks run in the agent's namespaces, createContainer hooks
 *    in the container's; then the init goes on. A failure fails CreateContainer and the
 *    container is gone.
 *  - StartContainer: startContainer hooks in the container's namespaces (a failure fails
 *    the call and kills the container), the start byte, then poststart hooks in the agent's
 *    namespaces (a failure is a warning, as OCI says) before the reply.
 *  - RemoveContainer/DestroySandbox: poststop hooks (failures are warnings) once every
 *    process of a created container is gone, before its cgroup, mounts and bundle go.
 * The state on the hooks' stdin says "creating", "created", "running" and "stopped".
 */
#define LOG_SUBSYSTEM "container"
#include "sandbox.h"
#include "google/protobuf/empty.pb-c.h"

#include <signal.h>
#include <sys/syscall.h>

int container_hooks_prepare(struct container *c, const Grpc__Spec *spec, struct ct_plan *plan,
			    char *err, size_t errsz)
{
	int r = hook_set_from_spec(&c->hooks, spec->hooks, err, errsz);
	if (r == 0)
		r = hook_set_append(&c->hooks, &c->sb->guest_hooks, err, errsz);
	if (r < 0)
		return r;
	if (hook_set_empty(&c->hooks))
		return 0;
	c->oci_version = strdup(spec->version ? spec->version : "");
	c->hook_annotations = hook_annotations_json(spec->annotations, spec->n_annotations);
	if (!c->oci_version || !c->hook_annotations) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	plan->hook_pause = c->hooks.kind[HOOK_PRESTART].n || c->hooks.kind[HOOK_CREATE_RUNTIME].n ||
			   c->hooks.kind[HOOK_CREATE_CONTAINER].n;
	return 0;
}

void container_hooks_free(struct container *c)
{
	hook_run_cancel(c->hook_run);
	c->hook_run = NULL;
	c->hook_fd = safe_close(c->hook_fd);
	hook_set_free(&c->hooks);
	free(c->oci_version);
	free(c->hook_annotations);
	c->oci_version = c->hook_annotations = NULL;
}

/* Starts the hooks of one kind; -errno with err set when none could be started. */
static int run_kind(struct container *c, enum hook_kind k, const char *status, bool in_container,
		    hook_done_fn done, char *err, size_t errsz)
{
	pid_t pid = c->init && !c->init->reaped ? c->init->pid : 0;
	_cleanup_free_ char *state =
	    hook_state_json(c->oci_version, c->id, status, pid, c->bundle, c->hook_annotations);
	if (!state) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	struct hook_run_opts o = {
	    .loop = c->sb->loop,
	    .list = &c->hooks.kind[k],
	    .kind = k,
	    .state = state,
	    .cwd = c->bundle,
	    .ns_pid = in_container ? pid : 0,
	    .keep_going = k == HOOK_POSTSTART || k == HOOK_POSTSTOP,
	};
	if (in_container && pid <= 0) {
		snprintf(err, errsz, "%s hooks: the container process is gone", hook_kind_name(k));
		return -ESRCH;
	}
	c->hook_phase = k;
	return hook_run_start(&o, done, c, &c->hook_run, err, errsz);
}

/* ---- CreateContainer: prestart, createRuntime, createContainer ---- */

static void create_hooks_next(struct container *c);

static void create_hooks_done(void *data, int r, const char *msg)
{
	struct container *c = data;
	c->hook_run = NULL;
	if (r < 0) {
		container_setup_failed(c, errno_to_rpc_code(r), msg);
		return;
	}
	c->hook_phase++;
	create_hooks_next(c);
}

static void create_hooks_next(struct container *c)
{
	char err[512];
	for (; c->hook_phase <= HOOK_CREATE_CONTAINER; c->hook_phase++) {
		if (!c->hooks.kind[c->hook_phase].n)
			continue;
		int r =
		    run_kind(c, c->hook_phase, "creating", c->hook_phase == HOOK_CREATE_CONTAINER,
			     create_hooks_done, err, sizeof(err));
		if (r < 0) {
			container_setup_failed(c, errno_to_rpc_code(r), err);
			return;
		}
		return; /* create_hooks_done goes on */
	}
	/* All done: let the init go on to pivot_root. */
	if (write(c->hook_fd, "1", 1) != 1) {
		snprintf(err, sizeof(err), "cannot resume the container process: %s",
			 strerror(errno));
		container_setup_failed(c, RPC_INTERNAL, err);
		return;
	}
	c->hook_fd = safe_close(c->hook_fd);
}

void container_hooks_pause(struct process *p)
{
	struct container *c = p->c;
	if (!c || c->init != p || c->state != CT_CREATING || c->hook_fd < 0 || c->hook_run)
		return;
	c->hook_phase = HOOK_PRESTART;
	create_hooks_next(c);
}

/* ---- StartContainer: startContainer, start, poststart ---- */

static void reply_start(struct container *c, int code, const char *msg)
{
	struct rpc_call *call = TAKE_PTR(c->start_call);
	c->starting = false;
	if (!call)
		return;
	if (code == RPC_OK) {
		Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
		rpc_call_reply(call, &empty.base);
	} else {
		rpc_call_reply_error(call, code, "start container '%s': %s", c->id, msg);
	}
}

static void start_cancel(struct rpc_call *call _unused_, void *data)
{
	struct container *c = data;
	c->start_call = NULL; /* the hooks go on; their outcome is logged */
}

static void poststart_done(void *data, int r _unused_, const char *msg _unused_)
{
	struct container *c = data;
	c->hook_run = NULL;
	reply_start(c, RPC_OK, NULL);
}

static void start_now(struct container *c)
{
	char err[512];
	if (write(c->start_fd, "1", 1) != 1) {
		int e = errno;
		snprintf(err, sizeof(err), "%s", strerror(e));
		reply_start(c, errno_to_rpc_code(e), err);
		return;
	}
	c->start_fd = safe_close(c->start_fd);
	c->state = CT_RUNNING;
	log_info("container '%s' started", c->id);
	if (c->hooks.kind[HOOK_POSTSTART].n &&
	    run_kind(c, HOOK_POSTSTART, "running", false, poststart_done, err, sizeof(err)) == 0)
		return; /* poststart_done replies */
	reply_start(c, RPC_OK, NULL);
}

static void start_hooks_done(void *data, int r, const char *msg)
{
	struct container *c = data;
	c->hook_run = NULL;
	if (r < 0) {
		/* OCI: a failing startContainer hook stops the container. */
		log_warn("container '%s': %s", c->id, msg);
		if (c->init && !c->init->reaped && c->init->pidfd >= 0)
			(void)syscall(SYS_pidfd_send_signal, c->init->pidfd, SIGKILL, NULL, 0);
		c->start_fd = safe_close(c->start_fd);
		reply_start(c, errno_to_rpc_code(r), msg);
		return;
	}
	start_now(c);
}

void container_start(struct container *c, struct rpc_call *call)
{
	char err[512];
	c->starting = true;
	c->start_call = call;
	rpc_call_park(call, start_cancel, c);
	if (c->hooks.kind[HOOK_START_CONTAINER].n) {
		int r = run_kind(c, HOOK_START_CONTAINER, "created", true, start_hooks_done, err,
				 sizeof(err));
		if (r < 0)
			start_hooks_done(c, r, err);
		return;
	}
	start_now(c);
}

/* ---- RemoveContainer: poststop ---- */

static void poststop_done(void *data, int r _unused_, const char *msg _unused_)
{
	struct container *c = data;
	c->hook_run = NULL;
	container_finalize(c);
}

bool container_hooks_poststop(struct container *c)
{
	char err[512];
	if (c->hook_run)
		return true; /* running (poststop) */
	if (c->poststop_started || c->sb->shutting_down || c->state == CT_CREATING ||
	    !c->hooks.kind[HOOK_POSTSTOP].n)
		return false;
	c->poststop_started = true;
	return run_kind(c, HOOK_POSTSTOP, "stopped", false, poststop_done, err, sizeof(err)) == 0;
}

void container_hooks_cancel(struct container *c, const char *why)
{
	if (c->hook_phase == HOOK_POSTSTOP)
		return; /* they belong to the removal */
	hook_run_cancel(c->hook_run);
	c->hook_run = NULL;
	if (c->start_call)
		reply_start(c, RPC_FAILED_PRECONDITION, why);
}
