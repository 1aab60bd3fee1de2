/* SPDX-License-Identifier: Apache-2.0 */
/* fs_group: Kata's set_ownership / recursive_ownership_change (src/agent/src/storage/mod.rs),
 * the way kubelet applies a pod's fsGroup to a volume. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#define RW_MASK	  0660
#define RO_MASK	  0440
#define EXEC_MASK 0110
/* Deeper trees are refused rather than walked with ever more open fds. */
#define MAX_DEPTH 128

/* chgrp + chmod of one inode, through an O_PATH fd so a rename racing us cannot redirect
 * either call; symlinks only get their own group, never a mode. */
static int own_one(int fd, const struct stat *st, gid_t gid, mode_t mask)
{
	if (fchownat(fd, "", (uid_t)-1, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISLNK(st->st_mode))
		return 0;
	char p[32];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return chmod(p, (st->st_mode & 07777) | mask) < 0 ? -errno : 0;
}

static int walk(int dirfd, gid_t gid, mode_t file_mask, unsigned depth)
{
	if (depth > MAX_DEPTH)
		return -ELOOP;
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int r = -errno;
		close(dfd);
		return r;
	}
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		int fd = openat(dirfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = errno == ENOENT ? 0 : -errno;
			continue;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			r = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				r = -errno;
			} else {
				r = walk(sub, gid, file_mask, depth + 1);
				close(sub);
			}
			if (r >= 0)
				r = own_one(fd, &st, gid, file_mask | EXEC_MASK | S_ISGID);
		} else {
			r = own_one(fd, &st, gid, file_mask);
		}
		close(fd);
	}
	if (r >= 0 && !de && errno)
		r = -errno;
	closedir(d);
	return r;
}

int fs_group_apply(int rootfd, gid_t gid, bool on_root_mismatch, bool read_only)
{
	mode_t mask = read_only ? RO_MASK : RW_MASK;
	struct stat st;
	if (fstat(rootfd, &st) < 0)
		return -errno;
	mode_t dmask = mask | EXEC_MASK | S_ISGID;
	/* OnRootMismatch: a root that already has the group and the bits means the whole
	 * volume was done before (kubelet's rule). */
	if (on_root_mismatch && st.st_gid == gid && (st.st_mode & dmask) == dmask)
		return 0;
	int r = walk(rootfd, gid, mask, 0);
	if (r < 0)
		return r;
	if (fchown(rootfd, (uid_t)-1, gid) < 0)
		return -errno;
	return fchmod(rootfd, (st.st_mode & 07777) | dmask) < 0 ? -errno : 0;
}
