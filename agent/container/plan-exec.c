/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The child: executes a plan between clone and execve.
 *
 * Rules (the child is a copy of the agent taken at an arbitrary point): only system calls
 * and libc's thin syscall wrappers (no malloc, no stdio, no locale, no NSS, no locks). The
 * plan was built by the parent and is read-only here. Any failure is reported as one
 * struct ct_status on the status pipe (errno + step + index), then the child exits 127.
 */
#include "container.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define CHILD_PATH_MAX 4096

static struct ct_plan *plan;

_noreturn_ static void child_fail(enum ct_step step, int arg, int err)
{
	struct ct_status st = {.ready = 0, .err = err > 0 ? err : EIO, .step = step, .arg = arg};
	(void)!write(plan->status_fd, &st, sizeof(st));
	_exit(127);
}

#define CHECK(expr, step, arg)                                                                     \
	do {                                                                                       \
		if ((expr) < 0)                                                                    \
			child_fail(step, arg, errno);                                              \
	} while (0)

/* issue 7: agent/security resolves (openat2 RESOLVE_IN_ROOT, or a symlink-safe walk
 * without it); -1 + errno here. */
static int open_in_root(int root_fd, const char *path, int flags)
{
	int fd = security_open_in_root(root_fd, path, flags);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

/* issue 7: a failed agent/security step; *where names it (security_describe). A pointer:
 * the call that sets it is an argument of this one. */
static void check_security(int r, const int *where)
{
	if (r < 0)
		child_fail(CT_STEP_SECURITY, *where, -r);
}

static size_t c_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/*
 * Opens `path` inside the root, creating missing components (directories; the last one a
 * file when last_is_file). Every step resolves from root_fd with RESOLVE_IN_ROOT, so a
 * symlink in the rootfs can never lead out of it. Returns an O_PATH fd or -1 (errno).
 */
static int mkdir_p_in_root(int root_fd, const char *path, bool last_is_file)
{
	/* issue 7: agent/security's walk also creates the target of a dangling symlink inside
	 * the root (/evil -> /host/dir makes <root>/host/dir), never outside it. */
	int fd = security_mkdir_in_root(root_fd, path, last_is_file);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

/* ---- fds ---- */

/* Closes every fd except the plan's: agent sockets, the epoll fd and other containers'
 * pipes must not stay open in a container even while it waits for StartContainer. */
static void close_other_fds(void)
{
	int keep[ARRAY_SIZE(plan->keep_fds)];
	size_t n = plan->n_keep_fds;
	memcpy(keep, plan->keep_fds, n * sizeof(int));
	for (size_t i = 1; i < n; i++) /* insertion sort, n is tiny */
		for (size_t k = i; k > 0 && keep[k - 1] > keep[k]; k--) {
			int t = keep[k];
			keep[k] = keep[k - 1];
			keep[k - 1] = t;
		}
	unsigned from = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < from) {
			if (keep[i] >= 0 && (unsigned)keep[i] + 1 > from)
				from = (unsigned)keep[i] + 1;
			continue;
		}
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

static void reset_signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t none;
	/* The agent ignores SIGPIPE and blocks the signals it reads from signalfds: both
	 * survive execve and must not reach the container. */
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---- rootfs ---- */

static void do_mount(int root_fd, size_t idx)
{
	const struct ct_mount *m = &plan->mounts[idx];
	char target[32];
	int fd = mkdir_p_in_root(root_fd, m->dest, m->dest_is_file);
	if (fd < 0)
		child_fail(CT_STEP_MOUNT_DEST, (int)idx, errno);
	/* issue 7: a symlink must not lead a mount into an earlier /proc mount. */
	int r = security_child_check_mount_target(fd, m->dest);
	if (r < 0)
		child_fail(CT_STEP_MOUNT_DEST, (int)idx, -r);
	security_fd_path(target, fd);
	if (m->bind) {
		CHECK(mount(m->source, target, NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL),
		      CT_STEP_MOUNT, (int)idx);
	} else {
		CHECK(mount(m->source, target, m->fstype, m->flags, m->data), CT_STEP_MOUNT,
		      (int)idx);
	}
	close(fd);
	if ((m->bind && m->attr_set) || m->propagation) {
		/* Re-resolve: the fd above names the directory under the new mount. */
		fd = open_in_root(root_fd, m->dest, O_PATH);
		if (fd < 0)
			child_fail(CT_STEP_MOUNT, (int)idx, errno);
		struct mount_attr attr = {
		    .attr_set = m->bind ? m->attr_set : 0,
		    .propagation = m->propagation & ~(unsigned long)MS_REC,
		};
		unsigned flags = AT_EMPTY_PATH |
				 ((m->recursive || (m->propagation & MS_REC)) ? AT_RECURSIVE : 0);
		CHECK(syscall(SYS_mount_setattr, fd, "", flags, &attr, sizeof(attr)), CT_STEP_MOUNT,
		      (int)idx);
		close(fd);
	}
}

static void populate_dev(int root_fd)
{
	mode_t old = umask(0);
	for (size_t i = 0; i < plan->n_devices; i++) {
		const struct ct_device *d = &plan->devices[i];
		if (plan->dev_bind) {
			char target[32];
			int fd = mkdir_p_in_root(root_fd, d->path, true);
			if (fd < 0)
				child_fail(CT_STEP_DEVICE, (int)i, errno);
			security_fd_path(target, fd);
			/* A user namespace may not mknod: bind the agent's node. */
			CHECK(mount(d->path, target, NULL, MS_BIND, NULL), CT_STEP_DEVICE, (int)i);
			close(fd);
			continue;
		}
		/* parent directory, then the node */
		const char *base = d->path;
		for (const char *c = d->path; *c; c++)
			if (*c == '/')
				base = c + 1;
		char dir[CHILD_PATH_MAX];
		size_t dl = (size_t)(base - d->path);
		if (dl >= sizeof(dir))
			child_fail(CT_STEP_DEVICE, (int)i, ENAMETOOLONG);
		memcpy(dir, d->path, dl);
		dir[dl] = '\0';
		int dfd = mkdir_p_in_root(root_fd, dir, false);
		if (dfd < 0)
			child_fail(CT_STEP_DEVICE, (int)i, errno);
		/* O_PATH fds cannot be used for mknodat: reopen as a directory. */
		char dpath[32];
		security_fd_path(dpath, dfd);
		int real = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(dfd);
		if (real < 0)
			child_fail(CT_STEP_DEVICE, (int)i, errno);
		(void)unlinkat(real, base, 0);
		CHECK(mknodat(real, base, d->mode, d->dev), CT_STEP_DEVICE, (int)i);
		CHECK(fchownat(real, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW), CT_STEP_DEVICE,
		      (int)i);
		close(real);
	}

	int dev = open_in_root(root_fd, "/dev", O_RDONLY | O_DIRECTORY);
	if (dev < 0)
		child_fail(CT_STEP_DEV, -1, errno);
	static const char *const links[][2] = {
	    {"/proc/self/fd", "fd"},	   {"/proc/self/fd/0", "stdin"},
	    {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	    {"pts/ptmx", "ptmx"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		if (i == 4)
			(void)unlinkat(dev, links[i][1], 0); /* a ptmx node from the spec yields */
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			child_fail(CT_STEP_DEV, -1, errno);
	}
	if (mkdirat(dev, "pts", 0755) < 0 && errno != EEXIST)
		child_fail(CT_STEP_DEV, -1, errno);
	if (mkdirat(dev, "shm", 01777) < 0 && errno != EEXIST)
		child_fail(CT_STEP_DEV, -1, errno);
	close(dev);
	umask(old);

	char target[32];
	if (plan->mount_pts) {
		int fd = open_in_root(root_fd, "/dev/pts", O_PATH | O_DIRECTORY);
		if (fd < 0)
			child_fail(CT_STEP_DEV, -1, errno);
		security_fd_path(target, fd);
		CHECK(mount("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC,
			    "newinstance,ptmxmode=0666,mode=0620"),
		      CT_STEP_DEV, -1);
		close(fd);
	}
	if (plan->mount_shm) {
		int fd = open_in_root(root_fd, "/dev/shm", O_PATH | O_DIRECTORY);
		if (fd < 0)
			child_fail(CT_STEP_DEV, -1, errno);
		security_fd_path(target, fd);
		CHECK(mount("shm", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "mode=1777,size=65536k"),
		      CT_STEP_DEV, -1);
		close(fd);
	}
}

static void switch_root(int root_fd)
{
	CHECK(fchdir(root_fd), CT_STEP_PIVOT, -1);
	if (plan->no_pivot) {
		/* An initramfs cannot be pivoted away from (reference §7.5): move the rootfs
		 * over "/" and chroot into it. */
		CHECK(mount(".", "/", NULL, MS_MOVE, NULL), CT_STEP_PIVOT, -1);
		CHECK(chroot("."), CT_STEP_PIVOT, -1);
	} else {
		int old = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (old < 0)
			child_fail(CT_STEP_PIVOT, -1, errno);
		/* pivot_root(".", ".") stacks the old root on the new one; detach it without
		 * propagating the unmount to the agent's namespace. */
		CHECK(syscall(SYS_pivot_root, ".", "."), CT_STEP_PIVOT, -1);
		CHECK(fchdir(old), CT_STEP_PIVOT, -1);
		CHECK(mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL), CT_STEP_PIVOT, -1);
		CHECK(umount2(".", MNT_DETACH), CT_STEP_PIVOT, -1);
		close(old);
	}
	CHECK(chdir("/"), CT_STEP_PIVOT, -1);
	if (plan->root_readonly) {
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
		CHECK(syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &attr, sizeof(attr)),
		      CT_STEP_ROOT_READONLY, -1);
	}
}

static void setup_rootfs(void)
{
	CHECK(mount(NULL, "/", NULL, plan->root_propagation, NULL), CT_STEP_ROOT_PROPAGATION, -1);
	/* pivot_root needs the new root to be a mount point of its own; the bind also keeps
	 * the agent's copy untouched by what follows. */
	CHECK(mount(plan->rootfs, plan->rootfs, NULL, MS_BIND | MS_REC, NULL), CT_STEP_ROOT_BIND,
	      -1);
	int root_fd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		child_fail(CT_STEP_ROOT_BIND, -1, errno);
	for (size_t i = 0; i < plan->n_mounts; i++)
		do_mount(root_fd, i);
	if (plan->default_dev)
		populate_dev(root_fd);
	if (plan->hook_fd >= 0) {
		/* OCI prestart/createRuntime/createContainer hooks run now, with the
		 * namespaces and mounts in place and before pivot_root; the agent runs them
		 * and lets us go on (or closes the pipe and kills us). */
		struct ct_status st = {.ready = CT_STATUS_HOOKS};
		char c;
		ssize_t n;
		if (write(plan->status_fd, &st, sizeof(st)) != sizeof(st))
			_exit(127);
		do
			n = read(plan->hook_fd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(0);
		close(plan->hook_fd);
	}
	switch_root(root_fd);
	close(root_fd);
}

/* ---- process ---- */

static void enter_cwd(bool create)
{
	/* issue 7: resolved inside the container root and entered by fd, never chdir(string):
	 * a cwd of /proc/self/fd/N would otherwise land in a directory of the agent
	 * (runc CVE-2024-21626). */
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		child_fail(CT_STEP_CWD, -1, errno);
	int fd = create ? mkdir_p_in_root(root, plan->cwd, false)
			: open_in_root(root, plan->cwd, O_PATH | O_DIRECTORY);
	if (fd < 0)
		child_fail(CT_STEP_CWD, -1, errno);
	CHECK(fchdir(fd), CT_STEP_CWD, -1);
	close(fd);
	close(root);
}

static void setup_stdio(void)
{
	for (int i = 0; i < 3; i++)
		CHECK(dup2(plan->stdio[i], i), CT_STEP_STDIO, i);
	CHECK(setsid(), CT_STEP_SETSID, -1);
	if (plan->tty)
		CHECK(ioctl(0, TIOCSCTTY, 0), CT_STEP_TTY, -1);
	if (plan->uid != 0 || plan->gid != 0)
		/* The pipes and the pty belong to root: a container user must be able to reopen
		 * /dev/stdout (Kata does the same). */
		for (int i = 0; i < 3; i++)
			(void)fchown(i, plan->uid, plan->gid);
}

static void switch_user(void)
{
	int where = 0;
	/* Raw system calls: libc's setgroups/set*id apply the change to every thread libc knows
	 * of (musl's __synccall, glibc's setxid signal), here the agent's threads at clone time,
	 * which this child does not have. */
	CHECK(syscall(SYS_setgroups, plan->n_groups, plan->groups), CT_STEP_USER, -1);
	/* issue 7: keep-caps around the uid change (reference §7.3 step 17) */
	check_security(security_child_before_setuid(&plan->sec, &where), &where);
	CHECK(syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid), CT_STEP_USER, -1);
	CHECK(syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid), CT_STEP_USER, -1);
	check_security(security_child_after_setuid(&plan->sec, &where), &where);
}

_noreturn_ void ct_child_main(struct ct_plan *p)
{
	plan = p;
	close_other_fds();
	reset_signals();

	if (plan->sync_fd >= 0) {
		/* New user namespace: wait until the parent has written our id maps, then
		 * become the namespace's root. */
		char c;
		ssize_t n;
		do
			n = read(plan->sync_fd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			child_fail(CT_STEP_SYNC, -1, n < 0 ? errno : EPIPE);
		close(plan->sync_fd);
		CHECK(syscall(SYS_setresgid, 0, 0, 0), CT_STEP_USER, -1);
		CHECK(syscall(SYS_setresuid, 0, 0, 0), CT_STEP_USER, -1);
	}

	/* Through the agent's /proc, before the container's mount namespace hides it. */
	if (plan->oom_score_adj_set) {
		char buf[16];
		int v = plan->oom_score_adj, n = 0;
		unsigned u = v < 0 ? (unsigned)-v : (unsigned)v;
		char digits[12];
		do {
			digits[n++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		int l = 0;
		if (v < 0)
			buf[l++] = '-';
		while (n)
			buf[l++] = digits[--n];
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, (size_t)l) < 0)
			child_fail(CT_STEP_OOM_SCORE, -1, errno);
		close(fd);
	}
	/* The user namespace first (it grants the rights to join the others), the mount
	 * namespace last (paths change with it). The pid namespace was set by the parent. */
	for (int ns = 0; ns < CT_NS_COUNT; ns++) {
		if (ns == CT_NS_PID || plan->join_fd[ns] < 0)
			continue;
		CHECK(setns(plan->join_fd[ns], ct_ns_clone_flag((enum ct_ns)ns)), CT_STEP_SETNS,
		      ns);
	}
	/* CGROUP: cloned into the container's cgroup, the child creates its cgroup namespace
	 * now, rooted at that cgroup (see ct_spawn). */
	if (plan->cgroup_fd >= 0 && (plan->clone_flags & CLONE_NEWCGROUP))
		CHECK(unshare(CLONE_NEWCGROUP), CT_STEP_SETNS, CT_NS_CGROUP);

	for (size_t i = 0; i < plan->n_rlimits; i++)
		CHECK(setrlimit(plan->rlimits[i].resource, &plan->rlimits[i].lim), CT_STEP_RLIMIT,
		      (int)i);

	if (plan->hostname)
		CHECK(sethostname(plan->hostname, c_strlen(plan->hostname)), CT_STEP_HOSTNAME, -1);

	int where = 0;
	if (plan->setup_rootfs) {
		setup_rootfs();
		/* issue 7: sysctls, masked and read-only paths, after pivot (§7.5) */
		check_security(security_child_finish_rootfs(&plan->sec, &where), &where);
	} else if (plan->root_fd >= 0) {
		/* setns(mnt) put us at the namespace's root, which is not the container's after
		 * MS_MOVE + chroot: enter the root the init process actually has. */
		CHECK(fchdir(plan->root_fd), CT_STEP_PIVOT, -1);
		CHECK(chroot("."), CT_STEP_PIVOT, -1);
	}
	umask(plan->umask);
	enter_cwd(plan->setup_rootfs);
	setup_stdio();
	switch_user();
	if (plan->no_new_privs)
		CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), CT_STEP_NO_NEW_PRIVS, -1);
	/* issue 7: bounding set, seccomp (without no_new_privs), capsets (§7.3 step 22) */
	check_security(security_child_apply_caps(&plan->sec, plan->no_new_privs, &where), &where);

	if (plan->start_fd >= 0) {
		/* Two-step start: report that setup is done, then wait for StartContainer. A
		 * closed start pipe (container removed before start, agent gone) ends us. */
		struct ct_status st = {.ready = CT_STATUS_READY};
		if (write(plan->status_fd, &st, sizeof(st)) != sizeof(st))
			_exit(127);
		char c;
		ssize_t n;
		do
			n = read(plan->start_fd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(0);
		close(plan->start_fd);
	}
	/* issue 7: every fd above stdio close-on-exec, then seccomp with no_new_privs */
	check_security(security_child_before_exec(&plan->sec, plan->no_new_privs, &where), &where);
	execve(plan->exe, plan->argv, plan->envp);
	child_fail(CT_STEP_EXEC, -1, errno);
}
