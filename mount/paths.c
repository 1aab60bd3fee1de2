/* SPDX-License-Identifier: Apache-2.0 */
#include "mount.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int path_below(const char *path, const char *root, const char **ret_rel)
{
	if (!path || path[0] != '/')
		return -EINVAL;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	const char *rel = startswith(path, root);
	if (!rel || *rel != '/')
		return -EPERM;
	while (*rel == '/')
		rel++;
	if (!*rel)
		return -EPERM; /* the root itself */
	for (const char *c = rel; *c;) {
		size_t len = strcspn(c, "/");
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return -EPERM;
		c += len;
		while (*c == '/')
			c++;
	}
	*ret_rel = rel;
	return 0;
}

int path_normalize(const char *path, char **ret)
{
	char *out = malloc(strlen(path) + 1), *o = out;
	if (!out)
		return -ENOMEM;
	for (const char *p = path; *p; p++)
		if (*p != '/' || o == out || o[-1] != '/')
			*o++ = *p;
	if (o - out > 1 && o[-1] == '/')
		o--;
	*o = '\0';
	*ret = out;
	return 0;
}

int open_beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN); /* a concurrent rename elsewhere: retry */
	return fd < 0 ? -errno : fd;
}

/* Each prefix is resolved from rootfd again, so a symlink anywhere may only lead to
 * somewhere else below rootfd; new directories are made in the parent just resolved. */
int mkdir_beneath(int rootfd, const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
	while (*rel == '/')
		rel++;
	_cleanup_free_ char *buf = strdup(rel);
	if (!buf)
		return -ENOMEM;
	int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -errno;

	char *p = buf;
	while (*p) {
		char *end = p + strcspn(p, "/");
		char saved = *end;
		*end = '\0';
		int next = open_beneath(rootfd, buf, O_RDONLY | O_DIRECTORY, 0);
		if (next == -ENOENT) {
			bool created = mkdirat(cur, p, mode) == 0;
			if (!created && errno != EEXIST) {
				int r = -errno;
				close(cur);
				return r;
			}
			next = open_beneath(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
			if (next >= 0 && created &&
			    (fchmod(next, mode) < 0 || ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
							fchown(next, uid, gid) < 0))) {
				int r = -errno;
				close(next);
				next = r;
			}
		}
		close(cur);
		if (next < 0)
			return next;
		cur = next;
		*end = saved;
		p = end;
		while (*p == '/')
			p++;
	}
	return cur;
}
