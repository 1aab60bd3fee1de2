/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The child half that is not about capabilities: sysctls, masked and read-only paths after
 * pivot_root (reference §7.5 finish_rootfs), and the last steps before execve.
 *
 * Rules: this runs between clone and execve in a copy of the agent. System calls and
 * libc's thin wrappers only; no allocation, no stdio, no locks.
 */
#include "internal.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

void security_fd_path(char buf[32], int fd)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	int n = 0;
	memcpy(buf, prefix, sizeof(prefix));
	do {
		digits[n++] = (char)('0' + fd % 10);
		fd /= 10;
	} while (fd && n < 11);
	size_t l = sizeof(prefix) - 1;
	while (n)
		buf[l++] = digits[--n];
	buf[l] = '\0';
}

/* Attaches a detached mount (open_tree/fsmount) on target. */
static int move_onto(int mnt_fd, int target_fd)
{
	if (syscall(SYS_move_mount, mnt_fd, "", target_fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Binds source_fd's file onto target_fd (both resolved inside the root). The fd-based API
 * needs no /proc inside the container; without it (Linux < 5.2) /proc/self/fd must do. */
static int bind_fd(int source_fd, int target_fd, bool recursive)
{
	int tree = (int)syscall(SYS_open_tree, source_fd, "",
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
				    (recursive ? AT_RECURSIVE : 0));
	if (tree >= 0) {
		int r = move_onto(tree, target_fd);
		close(tree);
		return r;
	}
	if (errno != ENOSYS)
		return -errno;
	char src[32], dst[32];
	security_fd_path(src, source_fd);
	security_fd_path(dst, target_fd);
	if (mount(src, dst, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
		return -errno;
	return 0;
}

/* A read-only, empty tmpfs over a directory (runc masks directories this way; a bind of
 * /dev/null cannot cover one). */
static int mask_dir(int target_fd)
{
	int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs >= 0) {
		int r = 0, mnt = -1;
		if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
		    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
			r = -errno;
		if (r == 0) {
			mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
					   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					       MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
			if (mnt < 0)
				r = -errno;
		}
		if (r == 0)
			r = move_onto(mnt, target_fd);
		if (mnt >= 0)
			close(mnt);
		close(fs);
		return r;
	}
	if (errno != ENOSYS)
		return -errno;
	char dst[32];
	security_fd_path(dst, target_fd);
	if (mount("tmpfs", dst, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0555") < 0)
		return -errno;
	return 0;
}

/* Bind the path onto itself (recursively) and make every mount of the copy read-only. */
static int make_readonly(int target_fd)
{
	int tree = (int)syscall(SYS_open_tree, target_fd, "",
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree >= 0) {
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
		int r = 0;
		if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			    sizeof(attr)) < 0)
			r = -errno;
		if (r == 0)
			r = move_onto(tree, target_fd);
		close(tree);
		if (r != -ENOSYS)
			return r;
	} else if (errno != ENOSYS) {
		return -errno;
	}
	char dst[32];
	security_fd_path(dst, target_fd);
	if (mount(dst, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	/* The fd names the directory under the new mount: remount by path. */
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
		return -errno;
	return 0;
}

/* The container's /dev/null, checked to be the real node: an image (or a bound /dev) could
 * plant a regular file there, and masking with it would expose that file's content. */
static int open_dev_null(int root)
{
	int fd = security_open_in_root(root, "/dev/null", O_PATH);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int security_child_finish_rootfs(const struct security_plan *p, int *where)
{
	int r = 0, null_fd = -1;
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;

	/* Sysctls first: they are written through the container's /proc/sys, which the
	 * read-only paths usually cover. A key this kernel lacks is skipped (Kata). */
	for (size_t i = 0; i < p->n_sysctls; i++) {
		*where = SECURITY_WHERE(SECURITY_STEP_SYSCTL, i);
		int fd = security_open_in_root(root, p->sysctl_paths[i], O_WRONLY | O_NOCTTY);
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			r = fd;
			goto out;
		}
		const char *v = p->sysctl_values[i];
		size_t len = 0;
		while (v[len])
			len++;
		ssize_t n = write(fd, v, len);
		int e = errno;
		close(fd);
		if (n < 0) {
			r = -e;
			goto out;
		}
	}

	for (size_t i = 0; i < p->n_masked_paths; i++) {
		*where = SECURITY_WHERE(SECURITY_STEP_MASK, i);
		int fd = security_open_in_root(root, p->masked_paths[i], O_PATH);
		if (fd == -ENOENT || fd == -ENOTDIR)
			continue; /* nothing to hide (Kata, runc) */
		if (fd < 0) {
			r = fd;
			goto out;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			r = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			r = mask_dir(fd);
		} else {
			if (null_fd < 0)
				null_fd = open_dev_null(root);
			r = null_fd < 0 ? null_fd : bind_fd(null_fd, fd, false);
		}
		close(fd);
		if (r < 0)
			goto out;
	}

	for (size_t i = 0; i < p->n_readonly_paths; i++) {
		*where = SECURITY_WHERE(SECURITY_STEP_READONLY, i);
		int fd = security_open_in_root(root, p->readonly_paths[i], O_PATH);
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			r = fd;
			goto out;
		}
		r = make_readonly(fd);
		close(fd);
		if (r < 0)
			goto out;
	}
out:
	if (null_fd >= 0)
		close(null_fd);
	close(root);
	return r;
}

/* No fd the agent holds may survive execve (the runc CVE-2024-21626 class). CLOEXEC rather
 * than close: the status pipe must stay open until execve succeeds. */
static int cloexec_all_from_3(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -errno;
	/* Linux < 5.11: one fcntl per possible fd. */
	struct rlimit rl;
	unsigned long max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < max)
		max = rl.rlim_cur;
	for (unsigned long fd = 3; fd < max; fd++) {
		int fl = fcntl((int)fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			(void)fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC);
	}
	return 0;
}

int security_child_before_exec(const struct security_plan *p, bool no_new_privs, int *where)
{
	int r = cloexec_all_from_3();
	if (r < 0) {
		*where = SECURITY_WHERE(SECURITY_STEP_FDS, 0);
		return r;
	}
	/* With no_new_privs the filter goes on as late as possible (§7.3 step 28), so it
	 * constrains the container, not our setup. */
	if (no_new_privs && p->bpf)
		return security_child_load_seccomp(p, where);
	return 0;
}

/* ---- messages (parent) ---- */

void security_describe(const struct security_plan *p, int where, int err, char *buf, size_t sz)
{
	unsigned step = (unsigned)where >> 16, i = (unsigned)where & 0xffff;
	const char *e = strerror(err > 0 ? err : -err);
	switch ((enum security_step)step) {
	case SECURITY_STEP_SYSCTL:
		if (i < p->n_sysctls) {
			snprintf(buf, sz, "sysctl '%s' = '%.64s': %s", p->sysctl_paths[i] + 10,
				 p->sysctl_values[i], e);
			return;
		}
		break;
	case SECURITY_STEP_MASK:
		if (i < p->n_masked_paths) {
			snprintf(buf, sz, "masking '%s': %s", p->masked_paths[i], e);
			return;
		}
		break;
	case SECURITY_STEP_READONLY:
		if (i < p->n_readonly_paths) {
			snprintf(buf, sz, "making '%s' read-only: %s", p->readonly_paths[i], e);
			return;
		}
		break;
	case SECURITY_STEP_KEEPCAPS:
		snprintf(buf, sz, "keeping capabilities across the uid change: %s", e);
		return;
	case SECURITY_STEP_BOUNDING:
		snprintf(buf, sz, "dropping capability %u from the bounding set: %s", i, e);
		return;
	case SECURITY_STEP_CAPSET:
		snprintf(buf, sz, "setting capabilities: %s", e);
		return;
	case SECURITY_STEP_SECCOMP:
		snprintf(buf, sz, "loading the seccomp filter (%u instructions): %s",
			 (unsigned)p->bpf_len, e);
		return;
	case SECURITY_STEP_FDS:
		snprintf(buf, sz, "marking inherited fds close-on-exec: %s", e);
		return;
	}
	snprintf(buf, sz, "security setup: %s", e);
}
