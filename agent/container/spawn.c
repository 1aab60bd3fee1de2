/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clone3 from the event loop. The pid namespace of the child is chosen by switching the
 * agent's pid_for_children around the clone (setns(CLONE_NEWPID) affects only children),
 * so joining a container's pid namespace needs no intermediate process; every other
 * namespace is created by the clone flags or joined by the child from the plan.
 */
#include "container.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>

static void keep(struct ct_plan *p, int fd)
{
	if (fd >= 0 && p->n_keep_fds < ARRAY_SIZE(p->keep_fds))
		p->keep_fds[p->n_keep_fds++] = fd;
}

static int write_id_map(pid_t pid, const char *file, const char *map)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return write_file(path, map);
}

int ct_spawn(struct ct_plan *p, bool wait_start, struct ct_child *ret)
{
	_cleanup_close_ int status_r = -1, start_w = -1, sync_w = -1, hook_w = -1, self_pidns = -1;
	int fds[2], pidfd = -1, r;

	*ret = (struct ct_child){
	    .pid = -1, .pidfd = -1, .status_fd = -1, .start_fd = -1, .hook_fd = -1};

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	status_r = fds[0];
	p->status_fd = fds[1];
	(void)fd_nonblock(status_r, true);
	if (wait_start) {
		if (pipe2(fds, O_CLOEXEC) < 0)
			return -errno;
		p->start_fd = fds[0];
		start_w = fds[1];
	}
	if (p->userns) {
		if (pipe2(fds, O_CLOEXEC) < 0)
			return -errno;
		p->sync_fd = fds[0];
		sync_w = fds[1];
	}
	if (p->hook_pause) {
		if (pipe2(fds, O_CLOEXEC) < 0)
			return -errno;
		p->hook_fd = fds[0];
		hook_w = fds[1];
	}

	p->n_keep_fds = 0;
	for (int i = 0; i < 3; i++)
		keep(p, p->stdio[i]);
	keep(p, p->status_fd);
	keep(p, p->start_fd);
	keep(p, p->sync_fd);
	keep(p, p->hook_fd);
	keep(p, p->root_fd);
	keep(p, p->cgroup_fd);
	for (int i = 0; i < CT_NS_COUNT; i++)
		if (i != CT_NS_PID)
			keep(p, p->join_fd[i]);

	if (p->join_fd[CT_NS_PID] >= 0) {
		self_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (self_pidns < 0)
			return -errno;
		if (setns(p->join_fd[CT_NS_PID], CLONE_NEWPID) < 0)
			return -errno;
	}

	struct clone_args args = {
	    .flags = (uint64_t)p->clone_flags | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	    .exit_signal = SIGCHLD,
	};
	/* CGROUP: clone straight into the container's cgroup. clone creates a new cgroup
	 * namespace (copy_namespaces) before it moves the child (cgroup_can_fork), so with both
	 * flags the namespace would be rooted at the agent's cgroup: the child unshares it
	 * itself once inside (ct_child_main). */
	if (p->cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.flags &= ~(uint64_t)CLONE_NEWCGROUP;
		args.cgroup = (uint64_t)p->cgroup_fd;
	}
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		ct_child_main(p);
	r = pid < 0 ? -errno : 0;

	if (self_pidns >= 0 && setns(self_pidns, CLONE_NEWPID) < 0) {
		/* Later children would land in a container's pid namespace: unrecoverable. */
		log_critical("cannot restore the agent's pid namespace for children: %m");
		abort();
	}
	if (r < 0)
		return r;

	if (p->userns) {
		/* The child waits on the sync pipe until its maps exist; writing them is two
		 * bounded writes to procfs. */
		r = write_id_map((pid_t)pid, "uid_map", p->uid_map);
		if (r >= 0)
			r = write_id_map((pid_t)pid, "gid_map", p->gid_map);
		if (r < 0) {
			kill((pid_t)pid, SIGKILL);
			/* the reaper collects it; the caller sees the error */
			ret->pid = (pid_t)pid;
			ret->pidfd = pidfd;
			return r;
		}
		if (write(sync_w, "1", 1) != 1) {
			r = -errno;
			ret->pid = (pid_t)pid;
			ret->pidfd = pidfd;
			return r;
		}
	}

	ret->pid = (pid_t)pid;
	ret->pidfd = pidfd;
	ret->status_fd = TAKE_FD(status_r);
	ret->start_fd = TAKE_FD(start_w);
	ret->hook_fd = TAKE_FD(hook_w);
	return 0;
}
