/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the cgroup2 hierarchy is, which part of it the agent owns, and the directories
 * down to a container's cgroup with their controllers enabled.
 */
#define LOG_SUBSYSTEM "cgroup"
#include "internal.h"

#include <fcntl.h>
#include <sys/stat.h>

#define PROC_FILE_MAX (1u << 20)

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

/* The first cgroup2 mount whose root is an ancestor of (or equal to) our own cgroup; the
 * canonical /sys/fs/cgroup wins when there are several. */
static int find_mount(const char *mountinfo, const char *own, char **ret_mnt, char **ret_rel)
{
	_cleanup_free_ char *best_mnt = NULL, *best_rel = NULL;
	_cleanup_free_ char *copy = strdup(mountinfo);
	if (!copy)
		return -ENOMEM;

	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		/* id parent maj:min root mountpoint ... */
		char *f[5], *s2 = NULL;
		int n = 0;
		for (char *t = strtok_r(line, " ", &s2); t && n < 5; t = strtok_r(NULL, " ", &s2))
			f[n++] = t;
		if (n < 5)
			continue;
		unescape(f[3]);
		unescape(f[4]);
		const char *root = f[3];
		size_t rl = strcmp(root, "/") ? strlen(root) : 0;
		if (rl && (strncmp(own, root, rl) || (own[rl] && own[rl] != '/')))
			continue; /* a bind of a subtree we do not live in */
		const char *rel = own + rl;
		while (*rel == '/')
			rel++;
		if (!best_mnt || streq(f[4], "/sys/fs/cgroup")) {
			free(best_mnt);
			free(best_rel);
			best_mnt = strdup(f[4]);
			best_rel = strdup(rel);
			if (!best_mnt || !best_rel)
				return -ENOMEM;
		}
	}
	if (!best_mnt)
		return -ENOENT;
	*ret_mnt = TAKE_PTR(best_mnt);
	*ret_rel = TAKE_PTR(best_rel);
	return 0;
}

/* "0::/path" from /proc/self/cgroup (relative to our cgroup namespace's root). */
static int own_cgroup(char **ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file("/proc/self/cgroup", PROC_FILE_MAX, &text, NULL);
	if (r < 0)
		return r;
	for (char *s = text; s && *s;) {
		char *e = strchr(s, '\n');
		if (e)
			*e = '\0';
		if (startswith(s, "0::")) {
			*ret = strdup(s + 3);
			return *ret ? 0 : -ENOMEM;
		}
		s = e ? e + 1 : NULL;
	}
	return -ENOENT;
}

/*
 * The guest's agent (a child of PID 1, or PID 1 itself, in the initial pid namespace) owns the
 * whole hierarchy and puts containers where CgroupsPath says, as Kata does. Anywhere else
 * (a host, the integration tests' pid namespaces) other agents and programs share the
 * hierarchy: containers go below a directory named for this agent.
 */
static int host_prefix(char **ret)
{
	struct stat st = {0};
	/* PROC_PID_INIT_INO: the inode number the kernel gives the initial pid namespace */
	if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCU &&
	    (getpid() == 1 || getppid() == 1)) {
		*ret = strdup("");
	} else if (asprintf(ret, "ember.%llu.%d", (unsigned long long)st.st_ino, (int)getpid()) <
		   0) {
		*ret = NULL;
	}
	return *ret ? 0 : -ENOMEM;
}

int hierarchy_open(struct cgroup_mgr *m, const char *base_dir)
{
	int r;

	if (base_dir) {
		/* Given (tests, benchmarks): a cgroup2 directory, or a scratch directory with the
		 * same files standing in for one. */
		m->mnt = strdup(base_dir);
		m->base_rel = strdup("");
		if (!m->mnt || !m->base_rel)
			return -ENOMEM;
	} else {
		_cleanup_free_ char *own = NULL, *mountinfo = NULL;
		r = own_cgroup(&own);
		if (r < 0)
			return r; /* no cgroup2 membership at all: a v1-only kernel */
		r = read_file("/proc/self/mountinfo", PROC_FILE_MAX, &mountinfo, NULL);
		if (r < 0)
			return r;
		r = find_mount(mountinfo, own, &m->mnt, &m->base_rel);
		if (r < 0)
			return r;
		m->base_is_root = !*m->base_rel;
		r = host_prefix(&m->prefix);
		if (r < 0)
			return r;
	}
	if (!m->prefix && !(m->prefix = strdup("")))
		return -ENOMEM;
	if (asprintf(&m->base_abs, "%s%s%s", m->mnt, *m->base_rel ? "/" : "", m->base_rel) < 0) {
		m->base_abs = NULL;
		return -ENOMEM;
	}
	m->base_fd = open(m->base_abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (m->base_fd < 0)
		return -errno;
	return 0;
}

unsigned hierarchy_available(struct cgroup_mgr *m)
{
	char text[256];
	if (m->base_fd < 0 ||
	    cgroup_read_small(m->base_fd, "cgroup.controllers", text, sizeof(text)) < 0)
		return 0;
	return cgroup_controllers_parse(text);
}

static int write_at(int dirfd, const char *file, const char *value)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		return -errno;
	return 0;
}

/* Moves the agent into <base>/ember-agent so that the base may enable controllers for its
 * children (cgroup v2: a non-root cgroup with processes cannot; systemd and crun do the
 * same). Other processes in the base are not ours to move. */
static int move_agent_to_leaf(struct cgroup_mgr *m)
{
	if (mkdirat(m->base_fd, CGROUP_AGENT_LEAF, 0755) < 0 && errno != EEXIST)
		return -errno;
	_cleanup_close_ int fd =
	    openat(m->base_fd, CGROUP_AGENT_LEAF, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* "0": the writer's whole thread group. */
	int r = write_at(fd, "cgroup.procs", "0");
	if (r < 0)
		return r;
	m->agent_moved = true;
	log_info("moved the agent into %s/" CGROUP_AGENT_LEAF
		 " so that %s can delegate controllers",
		 m->base_abs, m->base_abs);
	return 0;
}

static int enable_controllers(struct cgroup_mgr *m, int dirfd, bool is_base, unsigned want,
			      const char *where, char *err, size_t errsz)
{
	char text[256], cmd[128] = "";
	int r = cgroup_read_small(dirfd, "cgroup.subtree_control", text, sizeof(text));
	if (r < 0) {
		snprintf(err, errsz, "cgroup '%s': reading cgroup.subtree_control: %s", where,
			 strerror(-r));
		return r;
	}
	unsigned missing = want & ~cgroup_controllers_parse(text);
	if (!missing)
		return 0;
	for (int c = 0; c < CG_COUNT; c++)
		if (missing & CG_MASK(c)) {
			size_t l = strlen(cmd);
			snprintf(cmd + l, sizeof(cmd) - l, "%s+%s", l ? " " : "",
				 cgroup_controller_name(c));
		}
	r = write_at(dirfd, "cgroup.subtree_control", cmd);
	if (r == -EBUSY && is_base && !m->base_is_root && !m->agent_moved) {
		r = move_agent_to_leaf(m);
		if (r >= 0)
			r = write_at(dirfd, "cgroup.subtree_control", cmd);
	}
	if (r == -EBUSY)
		snprintf(err, errsz,
			 "cgroup '%s' holds processes, so it cannot enable '%s' for its children "
			 "(cgroup v2 \"no internal processes\" rule)",
			 where, cmd);
	else if (r < 0)
		snprintf(err, errsz, "cgroup '%s': writing '%s' to cgroup.subtree_control: %s",
			 where, cmd, strerror(-r));
	return r;
}

int hierarchy_make_path(struct cgroup_mgr *m, const char *rel, unsigned want, int *parent_fd,
			int *created, char *err, size_t errsz)
{
	char buf[CGROUP_PATH_MAX + 64];
	size_t ends[CGROUP_MAX_DEPTH + 1]; /* where each created directory's path ends */
	int n_created = 0, r;

	*created = 0;
	*parent_fd = -1;
	if (strlen(rel) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, rel);

	_cleanup_close_ int dir = fcntl(m->base_fd, F_DUPFD_CLOEXEC, 3);
	if (dir < 0)
		return -errno;
	if (want) {
		r = enable_controllers(m, dir, true, want, *m->base_rel ? m->base_rel : "/", err,
				       errsz);
		if (r < 0)
			return r;
	}
	size_t pos = 0;
	for (;;) {
		char *comp = buf + pos;
		char *slash = strchr(comp, '/');
		size_t end = slash ? (size_t)(slash - buf) : strlen(buf);
		if (slash)
			*slash = '\0';
		if (mkdirat(dir, comp, 0755) == 0) {
			if (n_created == CGROUP_MAX_DEPTH + 1) {
				(void)unlinkat(dir, comp, AT_REMOVEDIR);
				r = -ENAMETOOLONG;
				snprintf(err, errsz, "cgroup '%s': deeper than %d levels", rel,
					 CGROUP_MAX_DEPTH);
				goto fail;
			}
			ends[n_created++] = end;
		} else if (errno != EEXIST) {
			r = -errno;
			snprintf(err, errsz, "cgroup '%s': mkdir '%s': %s", rel, comp,
				 strerror(errno));
			goto fail;
		}
		if (!slash)
			break;
		int next = openat(dir, comp, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (next < 0) {
			r = -errno;
			snprintf(err, errsz, "cgroup '%s': open '%s': %s", rel, comp,
				 strerror(errno));
			goto fail;
		}
		close(dir);
		dir = next;
		if (want) {
			/* buf is the path down to this directory right now */
			r = enable_controllers(m, dir, false, want, buf, err, errsz);
			if (r < 0)
				goto fail;
		}
		*slash = '/';
		pos = end + 1;
	}
	*parent_fd = TAKE_FD(dir);
	/* Only a trailing run of new directories is ours to remove later: a directory below
	 * an existing one cannot pre-exist. */
	*created = n_created;
	return 0;

fail:
	strcpy(buf, rel);
	for (int i = n_created - 1; i >= 0; i--) {
		buf[ends[i]] = '\0';
		(void)unlinkat(m->base_fd, buf, AT_REMOVEDIR);
	}
	return r;
}

int hierarchy_remove_path(struct cgroup_mgr *m, const char *rel, int levels)
{
	char buf[CGROUP_PATH_MAX + 64];
	int first = 0;

	if (strlen(rel) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, rel);
	for (int i = 0; i < levels && *buf; i++) {
		if (unlinkat(m->base_fd, buf, AT_REMOVEDIR) < 0) {
			if (i == 0)
				first = -errno;
			break;
		}
		char *slash = strrchr(buf, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	return first;
}
