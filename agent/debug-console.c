/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The debug console (agent.debug_console, agent.debug_console_vport=N; reference §3.6).
 *
 * Each connection to the console address gets a shell on a new pty, in the agent's own
 * namespaces (the guest's root namespaces), proxied both ways from the event loop: no
 * threads, 16 KiB per direction, and a side whose buffer is full is simply not read until
 * the other side takes the bytes (back-pressure instead of growth). With vport 0 there is no
 * listener: one shell runs on /dev/console and is respawned when it exits.
 *
 * A session ends when both the connection and the shell are gone. The host closing the
 * connection hangs the pty up (SIGHUP to the shell's session); a shell that ignores that
 * gets SIGKILL after KILL_DELAY. The shell exiting (the pty reading EIO once nothing holds
 * its slave side) closes the connection after the remaining output is sent.
 *
 * Exit is noticed through a pidfd, so it does not matter whether we or the container
 * engine's SIGCHLD reaper (waitpid(-1)) collects the status.
 */
#define LOG_SUBSYSTEM "console"
#include "guest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <linux/sched.h>

#define PROXY_BUF     (16 * 1024)
#define KILL_DELAY_NS (5 * NSEC_PER_SEC)
#define RESPAWN_NS    (1 * NSEC_PER_SEC)

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Kata's order; the image builder's debug option puts busybox (/bin/sh) in the image. */
static const char *const shells[] = {
    "/run/kata-extensions/devkit/bin/devkit-sh",
    "/bin/bash",
    "/bin/sh",
};

struct console_session {
	struct list_head node;
	struct debug_console *dc;
	int sock_fd, pty_fd, pidfd;
	pid_t pid;
	struct ev_io sock_io, pty_io, pid_io;
	struct ev_timer kill_timer;
	uint8_t to_pty[PROXY_BUF], to_sock[PROXY_BUF];
	size_t to_pty_len, to_sock_len;
	bool sock_eof; /* the host sends no more (the pty still gets what is buffered) */
	bool pty_eof;  /* the shell side is finished: flush to_sock, then close */
};

struct debug_console {
	struct agent *agent;
	struct rpc_addr addr;
	bool on_console; /* vport 0 */
	int listen_fd;
	struct ev_io listen_io;
	struct list_head sessions;
	unsigned n_sessions;
	/* vport 0: the shell on /dev/console */
	pid_t console_pid;
	int console_pidfd;
	struct ev_io console_pid_io;
	struct ev_timer respawn;
};

/* ---- spawning ---- */

struct spawn_plan {
	const char *shell;
	char *argv[2];
	char *envp[5];
	int tty_fd; /* the pty slave, or -1 to open /dev/console */
};

static const char *find_shell(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(shells); i++)
		if (access(shells[i], X_OK) == 0)
			return shells[i];
	return NULL;
}

/* The child runs only async-signal-safe system calls: the agent may have other threads,
 * and malloc or a lock taken at fork time would never be released. */
_noreturn_ static void child_exec(const struct spawn_plan *p)
{
	sigset_t none;
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	int fd = p->tty_fd;

	/* The agent blocks SIGCHLD/SIGTERM/SIGINT (signalfd) and ignores SIGPIPE; exec keeps
	 * both, and a shell with blocked signals is no shell. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	if (setsid() < 0)
		_exit(126);
	if (fd < 0) {
		/* /dev/console never becomes a controlling tty on open (the kernel forces
		 * O_NOCTTY for it); TIOCSCTTY below makes it ours. */
		fd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (fd < 0)
			_exit(126);
	}
	/* 1: take /dev/console even if another session has it (we are root). */
	if (ioctl(fd, TIOCSCTTY, p->tty_fd < 0 ? 1 : 0) < 0)
		_exit(126);
	for (int i = 0; i < 3; i++) {
		if (fd == i) {
			int fl = fcntl(fd, F_GETFD);
			if (fl < 0 || fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
				_exit(126);
		} else if (dup2(fd, i) < 0) {
			_exit(126);
		}
	}
	if (chdir("/") < 0)
		_exit(126);
	execve(p->shell, p->argv, p->envp);
	_exit(127);
}

/* clone() with CLONE_PIDFD (Linux 5.2), fork semantics otherwise. */
static int spawn_shell(struct spawn_plan *p, pid_t *ret_pid, int *ret_pidfd)
{
	int pidfd = -1;

	p->shell = find_shell();
	if (!p->shell)
		return -ENOENT;
	p->argv[0] = (char *)p->shell;
	p->argv[1] = NULL;
	p->envp[0] = (char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	p->envp[1] = (char *)"TERM=vt100";
	p->envp[2] = (char *)"HOME=/";
	p->envp[3] = (char *)"SHELL=/bin/sh";
	p->envp[4] = NULL;

	long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, NULL);
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(p);
	*ret_pid = (pid_t)pid;
	*ret_pidfd = pidfd;
	return 0;
}

/* Collects the status when it is still ours; -ECHILD means the SIGCHLD reaper took it. */
static void reap(int pidfd, pid_t pid, const char *what)
{
	siginfo_t si = {0};
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid)
		log_info("%s (pid %d) exited (%s %d)", what, (int)pid,
			 si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
	else
		log_info("%s (pid %d) exited", what, (int)pid);
}

/* ---- sessions ---- */

/* Returns true when the session was freed. */
static bool session_maybe_free(struct console_session *s)
{
	if (s->sock_fd >= 0 || s->pidfd >= 0)
		return false;
	struct ev_loop *loop = s->dc->agent->loop;
	ev_io_stop(loop, &s->pty_io);
	s->pty_fd = safe_close(s->pty_fd);
	ev_timer_stop(loop, &s->kill_timer);
	list_del(&s->node);
	s->dc->n_sessions--;
	free(s);
	return true;
}

static void kill_timer_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct console_session *s = t->data;
	if (s->pidfd >= 0) {
		log_warn("debug shell (pid %d) ignored the hangup: killing its process group",
			 (int)s->pid);
		/* The group id cannot have been reused while the group has members. */
		(void)kill(-s->pid, SIGKILL);
		(void)syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
	}
}

static void session_pty_done(struct console_session *s)
{
	ev_io_stop(s->dc->agent->loop, &s->pty_io);
	s->pty_fd = safe_close(s->pty_fd);
	s->to_pty_len = 0;
}

/* The host is gone (or everything was sent after the shell side finished): hang the pty
 * up so the shell's session gets SIGHUP, and make sure it ends. Returns false when the
 * session was freed. */
static bool session_close_sock(struct console_session *s)
{
	struct ev_loop *loop = s->dc->agent->loop;
	ev_io_stop(loop, &s->sock_io);
	s->sock_fd = safe_close(s->sock_fd);
	session_pty_done(s);
	if (s->pidfd >= 0 && !ev_timer_armed(&s->kill_timer)) {
		(void)kill(-s->pid, SIGHUP);
		ev_timer_start(loop, &s->kill_timer, now_monotonic_ns() + KILL_DELAY_NS,
			       kill_timer_cb, s);
	}
	return !session_maybe_free(s);
}

static void pid_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents _unused_)
{
	struct console_session *s = io->data;
	reap(s->pidfd, s->pid, "debug shell");
	ev_io_stop(loop, &s->pid_io);
	s->pidfd = safe_close(s->pidfd);
	ev_timer_stop(loop, &s->kill_timer);
	/* Output still in the pty is read until EIO; the connection closes after it. */
	(void)session_maybe_free(s);
}

static bool is_transient(void)
{
	return errno == EAGAIN || errno == EINTR;
}

/* Moves what can move without blocking; returns false when the session was freed. */
static bool pump(struct console_session *s)
{
	ssize_t n;

	if (s->sock_fd >= 0 && !s->sock_eof && s->to_pty_len < PROXY_BUF) {
		n = read(s->sock_fd, s->to_pty + s->to_pty_len, PROXY_BUF - s->to_pty_len);
		if (n > 0) {
			s->to_pty_len += (size_t)n;
		} else if (n == 0) {
			/* The host shut down its sending side: the shell gets the terminal's
			 * end-of-file, ^D, and its output still flows. As on a real terminal, a
			 * ^D typed ahead of the shell's prompt may be swallowed; hosts that are
			 * done close the connection. */
			s->sock_eof = true;
			s->to_pty[s->to_pty_len++] = 0x04;
		} else if (!is_transient()) {
			return session_close_sock(s);
		}
	}
	if (s->pty_fd >= 0 && s->to_pty_len > 0) {
		n = write(s->pty_fd, s->to_pty, s->to_pty_len);
		if (n > 0) {
			memmove(s->to_pty, s->to_pty + n, s->to_pty_len - (size_t)n);
			s->to_pty_len -= (size_t)n;
		} else if (n < 0 && !is_transient()) {
			s->to_pty_len = 0;
		}
	}
	if (s->pty_fd >= 0 && s->to_sock_len < PROXY_BUF) {
		n = read(s->pty_fd, s->to_sock + s->to_sock_len, PROXY_BUF - s->to_sock_len);
		if (n > 0)
			s->to_sock_len += (size_t)n;
		else if (n == 0 || !is_transient())
			session_pty_done(s); /* EIO: nothing holds the slave side any more */
	}
	if (s->sock_fd >= 0 && s->to_sock_len > 0) {
		n = write(s->sock_fd, s->to_sock, s->to_sock_len);
		if (n > 0) {
			memmove(s->to_sock, s->to_sock + n, s->to_sock_len - (size_t)n);
			s->to_sock_len -= (size_t)n;
		} else if (n < 0 && !is_transient()) {
			return session_close_sock(s);
		}
	}
	if (s->sock_fd >= 0 && s->pty_fd < 0 && s->to_sock_len == 0)
		return session_close_sock(s);
	return true;
}

static void session_update(struct console_session *s)
{
	struct ev_loop *loop = s->dc->agent->loop;
	int r = 0;

	if (s->sock_fd >= 0) {
		uint32_t ev = 0;
		if (!s->sock_eof && s->to_pty_len < PROXY_BUF)
			ev |= EPOLLIN;
		if (s->to_sock_len > 0)
			ev |= EPOLLOUT;
		r = ev_io_modify(loop, &s->sock_io, ev);
	}
	if (r >= 0 && s->pty_fd >= 0) {
		uint32_t ev = 0;
		if (s->to_sock_len < PROXY_BUF)
			ev |= EPOLLIN;
		if (s->to_pty_len > 0)
			ev |= EPOLLOUT;
		r = ev_io_modify(loop, &s->pty_io, ev);
	}
	if (r < 0) {
		log_error_errno(r, "debug console: epoll: %m; closing the session");
		(void)session_close_sock(s);
	}
}

static void session_io_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents)
{
	struct console_session *s = io->data;

	/* EPOLLHUP on the socket: the host closed both ways (a half close only reads 0).
	 * EPOLLHUP on the pty master is its slave side closing: pump() reads the EIO. */
	if (io == &s->sock_io && (revents & (EPOLLERR | EPOLLHUP))) {
		(void)session_close_sock(s);
		return;
	}
	if (pump(s))
		session_update(s);
}

static int open_pty(int *ret_master, int *ret_slave)
{
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	int unlock = 0;
	struct winsize ws = {.ws_row = 24, .ws_col = 80};

	if (master < 0)
		return -errno;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return -errno;
	/* The slave through the master (Linux 4.13): no path lookup in /dev/pts, which may be
	 * another devpts instance than the master's. */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return -errno;
	(void)ioctl(master, TIOCSWINSZ, &ws);
	*ret_master = TAKE_FD(master);
	*ret_slave = slave;
	return 0;
}

static int session_new(struct debug_console *dc, int sock_fd)
{
	struct ev_loop *loop = dc->agent->loop;
	struct spawn_plan plan = {0};
	_cleanup_close_ int slave = -1;
	int r;

	struct console_session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dc = dc;
	s->sock_fd = sock_fd;
	s->pty_fd = s->pidfd = -1;
	ev_timer_init(&s->kill_timer);
	list_init(&s->node);

	r = open_pty(&s->pty_fd, &slave);
	if (r < 0)
		goto fail;
	plan.tty_fd = slave;
	r = spawn_shell(&plan, &s->pid, &s->pidfd);
	if (r < 0)
		goto fail;
	slave = safe_close(slave); /* EIO on the master must mean the shell side is done */
	if ((r = ev_io_start(loop, &s->pid_io, s->pidfd, EPOLLIN, pid_cb, s)) < 0 ||
	    (r = ev_io_start(loop, &s->sock_io, s->sock_fd, EPOLLIN, session_io_cb, s)) < 0 ||
	    (r = ev_io_start(loop, &s->pty_io, s->pty_fd, EPOLLIN, session_io_cb, s)) < 0) {
		ev_io_stop(loop, &s->pid_io);
		ev_io_stop(loop, &s->sock_io);
		(void)kill(s->pid, SIGKILL);
		goto fail;
	}
	list_add_tail(&dc->sessions, &s->node);
	dc->n_sessions++;
	log_info("debug console: %s (pid %d) started for a new connection", plan.shell,
		 (int)s->pid);
	return 0;
fail:
	safe_close(s->pty_fd);
	safe_close(s->pidfd);
	free(s);
	return r;
}

static void listen_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct debug_console *dc = io->data;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	int fd =
	    accept4(dc->listen_fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn_errno(errno, "debug console accept: %m");
		return;
	}
	if (!guest_peer_allowed(dc->agent->guest, (struct sockaddr *)&peer, plen,
				"debug console")) {
		close(fd);
		return;
	}
	if (dc->n_sessions >= DEBUG_CONSOLE_MAX_SESSIONS) {
		log_warn("debug console: refusing a connection, %u sessions open (limit)",
			 dc->n_sessions);
		close(fd);
		return;
	}
	int r = session_new(dc, fd);
	if (r < 0) {
		log_error_errno(r, "debug console: cannot start a shell: %m");
		close(fd);
	}
}

/* ---- vport 0: a shell on /dev/console ---- */

static void console_respawn_cb(struct ev_loop *loop, struct ev_timer *t);

static void console_pid_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents _unused_)
{
	struct debug_console *dc = io->data;
	reap(dc->console_pidfd, dc->console_pid, "console shell");
	ev_io_stop(loop, &dc->console_pid_io);
	dc->console_pidfd = safe_close(dc->console_pidfd);
	/* Delayed, so that a shell that cannot start does not spin. */
	ev_timer_start(loop, &dc->respawn, now_monotonic_ns() + RESPAWN_NS, console_respawn_cb, dc);
}

static int console_spawn(struct debug_console *dc)
{
	struct spawn_plan plan = {.tty_fd = -1};
	int r = spawn_shell(&plan, &dc->console_pid, &dc->console_pidfd);
	if (r < 0)
		return r;
	r = ev_io_start(dc->agent->loop, &dc->console_pid_io, dc->console_pidfd, EPOLLIN,
			console_pid_cb, dc);
	if (r < 0) {
		(void)kill(dc->console_pid, SIGKILL);
		dc->console_pidfd = safe_close(dc->console_pidfd);
		return r;
	}
	log_info("debug console: %s (pid %d) on /dev/console", plan.shell, (int)dc->console_pid);
	return 0;
}

static void console_respawn_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct debug_console *dc = t->data;
	int r = console_spawn(dc);
	if (r < 0)
		log_error_errno(r, "debug console: cannot restart the shell on /dev/console: %m");
}

/* ---- set-up ---- */

void debug_console_free(struct debug_console *dc)
{
	if (!dc)
		return;
	struct ev_loop *loop = dc->agent->loop;
	while (!list_empty(&dc->sessions)) {
		struct console_session *s =
		    list_entry(dc->sessions.next, struct console_session, node);
		if (s->pidfd >= 0)
			(void)kill(-s->pid, SIGKILL);
		ev_io_stop(loop, &s->pid_io);
		s->pidfd = safe_close(s->pidfd);
		(void)session_close_sock(s);
	}
	if (dc->listen_fd >= 0) {
		ev_io_stop(loop, &dc->listen_io);
		close(dc->listen_fd);
		if (dc->addr.kind == RPC_ADDR_UNIX && dc->addr.path[0] == '/')
			(void)unlink(dc->addr.path);
	}
	ev_timer_stop(loop, &dc->respawn);
	if (dc->console_pidfd >= 0) {
		(void)kill(dc->console_pid, SIGKILL);
		ev_io_stop(loop, &dc->console_pid_io);
		close(dc->console_pidfd);
	}
	free(dc);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct debug_console *, debug_console_free)

int debug_console_start(struct agent *a, const char *addr, struct debug_console **ret)
{
	_cleanup_(debug_console_freep) struct debug_console *dc = calloc(1, sizeof(*dc));
	int r;

	if (!dc)
		return -ENOMEM;
	dc->agent = a;
	dc->listen_fd = dc->console_pidfd = -1;
	list_init(&dc->sessions);
	ev_timer_init(&dc->respawn);
	if (!find_shell())
		return -ENOENT; /* none of the shells is in the image */
	if (!addr) {
		dc->on_console = true;
		r = console_spawn(dc);
		if (r < 0)
			return r;
	} else {
		r = rpc_addr_parse(addr, &dc->addr);
		if (r < 0)
			return r;
		if (dc->addr.kind != RPC_ADDR_UNIX && dc->addr.kind != RPC_ADDR_VSOCK)
			return -EOPNOTSUPP;
		dc->listen_fd = rpc_addr_listen(&dc->addr);
		if (dc->listen_fd < 0)
			return dc->listen_fd;
		r = ev_io_start(a->loop, &dc->listen_io, dc->listen_fd, EPOLLIN, listen_cb, dc);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(dc);
	return 0;
}
