/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetIPTables / SetIPTables: iptables-save and iptables-restore (ip6tables-* for is_ipv6)
 * from /sbin or /usr/sbin, as Kata runs them. Without them in the guest both answer
 * UNIMPLEMENTED saying so.
 *
 * Nothing blocks the loop: the pipes are non-blocking and watched by the loop, and a timer
 * bounds the whole run. The agent clones a small supervisor (system calls only, no exec)
 * that forks the command, waits for it, and writes its wait status into a pipe: that pipe
 * is how the agent learns the status. The supervisor is cloned with a pidfd and no exit
 * signal, so the container reaper (waitpid(-1) without __WALL) never takes it and we reap
 * it through its pidfd; killing it (timeout, cancelled call, shutdown) kills the command
 * too (PR_SET_PDEATHSIG).
 */
#define LOG_SUBSYSTEM "iptables"
#include "svc-network.h"
#include "agent.pb-c.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define IPT_TIMEOUT_SEC 30 /* iptables-restore itself waits at most 5 s for the lock */
#define IPT_MAX_JOBS	4  /* they serialise on the xtables lock anyway */
#define IPT_MAX_OUTPUT	(TTRPC_MAX_DATA - 4096) /* the reply must fit one ttrpc message */
#define IPT_MAX_STDERR	1024
/* Kata's IPTABLES_RESTORE_WAIT_SEC: how long iptables-restore waits for the xtables lock. */
#define IPT_RESTORE_WAIT "5"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* struct clone_args as of Linux 5.3 (CLONE_ARGS_SIZE_VER0), declared here because
 * <linux/sched.h> clashes with <sched.h>. */
struct ipt_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

struct ipt_job {
	struct list_head node;
	struct agent_network *net;
	struct rpc_call *call; /* NULL once the call is gone (answered or cancelled) */
	const char *cmd;       /* "iptables-restore" etc., for messages */
	bool is_set;

	pid_t pid; /* the supervisor */
	int pidfd; /* the supervisor's; closed once it is reaped (by us or the reaper) */
	struct ev_io pid_io;

	int status_fd; /* the supervisor writes the command's wait status here */
	struct ev_io status_io;
	uint8_t status_buf[sizeof(int)];
	size_t status_len;

	int in_fd; /* SetIPTables: the rules, from the call's request */
	struct ev_io in_io;
	const uint8_t *in_data;
	size_t in_len, in_off;

	int out_fd;
	struct ev_io out_io;
	struct bytebuf out;
	bool overflow;

	int err_fd;
	struct ev_io err_io;
	char err[IPT_MAX_STDERR];
	size_t err_len;

	struct ev_timer timer;
	bool timed_out;
};

static const char *ipt_find(const char *name, char *buf, size_t n)
{
	static const char *const dirs[] = {"/sbin", "/usr/sbin"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(buf, n, "%s/%s", dirs[i], name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

static void ipt_kill(struct ipt_job *j)
{
	if (j->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
}

static void ipt_close(struct ipt_job *j, struct ev_io *io, int *fd)
{
	if (*fd < 0)
		return;
	if (io->active)
		ev_io_stop(j->net->agent->loop, io);
	*fd = safe_close(*fd);
}

static void ipt_free(struct ipt_job *j)
{
	ipt_close(j, &j->pid_io, &j->pidfd);
	ipt_close(j, &j->status_io, &j->status_fd);
	ipt_close(j, &j->in_io, &j->in_fd);
	ipt_close(j, &j->out_io, &j->out_fd);
	ipt_close(j, &j->err_io, &j->err_fd);
	ev_timer_stop(j->net->agent->loop, &j->timer);
	bytebuf_free(&j->out);
	list_del(&j->node);
	j->net->n_ipt_jobs--;
	free(j);
}

/* Kills the child, reaps it synchronously and frees the job: for shutdown and for setup
 * failures, when the loop will not do it. SIGKILL makes the wait short. */
static void ipt_reap_now(struct ipt_job *j)
{
	siginfo_t si;

	j->call = NULL;
	if (j->pidfd >= 0) {
		ipt_kill(j);
		/* ECHILD: the reaper took it first. */
		while (waitid((idtype_t)P_PIDFD, (id_t)j->pidfd, &si, WEXITED | __WCLONE) < 0 &&
		       errno == EINTR)
			;
	}
	ipt_free(j);
}

/* stderr as one printable line for a status message: iptables says what failed there. */
static const char *ipt_stderr(struct ipt_job *j)
{
	size_t n = j->err_len;
	while (n && (j->err[n - 1] == '\n' || j->err[n - 1] == ' '))
		n--;
	for (size_t i = 0; i < n; i++)
		if (j->err[i] == '\n' || j->err[i] == '\t')
			j->err[i] = ' ';
		else if ((unsigned char)j->err[i] < 0x20 || (unsigned char)j->err[i] >= 0x7f)
			j->err[i] = '?';
	j->err[MIN(n, sizeof(j->err) - 1)] = '\0';
	return j->err;
}

static void ipt_reply(struct ipt_job *j)
{
	struct rpc_call *call = TAKE_PTR(j->call);
	const uint8_t *data = j->out.data ? j->out.data + j->out.head : NULL;
	size_t len = bytebuf_used(&j->out);
	int ws;

	if (j->overflow) {
		log_warn("%s: output exceeds %u bytes", j->cmd, IPT_MAX_OUTPUT);
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "%s: output exceeds %u bytes",
				     j->cmd, IPT_MAX_OUTPUT);
		return;
	}
	if (j->status_len != sizeof(ws)) {
		log_warn("%s: its supervisor died without reporting a status", j->cmd);
		rpc_call_reply_error(call, RPC_INTERNAL, "%s: no exit status (killed)", j->cmd);
		return;
	}
	memcpy(&ws, j->status_buf, sizeof(ws));
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
		if (j->is_set) {
			Grpc__SetIPTablesResponse resp = GRPC__SET_IPTABLES_RESPONSE__INIT;
			resp.data = (ProtobufCBinaryData){len, (uint8_t *)data};
			rpc_call_reply(call, &resp.base);
		} else {
			Grpc__GetIPTablesResponse resp = GRPC__GET_IPTABLES_RESPONSE__INIT;
			resp.data = (ProtobufCBinaryData){len, (uint8_t *)data};
			rpc_call_reply(call, &resp.base);
		}
		log_debug("%s: %zu bytes out", j->cmd, len);
	} else if (WIFEXITED(ws)) {
		/* xtables exit codes: 2 = PARAMETER_PROBLEM (bad rules), 4 = RESOURCE_PROBLEM
		 * (e.g. the xtables lock is held); 126/127: the exec failed. */
		int st = WEXITSTATUS(ws);
		int code = st == 2   ? RPC_INVALID_ARGUMENT
			   : st == 4 ? RPC_RESOURCE_EXHAUSTED
				     : RPC_INTERNAL;
		const char *e = ipt_stderr(j);
		log_warn("%s exited with status %d: %s", j->cmd, st, e);
		rpc_call_reply_error(call, code, "%s exited with status %d: %s", j->cmd, st,
				     e[0] ? e : "(no message)");
	} else {
		int sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
		log_warn("%s was killed by signal %d", j->cmd, sig);
		rpc_call_reply_error(call, RPC_INTERNAL, "%s was killed by signal %d", j->cmd, sig);
	}
}

/* The run is over when the status pipe and both output pipes reached EOF and the supervisor
 * is gone. */
static void ipt_maybe_done(struct ipt_job *j)
{
	if (j->status_fd >= 0 || j->out_fd >= 0 || j->err_fd >= 0 || j->pidfd >= 0)
		return;
	if (j->call)
		ipt_reply(j);
	ipt_free(j);
}

static void ipt_pid_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct ipt_job *j = io->data;
	siginfo_t si = {0};

	/* __WCLONE: the supervisor has no exit signal. ECHILD: the reaper took it; we only
	 * need to know that it is gone, the status came through the pipe. */
	if (waitid((idtype_t)P_PIDFD, (id_t)j->pidfd, &si, WEXITED | WNOHANG | __WCLONE) == 0 &&
	    si.si_pid == 0)
		return; /* not yet */
	ipt_close(j, &j->pid_io, &j->pidfd);
	ipt_close(j, &j->in_io, &j->in_fd); /* nobody reads it any more */
	ipt_maybe_done(j);
}

static void ipt_status_cb(struct ev_loop *loop _unused_, struct ev_io *io,
			  uint32_t revents _unused_)
{
	struct ipt_job *j = io->data;

	for (;;) {
		ssize_t n = read(j->status_fd, j->status_buf + j->status_len,
				 sizeof(j->status_buf) - j->status_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || (j->status_len += (size_t)n) == sizeof(j->status_buf))
			break;
	}
	ipt_close(j, &j->status_io, &j->status_fd);
	ipt_maybe_done(j);
}

static void ipt_in_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct ipt_job *j = io->data;

	while (j->in_off < j->in_len) {
		ssize_t n =
		    write(j->in_fd, j->in_data + j->in_off, MIN(j->in_len - j->in_off, 65536));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			/* EPIPE: it stopped reading; its exit status says why. */
			break;
		}
		j->in_off += (size_t)n;
	}
	ipt_close(j, &j->in_io, &j->in_fd); /* EOF for the child */
}

static void ipt_out_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct ipt_job *j = io->data;

	for (int i = 0; i < 16; i++) {
		uint8_t *p = bytebuf_reserve(&j->out, 65536);
		if (!p) {
			j->overflow = true; /* reported as the output being too large */
			ipt_kill(j);
			break;
		}
		ssize_t n = read(j->out_fd, p, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break; /* EOF or error */
		j->out.len += (size_t)n;
		if (bytebuf_used(&j->out) > IPT_MAX_OUTPUT) {
			j->overflow = true;
			ipt_kill(j);
			break;
		}
		if (i == 15)
			return; /* more later: level triggered */
	}
	ipt_close(j, &j->out_io, &j->out_fd);
	ipt_maybe_done(j);
}

static void ipt_err_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct ipt_job *j = io->data;
	char sink[4096];

	for (int i = 0; i < 16; i++) {
		/* Keep the first bytes (the error); drain and drop the rest. */
		bool keep = j->err_len < sizeof(j->err) - 1;
		char *dst = keep ? j->err + j->err_len : sink;
		size_t room = keep ? sizeof(j->err) - 1 - j->err_len : sizeof(sink);
		ssize_t n = read(j->err_fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		if (keep)
			j->err_len += (size_t)n;
		if (i == 15)
			return;
	}
	ipt_close(j, &j->err_io, &j->err_fd);
	ipt_maybe_done(j);
}

static void ipt_timeout(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct ipt_job *j = t->data;
	struct rpc_call *call = TAKE_PTR(j->call);

	log_warn("%s (pid %d) did not finish within %d s: killing it", j->cmd, (int)j->pid,
		 IPT_TIMEOUT_SEC);
	ipt_kill(j);
	ipt_close(j, &j->in_io, &j->in_fd);
	if (call)
		rpc_call_reply_error(call, RPC_DEADLINE_EXCEEDED, "%s did not finish within %d s",
				     j->cmd, IPT_TIMEOUT_SEC);
	/* Freed once the supervisor is gone. The pipes could be held open by something the
	 * command started: stop reading them so that the job ends with the supervisor. */
	ipt_close(j, &j->status_io, &j->status_fd);
	ipt_close(j, &j->out_io, &j->out_fd);
	ipt_close(j, &j->err_io, &j->err_fd);
	ipt_maybe_done(j);
}

static void ipt_cancel(struct rpc_call *call _unused_, void *data)
{
	struct ipt_job *j = data;

	/* The request (and the rules we were writing from it) goes away with the call. */
	j->call = NULL;
	ipt_close(j, &j->in_io, &j->in_fd);
	ipt_kill(j);
	ipt_close(j, &j->status_io, &j->status_fd);
	ipt_close(j, &j->out_io, &j->out_fd);
	ipt_close(j, &j->err_io, &j->err_fd);
	ipt_maybe_done(j);
}

/* Moves fd above 2 so that the child's dup2 onto 0..2 cannot clobber another of its fds
 * (the agent may run with 0..2 closed). */
static int fd_above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int r = n < 0 ? -errno : n;
	close(fd);
	return r;
}

static pid_t raw_clone3(struct ipt_clone_args *args)
{
	return (pid_t)syscall(SYS_clone3, args, sizeof(*args));
}

/* The supervisor: runs in a copy of the agent, so it makes system calls only (no
 * allocation, no locks another thread may hold). fds 0..2 become the command's stdio, 3 the
 * status pipe; everything else the agent had open is closed, or the command's stdin would
 * never see EOF (the supervisor would hold the agent's write end). */
_noreturn_ static void ipt_supervise(pid_t agent, const char *path, const char *const argv[],
				     const char *const envp[], int in, int out, int err, int status)
{
	struct ipt_clone_args args = {.exit_signal = SIGCHLD};
	pid_t self = (pid_t)syscall(SYS_getpid);
	int ws = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the agent */
	if ((pid_t)syscall(SYS_getppid) != agent)
		_exit(126); /* the agent died before the line above: nobody would kill us */
	/* All four are above 2 (fd_above_stdio), so these cannot clobber each other. */
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
	    (status != 3 && dup2(status, 3) < 0) || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		_exit(126);
	if (syscall(SYS_close_range, 4U, ~0U, 0) < 0)
		for (int fd = 4; fd < 4096; fd++)
			close(fd);

	pid_t pid = raw_clone3(&args);
	if (pid < 0)
		_exit(126);
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the supervisor */
		if ((pid_t)syscall(SYS_getppid) != self)
			_exit(127);
		/* The agent blocks SIGTERM/SIGINT/SIGCHLD and ignores SIGPIPE; both survive
		 * exec. */
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execve(path, (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	close(0);
	close(1);
	close(2);
	while (syscall(SYS_wait4, pid, &ws, 0, NULL) < 0)
		if (errno != EINTR)
			_exit(126);
	(void)!write(3, &ws, sizeof(ws));
	_exit(0);
}

/* Starts the supervisor; returns its pid and sets *ret_pidfd. */
static int ipt_spawn(const char *path, const char *const argv[], int in, int out, int err,
		     int status, int *ret_pidfd)
{
	static const char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	int pidfd = -1;
	pid_t agent = getpid();
	struct ipt_clone_args args = {
	    .flags = CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	    .exit_signal = 0,
	};
	pid_t pid = raw_clone3(&args);
	if (pid < 0)
		return -errno;
	if (pid == 0)
		ipt_supervise(agent, path, argv, envp, in, out, err, status);
	*ret_pidfd = pidfd;
	return pid;
}

static int ipt_pipe(int fds[2], bool parent_reads)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fds[0] = fd_above_stdio(fds[0]);
	fds[1] = fd_above_stdio(fds[1]);
	if (fds[0] < 0 || fds[1] < 0) {
		int r = fds[0] < 0 ? fds[0] : fds[1];
		safe_close(fds[0]);
		safe_close(fds[1]);
		return r;
	}
	/* Only the agent's end is non-blocking: the child gets ordinary blocking stdio. */
	return fd_nonblock(fds[parent_reads ? 0 : 1], true);
}

static void ipt_run(struct rpc_call *call, bool is_set, bool ipv6, const ProtobufCBinaryData *in)
{
	struct agent *a = rpc_call_userdata(call);
	struct agent_network *net = a->network;
	const char *cmd = is_set ? (ipv6 ? "ip6tables-restore" : "iptables-restore")
				 : (ipv6 ? "ip6tables-save" : "iptables-save");
	char path[64];
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, pst[2] = {-1, -1}, r;

	if (!ipt_find(cmd, path, sizeof(path))) {
		rpc_call_reply_error(call, RPC_UNIMPLEMENTED,
				     "%s: %s is not installed in the guest (looked in /sbin and "
				     "/usr/sbin)",
				     is_set ? "SetIPTables" : "GetIPTables", cmd);
		return;
	}
	if (net->n_ipt_jobs >= IPT_MAX_JOBS) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED,
				     "%s: %u iptables commands already running", cmd,
				     net->n_ipt_jobs);
		return;
	}
	struct ipt_job *j = calloc(1, sizeof(*j));
	if (!j) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	*j = (struct ipt_job){.net = net,
			      .call = call,
			      .cmd = cmd,
			      .is_set = is_set,
			      .pidfd = -1,
			      .status_fd = -1,
			      .in_fd = -1,
			      .out_fd = -1,
			      .err_fd = -1};
	ev_timer_init(&j->timer);
	list_add_tail(&net->ipt_jobs, &j->node);
	net->n_ipt_jobs++;

	if (is_set) {
		r = ipt_pipe(pin, false);
	} else {
		pin[0] = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
		r = pin[0] < 0 ? (pin[0] == -1 ? -errno : pin[0]) : 0;
	}
	if (r >= 0)
		r = ipt_pipe(pout, true);
	if (r >= 0)
		r = ipt_pipe(perr, true);
	if (r >= 0)
		r = ipt_pipe(pst, true);
	if (r < 0)
		goto fail;

	const char *const save_argv[] = {cmd, NULL};
	const char *const restore_argv[] = {cmd, "--wait", IPT_RESTORE_WAIT, NULL};
	r = ipt_spawn(path, is_set ? restore_argv : save_argv, pin[0], pout[1], perr[1], pst[1],
		      &j->pidfd);
	if (r < 0)
		goto fail;
	j->pid = r;
	pin[0] = safe_close(pin[0]);
	pout[1] = safe_close(pout[1]);
	perr[1] = safe_close(perr[1]);
	pst[1] = safe_close(pst[1]);
	j->status_fd = TAKE_FD(pst[0]);
	j->in_fd = TAKE_FD(pin[1]);
	j->out_fd = TAKE_FD(pout[0]);
	j->err_fd = TAKE_FD(perr[0]);
	j->in_data = in ? in->data : NULL;
	j->in_len = in ? in->len : 0;

	struct ev_loop *loop = a->loop;
	if ((r = ev_io_start(loop, &j->pid_io, j->pidfd, EPOLLIN, ipt_pid_cb, j)) < 0 ||
	    (r = ev_io_start(loop, &j->out_io, j->out_fd, EPOLLIN, ipt_out_cb, j)) < 0 ||
	    (r = ev_io_start(loop, &j->err_io, j->err_fd, EPOLLIN, ipt_err_cb, j)) < 0 ||
	    (r = ev_io_start(loop, &j->status_io, j->status_fd, EPOLLIN, ipt_status_cb, j)) < 0 ||
	    (j->in_fd >= 0 &&
	     (r = ev_io_start(loop, &j->in_io, j->in_fd, EPOLLOUT, ipt_in_cb, j)) < 0) ||
	    (r = ev_timer_start(loop, &j->timer,
				now_monotonic_ns() + IPT_TIMEOUT_SEC * NSEC_PER_SEC, ipt_timeout,
				j)) < 0) {
		ipt_reap_now(j);
		rpc_call_reply_errno(call, r, "%s: cannot watch the child: %m", cmd);
		return;
	}
	log_debug("%s started (pid %d)", cmd, (int)j->pid);
	rpc_call_park(call, ipt_cancel, j);
	return;

fail:
	safe_close(pin[0]);
	safe_close(pin[1]);
	safe_close(pout[0]);
	safe_close(pout[1]);
	safe_close(perr[0]);
	safe_close(perr[1]);
	safe_close(pst[0]);
	safe_close(pst[1]);
	ipt_free(j);
	log_warn_errno(r, "%s: cannot start it: %m", cmd);
	rpc_call_reply_errno(call, r, "%s: cannot start it: %m", cmd);
}

void agent_get_iptables(struct rpc_call *call, void *request)
{
	Grpc__GetIPTablesRequest *req = request;
	ipt_run(call, false, req->is_ipv6, NULL);
}

void agent_set_iptables(struct rpc_call *call, void *request)
{
	Grpc__SetIPTablesRequest *req = request;
	ipt_run(call, true, req->is_ipv6, &req->data);
}

void iptables_jobs_done(struct agent_network *net)
{
	struct list_head *pos, *tmp;

	/* Shutdown: the calls are gone. Kill what still runs and reap it here; a killed child
	 * exits at once, so this wait is short. */
	LIST_FOREACH_SAFE (pos, tmp, &net->ipt_jobs)
		ipt_reap_now(list_entry(pos, struct ipt_job, node));
}
