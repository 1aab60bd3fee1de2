/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process table and the SIGCHLD reaper (reference §3.4): the agent is child subreaper;
 * on SIGCHLD it reaps with waitpid(-1, WNOHANG) until nothing is left, records the status
 * of known processes (exit code, or 128 + signal), wakes their waiters and starts the drain
 * window of their readers. Unknown pids (orphans re-parented to us) are reaped and logged.
 */
#define LOG_SUBSYSTEM "reaper"
#include "sandbox.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

static struct process *process_by_pid(struct sandbox *sb, pid_t pid)
{
	struct list_head *pos;
	LIST_FOREACH (pos, &sb->procs) {
		struct process *p = list_entry(pos, struct process, all_node);
		if (p->pid == pid && !p->reaped)
			return p;
	}
	return NULL;
}

static void process_free(struct process *p)
{
	struct ev_loop *loop = p->sb->loop;
	list_del(&p->all_node);
	if (p->status_io.active)
		ev_io_stop(loop, &p->status_io);
	safe_close(p->status_fd);
	if (p->stdin_io.active)
		ev_io_stop(loop, &p->stdin_io);
	safe_close(p->stdin_fd);
	if (p->out.io.active)
		ev_io_stop(loop, &p->out.io);
	safe_close(p->out.fd);
	if (p->err.io.active)
		ev_io_stop(loop, &p->err.io);
	safe_close(p->err.fd);
	ev_timer_stop(loop, &p->drain);
	safe_close(p->pidfd);
	if (p->plan) {
		ct_plan_done(p->plan);
		free(p->plan);
	}
	free(p->exec_id);
	free(p);
}

/* ---- setup status of the child ---- */

static void status_finish(struct process *p)
{
	if (p->status_io.active)
		ev_io_stop(p->sb->loop, &p->status_io);
	p->status_fd = safe_close(p->status_fd);
	if (p->plan) {
		ct_plan_done(p->plan);
		free(p->plan);
		p->plan = NULL;
	}
}

/* Reads what the child reported. Returns true when the pipe is finished with. */
static bool status_read(struct process *p)
{
	for (;;) {
		struct ct_status st;
		ssize_t n = read(p->status_fd, &st, sizeof(st));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n == (ssize_t)sizeof(st) && st.ready == CT_STATUS_HOOKS) {
			if (p->init)
				container_hooks_pause(p);
			continue;
		}
		if (n == (ssize_t)sizeof(st)) {
			if (p->init)
				container_setup_done(p, &st, false);
			else
				exec_setup_done(p, &st, false);
			if (st.ready)
				continue; /* the pipe stays open until execve */
			status_finish(p);
			return true;
		}
		/* EOF (or a torn record from a dying child): execve happened or the child is
		 * gone before telling anything. */
		if (p->init)
			container_setup_done(p, NULL, true);
		else
			exec_setup_done(p, NULL, true);
		status_finish(p);
		return true;
	}
}

static void status_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct process *p = io->data;
	status_read(p);
}

struct process *process_new(struct container *c, const char *exec_id, bool init,
			    struct ct_child *child, struct ct_stdio *stdio, struct ct_plan *plan)
{
	struct sandbox *sb = c->sb;
	struct process *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->exec_id = strdup(exec_id);
	if (!p->exec_id) {
		free(p);
		return NULL;
	}
	p->sb = sb;
	p->c = c;
	p->init = init;
	p->pid = child->pid;
	p->pidfd = TAKE_FD(child->pidfd);
	p->status_fd = TAKE_FD(child->status_fd);
	p->tty = stdio->tty;
	p->stdin_fd = TAKE_FD(stdio->parent[0]);
	stream_init(p, &p->out, TAKE_FD(stdio->parent[1]), "stdout");
	stream_init(p, &p->err, TAKE_FD(stdio->parent[2]), "stderr");
	list_init(&p->writers);
	list_init(&p->waiters);
	ev_timer_init(&p->drain);
	p->plan = plan;
	list_add_tail(&sb->procs, &p->all_node);
	list_add_tail(&c->procs, &p->node);
	c->n_procs++;
	if (ev_io_start(sb->loop, &p->status_io, p->status_fd, EPOLLIN, status_cb, p) < 0)
		log_warn("cannot watch the setup of process %d", (int)p->pid);
	return p;
}

void process_fail_parked(struct process *p, int code, const char *msg)
{
	while (!list_empty(&p->waiters)) {
		struct parked *w = list_entry(p->waiters.next, struct parked, node);
		list_del(&w->node);
		rpc_call_reply_error(w->call, code, "%s", msg);
		free(w);
	}
	struct stream *ss[] = {&p->out, &p->err};
	for (size_t i = 0; i < ARRAY_SIZE(ss); i++)
		while (!list_empty(&ss[i]->readers)) {
			struct parked *r = list_entry(ss[i]->readers.next, struct parked, node);
			list_del(&r->node);
			rpc_call_reply_error(r->call, code, "%s", msg);
			free(r);
		}
	stdin_fail_writers(p, code, msg);
	if (p->setup_call) {
		rpc_call_reply_error(p->setup_call, code, "%s", msg);
		p->setup_call = NULL;
	}
}

void process_detach(struct process *p)
{
	if (p->c) {
		struct container *c = p->c;
		list_del(&p->node);
		c->n_procs--;
		if (c->init == p)
			c->init = NULL;
		p->c = NULL;
		/* Waiters get the status if there is one; readers what is left, then EOF. */
		while (!list_empty(&p->waiters)) {
			struct parked *w = list_entry(p->waiters.next, struct parked, node);
			list_del(&w->node);
			if (p->reaped) {
				Grpc__WaitProcessResponse resp = GRPC__WAIT_PROCESS_RESPONSE__INIT;
				resp.status = p->exit_status;
				rpc_call_reply(w->call, &resp.base);
			} else {
				rpc_call_reply_error(w->call, RPC_NOT_FOUND,
						     "process '%s' was removed before it exited",
						     p->exec_id);
			}
			free(w);
		}
		stream_flush_readers(p, &p->out, true);
		stream_flush_readers(p, &p->err, true);
		stdin_fail_writers(p, RPC_NOT_FOUND, "the process was removed");
		if (p->setup_call) {
			rpc_call_reply_error(p->setup_call, RPC_NOT_FOUND,
					     "process '%s' was removed during its setup",
					     p->exec_id);
			p->setup_call = NULL;
		}
	}
	if (p->reaped)
		process_free(p);
}

static void drain_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct process *p = t->data;
	p->drained = true;
	stream_flush_readers(p, &p->out, false);
	stream_flush_readers(p, &p->err, false);
}

void process_exited(struct process *p, int wait_status)
{
	char b[96];
	p->exit_status =
	    WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
	log_debug("process %d ('%s') exited with status %d", (int)p->pid, printable(p->exec_id, b),
		  p->exit_status);
	p->pidfd = safe_close(p->pidfd);
	/* The child is gone: whatever it wrote on the status pipe is there now. Read it
	 * before marking the process reaped, so that a failed setup detaching it cannot
	 * free it under us. */
	if (p->status_fd >= 0)
		status_read(p);
	p->reaped = true;

	struct container *c = p->c;
	if (!c) {
		process_free(p);
		return;
	}
	if (c->init == p && c->state != CT_CREATING)
		c->state = CT_STOPPED;

	ev_timer_start(p->sb->loop, &p->drain, now_monotonic_ns() + SANDBOX_DRAIN_NS, drain_cb, p);
	stdin_fail_writers(p, RPC_FAILED_PRECONDITION, "the process exited");

	if (!list_empty(&p->waiters)) {
		while (!list_empty(&p->waiters)) {
			struct parked *w = list_entry(p->waiters.next, struct parked, node);
			list_del(&w->node);
			Grpc__WaitProcessResponse resp = GRPC__WAIT_PROCESS_RESPONSE__INIT;
			resp.status = p->exit_status;
			rpc_call_reply(w->call, &resp.base);
			free(w);
		}
		/* Kata removes an exec process once its exit was collected. */
		if (!p->init)
			process_detach(p); /* frees: it is reaped */
	}
	if (c->removing)
		container_check_removed(c);
}

void process_reply_wait(struct process *p, struct rpc_call *call)
{
	Grpc__WaitProcessResponse resp = GRPC__WAIT_PROCESS_RESPONSE__INIT;
	resp.status = p->exit_status;
	rpc_call_reply(call, &resp.base);
	if (!p->init)
		process_detach(p);
}

/* ---- SIGCHLD ---- */

static void reap_all(struct sandbox *sb)
{
	for (;;) {
		int status;
		/* Not __WALL: the iptables supervisor is cloned without an exit signal and
		 * reaped by its owner through its pidfd (orphans re-parented to us get SIGCHLD
		 * as their exit signal again: kernel reparent_leader). Hooks are ordinary
		 * children, handed over to agent/hook/ below. */
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		struct process *p = process_by_pid(sb, pid);
		if (p)
			process_exited(p, status);
		else if (hook_child_reaped(pid, status))
			continue;
		else
			log_debug("reaped pid %d (not a process of ours: an orphan), status 0x%x",
				  (int)pid, status);
	}
}

static void sigchld_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct sandbox *sb = io->data;
	struct signalfd_siginfo si;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si))
		;
	reap_all(sb);
}

static void no_op_handler(int sig _unused_)
{
}

int reaper_setup(struct sandbox *sb)
{
	/* A handler that never runs (the signal stays blocked): with SIG_DFL, PID 1 of a pid
	 * namespace may drop it. */
	struct sigaction sa = {.sa_handler = no_op_handler, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
	sigset_t mask;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	sb->sigchld_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sb->sigchld_fd < 0)
		return -errno;
	int r = ev_io_start(sb->loop, &sb->sigchld_io, sb->sigchld_fd, EPOLLIN, sigchld_cb, sb);
	if (r < 0) {
		sb->sigchld_fd = safe_close(sb->sigchld_fd);
		return r;
	}
	/* Children that exited before we watched. */
	reap_all(sb);
	return 0;
}

void reaper_done(struct sandbox *sb)
{
	/* Shutdown: everything was sent SIGKILL; give the kernel a bounded moment to deliver
	 * it, then stop caring (PID 1 of the namespace, or init, reaps what is left). */
	for (int i = 0; i < 200; i++) {
		reap_all(sb);
		bool alive = false;
		struct list_head *pos;
		LIST_FOREACH (pos, &sb->procs)
			alive |= !list_entry(pos, struct process, all_node)->reaped;
		if (!alive)
			break;
		usleep(10 * 1000);
	}
	struct list_head *pos;
	LIST_FOREACH (pos, &sb->procs) {
		struct process *p = list_entry(pos, struct process, all_node);
		p->reaped = true;
	}
	if (sb->sigchld_fd >= 0) {
		ev_io_stop(sb->loop, &sb->sigchld_io);
		sb->sigchld_fd = safe_close(sb->sigchld_fd);
	}
}
