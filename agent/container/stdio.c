/* SPDX-License-Identifier: Apache-2.0 */
/* The container's stdio: three pipes, or a pty whose master stays in the agent. */
#include "container.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>

/* Child ends land at >= 3 so that dup2 onto 0..2 in the child never clobbers one. */
static int move_high(int fd)
{
	if (fd >= 3)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int e = errno;
	close(fd);
	errno = e;
	return n;
}

static int open_pty(struct ct_stdio *s)
{
	/* The container's devpts is a new instance the agent cannot see; the pty lives in
	 * the agent's devpts like Kata's openpty(). */
	_cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (master < 0)
		return -errno;
	if (grantpt(master) < 0 || unlockpt(master) < 0)
		return -errno;
	int n = 0;
	if (ioctl(master, TIOCGPTN, &n) < 0)
		return -errno;
	/* TIOCGPTPEER opens the peer through the master, immune to /dev/pts games. */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return -errno;
	slave = move_high(slave);
	if (slave < 0)
		return -errno;
	int master2 = fcntl(master, F_DUPFD_CLOEXEC, 3);
	if (master2 < 0) {
		close(slave);
		return -errno;
	}
	s->parent[0] = master2;
	s->parent[1] = TAKE_FD(master);
	s->parent[2] = -1;
	s->child[0] = s->child[1] = s->child[2] = slave;
	return 0;
}

int ct_stdio_open(struct ct_stdio *s, bool tty, uint32_t pipe_size)
{
	for (int i = 0; i < 3; i++)
		s->parent[i] = s->child[i] = -1;
	s->tty = tty;
	if (tty) {
		int r = open_pty(s);
		if (r < 0)
			ct_stdio_close(s);
		return r;
	}
	for (int i = 0; i < 3; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			int r = -errno;
			ct_stdio_close(s);
			return r;
		}
		/* stdin: the child reads p[0]; stdout/stderr: the child writes p[1]. */
		int child = i == 0 ? p[0] : p[1];
		int parent = i == 0 ? p[1] : p[0];
		child = move_high(child);
		s->child[i] = child;
		s->parent[i] = parent;
		if (child < 0) {
			int r = -errno;
			ct_stdio_close(s);
			return r;
		}
		(void)fd_nonblock(parent, true);
		if (pipe_size)
			(void)fcntl(parent, F_SETPIPE_SZ, (int)pipe_size);
	}
	return 0;
}

void ct_stdio_close(struct ct_stdio *s)
{
	for (int i = 0; i < 3; i++) {
		s->parent[i] = safe_close(s->parent[i]);
		bool dup = false;
		for (int k = 0; k < i; k++)
			dup |= s->child[k] == s->child[i] && s->child[i] >= 0;
		if (!dup)
			safe_close(s->child[i]);
	}
	for (int i = 0; i < 3; i++)
		s->child[i] = -1;
}
