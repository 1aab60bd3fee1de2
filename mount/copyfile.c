/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CopyFile (Kata's do_copy_file), confined to /run/kata-containers/shared/containers/.
 *
 * GHSA-q49m-57vm-c8cc: Kata's original version joined the request path as a string, so
 * "..", an absolute symlink created by an earlier CopyFile, or a symlinked parent directory
 * let the host write anywhere in the guest. Here every step starts from an fd of the
 * shared directory: parents are resolved with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS), the last component is only ever touched relative to its parent's
 * fd with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, and symlinks CopyFile creates are never
 * followed by it.
 */
#define LOG_SUBSYSTEM "storage"
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

static int shared_root_open(int *ret)
{
	int r = mkdir_p(STORAGE_SHARED_DIR, 0755);
	if (r < 0)
		return r;
	int fd = open(STORAGE_SHARED_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	*ret = fd;
	return 0;
}

static int check_ids(int32_t uid, int32_t gid)
{
	return uid < -1 || gid < -1 ? -EINVAL : 0;
}

static int copy_dir(int pfd, const char *base, const Grpc__CopyFileRequest *req, char *msg,
		    size_t msgsz)
{
	if (mkdirat(pfd, base, req->file_mode & 07777) < 0 && errno != EEXIST)
		return errmsg_set(msg, msgsz, -errno, "mkdir '%s': %m", req->path);
	_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(msg, msgsz, -errno, "'%s' exists and is not a directory: %m",
				  req->path);
	if (fchmod(fd, req->file_mode & 07777) < 0 ||
	    fchown(fd, (uid_t)req->uid, (gid_t)req->gid) < 0)
		return errmsg_set(msg, msgsz, -errno, "chmod/chown '%s': %m", req->path);
	return 0;
}

static int copy_symlink(int pfd, const char *base, const Grpc__CopyFileRequest *req, char *msg,
			size_t msgsz)
{
	char target[PATH_MAX];
	if (req->data.len == 0 || req->data.len >= sizeof(target) ||
	    memchr(req->data.data, '\0', req->data.len))
		return errmsg_set(msg, msgsz, -EINVAL, "symlink '%s': invalid target (%zu bytes)",
				  req->path, req->data.len);
	memcpy(target, req->data.data, req->data.len);
	target[req->data.len] = '\0';

	/* Kubernetes' atomic writer repoints "..data" on every update: replace a previous
	 * symlink or file, never a directory. */
	struct stat st;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return errmsg_set(msg, msgsz, -EISDIR, "symlink '%s': a directory is there",
					  req->path);
		if (unlinkat(pfd, base, 0) < 0)
			return errmsg_set(msg, msgsz, -errno, "symlink '%s': cannot replace: %m",
					  req->path);
	}
	if (symlinkat(target, pfd, base) < 0)
		return errmsg_set(msg, msgsz, -errno, "symlink '%s' -> '%s': %m", req->path,
				  target);
	if (fchownat(pfd, base, (uid_t)req->uid, (gid_t)req->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return errmsg_set(msg, msgsz, -errno, "chown symlink '%s': %m", req->path);
	return 0;
}

static int copy_regular(int pfd, const char *base, const Grpc__CopyFileRequest *req, char *msg,
			size_t msgsz)
{
	char tmp[NAME_MAX + 1];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", base) >= sizeof(tmp))
		return errmsg_set(msg, msgsz, -ENAMETOOLONG, "'%s': name too long for '%s.tmp'",
				  req->path, base);
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	if (req->offset == 0) {
		/* A fresh start: whatever sits at the temporary name (a stale part, or a
		 * symlink an earlier CopyFile planted there) goes. */
		if (unlinkat(pfd, tmp, 0) < 0 && errno != ENOENT)
			return errmsg_set(msg, msgsz, -errno, "'%s': cannot replace '%s': %m",
					  req->path, tmp);
		flags |= O_EXCL;
	}
	_cleanup_close_ int fd = openat(pfd, tmp, flags, 0600);
	if (fd < 0)
		return errmsg_set(msg, msgsz, -errno, "open '%s.tmp': %m", req->path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return errmsg_set(msg, msgsz, -errno, "stat '%s.tmp': %m", req->path);
	if (!S_ISREG(st.st_mode))
		return errmsg_set(msg, msgsz, -EINVAL, "'%s.tmp' is not a regular file", req->path);
	size_t done = 0;
	while (done < req->data.len) {
		ssize_t n = pwrite(fd, req->data.data + done, req->data.len - done,
				   (off_t)req->offset + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errmsg_set(msg, msgsz, -errno, "write '%s.tmp': %m", req->path);
		}
		done += (size_t)n;
	}
	if (fstat(fd, &st) < 0)
		return errmsg_set(msg, msgsz, -errno, "stat '%s.tmp': %m", req->path);
	if (st.st_size != req->file_size)
		return 0; /* more chunks to come */
	if (fchmod(fd, req->file_mode & 07777) < 0 ||
	    fchown(fd, (uid_t)req->uid, (gid_t)req->gid) < 0)
		return errmsg_set(msg, msgsz, -errno, "chmod/chown '%s': %m", req->path);
	/* rename(2) replaces a symlink at path itself, never what it points to. */
	if (renameat(pfd, tmp, pfd, base) < 0)
		return errmsg_set(msg, msgsz, -errno, "rename '%s.tmp' to '%s': %m", req->path,
				  req->path);
	log_debug("copied %s (%lld bytes)", req->path, (long long)req->file_size);
	return 0;
}

int copy_file(const Grpc__CopyFileRequest *req, char *msg, size_t msgsz)
{
	const char *rel;
	int r = path_below(req->path, STORAGE_SHARED_DIR, &rel);
	if (r < 0)
		return errmsg_set(msg, msgsz, r,
				  r == -EPERM ? "path '%s' is not below " STORAGE_SHARED_DIR "/"
					      : "invalid path '%s'",
				  req->path);
	if (check_ids(req->uid, req->gid) < 0)
		return errmsg_set(msg, msgsz, -EINVAL, "'%s': invalid uid %d / gid %d", req->path,
				  req->uid, req->gid);
	mode_t type = req->file_mode & S_IFMT;
	if (type != 0 && type != S_IFREG && type != S_IFDIR && type != S_IFLNK)
		return errmsg_set(msg, msgsz, -EINVAL, "'%s': unsupported file type in mode 0%o",
				  req->path, req->file_mode);
	if (type != S_IFDIR && type != S_IFLNK) {
		if (req->file_size < 0 || (uint64_t)req->file_size > COPY_FILE_MAX_SIZE)
			return errmsg_set(msg, msgsz, -E2BIG,
					  "'%s': file_size %lld is not within 0..%llu bytes",
					  req->path, (long long)req->file_size,
					  (unsigned long long)COPY_FILE_MAX_SIZE);
		if (req->offset < 0 || req->data.len > COPY_FILE_MAX_DATA ||
		    (uint64_t)req->offset + req->data.len > (uint64_t)req->file_size)
			return errmsg_set(
			    msg, msgsz, -ERANGE,
			    "'%s': %zu bytes at offset %lld do not fit file_size %lld", req->path,
			    req->data.len, (long long)req->offset, (long long)req->file_size);
	}

	_cleanup_free_ char *dir = strdup(rel);
	if (!dir)
		return -ENOMEM;
	/* path_below stripped leading slashes; trailing ones would leave an empty name. */
	size_t len = strlen(dir);
	while (len > 0 && dir[len - 1] == '/')
		dir[--len] = '\0';
	char *slash = strrchr(dir, '/');
	const char *parent = slash ? dir : "";
	const char *base = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	if (strlen(base) > NAME_MAX)
		return errmsg_set(msg, msgsz, -ENAMETOOLONG, "'%s': name too long", req->path);

	_cleanup_close_ int rootfd = -1;
	r = shared_root_open(&rootfd);
	if (r < 0)
		return errmsg_set(msg, msgsz, r, "cannot open " STORAGE_SHARED_DIR ": %m");
	mode_t dmode = req->dir_mode & 0777;
	_cleanup_close_ int pfd =
	    mkdir_beneath(rootfd, parent, dmode ? dmode : 0755, (uid_t)req->uid, (gid_t)req->gid);
	if (pfd < 0) {
		r = pfd == -EXDEV || pfd == -ELOOP ? -EPERM : pfd;
		return errmsg_set(
		    msg, msgsz, r,
		    "'%s': parent directory '%s' cannot be created below " STORAGE_SHARED_DIR
		    " (%s)",
		    req->path, parent, strerror(-pfd));
	}
	if (type == S_IFDIR)
		return copy_dir(pfd, base, req, msg, msgsz);
	if (type == S_IFLNK)
		return copy_symlink(pfd, base, req, msg, msgsz);
	return copy_regular(pfd, base, req, msg, msgsz);
}
