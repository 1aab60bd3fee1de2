/* SPDX-License-Identifier: Apache-2.0 */
#define LOG_SUBSYSTEM "uevent"
#include "uevent.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <regex.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* A peer can park one wait per storage/device of each request; this bounds the total. */
#define MAX_WAITERS 1024
/* The kernel caps one uevent at UEVENT_BUFFER_SIZE (2048) plus the "action@devpath" header. */
#define MSG_MAX 8192
#define RCVBUF	(1 << 20)

struct compiled_match {
	char *subsystem, *devname, *devtype;
	bool has_re, need_devname, need_interface;
	regex_t re;
};

struct uevent_waiter {
	struct list_head link;
	struct uevent_listener *l;
	struct compiled_match m;
	struct ev_timer timer;
	uevent_wait_fn cb;
	void *data;
};

struct uevent_listener {
	struct ev_loop *loop;
	char *sysfs_root;
	int fd;
	struct ev_io io;
	struct list_head waiters;
	unsigned n_waiters;
	bool closing;
	char buf[MSG_MAX];
};

/* ---- matches ---- */

static void match_done(struct compiled_match *m)
{
	free(m->subsystem);
	free(m->devname);
	free(m->devtype);
	if (m->has_re)
		regfree(&m->re);
	*m = (struct compiled_match){0};
}

static bool name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64 || streq(s, ".") || streq(s, ".."))
		return false;
	return !strchr(s, '/');
}

static int strdup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int match_compile(const struct uevent_match *in, struct compiled_match *m)
{
	*m = (struct compiled_match){0};
	if (!name_ok(in->subsystem) || (in->devname && !*in->devname))
		return -EINVAL;
	int r;
	if ((r = strdup_opt(in->subsystem, &m->subsystem)) < 0 ||
	    (r = strdup_opt(in->devname, &m->devname)) < 0 ||
	    (r = strdup_opt(in->devtype, &m->devtype)) < 0) {
		match_done(m);
		return r;
	}
	m->need_devname = in->need_devname;
	m->need_interface = in->need_interface;
	if (in->devpath_regex) {
		if (regcomp(&m->re, in->devpath_regex, REG_EXTENDED | REG_NOSUB) != 0) {
			match_done(m);
			return -EINVAL;
		}
		m->has_re = true;
	}
	return 0;
}

static bool match_event(const struct compiled_match *m, const struct uevent *ev)
{
	if (!ev->action || !streq(ev->action, "add"))
		return false;
	if (!ev->subsystem || !streq(ev->subsystem, m->subsystem))
		return false;
	if (m->devname && (!ev->devname || !streq(ev->devname, m->devname)))
		return false;
	if (m->devtype && (!ev->devtype || !streq(ev->devtype, m->devtype)))
		return false;
	if (m->need_devname && (!ev->devname || !*ev->devname))
		return false;
	if (m->need_interface && (!ev->interface || !*ev->interface))
		return false;
	if (m->has_re && regexec(&m->re, ev->devpath, 0, NULL, 0) != 0)
		return false;
	return true;
}

static void device_from_event(const struct uevent *ev, struct uevent_device *d)
{
	*d = (struct uevent_device){.major = ev->major, .minor = ev->minor};
	snprintf(d->devpath, sizeof(d->devpath), "%s", ev->devpath);
	snprintf(d->subsystem, sizeof(d->subsystem), "%s", ev->subsystem);
	snprintf(d->devname, sizeof(d->devname), "%s", ev->devname ? ev->devname : "");
	snprintf(d->interface, sizeof(d->interface), "%s", ev->interface ? ev->interface : "");
}

/* ---- sysfs scan: the devices that are already there ---- */

static int devnum_part(const char *s)
{
	uint32_t v;
	return parse_u32(s, &v) < 0 || v > INT32_MAX ? -1 : (int)v;
}

/* Builds an "add" event for the device behind /sys/class/<subsystem>/<name> from its
 * uevent file, which holds the same KEY=VALUE pairs the kernel broadcast. */
static int scan_entry(const char *root, int dirfd, const char *name, const char *subsystem,
		      const struct compiled_match *m, struct uevent_device *ret)
{
	char link[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	/* "../../devices/virtual/block/loop0" -> "/devices/virtual/block/loop0" */
	const char *rel = link;
	while (startswith(rel, "../"))
		rel += 3;
	if (*rel == '/' || strstr(rel, "/../"))
		return 0;
	char devpath[PATH_MAX];
	if ((size_t)snprintf(devpath, sizeof(devpath), "/%s", rel) >= sizeof(devpath))
		return 0;

	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s%s/uevent", root, devpath) >= sizeof(path) ||
	    read_file(path, 16384, &text, NULL) < 0)
		return 0;

	struct uevent ev = {
	    .action = "add", .devpath = devpath, .subsystem = subsystem, .major = -1, .minor = -1};
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		const char *v;
		if ((v = startswith(line, "DEVNAME=")))
			ev.devname = v;
		else if ((v = startswith(line, "DEVTYPE=")))
			ev.devtype = v;
		else if ((v = startswith(line, "INTERFACE=")))
			ev.interface = v;
		else if ((v = startswith(line, "MAJOR=")))
			ev.major = devnum_part(v);
		else if ((v = startswith(line, "MINOR=")))
			ev.minor = devnum_part(v);
	}
	if (!match_event(m, &ev))
		return 0;
	device_from_event(&ev, ret);
	return 1;
}

static int scan_dir(const char *root, const char *dir, const struct compiled_match *m,
		    struct uevent_device *ret)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int fd2 = dup(fd);
	if (fd2 < 0)
		return -errno;
	DIR *d = fdopendir(fd2);
	if (!d) {
		close(fd2);
		return -errno;
	}
	int found = 0;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		found = scan_entry(root, fd, de->d_name, m->subsystem, m, ret);
	}
	closedir(d);
	return found;
}

static int scan_present(const char *root, const struct compiled_match *m, struct uevent_device *ret)
{
	char dir[PATH_MAX];
	/* Class devices (block, net) live in /sys/class/<s>; bus devices (memory, pci) only
	 * in /sys/bus/<s>/devices. */
	snprintf(dir, sizeof(dir), "%s/class/%s", root, m->subsystem);
	int r = scan_dir(root, dir, m, ret);
	if (r != 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/bus/%s/devices", root, m->subsystem);
	return scan_dir(root, dir, m, ret);
}

int uevent_find_present(const char *sysfs_root, const struct uevent_match *in,
			struct uevent_device *ret_dev)
{
	struct compiled_match m;
	int r = match_compile(in, &m);
	if (r < 0)
		return r;
	r = scan_present(sysfs_root ? sysfs_root : "/sys", &m, ret_dev);
	match_done(&m);
	return r;
}

/* ---- waiters ---- */

static void waiter_detach(struct uevent_waiter *w)
{
	list_del(&w->link);
	w->l->n_waiters--;
	ev_timer_stop(w->l->loop, &w->timer);
}

static void waiter_free(struct uevent_waiter *w)
{
	match_done(&w->m);
	free(w);
}

static void waiter_fire(struct uevent_waiter *w, int r, const struct uevent_device *dev)
{
	waiter_detach(w);
	uevent_wait_fn cb = w->cb;
	void *data = w->data;
	waiter_free(w);
	cb(data, r, dev);
}

static void waiter_timeout(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	waiter_fire(t->data, -ETIMEDOUT, NULL);
}

int uevent_wait(struct uevent_listener *l, const struct uevent_match *in, uint64_t timeout_ms,
		uevent_wait_fn cb, void *data, struct uevent_waiter **ret_waiter,
		struct uevent_device *ret_dev)
{
	if (l->closing)
		return -ECANCELED;
	struct uevent_waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	int r = match_compile(in, &w->m);
	if (r < 0) {
		free(w);
		return r;
	}
	r = scan_present(l->sysfs_root, &w->m, ret_dev);
	if (r != 0 || l->n_waiters >= MAX_WAITERS) {
		waiter_free(w);
		return r != 0 ? r : -EAGAIN;
	}
	w->l = l;
	w->cb = cb;
	w->data = data;
	ev_timer_init(&w->timer);
	if (timeout_ms > 0) {
		r = ev_timer_start(l->loop, &w->timer,
				   now_monotonic_ns() + timeout_ms * NSEC_PER_MSEC, waiter_timeout,
				   w);
		if (r < 0) {
			waiter_free(w);
			return r;
		}
	}
	list_add_tail(&l->waiters, &w->link);
	l->n_waiters++;
	*ret_waiter = w;
	return 0;
}

void uevent_wait_cancel(struct uevent_waiter *w)
{
	if (!w)
		return;
	waiter_detach(w);
	waiter_free(w);
}

unsigned uevent_listener_waiters(const struct uevent_listener *l)
{
	return l->n_waiters;
}

const char *uevent_listener_sysfs(const struct uevent_listener *l)
{
	return l->sysfs_root;
}

/* Callbacks may park or cancel other waiters, so the list is walked from the start again
 * after each one fires. */
static void dispatch(struct uevent_listener *l, const struct uevent *ev)
{
	for (;;) {
		struct uevent_waiter *hit = NULL;
		struct list_head *pos;
		LIST_FOREACH (pos, &l->waiters) {
			struct uevent_waiter *w = list_entry(pos, struct uevent_waiter, link);
			if (match_event(&w->m, ev)) {
				hit = w;
				break;
			}
		}
		if (!hit)
			return;
		struct uevent_device dev;
		device_from_event(ev, &dev);
		log_debug("%s %s: wakes a waiter", ev->action, ev->devpath);
		waiter_fire(hit, 0, &dev);
	}
}

static void rescan_all(struct uevent_listener *l)
{
	for (;;) {
		struct uevent_waiter *hit = NULL;
		struct uevent_device dev;
		struct list_head *pos;
		LIST_FOREACH (pos, &l->waiters) {
			struct uevent_waiter *w = list_entry(pos, struct uevent_waiter, link);
			if (scan_present(l->sysfs_root, &w->m, &dev) > 0) {
				hit = w;
				break;
			}
		}
		if (!hit)
			return;
		waiter_fire(hit, 0, &dev);
	}
}

/* Kata onlines hot-added memory blocks itself (uevent.rs): guests have no udev rule. */
static void online_memory(struct uevent_listener *l, const struct uevent *ev)
{
	if (!streq(ev->action, "add") || !streq(ev->subsystem, "memory") ||
	    !startswith(ev->devpath, "/devices/system/memory/memory") || strstr(ev->devpath, ".."))
		return;
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s%s/online", l->sysfs_root, ev->devpath) >=
	    sizeof(path))
		return;
	int r = write_file(path, "1");
	if (r < 0)
		log_warn_errno(r, "cannot online memory block %s: %m", ev->devpath);
	else
		log_info("onlined memory block %s", ev->devpath);
}

void uevent_listener_feed(struct uevent_listener *l, const char *buf, size_t len)
{
	struct uevent ev;
	if (uevent_parse(buf, len, &ev) < 0)
		return;
	log_trace("uevent %s %s (%s)", ev.action, ev.devpath, ev.subsystem);
	online_memory(l, &ev);
	dispatch(l, &ev);
}

static void socket_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct uevent_listener *l = io->data;
	/* Bounded per wakeup so a uevent storm cannot starve rpc connections. */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_nl sa;
		struct iovec iov = {l->buf, sizeof(l->buf)};
		struct msghdr mh = {
		    .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(l->fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				log_warn(
				    "uevent socket overflowed: rescanning sysfs for %u waiters",
				    l->n_waiters);
				rescan_all(l);
				continue;
			}
			if (errno != EAGAIN)
				log_warn_errno(errno, "uevent socket: %m");
			return;
		}
		/* Only the kernel's own broadcasts; never another process's. */
		if (mh.msg_namelen != sizeof(sa) || sa.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
			continue;
		uevent_listener_feed(l, l->buf, (size_t)n);
	}
}

int uevent_listener_new(struct ev_loop *loop, const char *sysfs_root, struct uevent_listener **ret)
{
	struct uevent_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->loop = loop;
	l->fd = -1;
	list_init(&l->waiters);
	l->sysfs_root = strdup(sysfs_root ? sysfs_root : "/sys");
	if (!l->sysfs_root) {
		free(l);
		return -ENOMEM;
	}
	int r;
	l->fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (l->fd < 0) {
		r = -errno;
		goto fail;
	}
	int sz = RCVBUF;
	/* FORCE needs CAP_NET_ADMIN; the plain option is capped by rmem_max but still helps. */
	if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
	if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	r = ev_io_start(loop, &l->io, l->fd, EPOLLIN, socket_cb, l);
	if (r < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	safe_close(l->fd);
	free(l->sysfs_root);
	free(l);
	return r;
}

void uevent_listener_free(struct uevent_listener *l)
{
	if (!l)
		return;
	l->closing = true;
	while (!list_empty(&l->waiters))
		waiter_fire(list_entry(l->waiters.next, struct uevent_waiter, link), -ECANCELED,
			    NULL);
	ev_io_stop(l->loop, &l->io);
	safe_close(l->fd);
	free(l->sysfs_root);
	free(l);
}
