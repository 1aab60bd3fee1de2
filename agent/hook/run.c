/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hook runner: one hook process at a time, observed from the event loop through its
 * pidfd, its stdin (the OCI state), its output pipe and a timer.
 */
#define LOG_SUBSYSTEM "hook"
#include "hook.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct hook_run {
	struct list_head node; /* live runs, for hook_shutdown() */
	struct ev_loop *loop;
	const struct hook_list *list;
	enum hook_kind kind;
	char *state;
	size_t state_len, state_off;
	char *cwd;
	pid_t ns_pid;
	bool keep_going;
	hook_done_fn done; /* NULL once cancelled */
	void *data;
	size_t idx;

	/* the running hook */
	pid_t pid;
	int pidfd;
	struct ev_io pid_io;
	int in_fd;
	struct ev_io in_io;
	int out_fd;
	struct ev_io out_io;
	int exec_err_fd; /* the child's errno when it could not exec; EOF at execve */
	char out[HOOK_OUTPUT_MAX];
	size_t out_len;
	struct ev_timer timer;
	bool timed_out;
};

static struct list_head live_runs = LIST_HEAD_INIT(live_runs);

/* ---- the child ---- */

/* What the child needs, prepared by the parent (no allocation after clone). */
struct child_args {
	const struct hook *h;
	const char *cwd;
	int ns_pidfd;
	int ns_flags;
	int root_fd; /* the container process's root (pivot_root'ed or chroot'ed) */
	int in_fd, out_fd, exec_err_fd;
};

_noreturn_ static void child_fail(const struct child_args *a, int err)
{
	(void)!write(a->exec_err_fd, &err, sizeof(err));
	_exit(127);
}

_noreturn_ static void child_main(const struct child_args *a)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	/* A hook must not outlive the agent, and its whole process group is killed on
	 * timeout. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)setpgid(0, 0);
	if (a->ns_pidfd >= 0 && a->ns_flags && setns(a->ns_pidfd, a->ns_flags) < 0)
		child_fail(a, errno);
	if (a->root_fd >= 0) {
		/* setns(CLONE_NEWNS) leaves us at the namespace's root, which is not the
		 * container's when it was entered with MS_MOVE + chroot (initramfs). */
		if (fchdir(a->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
			child_fail(a, errno);
	} else if (chdir(a->cwd) < 0 && chdir("/") < 0) {
		child_fail(a, errno);
	}
	if (dup2(a->in_fd, 0) < 0 || dup2(a->out_fd, 1) < 0 || dup2(a->out_fd, 2) < 0)
		child_fail(a, errno);
	/* Everything of the agent's above stdio goes at execve (the error pipe too). */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	/* The agent ignores SIGPIPE and blocks the signals it reads through signalfds; both
	 * would survive execve. */
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(a->h->path, a->h->argv, a->h->envp);
	child_fail(a, errno);
}

/* ---- namespaces of a container process ---- */

static const struct {
	const char *name;
	int flag;
} ns_kinds[] = {
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},  {"net", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP},
    {"pid", CLONE_NEWPID},
};

/* The namespaces pid does not share with us: joining our own user namespace fails. */
static int ns_flags_of(pid_t pid)
{
	int flags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(ns_kinds); i++) {
		char a[64], b[64];
		struct stat sa, sb;
		snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)pid, ns_kinds[i].name);
		snprintf(b, sizeof(b), "/proc/self/ns/%s", ns_kinds[i].name);
		if (stat(a, &sa) < 0)
			return -errno;
		if (stat(b, &sb) < 0 || sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev)
			flags |= ns_kinds[i].flag;
	}
	return flags;
}

/* ---- the parent ---- */

static void stop_io(struct hook_run *r, struct ev_io *io, int *fd)
{
	if (*fd < 0)
		return;
	if (io->active)
		ev_io_stop(r->loop, io);
	*fd = safe_close(*fd);
}

static void run_free(struct hook_run *r)
{
	stop_io(r, &r->pid_io, &r->pidfd);
	stop_io(r, &r->in_io, &r->in_fd);
	stop_io(r, &r->out_io, &r->out_fd);
	r->exec_err_fd = safe_close(r->exec_err_fd);
	ev_timer_stop(r->loop, &r->timer);
	list_del(&r->node);
	free(r->state);
	free(r->cwd);
	free(r);
}

static void kill_hook(struct hook_run *r)
{
	if (r->pid <= 0)
		return;
	/* The pid is ours until it is reaped (by us or the agent's reaper, which tells us
	 * at once), so its process group id cannot have been reused yet. */
	(void)kill(-r->pid, SIGKILL);
	if (r->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
}

static void read_output(struct hook_run *r)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(r->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				stop_io(r, &r->out_io, &r->out_fd);
			return;
		}
		size_t keep = MIN((size_t)n, sizeof(r->out) - 1 - r->out_len);
		memcpy(r->out + r->out_len, buf, keep);
		r->out_len += keep;
	}
}

static void out_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	read_output(io->data);
}

static void in_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct hook_run *r = io->data;
	while (r->state_off < r->state_len) {
		ssize_t n = write(r->in_fd, r->state + r->state_off, r->state_len - r->state_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) /* EPIPE: the hook does not read its state, which is its right */
			break;
		r->state_off += (size_t)n;
	}
	stop_io(r, &r->in_io, &r->in_fd); /* EOF for the hook */
}

static void timer_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct hook_run *r = t->data;
	r->timed_out = true;
	kill_hook(r);
}

/* The output as one printable line for a message. */
static const char *output_line(struct hook_run *r)
{
	size_t n = r->out_len;
	while (n && (r->out[n - 1] == '\n' || r->out[n - 1] == ' '))
		n--;
	for (size_t i = 0; i < n; i++)
		if (r->out[i] == '\n' || r->out[i] == '\t')
			r->out[i] = ' ';
		else if ((unsigned char)r->out[i] < 0x20 || (unsigned char)r->out[i] == 0x7f)
			r->out[i] = '?';
	r->out[n] = '\0';
	return r->out;
}

static int start_hook(struct hook_run *r, char *err, size_t errsz);

static void finish(struct hook_run *r, int res, const char *msg)
{
	hook_done_fn done = r->done;
	void *data = r->data;
	run_free(r);
	if (done)
		done(data, res, msg);
}

/* The hook process is gone: judge it, then run the next one or finish. */
static void hook_exited(struct hook_run *r, int wait_status)
{
	char msg[HOOK_OUTPUT_MAX + 512];
	int res = 0, exec_errno = 0;

	if (!r->done) { /* cancelled: it only had to be reaped; its list may be gone */
		run_free(r);
		return;
	}
	const struct hook *h = &r->list->v[r->idx];
	stop_io(r, &r->pid_io, &r->pidfd);
	stop_io(r, &r->in_io, &r->in_fd);
	ev_timer_stop(r->loop, &r->timer);
	r->pid = 0;
	/* What it wrote before exiting is in the pipe now; a child of the hook that keeps
	 * the pipe open does not hold us up. */
	if (r->out_fd >= 0)
		read_output(r);
	stop_io(r, &r->out_io, &r->out_fd);
	if (read(r->exec_err_fd, &exec_errno, sizeof(exec_errno)) != sizeof(exec_errno))
		exec_errno = 0;
	r->exec_err_fd = safe_close(r->exec_err_fd);

	const char *kind = hook_kind_name(r->kind);
	if (r->timed_out) {
		res = -ETIMEDOUT;
		snprintf(msg, sizeof(msg), "%s hook '%s' did not finish within %u s (killed)%s%s",
			 kind, h->path, h->timeout_s, r->out_len ? ": " : "", output_line(r));
	} else if (exec_errno) {
		res = -exec_errno;
		snprintf(msg, sizeof(msg), "%s hook '%s': cannot execute it%s: %s", kind, h->path,
			 r->ns_pid > 0 ? " in the container's namespaces" : "",
			 strerror(exec_errno));
	} else if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
		res = -EPROTO;
		char how[48];
		if (WIFEXITED(wait_status))
			snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(wait_status));
		else
			snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(wait_status));
		snprintf(msg, sizeof(msg), "%s hook '%s' failed (%s)%s%s", kind, h->path, how,
			 r->out_len ? ": " : "", output_line(r));
	} else {
		log_debug("%s hook '%s' done", kind, h->path);
	}

	if (res < 0 && !r->keep_going) {
		finish(r, res, msg);
		return;
	}
	if (res < 0)
		/* OCI: a failing poststart/poststop hook is a warning; the others still run. */
		log_warn("%s", msg);
	for (r->idx++; r->idx < r->list->n; r->idx++) {
		int s = start_hook(r, msg, sizeof(msg));
		if (s == 0)
			return;
		if (!r->keep_going) {
			finish(r, s, msg);
			return;
		}
		log_warn("%s", msg);
	}
	finish(r, 0, NULL);
}

/* siginfo of waitid -> a wait status as waitpid gives it */
static int wait_status_of(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return (si->si_status & 0xff) << 8;
	return si->si_status & 0x7f;
}

static void pid_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct hook_run *r = io->data;
	siginfo_t si = {0};
	/* ECHILD: the SIGCHLD reaper was first and handed it to hook_child_reaped(). */
	if (waitid((idtype_t)P_PIDFD, (id_t)r->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	hook_exited(r, wait_status_of(&si));
}

bool hook_child_reaped(pid_t pid, int wait_status)
{
	struct list_head *pos;
	LIST_FOREACH (pos, &live_runs) {
		struct hook_run *r = list_entry(pos, struct hook_run, node);
		if (r->pid > 0 && r->pid == pid) {
			hook_exited(r, wait_status);
			return true;
		}
	}
	return false;
}

/* Clones hook r->idx. On failure nothing is left running and err says why. */
static int start_hook(struct hook_run *r, char *err, size_t errsz)
{
	const struct hook *h = &r->list->v[r->idx];
	const char *kind = hook_kind_name(r->kind);
	_cleanup_close_ int in_r = -1, out_w = -1, err_w = -1, ns_pidfd = -1, pidns = -1,
			    self_pidns = -1, root_fd = -1;
	int fds[2], pidfd = -1, ns_flags = 0, res;

	r->in_fd = r->out_fd = r->exec_err_fd = r->pidfd = -1;
	r->out_len = 0;
	r->state_off = 0;
	r->timed_out = false;

	if (r->ns_pid > 0) {
		ns_flags = ns_flags_of(r->ns_pid);
		ns_pidfd = (int)syscall(SYS_pidfd_open, r->ns_pid, 0);
		if (ns_flags < 0 || ns_pidfd < 0) {
			res = ns_flags < 0 ? ns_flags : -errno;
			snprintf(err, errsz, "%s hook '%s': the container process %d is gone: %s",
				 kind, h->path, (int)r->ns_pid, strerror(-res));
			return res;
		}
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/root", (int)r->ns_pid);
		root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0) {
			res = -errno;
			snprintf(err, errsz, "%s hook '%s': root of process %d: %s", kind, h->path,
				 (int)r->ns_pid, strerror(-res));
			return res;
		}
		if (ns_flags & CLONE_NEWPID) {
			/* A process joins a pid namespace only by being created in it: clone
			 * with the container's as our pid_for_children (as agent/container
			 * does). */
			snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)r->ns_pid);
			pidns = open(path, O_RDONLY | O_CLOEXEC);
			self_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
			if (pidns < 0 || self_pidns < 0) {
				res = -errno;
				snprintf(err, errsz, "%s hook '%s': pid namespace of %d: %s", kind,
					 h->path, (int)r->ns_pid, strerror(-res));
				return res;
			}
			ns_flags &= ~CLONE_NEWPID;
		}
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto fail_errno;
	in_r = fds[0];
	r->in_fd = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto fail_errno;
	r->out_fd = fds[0];
	out_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto fail_errno;
	r->exec_err_fd = fds[0];
	err_w = fds[1];
	(void)fd_nonblock(r->in_fd, true);
	(void)fd_nonblock(r->out_fd, true);
	(void)fd_nonblock(r->exec_err_fd, true);

	struct child_args ca = {
	    .h = h,
	    .cwd = r->cwd ? r->cwd : "/",
	    .ns_pidfd = ns_pidfd,
	    .ns_flags = ns_flags,
	    .root_fd = root_fd,
	    .in_fd = in_r,
	    .out_fd = out_w,
	    .exec_err_fd = err_w,
	};
	struct clone_args args = {
	    .flags = CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	    .exit_signal = SIGCHLD, /* execve resets it to SIGCHLD anyway */
	};
	if (pidns >= 0 && setns(pidns, CLONE_NEWPID) < 0)
		goto fail_errno;
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		child_main(&ca);
	int clone_errno = errno;
	if (self_pidns >= 0 && setns(self_pidns, CLONE_NEWPID) < 0) {
		/* Later children would be born in a container's pid namespace. */
		log_critical("cannot restore the agent's pid namespace for children: %m");
		abort();
	}
	if (pid < 0) {
		errno = clone_errno;
		goto fail_errno;
	}
	r->pid = (pid_t)pid;
	r->pidfd = pidfd;
	log_debug("%s hook '%s': pid %ld", kind, h->path, pid);

	res = ev_io_start(r->loop, &r->pid_io, r->pidfd, EPOLLIN, pid_cb, r);
	if (res == 0)
		res = ev_io_start(r->loop, &r->out_io, r->out_fd, EPOLLIN, out_cb, r);
	if (res == 0 && r->state_len)
		res = ev_io_start(r->loop, &r->in_io, r->in_fd, EPOLLOUT, in_cb, r);
	else if (res == 0)
		stop_io(r, &r->in_io, &r->in_fd);
	if (res == 0)
		res = ev_timer_start(r->loop, &r->timer,
				     now_monotonic_ns() + (uint64_t)h->timeout_s * NSEC_PER_SEC,
				     timer_cb, r);
	if (res < 0) {
		siginfo_t si;
		kill_hook(r);
		/* SIGKILLed, so the wait is short */
		while (waitid((idtype_t)P_PIDFD, (id_t)r->pidfd, &si, WEXITED) < 0 &&
		       errno == EINTR)
			;
		r->pid = 0;
		goto fail;
	}
	return 0;

fail_errno:
	res = -errno;
fail:
	stop_io(r, &r->pid_io, &r->pidfd);
	stop_io(r, &r->in_io, &r->in_fd);
	stop_io(r, &r->out_io, &r->out_fd);
	r->exec_err_fd = safe_close(r->exec_err_fd);
	snprintf(err, errsz, "%s hook '%s': cannot start it: %s", kind, h->path, strerror(-res));
	return res;
}

int hook_run_start(const struct hook_run_opts *o, hook_done_fn done, void *data,
		   struct hook_run **ret, char *err, size_t errsz)
{
	if (!o->list || o->list->n == 0) {
		snprintf(err, errsz, "no %s hooks to run", hook_kind_name(o->kind));
		return -EINVAL;
	}
	struct hook_run *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = o->loop;
	r->list = o->list;
	r->kind = o->kind;
	r->ns_pid = o->ns_pid;
	r->keep_going = o->keep_going;
	r->done = done;
	r->data = data;
	r->pidfd = r->in_fd = r->out_fd = r->exec_err_fd = -1;
	ev_timer_init(&r->timer);
	list_add_tail(&live_runs, &r->node);
	r->state = strdup(o->state ? o->state : "");
	r->cwd = o->cwd ? strdup(o->cwd) : NULL;
	if (!r->state || (o->cwd && !r->cwd)) {
		run_free(r);
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	r->state_len = strlen(r->state);

	for (; r->idx < r->list->n; r->idx++) {
		int s = start_hook(r, err, errsz);
		if (s == 0) {
			*ret = r;
			return 0;
		}
		if (!r->keep_going) {
			run_free(r);
			return s;
		}
		log_warn("%s", err);
	}
	/* keep_going and none of them could be started (each was logged). */
	run_free(r);
	snprintf(err, errsz, "none of the %s hooks could be started", hook_kind_name(o->kind));
	return -ECHILD;
}

void hook_run_cancel(struct hook_run *r)
{
	if (!r)
		return;
	r->done = NULL;
	r->list = NULL; /* the caller may free it now */
	if (r->pid <= 0) {
		run_free(r);
		return;
	}
	kill_hook(r); /* pid_cb reaps it and frees the run */
}

void hook_shutdown(void)
{
	while (!list_empty(&live_runs)) {
		struct hook_run *r = list_entry(live_runs.next, struct hook_run, node);
		if (r->pid > 0 && r->pidfd >= 0) {
			siginfo_t si;
			kill_hook(r);
			while (waitid((idtype_t)P_PIDFD, (id_t)r->pidfd, &si, WEXITED) < 0 &&
			       errno == EINTR)
				;
		}
		run_free(r);
	}
}
