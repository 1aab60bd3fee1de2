/* SPDX-License-Identifier: Apache-2.0 */
/* ExecProcess, WaitProcess, SignalProcess (reference §6.3, §6.4). */
#define LOG_SUBSYSTEM "process"
#include "sandbox.h"
#include "google/protobuf/empty.pb-c.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>

static void reply_empty(struct rpc_call *call)
{
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_call_reply(call, &empty.base);
}

/* ---- ExecProcess ---- */

static void setup_call_cancel(struct rpc_call *call _unused_, void *data)
{
	struct process *p = data;
	p->setup_call = NULL; /* the process goes on; nobody waits for its start */
}

void exec_setup_done(struct process *p, const struct ct_status *st, bool eof)
{
	char msg[CT_ERR_MAX];
	if (eof) {
		/* The status pipe is O_CLOEXEC: EOF without a record = execve succeeded. */
		p->ready = true;
		if (p->setup_call) {
			reply_empty(p->setup_call);
			p->setup_call = NULL;
		}
		return;
	}
	if (!st || st->ready)
		return;
	ct_status_describe(p->plan, st, msg, sizeof(msg));
	if (p->setup_call) {
		int code = errno_to_rpc_code(st->err);
		rpc_call_reply_error(p->setup_call, code, "exec '%s' in container '%s': %s",
				     p->exec_id, p->c ? p->c->id : "?", msg);
		p->setup_call = NULL;
	} else {
		log_warn("exec '%s': %s", p->exec_id, msg);
	}
	/* The exec id is free again; the child exits by itself and is reaped. */
	if (p->c)
		process_detach(p);
}

void svc_exec_process(struct rpc_call *call, void *request)
{
	Grpc__ExecProcessRequest *req = request;
	struct sandbox *sb = sandbox_of(call);
	char b1[96], b2[96], err[CT_ERR_MAX] = "";
	int r;

	if (sb->destroying) {
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "the sandbox is being destroyed");
		return;
	}
	struct container *c = container_lookup_or_reply(call, req->container_id);
	if (!c)
		return;
	if (!sandbox_valid_id(req->exec_id)) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "invalid exec id '%s'",
				     printable(req->exec_id, b1));
		return;
	}
	if (process_find(c, req->exec_id)) {
		rpc_call_reply_error(call, RPC_ALREADY_EXISTS,
				     "exec_id '%s' already exists in container '%s'",
				     printable(req->exec_id, b1), printable(c->id, b2));
		return;
	}
	if (c->removing || c->state == CT_CREATING || c->state == CT_STOPPED || !c->init ||
	    c->init->reaped) {
		rpc_call_reply_error(call, RPC_FAILED_PRECONDITION, "container '%s' is not running",
				     printable(c->id, b1));
		return;
	}
	if (c->n_procs >= SANDBOX_MAX_EXECS) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED,
				     "container '%s' has %u processes (limit %d)", c->id,
				     c->n_procs, SANDBOX_MAX_EXECS);
		return;
	}
	if (!req->process) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "ExecProcess '%s': no process",
				     printable(req->exec_id, b1));
		return;
	}

	struct ct_plan *plan = calloc(1, sizeof(*plan));
	if (!plan) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	ct_plan_init(plan);
	struct ct_stdio stdio;
	struct ct_child child;
	for (int i = 0; i < 3; i++)
		stdio.parent[i] = stdio.child[i] = -1;
	stdio.tty = false;

	r = ct_plan_for_exec(plan, req->process, c->ns_fd, c->root_fd, err, sizeof(err));
	if (r < 0)
		goto fail;
	/* issue 7: the container's capabilities when the request has none, its seccomp */
	r = security_plan_for_exec(&plan->sec, req->process, c->security, err, sizeof(err));
	if (r < 0)
		goto fail;
	/* CGROUP: exec processes are cloned into the container's cgroup too. */
	plan->cgroup_fd = agent_cgroup_fd(sb->agent, c->id);
	if (plan->cgroup_fd < 0)
		plan->cgroup_fd = -1;
	r = ct_stdio_open(&stdio, plan->tty,
			  sb->agent->cfg.container_pipe_size ?: SANDBOX_PIPE_SIZE);
	if (r < 0) {
		snprintf(err, sizeof(err), "cannot open stdio: %s", strerror(-r));
		goto fail;
	}
	for (int i = 0; i < 3; i++) { /* the plan owns the child ends from here */
		plan->stdio[i] = stdio.child[i];
		stdio.child[i] = -1;
	}
	r = ct_spawn(plan, false, &child);
	if (r < 0) {
		safe_close(child.pidfd);
		snprintf(err, sizeof(err), "cannot create the process: %s", strerror(-r));
		goto fail;
	}
	/* The child has its copies: without closing ours, EOF would never come. */
	ct_plan_close_child_fds(plan);

	struct process *p = process_new(c, req->exec_id, false, &child, &stdio, plan);
	if (!p) {
		kill(child.pid, SIGKILL);
		safe_close(child.pidfd);
		safe_close(child.status_fd);
		ct_stdio_close(&stdio);
		ct_plan_done(plan);
		free(plan);
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	log_debug("exec '%s' in container '%s': pid %d", p->exec_id, c->id, (int)p->pid);
	p->setup_call = call;
	rpc_call_park(call, setup_call_cancel, p);
	return;

fail:
	ct_stdio_close(&stdio);
	ct_plan_done(plan);
	free(plan);
	rpc_call_reply_error(call, r == -ENOMEM ? RPC_RESOURCE_EXHAUSTED : errno_to_rpc_code(r),
			     "exec '%s' in container '%s': %s", printable(req->exec_id, b1),
			     printable(c->id, b2), err);
}

/* ---- WaitProcess ---- */

static void waiter_cancel(struct rpc_call *call _unused_, void *data)
{
	struct parked *w = data;
	list_del(&w->node);
	free(w);
}

void svc_wait_process(struct rpc_call *call, void *request)
{
	Grpc__WaitProcessRequest *req = request;
	struct process *p = process_lookup_or_reply(call, req->container_id, req->exec_id);
	if (!p)
		return;
	if (p->reaped) {
		process_reply_wait(p, call);
		return;
	}
	struct sandbox *sb = sandbox_of(call);
	if (sb->destroying) {
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "the sandbox is being destroyed");
		return;
	}
	struct parked *w = parked_new(call, p, PARKED_WAIT);
	if (!w)
		return;
	list_add_tail(&p->waiters, &w->node);
	rpc_call_park(call, waiter_cancel, w);
}

/* ---- SignalProcess ---- */

/* Does the process catch, ignore or block sig? (/proc/PID/status SigCgt/SigIgn/SigBlk) */
static bool signal_handled(pid_t pid, int sig)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_file(path, 64 << 10, &text, NULL) < 0)
		return true; /* cannot tell: do not escalate */
	static const char *const keys[] = {"SigBlk:", "SigIgn:", "SigCgt:"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *l = strstr(text, keys[i]);
		if (!l)
			continue;
		unsigned long long mask = strtoull(l + strlen(keys[i]), NULL, 16);
		if (mask & (1ULL << (sig - 1)))
			return true;
	}
	return false;
}

void svc_signal_process(struct rpc_call *call, void *request)
{
	Grpc__SignalProcessRequest *req = request;
	char b1[96];
	struct container *c = container_lookup_or_reply(call, req->container_id);
	if (!c)
		return;
	int sig = (int)req->signal;
	if (req->signal == 0 || req->signal >= (uint32_t)NSIG) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "invalid signal %u", req->signal);
		return;
	}
	bool all = !req->exec_id || !*req->exec_id;
	if (all && sig == SIGKILL) {
		/* The shim's kill --all: every process of the container (reference §6.4). */
		container_kill_all(c);
		reply_empty(call);
		return;
	}
	struct process *p = process_find(c, req->exec_id);
	if (!p) {
		rpc_call_reply_error(call, RPC_NOT_FOUND,
				     "process '%s' of container '%s' not found",
				     printable(req->exec_id, b1), c->id);
		return;
	}
	if (p->reaped || p->pidfd < 0) {
		reply_empty(call); /* ESRCH is success */
		return;
	}
	if (p == c->init && sig == SIGTERM && !signal_handled(p->pid, SIGTERM)) {
		/* PID 1 of a pid namespace ignores signals it has no handler for: a SIGTERM it
		 * does not handle would do nothing, so Kata upgrades it. */
		log_debug("container '%s': init does not handle SIGTERM, sending SIGKILL", c->id);
		sig = SIGKILL;
	}
	if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) < 0 && errno != ESRCH) {
		rpc_call_reply_errno(call, errno, "signal %d to process '%s': %m", sig, p->exec_id);
		return;
	}
	reply_empty(call);
}
